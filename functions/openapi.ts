import { httpHandler, rawJson } from '../lib/http';
import { openApiDocument } from '../lib/openapi';

let body: string | undefined;

/** GET /openapi.json: the OpenAPI 3.1 document, generated from the zod schemas. */
export const handler = httpHandler(async () => {
  body ??= JSON.stringify(openApiDocument());
  return rawJson(200, body, { 'cache-control': 'public, max-age=300' });
});
