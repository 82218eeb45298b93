import { fencedCache } from '../cache';
import type { BeforeDelivery } from '../outbox/relay';

/**
 * What a viewer's request needs of a share to decide: never its counts, which move as images go.
 * A share never changes once made (it is revoked, or it expires): cached as it is.
 */
export interface ShareRecord {
  id: string;
  albumId: string | null;
  title: string;
  description: string;
  /** As the API writes it (`…T….ffffff+00:00`), or null: never. */
  expiresAt: string | null;
  passwordHash: string | null;
  allowOriginals: boolean;
}

/** Shares by their token's digest (secrets.ts), under `share:<digest>`. */
export const shareCache = fencedCache('share');

/** The one version a share has: it does not change, it goes (a revocation fences every read off). */
export const SHARE_VERSION = '0';

/**
 * Before share events go out: a revoked share's cached entry is dropped and fenced off, so the very
 * next viewer request finds no share. The digest comes with the event (drizzle/0008…sql), never the link.
 */
export function sharesBeforeDelivery(): BeforeDelivery {
  return (r, events) => {
    const revoked = events.filter((e) => e.event === 'share_revoked').map((e) => String(e.payload?._cache_key ?? ''));
    if (revoked.length === 0) return undefined;
    return Promise.all(revoked.filter(Boolean).map((key) => shareCache.invalidation(r, key, undefined)));
  };
}
