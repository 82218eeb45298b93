import { header, httpHandler, json } from '../lib/http/handler';
import { viewerShare } from '../lib/http/shared';
import { imageIdParamsSchema, parse } from '../lib/http/validation';
import { sharedImage } from '../lib/shares/viewer-images';

/** GET /api/v1/shared/{token}/images/{id}: one image of the share (404 for any other). */
export const handler = httpHandler(
  async (event) => {
    const share = await viewerShare(event.pathParameters?.token, header(event, 'authorization'));
    const { id } = parse(imageIdParamsSchema, { id: event.pathParameters?.id });
    return json(200, await sharedImage(share, id));
  },
  { access: 'anyone' },
);
