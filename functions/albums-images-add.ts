import { addToAlbum } from '../lib/albums/members';
import { albumIdParamsSchema, imageIdsSchema } from '../lib/http/album-requests';
import { httpHandler, json, jsonBody } from '../lib/http/handler';
import { parse } from '../lib/http/validation';

/** POST /api/v1/albums/{id}/images: adds images (those in it already stay); 422 lists every unknown id, and then nothing is added. */
export const handler = httpHandler(
  async (event) => {
    const { id } = parse(albumIdParamsSchema, event.pathParameters ?? {});
    const { image_ids } = parse(imageIdsSchema, jsonBody(event));
    return json(200, await addToAlbum(id, image_ids));
  },
  { access: 'owner' },
);
