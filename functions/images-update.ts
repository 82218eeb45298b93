import { httpHandler, json, jsonBody } from '../lib/http/handler';
import { imageIdParamsSchema, imagePatchSchema, parse } from '../lib/http/validation';
import { updateImage } from '../lib/images/update';

/** PATCH /api/v1/images/{id}: change title and/or description. */
export const handler = httpHandler(
  async (event) => {
    const { id } = parse(imageIdParamsSchema, event.pathParameters ?? {});
    const patch = parse(imagePatchSchema, jsonBody(event));
    return json(200, await updateImage(id, patch));
  },
  { access: 'owner' },
);
