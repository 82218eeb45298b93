import { httpHandler, json } from '../lib/http/handler';
import { nextPageLink } from '../lib/http/links';
import { listQuerySchema, parse } from '../lib/http/validation';
import { listImages } from '../lib/images/list';

/** GET /api/v1/images/: newest first (uploaded or taken), filtered, keyset-paged; `Link: <…>; rel="next"` while more remain. */
export const handler = httpHandler(
  async (event) => {
    const query = parse(listQuerySchema, event.queryStringParameters ?? {});
    const page = await listImages({
      scope: query.album === undefined ? { kind: 'all' } : { kind: 'album', id: query.album },
      sort: query.sort,
      limit: query.limit,
      q: query.q,
      takenFrom: query.taken_from,
      takenTo: query.taken_to,
      cursor: query.cursor,
    });
    // The order is in the link only when it is not the default, as a client would have asked.
    return json(
      200,
      page.items,
      nextPageLink(event.rawPath, { ...query, sort: query.sort === 'created' ? undefined : query.sort }, page.next),
    );
  },
  { access: 'reader' },
);
