/**
 * A stand-in for Upstash's REST API in front of the real local Redis, speaking the subset the
 * @upstash/redis client and the listener use: `POST /` (one command), `POST /pipeline`,
 * `POST /subscribe/<channel>` (Server-Sent Events), a bearer token, and
 * `Upstash-Encoding: base64`. Upstash's own emulator (SRH) has no subscribe and needs Docker.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from '@redis/client';

type Reply = string | number | null | Reply[];

export interface UpstashFixture {
  url: string;
  token: string;
  /** Every command the fixture ran, as the client sent it. */
  commands: string[][];
  /** Ends every open subscription stream, as a dropped connection would. */
  dropSubscribers: () => void;
  stop: () => Promise<void>;
}

const encode = (value: Reply, base64: boolean): Reply => {
  if (Array.isArray(value)) return value.map((v) => encode(v, base64));
  if (typeof value === 'string' && base64) return Buffer.from(value, 'utf8').toString('base64');
  return value;
};

async function body(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

/** Starts the fixture on 127.0.0.1 in front of the Redis at `redisUrl`; it accepts `token` only. */
export async function startUpstashFixture(redisUrl = 'redis://127.0.0.1:6379', token = 'test-token'): Promise<UpstashFixture> {
  const redis = createClient({ url: redisUrl, RESP: 2 });
  await redis.connect();
  const commands: string[][] = [];
  const streams = new Set<{ res: ServerResponse; end: () => Promise<void> }>();

  const run = async (command: unknown): Promise<{ result: Reply } | { error: string }> => {
    if (!Array.isArray(command) || command.length === 0) return { error: 'ERR invalid command' };
    const args = command.map(String);
    commands.push(args);
    // A blocking read holds its connection (Upstash holds the HTTP request): it gets one of its own.
    const blocking = /^XREAD(GROUP)?$/i.test(args[0] ?? '') && args.some((a) => a.toUpperCase() === 'BLOCK');
    const connection = blocking ? redis.duplicate() : redis;
    try {
      if (blocking) await connection.connect();
      return { result: (await connection.sendCommand(args)) as Reply };
    } catch (err) {
      return { error: (err as Error).message };
    } finally {
      if (blocking && connection.isOpen) await connection.close();
    }
  };

  const answer = (res: ServerResponse, status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
  };

  const subscribe = async (channel: string, res: ServerResponse) => {
    const subscriber = redis.duplicate();
    await subscriber.connect();
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const stream = {
      res,
      end: async () => {
        streams.delete(stream);
        if (subscriber.isOpen) await subscriber.close();
        res.end();
      },
    };
    streams.add(stream);
    res.on('close', () => void stream.end());
    await subscriber.subscribe(channel, (message) => res.write(`data: message,${channel},${message}\n\n`));
    res.write(`data: subscribe,${channel},1\n\n`);
  };

  const server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'POST') return answer(res, 405, { error: 'method not allowed' });
      if (req.headers.authorization !== `Bearer ${token}`) return answer(res, 401, { error: 'Unauthorized' });
      const base64 = String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64';
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const payload = await body(req);
      const encoded = (r: { result: Reply } | { error: string }) => ('result' in r ? { result: encode(r.result, base64) } : r);

      if (path.startsWith('/subscribe/')) return subscribe(path.slice('/subscribe/'.length), res);
      if (path === '/pipeline') {
        if (!Array.isArray(payload)) return answer(res, 400, { error: 'ERR a pipeline is an array of commands' });
        const results = [];
        for (const command of payload) results.push(encoded(await run(command)));
        return answer(res, 200, results);
      }
      if (path === '/' || path === '') {
        const result = encoded(await run(payload));
        return answer(res, 'error' in result ? 400 : 200, result);
      }
      // Single commands may also come as a path: /set/key/value.
      const result = encoded(await run(path.split('/').filter(Boolean)));
      return answer(res, 'error' in result ? 400 : 200, result);
    })().catch((err: unknown) => {
      if (!res.headersSent) answer(res, 500, { error: (err as Error).message });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    commands,
    dropSubscribers: () => {
      for (const s of streams) s.res.destroy();
    },
    stop: async () => {
      for (const s of [...streams]) await s.end();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await redis.close();
    },
  };
}
