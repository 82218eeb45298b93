import { DELETED, fencedCache } from '../cache';
import type { BeforeDelivery } from '../outbox/relay';
import type { Image } from './resource';

/** Images by id, under `image:<id>` as the contract names them, versioned by updated_at. */
const images = fencedCache('image');

/** The cache key of an image, as the contract names it. */
export const imageKey = images.key;

/** The cached JSON of an image: a string on a hit, null on a miss, undefined when Redis failed. */
export const readCachedImage = images.read;

/** Caches an image read from the database, unless a newer write has fenced it off. */
export async function cacheImage(image: Image, json: string): Promise<void> {
  await images.fill(image.id, json, image.updated_at);
}

/**
 * After a commit: fences off older reads and drops the cached entry. `version` is the committed
 * updated_at, or undefined for a deletion. Bounded and never thrown; whether Redis took it. Were
 * Redis not to take it, imagesBeforeDelivery does the same before the change's event goes out.
 */
export const invalidateImage = images.invalidate;

/** A writer's own invalidation of an image: the version it fenced, and whether Redis took it. */
export interface Invalidated {
  imageId: string;
  version: string | undefined;
  landed: Promise<boolean>;
}

/**
 * Before image events go out: each changed image's cached entry is dropped and its fence raised to
 * the newest version the group's events made (a deletion above all), so whoever hears of a change
 * cannot then read the version before it from the cache, even when the write's own invalidation found
 * Redis away. Done already, and not again, when `own` is the writer's invalidation of that very
 * version and Redis took it. An upload has no earlier version anyone could have cached.
 */
export function imagesBeforeDelivery(own?: Invalidated): BeforeDelivery {
  return (r, events) => {
    const newest = new Map<string, string>();
    for (const e of events) {
      if (!e.event.startsWith('image_') || e.event === 'image_uploaded') continue;
      const version = e.event === 'image_deleted' ? DELETED : String(e.payload?._version ?? '');
      if (version > (newest.get(e.subjectId) ?? '')) newest.set(e.subjectId, version);
    }
    if (newest.size === 0) return undefined;
    return (async () => {
      const mine = own && newest.get(own.imageId);
      if (own && mine !== undefined && mine === (own.version ?? DELETED) && (await own.landed)) newest.delete(own.imageId);
      await Promise.all([...newest].map(([id, version]) => images.invalidation(r, id, version === DELETED ? undefined : version)));
    })();
  };
}
