import { httpHandler, rawJson } from '../lib/http/handler';
import { openApiJson } from '../lib/http/openapi';

/** GET /openapi.json: the OpenAPI 3.1 document, generated from the zod schemas. */
export const handler = httpHandler(async () => rawJson(200, openApiJson(), { 'cache-control': 'public, max-age=300' }), {
  access: 'anyone',
});
