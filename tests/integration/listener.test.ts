/**
 * The listener as `npm run listener` runs it: a separate process, on the local Redis and on Upstash's
 * protocol (the fixture), printing the events of real uploads, edits and deletes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createClient } from '@redis/client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { apiWith } from '../helpers/api';
import { resetState } from '../helpers/state';
import { startUpstashFixture, type UpstashFixture } from '../../support/upstash-fixture';

const REDIS_URL = 'redis://127.0.0.1:6379';
const direct = createClient({ url: REDIS_URL, RESP: 2 });
let fixture: UpstashFixture;

interface Running {
  child: ChildProcess;
  lines: string[];
  /** Waits for a printed line that matches. */
  waitFor: (pattern: RegExp, after?: number) => Promise<string>;
  exit: () => Promise<number | null>;
}

function startListener(env: Record<string, string | undefined>): Running {
  const childEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  const child = spawn('node_modules/.bin/tsx', ['listener/listener.ts'], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  const collect = (d: Buffer) => {
    partial += String(d);
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    waitFor: async (pattern, after = 0) => {
      for (let i = 0; i < 300; i++) {
        const found = lines.slice(after).find((l) => pattern.test(l));
        if (found) return found;
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no line matching ${pattern}; printed:\n${lines.join('\n')}`);
    },
    exit: () => exited,
  };
}

const running: Running[] = [];
const listen = (env: Record<string, string | undefined>) => {
  const r = startListener(env);
  running.push(r);
  return r;
};

beforeAll(async () => {
  await direct.connect();
  fixture = await startUpstashFixture(REDIS_URL);
});
afterAll(async () => {
  await direct.close();
  await fixture.stop();
});
beforeEach(resetState);
afterEach(async () => {
  for (const r of running.splice(0)) {
    if (r.child.exitCode === null) {
      r.child.kill('SIGKILL');
      await r.exit();
    }
  }
  vi.resetModules();
});

const LINE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\tINFO\t/;
const tcp = { REDIS_URL, UPSTASH_REDIS_REST_URL: undefined, UPSTASH_REDIS_REST_TOKEN: undefined };

describe('npm run listener on the local Redis', () => {
  it('prints one CloudWatch-like line per upload, edit and delete', async () => {
    const listener = listen(tcp);
    await listener.waitFor(/subscribed to image_channel on redis:\/\/127\.0\.0\.1:6379/);
    const api = await apiWith({ ...tcp, LOG_LEVEL: 'silent' });
    const image = (await api.upload({ title: 'watched' })).json as { id: string };
    await api.patch(image.id, { title: 'watched again' });
    await api.remove(image.id);

    const deleted = await listener.waitFor(/image_deleted/);
    const events = listener.lines.filter((l) => l.includes(image.id));
    expect(events).toHaveLength(3);
    for (const line of events) expect(line).toMatch(LINE);
    expect(events.map((l) => l.split('\t')[2])).toEqual([
      `{"event":"image_uploaded","id":"${image.id}","title":"watched"}`,
      `{"event":"image_updated","id":"${image.id}","title":"watched again"}`,
      `{"event":"image_deleted","id":"${image.id}","title":"watched again"}`,
    ]);
    expect(deleted).toBe(events[2]);
  });

  it('resubscribes by itself after its connection is killed (CLIENT KILL)', async () => {
    const listener = listen(tcp);
    await listener.waitFor(/subscribed to image_channel/);
    const clients = String(await direct.sendCommand(['CLIENT', 'LIST']));
    // The newest listener connection is this test's (ids only grow).
    const ids = [...clients.matchAll(/^id=(\d+) .*name=photo-gallery-listener /gm)].map((m) => Number(m[1]));
    expect(ids.length).toBeGreaterThan(0);
    await direct.sendCommand(['CLIENT', 'KILL', 'ID', String(Math.max(...ids))]);
    await listener.waitFor(/reconnected to redis:\/\/127\.0\.0\.1:6379; subscribed to image_channel/);
    await direct.publish('image_channel', '{"event":"image_uploaded","id":"after-kill","title":"t"}');
    expect(await listener.waitFor(/after-kill/)).toMatch(LINE);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('exits cleanly (code 0) on %s', async (signal) => {
    const listener = listen(tcp);
    await listener.waitFor(/subscribed to image_channel/);
    listener.child.kill(signal);
    expect(await listener.exit()).toBe(0);
    expect(listener.lines.join('\n')).toContain(`${signal} received; unsubscribing`);
  });

  it('exits cleanly (code 0) on SIGTERM while Redis is unreachable at start', async () => {
    const listener = listen({ ...tcp, REDIS_URL: 'redis://127.0.0.1:1' });
    await listener.waitFor(/WARN\tconnection to redis:\/\/127\.0\.0\.1:1 lost: .*; reconnecting/);
    listener.child.kill('SIGTERM');
    expect(await listener.exit()).toBe(0);
    expect(listener.lines.join('\n')).toContain('SIGTERM received before subscribing; exiting');
  });

  it('prints structured JSON with LOG_FORMAT=json', async () => {
    const listener = listen({ ...tcp, LOG_FORMAT: 'json' });
    await listener.waitFor(/subscribed to image_channel/);
    await direct.publish('image_channel', '{"event":"image_updated","id":"json-1","title":"t"}');
    const line = JSON.parse(await listener.waitFor(/json-1/));
    expect(line).toEqual({
      timestamp: expect.stringMatching(/Z$/),
      level: 'INFO',
      message: 'event',
      channel: 'image_channel',
      event: { event: 'image_updated', id: 'json-1', title: 't' },
    });
  });
});

describe('npm run listener on Upstash (the protocol fixture)', () => {
  const upstash = () => ({ UPSTASH_REDIS_REST_URL: fixture.url, UPSTASH_REDIS_REST_TOKEN: fixture.token });

  it('prints the events published through the real @upstash/redis client', async () => {
    const listener = listen(upstash());
    await listener.waitFor(/subscribed to image_channel on http:\/\/127\.0\.0\.1/);
    const api = await apiWith({ ...upstash(), LOG_LEVEL: 'silent' });
    const image = (await api.upload({ title: 'via upstash' })).json as { id: string };
    const line = await listener.waitFor(new RegExp(image.id));
    expect(line.split('\t')[2]).toBe(`{"event":"image_uploaded","id":"${image.id}","title":"via upstash"}`);
    expect(line).toMatch(LINE);
  });

  it('subscribes again after its stream drops', async () => {
    const listener = listen(upstash());
    await listener.waitFor(/subscribed to image_channel/);
    const before = listener.lines.length;
    fixture.dropSubscribers();
    await listener.waitFor(/subscription to .* lost: .*; resubscribing/, before);
    await listener.waitFor(/subscribed to image_channel/, before + 1);
    await direct.publish('image_channel', '{"event":"image_deleted","id":"after-drop","title":"t"}');
    expect(await listener.waitFor(/after-drop/)).toMatch(LINE);
  });

  it('exits cleanly on SIGTERM', async () => {
    const listener = listen(upstash());
    await listener.waitFor(/subscribed to image_channel/);
    listener.child.kill('SIGTERM');
    expect(await listener.exit()).toBe(0);
  });
});
