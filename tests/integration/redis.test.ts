/**
 * Cache and events against this machine's real Redis, through both backends: node-redis over TCP,
 * and the real @upstash/redis client through a fixture that speaks Upstash's REST protocol.
 */

import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer, type Socket } from 'node:net';
import { createClient } from '@redis/client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Image } from '../../lib/images/resource';
import { startUpstashFixture, type UpstashFixture } from '../../support/upstash-fixture';
import { apiWith } from '../helpers/api';
import { resetState, sql, unsigned } from '../helpers/state';

type Api = Awaited<ReturnType<typeof apiWith>>;

const REDIS_URL = 'redis://127.0.0.1:6379';
const direct = createClient({ url: REDIS_URL, RESP: 2 });
const subscriber = direct.duplicate();
const published: string[] = [];
let fixture: UpstashFixture;

beforeAll(async () => {
  await direct.connect();
  await subscriber.connect();
  await subscriber.subscribe('image_channel', (message) => published.push(message));
  fixture = await startUpstashFixture(REDIS_URL);
});
afterAll(async () => {
  await subscriber.close();
  await direct.close();
  await fixture.stop();
});
beforeEach(async () => {
  await resetState();
  published.length = 0;
});
afterEach(() => {
  vi.resetModules();
});

/** Waits for the events about `id` (pub/sub is asynchronous). */
async function eventsAbout(id: string, count: number): Promise<string[]> {
  for (let i = 0; i < 100; i++) {
    const mine = published.filter((m) => m.includes(id));
    if (mine.length >= count) return mine;
    await new Promise((r) => setTimeout(r, 20));
  }
  return published.filter((m) => m.includes(id));
}

const backends = [
  ['local Redis over TCP', () => ({ REDIS_URL, UPSTASH_REDIS_REST_URL: undefined, UPSTASH_REDIS_REST_TOKEN: undefined })],
  ['Upstash REST (real client, fixture server)', () => ({ UPSTASH_REDIS_REST_URL: fixture.url, UPSTASH_REDIS_REST_TOKEN: fixture.token })],
] as const;

describe.each(backends)('%s', (name, env) => {
  let api: Api;
  beforeEach(async () => {
    // Scripts run by SHA; a Redis that lost them (restart, SCRIPT FLUSH) gets them again by EVAL.
    await direct.sendCommand(['SCRIPT', 'FLUSH']);
    // Public originals: the answers are the cached bytes themselves (a private original's link is signed per answer).
    api = await apiWith({ ...env(), ORIGINALS_PUBLIC: 'true', LOG_LEVEL: 'silent' });
  });

  it('caches GET by id under image:<id> for 60 s: MISS, then HIT with the same bytes', async () => {
    const image = (await api.upload({ title: `cache ${name}`.slice(0, 32) })).json as Image;
    const miss = await api.get(image.id);
    expect(miss.status).toBe(200);
    expect(miss.headers['x-cache']).toBe('MISS');
    expect(miss.json).toEqual(image);
    expect(await direct.get(`image:${image.id}`)).toBe(miss.text);
    const ttl = await direct.ttl(`image:${image.id}`);
    expect(ttl).toBeGreaterThan(55);
    expect(ttl).toBeLessThanOrEqual(60);

    const hit = await api.get(image.id);
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.text).toBe(miss.text);
  });

  it('serves the new version right after a PATCH, and nothing after a DELETE', async () => {
    const image = (await api.upload({ title: 'versions' })).json as Image;
    await api.get(image.id);
    expect((await api.get(image.id)).headers['x-cache']).toBe('HIT');

    const patched = (await api.patch(image.id, { title: 'versions 2' })).json as Image;
    const afterPatch = await api.get(image.id);
    expect(afterPatch.headers['x-cache']).toBe('MISS');
    expect(afterPatch.json).toEqual(patched);
    expect((await api.get(image.id)).headers['x-cache']).toBe('HIT');

    expect((await api.remove(image.id)).status).toBe(204);
    expect((await api.get(image.id)).status).toBe(404);
    expect(await direct.get(`image:${image.id}`)).toBeNull();
  });

  it('publishes every change after the commit, byte for byte', async () => {
    const image = (await api.upload({ title: 'événement "quoted"' })).json as Image;
    await api.patch(image.id, { title: 'renamed' });
    await api.remove(image.id);
    expect(await eventsAbout(image.id, 3)).toEqual([
      `{"event":"image_uploaded","id":"${image.id}","title":"événement \\"quoted\\""}`,
      `{"event":"image_updated","id":"${image.id}","title":"renamed"}`,
      `{"event":"image_deleted","id":"${image.id}","title":"renamed"}`,
    ]);
  });

  it('publishes nothing for a request that changed nothing', async () => {
    const title = `quiet ${randomUUID().slice(0, 8)}`;
    const missing = randomUUID();
    const image = (await api.upload({ title })).json as Image;
    await api.upload({ title }); // 409
    await api.patch(image.id, { title: '' }); // 422
    await api.remove(missing); // 404
    await new Promise((r) => setTimeout(r, 100));
    // What these requests could have published (the channel is the machine's: others publish too).
    const ours = published.filter((m) => m.includes(title) || m.includes(image.id) || m.includes(missing));
    expect(ours).toEqual([JSON.stringify({ event: 'image_uploaded', id: image.id, title })]);
    expect(await eventsAbout(image.id, 1)).toHaveLength(1);
  });

  it('never lets a GET that read the old row re-cache it after a PATCH answered (forced interleaving)', async () => {
    const image = (await api.upload({ title: 'race' })).json as Image;
    const { getImage } = await import('../../lib/images/read');
    const { cacheImage } = await import('../../lib/images/cache');

    // 1. A GET misses the cache and reads the row from the database...
    const stale = await getImage(image.id);
    // 2. ...a PATCH commits, invalidates and answers...
    const patched = (await api.patch(image.id, { description: 'fresh' })).json as Image;
    // 3. ...then the slow GET stores what it read.
    await cacheImage(stale, JSON.stringify(stale));

    const after = await api.get(image.id);
    expect(after.json).toEqual(patched);
    expect(after.headers['x-cache']).toBe('MISS');
    // The fresh read may be cached, and is.
    expect((await api.get(image.id)).headers['x-cache']).toBe('HIT');
  });

  it('never lets a GET that read the row re-cache it after a DELETE answered (forced interleaving)', async () => {
    const image = (await api.upload({ title: 'race delete' })).json as Image;
    const { getImage } = await import('../../lib/images/read');
    const { cacheImage } = await import('../../lib/images/cache');
    const stale = await getImage(image.id);
    expect((await api.remove(image.id)).status).toBe(204);
    await cacheImage(stale, JSON.stringify(stale));
    expect((await api.get(image.id)).status).toBe(404);
    expect(await direct.get(`image:${image.id}`)).toBeNull();
  });

  it('keeps the fence monotonic when two writers invalidate out of order', async () => {
    const image = (await api.upload({ title: 'two writers' })).json as Image;
    const { getImage } = await import('../../lib/images/read');
    const { invalidateImage, cacheImage } = await import('../../lib/images/cache');
    const v1 = (await api.patch(image.id, { description: 'v1' })).json as Image;
    const v2 = (await api.patch(image.id, { description: 'v2' })).json as Image;
    // The first writer's invalidation arrives late, after the second's.
    await invalidateImage(v1.id, v1.updated_at);
    await cacheImage(v1, JSON.stringify(v1));
    expect((await api.get(image.id)).json).toEqual(v2);
    const current = await getImage(image.id);
    expect(current).toEqual(v2);
  });
});

