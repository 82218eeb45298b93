import { removeFromAlbum } from '../lib/albums/members';
import { albumIdParamsSchema, imageIdsSchema } from '../lib/http/album-requests';
import { httpHandler, json, jsonBody } from '../lib/http/handler';
import { parse } from '../lib/http/validation';

/** POST /api/v1/albums/{id}/images/remove: takes images out of the album (ids not in it are ignored); the images stay. */
export const handler = httpHandler(
  async (event) => {
    const { id } = parse(albumIdParamsSchema, event.pathParameters ?? {});
    const { image_ids } = parse(imageIdsSchema, jsonBody(event));
    return json(200, await removeFromAlbum(id, image_ids));
  },
  { access: 'owner' },
);
