import { httpHandler, json } from '../lib/http/handler';
import { parse, uploadIdParamsSchema } from '../lib/http/validation';
import { completeUpload } from '../lib/uploads/complete';

/** POST /api/v1/uploads/{id}/complete: verifies the stored file and makes the image; 201, then 200 with the same image. */
export const handler = httpHandler(
  async (event) => {
    const { id } = parse(uploadIdParamsSchema, event.pathParameters ?? {});
    const { image, created } = await completeUpload(id);
    const location = event.rawPath.replace(/\/uploads\/[^/]+\/complete\/?$/, `/images/${image.id}`);
    return json(created ? 201 : 200, image, { location });
  },
  { access: 'owner' },
);
