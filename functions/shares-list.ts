import { httpHandler, json } from '../lib/http/handler';
import { nextPageLink } from '../lib/http/links';
import { sharesQuerySchema } from '../lib/http/share-requests';
import { parse } from '../lib/http/validation';
import { decodeKeyset } from '../lib/keyset';
import { listShares } from '../lib/shares/read';

/** GET /api/v1/shares: the owner's links, newest first; `Link: <…>; rel="next"` while more remain. */
export const handler = httpHandler(
  async (event) => {
    const query = parse(sharesQuerySchema, event.queryStringParameters ?? {});
    const page = await listShares(query.limit, query.cursor === undefined ? undefined : decodeKeyset(query.cursor));
    return json(200, page.items, nextPageLink(event.rawPath, query, page.next));
  },
  { access: 'owner' },
);
