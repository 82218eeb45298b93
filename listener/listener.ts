/**
 * The long-running listener (`npm run listener`, or its container). It prints every event of the
 * stream `image_events` once, as CloudWatch shows Lambda logs (or JSON with LOG_FORMAT=json), reading
 * through a consumer group: on start what it missed while it was down (its own unacknowledged entries,
 * then whatever arrived since), then live; an entry is acknowledged after it is printed, and entries a
 * dead consumer of the group left are claimed after a minute. After a failure it reads its own
 * unacknowledged entries again before anything newer, so that the events of one image keep their order.
 * An event delivered twice (the outbox delivers at least once) is printed once: its outbox id is
 * remembered for the group.
 * `--from-start` prints the whole stream first, `--live-only` only what comes next (no group).
 * It also runs the outbox relay (events Redis missed, files S3 could not delete) when it has the
 * database and the bucket. With SSM_PARAMETER_PATH set it reads its secrets (the database's URL,
 * Upstash's URL and token) from SSM Parameter Store at start, as the functions do. It keeps going
 * through lost connections and exits 0 on SIGTERM and SIGINT.
 */
// First: with SSM_PARAMETER_PATH set (its container on AWS), the secrets come from SSM Parameter
// Store, as the functions' do, before any setting is read.
import '../lib/secrets';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { databaseConfig, logConfig, outboxConfig, redisConfig, storageConfig } from '../lib/config';
import { EVENT_STREAM } from '../lib/outbox/events';
import { type Entry, type RawRedis, redact, streamOf, tcpRedis, upstashRedis } from './streams';

type Level = 'INFO' | 'WARN' | 'ERROR';
type Print = (line: string) => void;
export type Mode = 'group' | 'from-start' | 'live-only';

/** A running listener: how to stop it. */
export interface Listener {
  stop: () => Promise<void>;
}

/** How long a read waits for new entries, and how often dead consumers' entries are looked for. */
const BLOCK_MS = 2_000;
const BATCH = 100;
/** Outbox ids remembered without a group (--from-start, --live-only) to drop a repeat. */
const SEEN_MAX = 10_000;

/** Formats one log line: `<ISO time>\t<LEVEL>\t<message>` or one JSON object. */
export function formatLine(format: 'text' | 'json', level: Level, message: string, fields: Record<string, unknown> = {}): string {
  const timestamp = new Date().toISOString();
  if (format === 'json') return JSON.stringify({ timestamp, level, message, ...fields });
  return `${timestamp}\t${level}\t${message}`;
}

