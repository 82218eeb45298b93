import type { ShareRecord } from '../shares/cache';
import { linkNotFound } from '../shares/errors';
import { admit, openLink } from '../shares/viewer';
import { isTokenShaped } from './share-requests';

/**
 * The share a viewer's request is for, let in: 404 for a link to no share (whatever its token looks
 * like), 410 once expired, 401 for a protected one without its access token — except to unlock it.
 */
export async function viewerShare(
  token: string | undefined,
  authorization: string | undefined,
  options: { unlocking?: boolean } = {},
): Promise<ShareRecord> {
  if (token === undefined || !isTokenShaped(token)) throw linkNotFound();
  const share = await openLink(token);
  if (!options.unlocking) admit(share, authorization);
  return share;
}
