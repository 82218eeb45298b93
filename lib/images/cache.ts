import { redisConfig } from '../config';
import { bounded, type RedisBackend } from '../redis';
import type { Image } from './resource';

/** The cache key of an image, as the contract names it. */
export const imageKey = (id: string): string => `image:${id}`;
/** The fence: the newest version a write has committed (or "deleted"); older reads may not be cached. */
export const fenceKey = (id: string): string => `image:${id}:fence`;

/** Sorts after every ISO timestamp: a deleted image has no version a read could still cache. */
const DELETED = '~deleted';

/**
 * Stores a read in the cache unless a write has fenced it off: a GET that read the row before a
 * PATCH or DELETE committed carries an older updated_at than the fence that write left, so its
 * late SET is refused, atomically, inside Redis.
 */
const FILL = `
local fence = redis.call('GET', KEYS[2])
if fence and fence > ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[3]))
return 1`;

/** Raises the fence (never lowers it) and drops the cached entry. */
const INVALIDATE = `
local fence = redis.call('GET', KEYS[2])
if not fence or fence < ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[1], 'EX', tonumber(ARGV[2]))
end
redis.call('DEL', KEYS[1])
return 1`;

/** The cached JSON of an image: a string on a hit, null on a miss, undefined when Redis failed. */
export function readCachedImage(id: string): Promise<string | null | undefined> {
  return bounded('cache read', (r) => r.get(imageKey(id)));
}

/** Caches an image read from the database, unless a newer write has fenced it off. */
export async function cacheImage(image: Image, json: string): Promise<void> {
  const ttl = redisConfig().CACHE_TTL_SECONDS;
  await bounded('cache fill', (r) => r.eval(FILL, [imageKey(image.id), fenceKey(image.id)], [json, image.updated_at, String(ttl)]));
}

/**
 * Fences off reads older than `version` (the committed updated_at, or undefined for a deletion) and
 * drops the cached entry, on `r`: the relay runs it before it tells anyone of a change.
 */
export function invalidation(r: RedisBackend, id: string, version: string | undefined): Promise<unknown> {
  // Longer than any request can take between its database read and its cache fill.
  const fenceTtl = String(redisConfig().CACHE_TTL_SECONDS * 2);
  return r.eval(INVALIDATE, [imageKey(id), fenceKey(id)], [version ?? DELETED, fenceTtl]);
}

/**
 * After a commit: fences off older reads and drops the cached entry. `version` is the committed
 * updated_at, or undefined for a deletion. Bounded and never thrown; whether Redis took it. Were
 * Redis not to take it, the relay does the same before it delivers the change's event.
 */
export async function invalidateImage(id: string, version: string | undefined): Promise<boolean> {
  return (await bounded('cache invalidation', (r) => invalidation(r, id, version))) !== undefined;
}
