import { header, httpHandler, json } from '../lib/http/handler';
import { viewerShare } from '../lib/http/shared';
import { sharedSummary } from '../lib/shares/viewer';

/** GET /api/v1/shared/{token}: what a viewer sees of the share (401 until a protected one is unlocked). */
export const handler = httpHandler(
  async (event) => {
    const share = await viewerShare(event.pathParameters?.token, header(event, 'authorization'));
    return json(200, await sharedSummary(share));
  },
  { access: 'anyone' },
);
