import { listAlbums } from '../lib/albums/read';
import { pageQuerySchema } from '../lib/http/album-requests';
import { httpHandler, json } from '../lib/http/handler';
import { nextPageLink } from '../lib/http/links';
import { parse } from '../lib/http/validation';
import { decodeKeyset } from '../lib/keyset';

/** GET /api/v1/albums: newest first, each with its count and cover; `Link: <…>; rel="next"` while more remain. */
export const handler = httpHandler(
  async (event) => {
    const query = parse(pageQuerySchema, event.queryStringParameters ?? {});
    const page = await listAlbums(query.limit, query.cursor === undefined ? undefined : decodeKeyset(query.cursor));
    return json(200, page.items, nextPageLink(event.rawPath, query, page.next));
  },
  { access: 'reader' },
);
