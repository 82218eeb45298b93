import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { db, withDb } from '../db';
import { describeError, log } from '../log';
import { relaySubject } from '../outbox/relay';
import { outbox, shares } from '../schema';
import { shareCache, sharesBeforeDelivery } from './cache';
import { shareNotFound } from './errors';

/**
 * Drops and fences off the cached entries of shares just revoked, now: the relay does it too before it
 * delivers their revocations, but another relay may hold an earlier event of the share (delivering
 * it), and the revocation's event then waits behind it while the cache would still answer. The
 * digests come from the revocations' own events (drizzle/0008…sql). Never thrown.
 */
async function dropCached(ids: string[]): Promise<void> {
  try {
    const revoked = await withDb(() =>
      db()
        .select({ digest: sql<string | null>`${outbox.payload} ->> '_cache_key'` })
        .from(outbox)
        .where(and(inArray(outbox.subjectId, ids), eq(outbox.event, 'share_revoked'), isNull(outbox.publishedAt))),
    );
    await Promise.all(revoked.flatMap(({ digest }) => (digest ? [shareCache.invalidate(digest, undefined)] : [])));
  } catch (err) {
    log.warn('revoked shares left to the relay', { ids, ...describeError(err) });
  }
}

/**
 * After shares are gone (revoked, or with their album): each cached entry is dropped, so the next
 * viewer request is a 404, and their revocations go out. Never thrown: were Redis away, the relay
 * drops the entries before it delivers the events.
 */
export async function forgetShares(ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await Promise.all([dropCached(ids), ...ids.map((id) => relaySubject(id, sharesBeforeDelivery()))]);
}

/** Revokes a share: its link answers 404 from the next request on. Throws NotFoundError (404). */
export async function revokeShare(id: string): Promise<void> {
  const [gone] = await withDb(() => db().delete(shares).where(eq(shares.id, id)).returning({ id: shares.id }));
  if (!gone) throw shareNotFound(id);
  await forgetShares([id]);
}
