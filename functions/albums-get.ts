import { getAlbum } from '../lib/albums/read';
import { albumIdParamsSchema } from '../lib/http/album-requests';
import { httpHandler, json } from '../lib/http/handler';
import { parse } from '../lib/http/validation';

/** GET /api/v1/albums/{id}: the album, its count and cover as they are now. */
export const handler = httpHandler(
  async (event) => {
    const { id } = parse(albumIdParamsSchema, event.pathParameters ?? {});
    return json(200, await getAlbum(id));
  },
  { access: 'reader' },
);
