import { loadSecrets } from '../lib/config';
import { decodeCursor } from '../lib/cursor';
import { listImages } from '../lib/images';
import { httpHandler, json } from '../lib/http';
import { listQuerySchema, parse } from '../lib/validation';

await loadSecrets(); // deployed: this function's secrets, from SSM, in the init phase

/** GET /api/v1/images/: newest first, keyset-paged; `Link: <…>; rel="next"` while more remain. */
export const handler = httpHandler(async (event) => {
  const query = parse(listQuerySchema, event.queryStringParameters ?? {});
  const page = await listImages(query.limit, query.cursor ? decodeCursor(query.cursor) : undefined);
  const next = page.next && `${event.rawPath}?${new URLSearchParams({ limit: String(query.limit), cursor: page.next })}`;
  return json(200, page.items, next ? { link: `<${next}>; rel="next"` } : {});
});
