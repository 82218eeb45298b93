import { loadSecrets } from '../lib/config';
import { updateImage } from '../lib/images';
import { httpHandler, json, jsonBody } from '../lib/http';
import { imageIdParamsSchema, imagePatchSchema, parse } from '../lib/validation';

await loadSecrets(); // deployed: this function's secrets, from SSM, in the init phase

/** PATCH /api/v1/images/{id}: change title and/or description. */
export const handler = httpHandler(async (event) => {
  const { id } = parse(imageIdParamsSchema, event.pathParameters ?? {});
  const patch = parse(imagePatchSchema, jsonBody(event));
  return json(200, await updateImage(id, patch));
}, { write: true });
