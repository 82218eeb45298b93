import { getImage } from '../lib/images';
import { httpHandler, json } from '../lib/http';
import { imageIdParamsSchema, parse } from '../lib/validation';

/** GET /api/v1/images/{id}: one image. */
export const handler = httpHandler(async (event) => {
  const { id } = parse(imageIdParamsSchema, event.pathParameters ?? {});
  return json(200, await getImage(id));
});
