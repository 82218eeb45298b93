import { loadSecrets } from '../lib/config';
import { readImage } from '../lib/images';
import { httpHandler, rawJson } from '../lib/http';
import { imageIdParamsSchema, parse } from '../lib/validation';

await loadSecrets(); // deployed: this function's secrets, from SSM, in the init phase

/** GET /api/v1/images/{id}: one image, cache-aside in Redis; `X-Cache: HIT` or `MISS`. */
export const handler = httpHandler(async (event) => {
  const { id } = parse(imageIdParamsSchema, event.pathParameters ?? {});
  const { json, cache } = await readImage(id);
  return rawJson(200, json, { 'x-cache': cache });
});