/** A TCP server that accepts connections and never answers: a hanging Redis. */
async function hangingTcp(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('Redis out of the critical path', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  const faults: [string, () => Promise<Record<string, string | undefined>>][] = [
    ['refusing (a port nothing listens on)', async () => ({ REDIS_URL: 'redis://127.0.0.1:1' })],
    [
      'hanging (accepts, never answers)',
      async () => {
        const { url, close } = await hangingTcp();
        closers.push(close);
        return { REDIS_URL: url };
      },
    ],
    [
      'Upstash hanging (HTTP accepted, never answered)',
      async () => {
        const server = createHttpServer(() => {});
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        closers.push(async () => {
          server.closeAllConnections();
          await new Promise((r) => server.close(r));
        });
        return { UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, UPSTASH_REDIS_REST_TOKEN: 't' };
      },
    ],
    ['Upstash refusing the token', async () => ({ UPSTASH_REDIS_REST_URL: fixture.url, UPSTASH_REDIS_REST_TOKEN: 'wrong-token' })],
  ];

  it.each(faults)(
    'every endpoint answers correctly with Redis %s, and warns',
    async (_, makeEnv) => {
      const warnings: string[] = [];
      const write = process.stderr.write.bind(process.stderr);
      const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
        if (String(chunk).includes('"level":"warn"')) {
          warnings.push(String(chunk));
          return true;
        }
        return write(chunk);
      });
      try {
        const api = await apiWith({ ...(await makeEnv()), LOG_LEVEL: 'warn', REDIS_TIMEOUT_MS: '250' });
        const created = await api.upload({ title: 'redis is down' });
        expect(created.status).toBe(201);
        const image = created.json as Image;
        const got = await api.get(image.id);
        expect(got.status).toBe(200);
        expect(got.headers['x-cache']).toBe('MISS');
        expect(unsigned(got.json)).toEqual(unsigned(image));
        expect(unsigned((await api.list()).json)).toEqual(unsigned([image]));
        const patched = await api.patch(image.id, { title: 'still fine' });
        expect(patched.status).toBe(200);
        expect(unsigned((await api.get(image.id)).json)).toEqual(unsigned(patched.json));
        expect((await api.remove(image.id)).status).toBe(204);
        expect((await api.get(image.id)).status).toBe(404);
        expect(await sql`select id from images`).toHaveLength(0);
        expect(warnings.length).toBeGreaterThan(0);
        expect(warnings.join('\n')).toMatch(/redis .* skipped/);
        const { closeRedis } = await import('../../lib/redis');
        closers.push(closeRedis);
      } finally {
        spy.mockRestore();
      }
    },
    10_000,
  );
});
