import { loadSecrets } from '../lib/config';
import { deleteImage } from '../lib/image-files';
import { httpHandler, noContent } from '../lib/http';
import { imageIdParamsSchema, parse } from '../lib/validation';

await loadSecrets(); // deployed: this function's secrets, from SSM, in the init phase

/** DELETE /api/v1/images/{id}: the row and its file. */
export const handler = httpHandler(async (event) => {
  const { id } = parse(imageIdParamsSchema, event.pathParameters ?? {});
  await deleteImage(id);
  return noContent();
}, { write: true });