/** An event line: the event as it was published, and in JSON mode also parsed, with its outbox id. */
function eventLine(format: 'text' | 'json', entry: Entry & { event: string }): string {
  if (format === 'text') return formatLine('text', 'INFO', entry.event);
  let event: unknown = entry.event;
  try {
    event = JSON.parse(entry.event);
  } catch {
    // not JSON: printed as the string it is
  }
  return formatLine('json', 'INFO', 'event', { stream: EVENT_STREAM, outbox_id: entry.outboxId, event });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the listener the configuration asks for, in `mode`; lines go to `print`. */
export async function startListener(mode: Mode, print: Print = (line) => process.stdout.write(`${line}\n`)): Promise<Listener> {
  const format = logConfig().LOG_FORMAT;
  const say = (level: Level, message: string) => print(formatLine(format, level, message));
  const c = redisConfig();
  const redis: RawRedis =
    c.UPSTASH_REDIS_REST_URL && c.UPSTASH_REDIS_REST_TOKEN
      ? upstashRedis(c.UPSTASH_REDIS_REST_URL, c.UPSTASH_REDIS_REST_TOKEN)
      : await tcpRedis(c.REDIS_URL, (state, reason) =>
          state === 'lost'
            ? say('WARN', `connection to ${redact(c.REDIS_URL)} lost: ${reason}; reconnecting`)
            : say('INFO', `reconnected to ${redact(c.REDIS_URL)}`),
        );
  const stream = streamOf(redis);
  const { LISTENER_GROUP: group, LISTENER_CONSUMER, LISTENER_CLAIM_IDLE_MS: claimIdle } = outboxConfig();
  const claimEvery = Math.max(claimIdle / 2, 50);
  const consumer = LISTENER_CONSUMER ?? hostname();
  let stopped = false;

  /**
   * Runs `read` until stopped, waiting out failures (a lost connection) with a growing pause. `read`
   * hears whether it starts anew: the first time, and after every failure (which may have cut a batch short).
   */
  const keepReading = async (read: (anew: boolean) => Promise<void>) => {
    let failures = 0;
    let anew = true;
    while (!stopped) {
      try {
        await read(anew);
        anew = false;
        failures = 0;
      } catch (err) {
        if (stopped) return;
        anew = true;
        if (failures++ === 0) say('WARN', `reading ${EVENT_STREAM} on ${redis.where} failed: ${(err as Error).message}; retrying`);
        await sleep(Math.min(100 * 2 ** failures, 5_000));
      }
    }
  };

  /** Prints an entry the group has not printed yet, then acknowledges it. */
  const handle = async (entries: Entry[]) => {
    for (const entry of entries) {
      if (stopped) return;
      const { event } = entry;
      if (event !== undefined && (!entry.outboxId || !(await stream.printed(group, { ...entry, event })))) {
        print(eventLine(format, { ...entry, event }));
        if (entry.outboxId) await stream.markPrinted(group, { ...entry, event });
      }
      await stream.ack(group, [entry.id]);
    }
  };

  const inGroup = async () => {
    let grouped = false;
    let claimedAt = 0;
    // Everything inside the retries, start-up too: a Redis error there delays printing, it does not end it.
    await keepReading(async (anew) => {
      try {
        // At the stream's end the first time only: made again later (NOGROUP below), the group starts
        // at the stream's start.
        if (!grouped) {
          await stream.ensureGroup(group);
          grouped = true;
          say('INFO', `reading ${EVENT_STREAM} on ${redis.where} as ${consumer} in group ${group}`);
        }
        // What this consumer read and never acknowledged (before it stopped, or in a batch a failure cut
        // short), oldest first, until none is left: newer entries, of the same images, come after.
        if (anew) {
          for (
            let pending = await stream.readGroup(group, consumer, '0', BATCH);
            pending.length > 0;
            pending = await stream.readGroup(group, consumer, '0', BATCH)
          ) {
            await handle(pending);
          }
        }
        if (Date.now() - claimedAt > claimEvery) {
          claimedAt = Date.now();
          await handle(await stream.claim(group, consumer, claimIdle, BATCH));
        }
        await handle(await stream.readGroup(group, consumer, '>', BATCH, Math.min(BLOCK_MS, claimEvery)));
      } catch (err) {
        // A Redis that came back empty (restarted without persistence): the group is made again,
        // from the stream's start, where the relay is putting back what was missed.
        if (!/NOGROUP/.test(String((err as Error).message))) throw err;
        await stream.ensureGroup(group, '0');
        say('INFO', `group ${group} made again on ${redis.where}, from the stream's start`);
      }
    });
  };

  /** Without a group: from the stream's start, or from its current end. */
  const alone = async (from: 'start' | 'end') => {
    let after: string | undefined;
    const seen = new Set<string>();
    await keepReading(async () => {
      // Inside the retries: a Redis error while looking for the stream's end delays reading, it does not end it.
      if (after === undefined) {
        after = from === 'start' ? '0' : await lastId(redis);
        say('INFO', `reading ${EVENT_STREAM} on ${redis.where} ${from === 'start' ? 'from its start' : 'from now on'}`);
      }
      for (const entry of await stream.readAfter(after, BATCH, BLOCK_MS)) {
        after = entry.id;
        const { event } = entry;
        if (event === undefined || (entry.outboxId && seen.has(entry.outboxId))) continue;
        if (entry.outboxId) {
          seen.add(entry.outboxId);
          // A repeat comes soon after the first delivery: the recent ids are enough to know one.
          if (seen.size > SEEN_MAX) seen.delete(seen.values().next().value ?? '');
        }
        print(eventLine(format, { ...entry, event }));
      }
    });
  };

  // Never rejects: every Redis command is inside keepReading, which retries until stopped.
  const reading = mode === 'group' ? inGroup() : alone(mode === 'from-start' ? 'start' : 'end');
  const relaying = runRelay(() => stopped, say);

  return {
    stop: async () => {
      stopped = true;
      // Closing unblocks a read waiting on Redis; whatever fails while stopping is said, and the
      // listener still stops (a SIGTERM ends in exit code 0).
      const results = await Promise.allSettled([redis.close(), reading, relaying]);
      for (const r of results)
        if (r.status === 'rejected') say('WARN', `while stopping: ${String((r.reason as Error)?.message ?? r.reason)}`);
    },
  };
}

/** The id of the stream's newest entry (`0` when it is empty): reading after it is reading what comes next. */
async function lastId(redis: RawRedis): Promise<string> {
  const reply = await redis.command(['XREVRANGE', EVENT_STREAM, '+', '-', 'COUNT', '1']);
  return Array.isArray(reply) && Array.isArray(reply[0]) && typeof reply[0][0] === 'string' ? reply[0][0] : '0';
}

/**
 * The outbox relay, every second, when the listener has what it needs (the database and the bucket,
 * as the functions have them): events Redis missed go out, files S3 could not delete are removed.
 */
async function runRelay(stopped: () => boolean, say: (level: Level, message: string) => void): Promise<void> {
  try {
    databaseConfig();
    storageConfig();
  } catch (err) {
    say('WARN', `outbox relay off: ${(err as Error).message.replace(/^Invalid configuration: /, '')}`);
    return;
  }
  const { relayRound } = await import('../lib/outbox/run');
  const { everyBeforeDelivery } = await import('../lib/subscribers');
  const before = everyBeforeDelivery();
  say('INFO', 'outbox relay on: undelivered events and pending file removals are retried every second');
  while (!stopped()) {
    const round = await relayRound(before);
    if (round.delivered + round.removed > 0) say('INFO', `relay: ${round.delivered} event(s) delivered, ${round.removed} file(s) removed`);
    await sleep(1_000);
  }
  const { closeDb } = await import('../lib/db');
  await closeDb();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const print: Print = (line) => process.stdout.write(`${line}\n`);
  const mode: Mode = process.argv.includes('--from-start') ? 'from-start' : process.argv.includes('--live-only') ? 'live-only' : 'group';
  let format: 'text' | 'json' = 'text';
  let listener: Listener | undefined;
  let stopping = false;
  // Registered before the first connection: a SIGTERM while Redis is unreachable still exits 0.
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    print(formatLine(format, 'INFO', listener ? `${signal} received; stopping` : `${signal} received before reading; exiting`));
    await listener?.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  try {
    format = logConfig().LOG_FORMAT;
    listener = await startListener(mode, print);
  } catch (err) {
    print(formatLine(format, 'ERROR', `could not start: ${(err as Error).message}`));
    process.exit(1);
  }
}
