import { redisConfig } from './config';
import { bounded, type RedisBackend } from './redis';

// A cache-aside store in Redis whose writers fence off older reads: every entry has a version (an
// ISO timestamp, compared as text), and a write leaves behind the version it committed, so that a
// read which fetched the row before the write cannot put the older version back afterwards.

/** Sorts after every ISO timestamp: a deleted subject has no version a read could still cache. */
export const DELETED = '~deleted';

/**
 * Stores a read in the cache unless a write has fenced it off: a read that fetched the row before a
 * write committed carries an older version than the fence that write left, so its late SET is
 * refused, atomically, inside Redis.
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

/** A fenced cache of one kind of subject, its entries under `<prefix>:<id>`. */
export interface FencedCache {
  /** The entry's key, as clients of the cache (the contract, the tests) name it. */
  key(id: string): string;
  /** The cached JSON: a string on a hit, null on a miss, undefined when Redis failed (bounded, never thrown). */
  read(id: string): Promise<string | null | undefined>;
  /** Caches a read of `version`, for `ttlSeconds` (CACHE_TTL_SECONDS at most), unless a newer write has fenced it off. */
  fill(id: string, json: string, version: string, ttlSeconds?: number): Promise<void>;
  /** Fences off reads older than `version` (undefined: deleted) and drops the entry, on `r`. */
  invalidation(r: RedisBackend, id: string, version: string | undefined): Promise<unknown>;
  /** The same after a commit, bounded and never thrown; whether Redis took it. */
  invalidate(id: string, version: string | undefined): Promise<boolean>;
}

/** The fenced cache of the subjects under `prefix` (`image`, `share`). */
export function fencedCache(prefix: string): FencedCache {
  const key = (id: string) => `${prefix}:${id}`;
  const fence = (id: string) => `${prefix}:${id}:fence`;
  const invalidation = (r: RedisBackend, id: string, version: string | undefined) =>
    // The fence outlives any request's time between its database read and its cache fill.
    r.eval(INVALIDATE, [key(id), fence(id)], [version ?? DELETED, String(redisConfig().CACHE_TTL_SECONDS * 2)]);
  return {
    key,
    read: (id) => bounded(`${prefix} cache read`, (r) => r.get(key(id))),
    fill: async (id, json, version, ttlSeconds) => {
      const ttl = Math.max(1, Math.min(ttlSeconds ?? Number.POSITIVE_INFINITY, redisConfig().CACHE_TTL_SECONDS));
      await bounded(`${prefix} cache fill`, (r) => r.eval(FILL, [key(id), fence(id)], [json, version, String(Math.floor(ttl))]));
    },
    invalidation,
    invalidate: async (id, version) => (await bounded(`${prefix} cache invalidation`, (r) => invalidation(r, id, version))) !== undefined,
  };
}
