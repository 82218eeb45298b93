import { eq, sql } from 'drizzle-orm';
import { db, isoTimestamp, withDb } from '../db';
import { albums, shares } from '../schema';
import { forgiveAttempt, takeAttempt } from './attempts';
import { SHARE_VERSION, type ShareRecord, shareCache } from './cache';
import { linkExpired, linkNotFound, locked, wrongPassword } from './errors';
import type { Shared } from './resource';
import { ACCESS_HOURS, accessToken, isAccessTo, tokenDigest, verifyPassword } from './secrets';

/**
 * The share behind a link, for a viewer: from the cache, else from the database and then cached,
 * never past its expiry (a revocation fences the cache off: the next request reads the database and
 * finds nothing). Throws NotFoundError (404: unknown or revoked) or GoneError (410: expired).
 */
export async function openLink(token: string): Promise<ShareRecord> {
  const key = tokenDigest(token);
  const cached = await shareCache.read(key);
  let share: ShareRecord;
  if (typeof cached === 'string') {
    share = JSON.parse(cached) as ShareRecord;
  } else {
    const [row] = await withDb(() =>
      db()
        .select({
          id: shares.id,
          albumId: shares.albumId,
          title: shares.title,
          description: shares.description,
          expiresAt: sql<string | null>`case when ${shares.expiresAt} is null then null else ${isoTimestamp(shares.expiresAt)} end`,
          passwordHash: shares.passwordHash,
          allowOriginals: shares.allowOriginals,
        })
        .from(shares)
        .where(eq(shares.token, token)),
    );
    if (!row) throw linkNotFound();
    share = row;
    const left = share.expiresAt === null ? undefined : Math.floor((Date.parse(share.expiresAt) - Date.now()) / 1000);
    // undefined: Redis just failed or timed out; do not spend a second timeout on the fill.
    if (cached === null && (left === undefined || left > 0)) await shareCache.fill(key, JSON.stringify(share), SHARE_VERSION, left);
  }
  if (share.expiresAt !== null && Date.parse(share.expiresAt) <= Date.now()) throw linkExpired();
  return share;
}

/**
 * Lets a viewer in: an open share always, a protected one with an access token to it
 * (`Authorization: Bearer`, from unlock). Throws UnauthorizedError (401) otherwise.
 */
export function admit(share: ShareRecord, authorization: string | undefined): void {
  if (share.passwordHash === null) return;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  if (!bearer || !isAccessTo(share.id, bearer)) throw locked();
}

/** What a viewer sees of the share: its title, description, expiry, and how many images it shows now. */
export async function sharedSummary(share: ShareRecord): Promise<Shared> {
  const [row] = await withDb(() =>
    share.albumId === null
      ? db().select({ count: shares.imageCount }).from(shares).where(eq(shares.id, share.id))
      : db().select({ count: albums.imageCount }).from(albums).where(eq(albums.id, share.albumId)),
  );
  if (!row) throw linkNotFound(); // revoked, or its album deleted, a moment ago
  return {
    title: share.title,
    description: share.description,
    expires_at: share.expiresAt,
    image_count: row.count,
    allow_originals: share.allowOriginals,
  };
}

/**
 * Unlocks a protected share: with its password, an access token to it for ACCESS_HOURS. Every attempt
 * is counted (per share and per client address) before the password is checked; the right one is
 * then taken back. Throws UnauthorizedError (401: wrong), TooManyRequestsError (429) or
 * ServiceUnavailableError (503: no Redis to count with).
 */
export async function unlock(share: ShareRecord, password: string, client: string): Promise<{ access_token: string; expires_at: string }> {
  if (share.passwordHash === null) return accessFor(share); // open: nothing to unlock, nothing to count
  const attempt = await takeAttempt(share.id, client);
  if (!(await verifyPassword(password, share.passwordHash))) throw wrongPassword();
  await forgiveAttempt(share.id, client, attempt);
  return accessFor(share);
}

/** An access token to the share for ACCESS_HOURS, or until the share itself expires if that is sooner. */
function accessFor(share: ShareRecord): { access_token: string; expires_at: string } {
  const hours = Math.floor(Date.now() / 1000) + ACCESS_HOURS * 3600;
  const until = share.expiresAt === null ? hours : Math.min(hours, Math.floor(Date.parse(share.expiresAt) / 1000));
  return { access_token: accessToken(share.id, until), expires_at: `${new Date(until * 1000).toISOString().slice(0, -5)}.000000+00:00` };
}
