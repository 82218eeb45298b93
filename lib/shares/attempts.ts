import { ServiceUnavailableError, TooManyRequestsError } from '../errors';
import { bounded } from '../redis';

/** Wrong passwords allowed in the window, per share and per client address. */
export const MAX_WRONG_PASSWORDS = 10;
/** The window they are counted in. */
export const ATTEMPT_WINDOW_MS = 15 * 60 * 1000;

/**
 * A sliding window log in one sorted set per key, run as one script on either Redis backend (EVAL
 * works over Upstash's REST API as over TCP; @upstash/ratelimit's own scripts speak only to its REST
 * client). A log rather than fixed windows: no burst of twice the limit across a window's edge.
 * Atomically: drops entries older than the window, and unless some key already holds the limit,
 * records this attempt (ARGV[4], unique) in every key. Returns {1, 0}, or {0, ms until the oldest
 * entry of a full key leaves the window}.
 */
const TAKE = `
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local wait = 0
for _, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + window - now)
  end
end
if wait > 0 then return {0, wait} end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, window)
end
return {1, 0}`;

/** Takes back an attempt that turned out to be the right password (it was counted as a wrong one until known). */
const FORGIVE = `
for _, key in ipairs(KEYS) do redis.call('ZREM', key, ARGV[1]) end
return 1`;

const keysOf = (shareId: string, client: string) => [`unlock:share:${shareId}`, `unlock:client:${client}`];

/**
 * Counts an unlock attempt against the share and the client address before the password is checked,
 * so that attempts at once cannot pass the limit together. Throws TooManyRequestsError (429, with the
 * seconds to wait) when either has had MAX_WRONG_PASSWORDS in the window, and ServiceUnavailableError
 * (503) when Redis cannot be reached: unlocking is refused rather than left unlimited. Returns the
 * attempt, to forgive when the password is right.
 */
export async function takeAttempt(shareId: string, client: string): Promise<string> {
  const attempt = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const result = await bounded('unlock attempt', (r) =>
    r.eval(TAKE, keysOf(shareId, client), [String(Date.now()), String(ATTEMPT_WINDOW_MS), String(MAX_WRONG_PASSWORDS), attempt]),
  );
  if (!Array.isArray(result)) throw new ServiceUnavailableError('rate limiter');
  const [allowed, waitMs] = result.map(Number);
  if (allowed !== 1) {
    throw new TooManyRequestsError('Too many wrong passwords: try again later.', Math.max(1, Math.ceil((waitMs ?? 0) / 1000)));
  }
  return attempt;
}

/** A right password does not count: its attempt is taken back (best effort; it would only leave the window later). */
export async function forgiveAttempt(shareId: string, client: string, attempt: string): Promise<void> {
  await bounded('unlock attempt forgiven', (r) => r.eval(FORGIVE, keysOf(shareId, client), [attempt]));
}
