/**
 * The listener's Redis, whichever one runs: raw commands over TCP (node-redis) or Upstash's REST API,
 * answering the same RESP2-shaped values, and the stream commands the listener needs on top.
 */
import { createHash } from 'node:crypto';
import { createClient } from '@redis/client';
import { EVENT_STREAM } from '../lib/outbox/events';

/** One command, its reply as RESP2 gives it (strings, integers, nulls, nested arrays). */
export interface RawRedis {
  readonly where: string;
  command(args: string[]): Promise<unknown>;
  close(): Promise<void>;
}

/** Hides the password of a URL for printing. */
export const redact = (url: string): string => url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');

/**
 * A TCP connection (node-redis, RESP2). node-redis reconnects by itself; `onState` hears when the
 * connection is lost and when it is back.
 */
export async function tcpRedis(url: string, onState: (state: 'lost' | 'back', reason?: string) => void): Promise<RawRedis> {
  const client = createClient({
    url,
    RESP: 2,
    name: 'photo-gallery-listener',
    socket: { reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 5_000) },
  });
  let lost = false;
  client.on('error', (err: Error) => {
    if (!lost) onState('lost', err.message);
    lost = true;
  });
  client.on('ready', () => {
    if (lost) onState('back');
    lost = false;
  });
  await client.connect();
  return {
    where: redact(url),
    command: (args) => client.sendCommand(args),
    // At once: a read blocked for new entries is not waited for.
    close: async () => client.destroy(),
  };
}

/** Upstash's REST API: one POST a command, results as JSON (no base64: the listener reads text). */
export function upstashRedis(url: string, token: string): RawRedis {
  const endpoint = url.replace(/\/+$/, '');
  const controller = new AbortController();
  return {
    where: endpoint,
    command: async (args) => {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(args),
        signal: controller.signal,
      });
      const body = (await res.json().catch(() => ({}))) as { result?: unknown; error?: string };
      if (!res.ok || body.error !== undefined) throw new Error(body.error ?? `Upstash answered HTTP ${res.status}`);
      return body.result;
    },
    close: async () => controller.abort(),
  };
}

/**
 * A stream entry: its id, and the event it carries with its outbox id. No event: an entry trimmed
 * away (MAXLEN) while it was pending, which Redis lists with no fields, or one some other writer
 * added; it is acknowledged and not printed.
 */
export interface Entry {
  id: string;
  event: string | undefined;
  outboxId: string | undefined;
}

/** `[id, [field, value, …]]` pairs, as XREAD, XREADGROUP and XAUTOCLAIM list entries. */
function entries(list: unknown): Entry[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((item): Entry[] => {
    if (!Array.isArray(item) || typeof item[0] !== 'string') return [];
    const fields = Array.isArray(item[1]) ? (item[1] as unknown[]) : [];
    const get = (name: string) => {
      const at = fields.findIndex((f, i) => i % 2 === 0 && f === name);
      return at >= 0 ? String(fields[at + 1]) : undefined;
    };
    return [{ id: item[0], event: get('event'), outboxId: get('outbox_id') }];
  });
}

/** The stream commands the listener uses, over either Redis. */
export function streamOf(redis: RawRedis) {
  const fromRead = (reply: unknown) => (Array.isArray(reply) && Array.isArray(reply[0]) ? entries(reply[0][1]) : []);
  return {
    /** Creates the consumer group, by default at the stream's end (a new group starts with what comes next). */
    ensureGroup: async (group: string, from: '$' | '0' = '$') => {
      try {
        await redis.command(['XGROUP', 'CREATE', EVENT_STREAM, group, from, 'MKSTREAM']);
      } catch (err) {
        if (!/BUSYGROUP/.test(String((err as Error).message))) throw err;
      }
    },
    /** XREADGROUP: `0` for this consumer's own unacknowledged entries, `>` for new ones (waiting up to `blockMs`). */
    readGroup: async (group: string, consumer: string, id: '0' | '>', count: number, blockMs?: number) =>
      fromRead(
        await redis.command([
          'XREADGROUP',
          'GROUP',
          group,
          consumer,
          'COUNT',
          String(count),
          ...(blockMs !== undefined ? ['BLOCK', String(blockMs)] : []),
          'STREAMS',
          EVENT_STREAM,
          id,
        ]),
      ),
    /** XAUTOCLAIM: takes over entries another consumer read and left unacknowledged for `minIdleMs`. */
    claim: async (group: string, consumer: string, minIdleMs: number, count: number) => {
      const reply = await redis.command(['XAUTOCLAIM', EVENT_STREAM, group, consumer, String(minIdleMs), '0', 'COUNT', String(count)]);
      return Array.isArray(reply) ? entries(reply[1]) : [];
    },
    ack: async (group: string, ids: string[]) => {
      if (ids.length > 0) await redis.command(['XACK', EVENT_STREAM, group, ...ids]);
    },
    /** XREAD after `id` (`$`: what comes next), without a group. */
    readAfter: async (id: string, count: number, blockMs: number) =>
      fromRead(await redis.command(['XREAD', 'COUNT', String(count), 'BLOCK', String(blockMs), 'STREAMS', EVENT_STREAM, id])),
    /** Notes an entry's event as printed for the group (a day). */
    markPrinted: async (group: string, entry: Entry & { event: string }) => {
      await redis.command(['SET', printedKey(group, entry), '1', 'EX', '86400']);
    },
    /** True when the group printed this entry's event before (the same outbox row, relayed again). */
    printed: async (group: string, entry: Entry & { event: string }) =>
      Number(await redis.command(['EXISTS', printedKey(group, entry)])) === 1,
  };
}

/**
 * The key that marks an event printed: its outbox id with a digest of its JSON. A relay that
 * delivers one outbox row twice writes the same JSON under the same id; a database made anew (its
 * outbox ids start at 1 again) writes other events under those ids, and they are printed.
 */
const printedKey = (group: string, entry: Entry & { event: string }): string =>
  `listener:${group}:printed:${entry.outboxId}:${createHash('sha256').update(entry.event).digest('base64url').slice(0, 22)}`;
