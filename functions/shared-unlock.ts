import { httpHandler, json, jsonBody } from '../lib/http/handler';
import { unlockSchema } from '../lib/http/share-requests';
import { viewerShare } from '../lib/http/shared';
import { parse } from '../lib/http/validation';
import { unlock } from '../lib/shares/viewer';

/** POST /api/v1/shared/{token}/unlock: the password gives an access token for 12 hours; wrong ones are counted (429 after 10). */
export const handler = httpHandler(
  async (event) => {
    const share = await viewerShare(event.pathParameters?.token, undefined, { unlocking: true });
    const { password } = parse(unlockSchema, jsonBody(event));
    return json(200, await unlock(share, password, event.requestContext?.http?.sourceIp ?? 'unknown'));
  },
  { access: 'anyone' },
);
