import { eq } from 'drizzle-orm';
import { db, withDb } from '../db';
import { relaySubject } from '../outbox/relay';
import { shares } from '../schema';
import { sharesBeforeDelivery } from './cache';
import { shareNotFound } from './errors';

/**
 * After shares are gone (revoked, or with their album): their revocations go out now, each cached
 * entry dropped first (sharesBeforeDelivery), so the next viewer request is a 404. Never thrown: were
 * Redis away, the relay does it before it delivers the events.
 */
export async function forgetShares(ids: string[]): Promise<void> {
  await Promise.all(ids.map((id) => relaySubject(id, sharesBeforeDelivery())));
}

/** Revokes a share: its link answers 404 from the next request on. Throws NotFoundError (404). */
export async function revokeShare(id: string): Promise<void> {
  const [gone] = await withDb(() => db().delete(shares).where(eq(shares.id, id)).returning({ id: shares.id }));
  if (!gone) throw shareNotFound(id);
  await forgetShares([id]);
}
