import { httpHandler, rawJson } from '../lib/http/handler';
import { imageIdParamsSchema, parse } from '../lib/http/validation';
import { readImage } from '../lib/images/read';

/** GET /api/v1/images/{id}: one image, cache-aside in Redis; `X-Cache: HIT` or `MISS`. */
export const handler = httpHandler(
  async (event) => {
    const { id } = parse(imageIdParamsSchema, event.pathParameters ?? {});
    const { json, cache } = await readImage(id);
    return rawJson(200, json, { 'x-cache': cache });
  },
  { access: 'reader' },
);
