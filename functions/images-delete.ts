import { httpHandler, noContent } from '../lib/http/handler';
import { imageIdParamsSchema, parse } from '../lib/http/validation';
import { deleteImage } from '../lib/images/delete';

/** DELETE /api/v1/images/{id}: the row and its file. */
export const handler = httpHandler(
  async (event) => {
    const { id } = parse(imageIdParamsSchema, event.pathParameters ?? {});
    await deleteImage(id);
    return noContent();
  },
  { access: 'owner' },
);
