import { createHash } from 'node:crypto';
import type { createClient } from '@redis/client';
import { redisConfig } from './config';
import './secrets';
import { describeError, log } from './log';

// Checked at import: a bad Redis setting fails the cold start, though Redis itself may be down.
redisConfig();

/**
 * What the service needs of Redis, whichever one runs. Commands issued in the same tick go out in
 * one round trip (node-redis and @upstash/redis both pipeline them).
 */
export interface RedisBackend {
  readonly kind: 'upstash' | 'tcp';
  get(key: string): Promise<string | null>;
  eval(script: string, keys: string[], args: string[]): Promise<unknown>;
  publish(channel: string, message: string): Promise<number>;
  /** Appends an entry to a stream, trimmed to about `maxLength` entries (`MAXLEN ~`); its id. */
  xadd(stream: string, maxLength: number, fields: Record<string, string>): Promise<string | null>;
  /** Starts connecting, if there is a connection to make, without waiting for it. */
  warm(): void;
  close(): Promise<void>;
}

const shas = new Map<string, string>();
const sha1 = (script: string): string => {
  let sha = shas.get(script);
  if (!sha) {
    sha = createHash('sha1').update(script).digest('hex');
    shas.set(script, sha);
  }
  return sha;
};

/** Runs a script by its SHA (no script text on the wire), loading it with EVAL the first time. */
async function evalCached(script: string, bySha: (sha: string) => Promise<unknown>, byText: () => Promise<unknown>): Promise<unknown> {
  try {
    return await bySha(sha1(script));
  } catch (err) {
    if (!/NOSCRIPT/.test(String((err as Error)?.message))) throw err;
    return byText();
  }
}

// Each backend's client library is imported when that backend is first used: a function carries
// both, but a cold start evaluates neither until a request needs Redis, and then only one.

/** Upstash over its REST API: nothing to keep open, right for Lambda. */
function upstashBackend(url: string, token: string): RedisBackend {
  let client: Promise<import('@upstash/redis').Redis> | undefined;
  const upstash = () =>
    (client ??= import('@upstash/redis').then(
      ({ Redis }) =>
        new Redis({
          url,
          token,
          automaticDeserialization: false,
          enableTelemetry: false,
          // The caller bounds each call; the client's own retries would only make a slow Redis slower.
          retry: false,
        }),
    ));
  return {
    kind: 'upstash',
    get: async (key) => (await upstash()).get<string>(key),
    eval: async (script, keys, args) => {
      const client = await upstash();
      return evalCached(
        script,
        (sha) => client.evalsha(sha, keys, args),
        () => client.eval(script, keys, args),
      );
    },
    publish: async (channel, message) => (await upstash()).publish(channel, message),
    xadd: async (stream, maxLength, fields) =>
      (await upstash()).xadd(stream, '*', fields, { trim: { type: 'MAXLEN', threshold: maxLength, comparison: '~' } }),
    warm: () => {
      upstash().catch(() => {});
    },
    close: async () => {},
  };
}

/**
 * A local Redis over TCP (node-redis). One connection per container, made on first use; when it
 * fails or drops, the next call makes a new one, so a Redis that comes back is used again. A
 * connection attempt may outlive the call that started it (up to REDIS_CONNECT_TIMEOUT_MS): a slow
 * first connect then serves the next calls instead of being thrown away and started again.
 */
const tcpOptions = (url: string, timeoutMs: number) => ({
  url,
  socket: { connectTimeout: timeoutMs, reconnectStrategy: false as const },
  // Fail at once while not connected instead of queueing behind a dead socket.
  disableOfflineQueue: true,
});
// biome-ignore lint/complexity/noBannedTypes: node-redis's own type parameters for "no modules, functions, scripts or type mapping"
type TcpClient = ReturnType<typeof createClient<{}, {}, {}, 2 | 3, {}>>;
const newTcpClient = async (url: string, timeoutMs: number): Promise<TcpClient> =>
  (await import('@redis/client')).createClient(tcpOptions(url, timeoutMs)) as TcpClient;

function tcpBackend(url: string, connectTimeoutMs: number): RedisBackend {
  let client: TcpClient | undefined;
  let connecting: Promise<TcpClient> | undefined;

  const connect = async (): Promise<TcpClient> => {
    client?.destroy();
    const fresh = await newTcpClient(url, connectTimeoutMs);
    client = fresh;
    fresh.on('error', (err: unknown) => log.warn('redis connection error', describeError(err)));
    // A server that accepts but never answers the handshake: give the connection up, try anew later.
    const abandon = setTimeout(() => fresh.destroy(), connectTimeoutMs);
    try {
      await fresh.connect();
      return fresh;
    } catch (err) {
      fresh.destroy();
      throw err;
    } finally {
      clearTimeout(abandon);
    }
  };

  const ready = (): Promise<TcpClient> => {
    if (client?.isReady) return Promise.resolve(client);
    connecting ??= connect().finally(() => (connecting = undefined));
    return connecting;
  };

  return {
    kind: 'tcp',
    get: async (key) => (await ready()).get(key),
    eval: async (script, keys, args) => {
      const client = await ready();
      return evalCached(
        script,
        (sha) => client.evalSha(sha, { keys, arguments: args }),
        () => client.eval(script, { keys, arguments: args }),
      );
    },
    publish: async (channel, message) => (await ready()).publish(channel, message),
    xadd: async (stream, maxLength, fields) =>
      (await ready()).xAdd(stream, '*', fields, { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: maxLength } }),
    warm: () => {
      ready().catch(() => {});
    },
    close: async () => {
      const c = client;
      client = undefined;
      if (c?.isReady) await c.close();
      else c?.destroy();
    },
  };
}

let backend: RedisBackend | undefined;

/** The container's Redis, chosen by config in this one place. */
export function redis(): RedisBackend {
  if (!backend) {
    const c = redisConfig();
    backend =
      c.UPSTASH_REDIS_REST_URL && c.UPSTASH_REDIS_REST_TOKEN
        ? upstashBackend(c.UPSTASH_REDIS_REST_URL, c.UPSTASH_REDIS_REST_TOKEN)
        : tcpBackend(c.REDIS_URL, c.REDIS_CONNECT_TIMEOUT_MS);
  }
  return backend;
}

/**
 * Starts connecting to Redis ahead of need: a write calls it before its database work, so that the
 * connection is up by the time the write invalidates and publishes. The work waits for the next turn
 * of the event loop, after the caller has started its own I/O, so that loading the client library
 * overlaps the database's round trips instead of delaying them.
 */
export function warmRedis(): void {
  setImmediate(() => {
    try {
      redis().warm();
    } catch (err) {
      log.warn('redis not warmed', describeError(err));
    }
  });
}

/** Closes the Redis client (tests, the listener on shutdown). */
export async function closeRedis(): Promise<void> {
  const b = backend;
  backend = undefined;
  await b?.close();
}

/**
 * Runs Redis work bounded by REDIS_TIMEOUT_MS. Redis is never in the critical path: a failure or a
 * timeout is logged as a warning and answered with `undefined`, never thrown.
 */
export async function bounded<T>(operation: string, work: (r: RedisBackend) => Promise<T>): Promise<T | undefined> {
  const ms = redisConfig().REDIS_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ms} ms`)), ms);
  });
  const attempt = Promise.resolve().then(() => work(redis()));
  attempt.catch(() => {}); // a late failure after the timeout is already accounted for
  try {
    return await Promise.race([attempt, timeout]);
  } catch (err) {
    log.warn(`redis ${operation} skipped`, describeError(err));
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
