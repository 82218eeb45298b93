import { updateAlbum } from '../lib/albums/update';
import { albumIdParamsSchema, albumPatchSchema } from '../lib/http/album-requests';
import { httpHandler, json, jsonBody } from '../lib/http/handler';
import { parse } from '../lib/http/validation';

/** PATCH /api/v1/albums/{id}: title, description and/or cover_image_id (an image of the album, or null). */
export const handler = httpHandler(
  async (event) => {
    const { id } = parse(albumIdParamsSchema, event.pathParameters ?? {});
    return json(200, await updateAlbum(id, parse(albumPatchSchema, jsonBody(event))));
  },
  { access: 'owner' },
);
