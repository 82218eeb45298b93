import { httpHandler, json } from '../lib/http/handler';
import { listQuerySchema, parse } from '../lib/http/validation';
import { decodeCursor } from '../lib/images/cursor';
import { listImages } from '../lib/images/read';

/** GET /api/v1/images/: newest first, keyset-paged; `Link: <…>; rel="next"` while more remain. */
export const handler = httpHandler(async (event) => {
  const query = parse(listQuerySchema, event.queryStringParameters ?? {});
  const page = await listImages(query.limit, query.cursor ? decodeCursor(query.cursor) : undefined);
  const next = page.next && `${event.rawPath}?${new URLSearchParams({ limit: String(query.limit), cursor: page.next })}`;
  return json(200, page.items, next ? { link: `<${next}>; rel="next"` } : {});
});
