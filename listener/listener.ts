/**
 * The long-running listener (`npm run listener`, or its container): subscribes to image_channel on
 * the local Redis (TCP) or on Upstash (REST, Server-Sent Events) and prints one line per event, as
 * CloudWatch shows Lambda logs, or JSON with LOG_FORMAT=json. It resubscribes by itself after its
 * connection drops, and exits cleanly on SIGTERM and SIGINT.
 */
import { createClient } from '@redis/client';
import { fileURLToPath } from 'node:url';
import { logConfig, redisConfig } from '../lib/config';
import { IMAGE_CHANNEL } from '../lib/images/events';

type Level = 'INFO' | 'WARN' | 'ERROR';
type Print = (line: string) => void;

/** What a running subscription exposes: how to stop it. */
export interface Listener {
  stop: () => Promise<void>;
}

/** Formats one log line: `<ISO time>\t<LEVEL>\t<message>` or one JSON object. */
export function formatLine(format: 'text' | 'json', level: Level, message: string, fields: Record<string, unknown> = {}): string {
  const timestamp = new Date().toISOString();
  if (format === 'json') return JSON.stringify({ timestamp, level, message, ...fields });
  return `${timestamp}\t${level}\t${message}`;
}

/** Hides the password of a URL for printing. */
const redact = (url: string): string => url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');

/** An event line: the payload as it was published, and in JSON mode also parsed. */
function eventLine(format: 'text' | 'json', channel: string, payload: string): string {
  if (format === 'text') return formatLine('text', 'INFO', payload);
  let event: unknown = payload;
  try {
    event = JSON.parse(payload);
  } catch {
    // not JSON: printed as the string it is
  }
  return formatLine('json', 'INFO', 'event', { channel, event });
}

/** Subscribes over TCP; node-redis reconnects and resubscribes after a dropped connection. */
async function listenTcp(url: string, format: 'text' | 'json', print: Print): Promise<Listener> {
  const client = createClient({
    url,
    name: 'photo-gallery-listener',
    socket: { reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 5_000) },
  });
  let reported = false;
  client.on('error', (err: Error) => {
    if (!reported) print(formatLine(format, 'WARN', `connection to ${redact(url)} lost: ${err.message}; reconnecting`));
    reported = true;
  });
  client.on('ready', () => {
    if (reported) print(formatLine(format, 'INFO', `reconnected to ${redact(url)}; subscribed to ${IMAGE_CHANNEL}`));
    reported = false;
  });
  await client.connect();
  await client.subscribe(IMAGE_CHANNEL, (message, channel) => print(eventLine(format, channel, message)));
  print(formatLine(format, 'INFO', `subscribed to ${IMAGE_CHANNEL} on ${redact(url)}`));
  return {
    stop: async () => {
      if (client.isOpen) await client.close();
      else client.destroy();
    },
  };
}

/**
 * Subscribes through Upstash's REST API (`POST /subscribe/<channel>`, Server-Sent Events). The
 * stream is read here rather than through @upstash/redis's Subscriber, which does not say when its
 * stream ends: a dropped stream is noticed and subscribed again.
 */
async function listenUpstash(url: string, token: string, format: 'text' | 'json', print: Print): Promise<Listener> {
  const controller = new AbortController();
  let stopped = false;
  const endpoint = `${url.replace(/\/+$/, '')}/subscribe/${encodeURIComponent(IMAGE_CHANNEL)}`;

  const once = async (): Promise<void> => {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      signal: controller.signal,
    });
    if (!res.ok || !res.body) throw new Error(`subscribe answered HTTP ${res.status}`);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, '');
        buffer = buffer.slice(newline + 1);
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trimStart();
        const [kind, channel] = data.split(',', 2);
        if (kind === 'subscribe') print(formatLine(format, 'INFO', `subscribed to ${channel} on ${url}`));
        if (kind === 'message' && channel !== undefined) {
          print(eventLine(format, channel, data.slice(kind.length + channel.length + 2)));
        }
      }
    }
    throw new Error('the subscription stream ended');
  };

  const loop = async (): Promise<void> => {
    for (let attempt = 0; !stopped; attempt++) {
      try {
        await once();
      } catch (err) {
        if (stopped) return;
        const delay = Math.min(100 * 2 ** Math.min(attempt, 6), 5_000);
        print(formatLine(format, 'WARN', `subscription to ${url} lost: ${(err as Error).message}; resubscribing in ${delay} ms`));
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  };
  void loop();
  return {
    stop: async () => {
      stopped = true;
      controller.abort();
    },
  };
}

/** Starts the listener the configuration asks for; lines go to `print`. */
export async function startListener(print: Print = (line) => process.stdout.write(`${line}\n`)): Promise<Listener> {
  const format = logConfig().LOG_FORMAT;
  const c = redisConfig();
  return c.UPSTASH_REDIS_REST_URL && c.UPSTASH_REDIS_REST_TOKEN
    ? listenUpstash(c.UPSTASH_REDIS_REST_URL, c.UPSTASH_REDIS_REST_TOKEN, format, print)
    : listenTcp(c.REDIS_URL, format, print);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const print: Print = (line) => process.stdout.write(`${line}\n`);
  let format: 'text' | 'json' = 'text';
  let listener: Listener | undefined;
  let stopping = false;
  // Registered before the first connect: a first connect to an unreachable Redis retries until
  // stopped, and a SIGTERM meanwhile must still end the process cleanly.
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    if (!listener) {
      print(formatLine(format, 'INFO', `${signal} received before subscribing; exiting`));
      process.exit(0);
    }
    print(formatLine(format, 'INFO', `${signal} received; unsubscribing`));
    await listener.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  try {
    format = logConfig().LOG_FORMAT;
    listener = await startListener(print);
  } catch (err) {
    print(formatLine(format, 'ERROR', `could not start: ${(err as Error).message}`));
    process.exit(1);
  }
}
