/**
 * The listener as `npm run listener` runs it: a separate process, on the local Redis and on Upstash's
 * protocol (the fixture), printing the events of real uploads, edits and deletes from the stream —
 * catching up on what it missed while it was stopped or killed, taking over what a dead consumer left,
 * printing an event delivered twice once.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from '@redis/client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startAwsStandIn } from '../../support/aws-stand-in';
import { startUpstashFixture, type UpstashFixture } from '../../support/upstash-fixture';
import { apiWith } from '../helpers/api';
import { ownRedis } from '../helpers/faults';
import { type Running, startListener, stopListeners } from '../helpers/listener';
import { resetState } from '../helpers/state';
import { runsWith } from '../helpers/tools';

const REDIS_URL = 'redis://127.0.0.1:6379';
const direct = createClient({ url: REDIS_URL, RESP: 2 });
let fixture: UpstashFixture;

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
  await stopListeners();
  vi.resetModules();
});

const LINE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\tINFO\t/;
const tcp = { REDIS_URL, UPSTASH_REDIS_REST_URL: undefined, UPSTASH_REDIS_REST_TOKEN: undefined };
/** A group of its own for each test: the stream is shared, the group's position is not. */
const group = () => ({ LISTENER_GROUP: `test-${randomUUID().slice(0, 8)}`, LISTENER_CONSUMER: 'listener-1' });
const READING = /reading image_events on .* in group/;
/** The event lines about one image, as printed (the payload column). */
const eventsOf = (r: Running, id: string) => r.lines.filter((l) => l.includes(id) && LINE.test(l)).map((l) => l.split('\t')[2]);
const uploaded = (id: string, title: string) => `{"event":"image_uploaded","id":"${id}","title":"${title}"}`;
const updated = (id: string, title: string) => `{"event":"image_updated","id":"${id}","title":"${title}"}`;
/** The listener's connections to a Redis: their ids, and the command each runs or waits to run. */
const listenerConnections = async (client: typeof direct) =>
  [...String(await client.sendCommand(['CLIENT', 'LIST'])).matchAll(/^id=(\d+) .*name=photo-gallery-listener .*cmd=(\S+)/gm)].map((m) => ({
    id: m[1] ?? '',
    cmd: m[2] ?? '',
  }));
/** What `read` gives once `done` holds of it, or after a second: each entry is acknowledged just after it is printed. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 50 && !done(value); i++) {
    await new Promise((r) => setTimeout(r, 20));
    value = await read();
  }
  return value;
}
/** Runs `test` on a redis-server of its own (its faults hurt no other test), with a client of the test's on it. */
async function onOwnRedis(test: (url: string, own: typeof direct) => Promise<void>): Promise<void> {
  const redis = await ownRedis();
  const own = createClient({ url: redis.url, RESP: 2 });
  await own.connect();
  try {
    await test(redis.url, own);
  } finally {
    await own.close();
    await redis.stop();
  }
}

describe('npm run listener on the local Redis', () => {
  it('prints one CloudWatch-like line per upload, edit and delete, from the stream', async () => {
    const listener = startListener({ ...tcp, ...group() });
    await listener.waitFor(READING);
    const api = await apiWith({ ...tcp, LOG_LEVEL: 'silent' });
    const image = (await api.upload({ title: 'watched' })).json as { id: string };
    await api.patch(image.id, { title: 'watched again' });
    await api.remove(image.id);

    await listener.waitFor(new RegExp(`image_deleted.*${image.id}`));
    for (const line of listener.lines.filter((l) => l.includes(image.id))) expect(line).toMatch(LINE);
    expect(eventsOf(listener, image.id)).toEqual([
      uploaded(image.id, 'watched'),
      `{"event":"image_updated","id":"${image.id}","title":"watched again"}`,
      `{"event":"image_deleted","id":"${image.id}","title":"watched again"}`,
    ]);
  });

  it('catches up on start with what was published while it was stopped, then follows live', async () => {
    const env = { ...tcp, ...group() };
    const first = startListener(env);
    await first.waitFor(READING);
    first.child.kill('SIGTERM');
    expect(await first.exit()).toBe(0);

    const api = await apiWith({ ...tcp, LOG_LEVEL: 'silent' });
    const missed = [] as string[];
    for (const title of ['while down 1', 'while down 2']) missed.push(((await api.upload({ title })).json as { id: string }).id);

    const second = startListener(env);
    await second.waitFor(READING);
    for (const [i, id] of missed.entries()) expect(await second.waitFor(new RegExp(id))).toContain(uploaded(id, `while down ${i + 1}`));
    const live = ((await api.upload({ title: 'after restart' })).json as { id: string }).id;
    await second.waitFor(new RegExp(live));
    for (const id of [...missed, live]) expect(eventsOf(second, id)).toHaveLength(1);
  });

  it('killed (SIGKILL) mid-stream and started again: prints what it missed, nothing twice', async () => {
    const env = { ...tcp, ...group() };
    const api = await apiWith({ ...tcp, LOG_LEVEL: 'silent' });
    const first = startListener(env);
    await first.waitFor(READING);
    const before = ((await api.upload({ title: 'before the kill' })).json as { id: string }).id;
    await first.waitFor(new RegExp(before));
    // Killed once it has acknowledged what it printed (a kill between the print and the
    // acknowledgement prints that event again: at least once).
    const pending = async () => Number(((await direct.sendCommand(['XPENDING', 'image_events', env.LISTENER_GROUP])) as unknown[])[0]);
    await eventually(pending, (n) => n === 0);
    first.child.kill('SIGKILL');
    await first.exit();
    const during = ((await api.upload({ title: 'while killed' })).json as { id: string }).id;
    await api.patch(during, { description: 'edited while killed' });

    const second = startListener(env);
    await second.waitFor(new RegExp(`image_updated.*${during}`));
    expect(eventsOf(second, during)).toEqual([
      uploaded(during, 'while killed'),
      `{"event":"image_updated","id":"${during}","title":"while killed"}`,
    ]);
    // What the first printed and acknowledged is not printed again.
    expect(eventsOf(second, before)).toEqual([]);
  });

  it('acknowledges a pending entry the stream trimmed away (listed without fields), and goes on', () =>
    onOwnRedis(async (url, own) => {
      const env = { ...tcp, REDIS_URL: url, LISTENER_GROUP: 'trimmed', LISTENER_CONSUMER: 'listener-1' };
      await own.sendCommand(['XGROUP', 'CREATE', 'image_events', 'trimmed', '$', 'MKSTREAM']);
      const [lost, kept] = [randomUUID(), randomUUID()];
      await own.sendCommand(['XADD', 'image_events', '*', 'event', uploaded(lost, 'trimmed'), 'outbox_id', '1']);
      // Read by this consumer, not acknowledged, then trimmed away (MAXLEN) before it came back.
      await own.sendCommand(['XREADGROUP', 'GROUP', 'trimmed', 'listener-1', 'COUNT', '10', 'STREAMS', 'image_events', '>']);
      await own.sendCommand(['XTRIM', 'image_events', 'MAXLEN', '0']);
      await own.sendCommand(['XADD', 'image_events', '*', 'event', uploaded(kept, 'kept'), 'outbox_id', '2']);
      const listener = startListener(env);
      await listener.waitFor(new RegExp(kept));
      expect(listener.lines.some((l) => l.includes(lost))).toBe(false);
      const pending = async () => Number(((await own.sendCommand(['XPENDING', 'image_events', 'trimmed'])) as unknown[])[0]);
      expect(await eventually(pending, (n) => n === 0)).toBe(0);
    }));

  it('takes over what a dead consumer of its group read and never acknowledged', async () => {
    const env = { ...tcp, ...group(), LISTENER_CLAIM_IDLE_MS: '200' };
    await direct.sendCommand(['XGROUP', 'CREATE', 'image_events', env.LISTENER_GROUP, '$', 'MKSTREAM']);
    const id = randomUUID();
    const entry = String(await direct.sendCommand(['XADD', 'image_events', '*', 'event', uploaded(id, 'orphaned'), 'outbox_id', '-1']));
    // A consumer that read it and died.
    await direct.sendCommand(['XREADGROUP', 'GROUP', env.LISTENER_GROUP, 'dead-consumer', 'COUNT', '10', 'STREAMS', 'image_events', '>']);
    const listener = startListener(env);
    expect(await listener.waitFor(new RegExp(id))).toContain(uploaded(id, 'orphaned'));
    // That entry only: others may arrive on the shared stream meanwhile, read and not yet acknowledged.
    const stillPending = () =>
      direct.sendCommand(['XPENDING', 'image_events', env.LISTENER_GROUP, entry, entry, '1']) as Promise<unknown[]>;
    expect(await eventually(stillPending, (list) => list.length === 0)).toEqual([]);
  });

  it('prints an event the outbox delivered twice (same outbox id) once', async () => {
    const env = { ...tcp, ...group() };
    const listener = startListener(env);
    await listener.waitFor(READING);
    const id = randomUUID();
    const outboxId = String(Date.now());
    for (let i = 0; i < 2; i++)
      await direct.sendCommand(['XADD', 'image_events', '*', 'event', uploaded(id, 'twice'), 'outbox_id', outboxId]);
    const marker = randomUUID();
    await direct.sendCommand(['XADD', 'image_events', '*', 'event', uploaded(marker, 'after'), 'outbox_id', `${outboxId}1`]);
    await listener.waitFor(new RegExp(marker));
    expect(eventsOf(listener, id)).toEqual([uploaded(id, 'twice')]);
  });

  it('prints an event of a database made anew whose outbox id it printed before for another event', async () => {
    const env = { ...tcp, ...group() };
    const listener = startListener(env);
    await listener.waitFor(READING);
    // The same outbox id from two databases (npm start's data folder wiped and made again): two events.
    const outboxId = String(Date.now());
    const [before, after] = [randomUUID(), randomUUID()];
    await direct.sendCommand(['XADD', 'image_events', '*', 'event', uploaded(before, 'old database'), 'outbox_id', outboxId]);
    await direct.sendCommand(['XADD', 'image_events', '*', 'event', uploaded(after, 'new database'), 'outbox_id', outboxId]);
    await listener.waitFor(new RegExp(after));
    expect(eventsOf(listener, before)).toEqual([uploaded(before, 'old database')]);
    expect(eventsOf(listener, after)).toEqual([uploaded(after, 'new database')]);
  });

  it('--from-start prints the stream from its beginning; --live-only only what comes next', async () => {
    // A short stream, so that "from its beginning" is quick to read.
    await direct.sendCommand(['DEL', 'image_events']);
    const old = randomUUID();
    await direct.sendCommand(['XADD', 'image_events', '*', 'event', uploaded(old, 'old'), 'outbox_id', '-2']);
    const fromStart = startListener({ ...tcp, ...group() }, ['--from-start']);
    const liveOnly = startListener({ ...tcp, ...group() }, ['--live-only']);
    await Promise.all([fromStart.waitFor(/from its start/), liveOnly.waitFor(/from now on/)]);
    expect(await fromStart.waitFor(new RegExp(old))).toContain(uploaded(old, 'old'));
    const fresh = randomUUID();
    await direct.sendCommand(['XADD', 'image_events', '*', 'event', uploaded(fresh, 'fresh'), 'outbox_id', '-3']);
    await Promise.all([fromStart.waitFor(new RegExp(fresh)), liveOnly.waitFor(new RegExp(fresh))]);
    expect(eventsOf(liveOnly, old)).toEqual([]);
  });

  it('keeps reading after its connection is killed (CLIENT KILL)', async () => {
    const listener = startListener({ ...tcp, ...group() });
    await listener.waitFor(READING);
    const clients = String(await direct.sendCommand(['CLIENT', 'LIST']));
    // The newest listener connection is this test's (ids only grow).
    const ids = [...clients.matchAll(/^id=(\d+) .*name=photo-gallery-listener /gm)].map((m) => Number(m[1]));
    expect(ids.length).toBeGreaterThan(0);
    await direct.sendCommand(['CLIENT', 'KILL', 'ID', String(Math.max(...ids))]);
    await listener.waitFor(/reconnected to redis:\/\/127\.0\.0\.1:6379/);
    const id = randomUUID();
    await direct.sendCommand(['XADD', 'image_events', '*', 'event', uploaded(id, 'after kill'), 'outbox_id', '-4']);
    expect(await listener.waitFor(new RegExp(id))).toMatch(LINE);
  });

  it('after a failure, prints what it had read and not acknowledged before anything newer (stream order per image)', () =>
    onOwnRedis(async (url, own) => {
      // Claiming after ten minutes: only the listener's own re-read can print the entries left pending.
      const env = { ...tcp, REDIS_URL: url, ...group(), LISTENER_CLAIM_IDLE_MS: '600000' };
      const listener = startListener(env);
      await listener.waitFor(READING);
      const id = randomUUID();
      // Two events read as the listener's consumer and never acknowledged, as when its connection drops in
      // the middle of a batch. In one transaction: its blocked read cannot take them first.
      await own
        .multi()
        .addCommand(['XADD', 'image_events', '*', 'event', updated(id, 'first'), 'outbox_id', '-5'])
        .addCommand(['XADD', 'image_events', '*', 'event', updated(id, 'second'), 'outbox_id', '-6'])
        .addCommand(['XREADGROUP', 'GROUP', env.LISTENER_GROUP, env.LISTENER_CONSUMER, 'COUNT', '10', 'STREAMS', 'image_events', '>'])
        .exec();
      // Its connection drops, then a newer event of the same image arrives.
      for (const c of await listenerConnections(own)) await own.sendCommand(['CLIENT', 'KILL', 'ID', c.id]);
      await listener.waitFor(/reconnected to/);
      await own.sendCommand(['XADD', 'image_events', '*', 'event', updated(id, 'third'), 'outbox_id', '-7']);

      await listener.waitFor(/"title":"third"/);
      expect(eventsOf(listener, id)).toEqual([updated(id, 'first'), updated(id, 'second'), updated(id, 'third')]);
      const pending = async () => Number(((await own.sendCommand(['XPENDING', 'image_events', env.LISTENER_GROUP])) as unknown[])[0]);
      expect(await eventually(pending, (n) => n === 0)).toBe(0);
    }));

  it('a connection lost while it starts (making its group) only delays reading: it catches up, then follows live', () =>
    onOwnRedis(async (url, own) => {
      const env = { ...tcp, REDIS_URL: url, ...group() };
      const id = randomUUID();
      // What it read in an earlier run and never acknowledged: the start's catch-up prints it.
      await own.sendCommand(['XGROUP', 'CREATE', 'image_events', env.LISTENER_GROUP, '$', 'MKSTREAM']);
      await own.sendCommand(['XADD', 'image_events', '*', 'event', uploaded(id, 'before'), 'outbox_id', '-8']);
      await own.sendCommand(['XREADGROUP', 'GROUP', env.LISTENER_GROUP, env.LISTENER_CONSUMER, 'STREAMS', 'image_events', '>']);
      // Writes held back: its first one, XGROUP CREATE, waits in Redis while its connection is killed.
      await own.sendCommand(['CLIENT', 'PAUSE', '20000', 'WRITE']);
      const listener = startListener(env);
      let making: { id: string } | undefined;
      for (let i = 0; i < 200 && !making; i++) {
        making = (await listenerConnections(own)).find((c) => c.cmd === 'xgroup|create');
        if (!making) await new Promise((r) => setTimeout(r, 50));
      }
      expect(making).toBeDefined();
      await own.sendCommand(['CLIENT', 'KILL', 'ID', making?.id ?? '']);
      await own.sendCommand(['CLIENT', 'UNPAUSE']);
      await own.sendCommand(['XADD', 'image_events', '*', 'event', updated(id, 'after'), 'outbox_id', '-9']);

      await listener.waitFor(/"title":"after"/);
      expect(eventsOf(listener, id)).toEqual([uploaded(id, 'before'), updated(id, 'after')]);
    }));

  it("--live-only: a Redis error while it looks for the stream's end only delays reading", () =>
    onOwnRedis(async (url, own) => {
      // Not a stream: looking for its end fails (WRONGTYPE) until the key is gone.
      await own.sendCommand(['SET', 'image_events', 'not a stream']);
      const listener = startListener({ ...tcp, REDIS_URL: url, ...group() }, ['--live-only']);
      await listener.waitFor(/WRONGTYPE/);
      await own.sendCommand(['DEL', 'image_events']);
      await listener.waitFor(/from now on/);
      const id = randomUUID();
      await own.sendCommand(['XADD', 'image_events', '*', 'event', uploaded(id, 'live'), 'outbox_id', '-10']);
      expect(await listener.waitFor(new RegExp(id))).toContain(uploaded(id, 'live'));
    }));

  it.each(['SIGTERM', 'SIGINT'] as const)('exits cleanly (code 0) on %s', async (signal) => {
    const listener = startListener({ ...tcp, ...group() });
    await listener.waitFor(READING);
    listener.child.kill(signal);
    expect(await listener.exit()).toBe(0);
    expect(listener.lines.join('\n')).toContain(`${signal} received; stopping`);
  });

  it('exits cleanly (code 0) on SIGTERM while Redis is unreachable at start', async () => {
    const listener = startListener({ ...tcp, ...group(), REDIS_URL: 'redis://127.0.0.1:1' });
    await listener.waitFor(/WARN\tconnection to redis:\/\/127\.0\.0\.1:1 lost: .*; reconnecting/);
    listener.child.kill('SIGTERM');
    expect(await listener.exit()).toBe(0);
    expect(listener.lines.join('\n')).toContain('SIGTERM received before reading; exiting');
  });

  it('prints structured JSON with LOG_FORMAT=json', async () => {
    const listener = startListener({ ...tcp, ...group(), LOG_FORMAT: 'json' });
    await listener.waitFor(/reading image_events/);
    const id = randomUUID();
    await direct.sendCommand([
      'XADD',
      'image_events',
      '*',
      'event',
      `{"event":"image_updated","id":"${id}","title":"t"}`,
      'outbox_id',
      '42',
    ]);
    const line = JSON.parse(await listener.waitFor(new RegExp(id)));
    expect(line).toEqual({
      timestamp: expect.stringMatching(/Z$/),
      level: 'INFO',
      message: 'event',
      stream: 'image_events',
      outbox_id: '42',
      event: { event: 'image_updated', id, title: 't' },
    });
  });
});

describe('npm run listener on Upstash (the protocol fixture)', () => {
  const upstash = () => ({ UPSTASH_REDIS_REST_URL: fixture.url, UPSTASH_REDIS_REST_TOKEN: fixture.token });

  it('prints the events the real @upstash/redis client delivered, read back over REST', async () => {
    const listener = startListener({ ...upstash(), ...group() });
    await listener.waitFor(/reading image_events on http:\/\/127\.0\.0\.1/);
    const api = await apiWith({ ...upstash(), LOG_LEVEL: 'silent' });
    const image = (await api.upload({ title: 'via upstash' })).json as { id: string };
    const line = await listener.waitFor(new RegExp(image.id));
    expect(line.split('\t')[2]).toBe(uploaded(image.id, 'via upstash'));
    expect(line).toMatch(LINE);
    expect(fixture.commands.some((c) => c[0]?.toUpperCase() === 'XADD')).toBe(true);
    expect(fixture.commands.some((c) => c[0]?.toUpperCase() === 'XREADGROUP')).toBe(true);
  });

  it('exits cleanly on SIGTERM', async () => {
    const listener = startListener({ ...upstash(), ...group() });
    await listener.waitFor(/reading image_events/);
    listener.child.kill('SIGTERM');
    expect(await listener.exit()).toBe(0);
  });
});

// moto_server stands in for SSM (.ci/run installs it); on a machine without it only CI insists.
describe.runIf(runsWith('the listener with its secrets in SSM (listener.test.ts)', 'moto_server'))(
  'the listener with its secrets in SSM (as its container on AWS)',
  () => {
    it('reads the database and Upstash from the stage parameters, then prints events', async () => {
      const aws = await startAwsStandIn();
      try {
        const path = '/photo-gallery/listener-test';
        await aws.putParameters({
          [`${path}/database-url`]: process.env.DATABASE_URL ?? '',
          [`${path}/api-keys`]: 'listener-test-key-0123456789',
          [`${path}/upstash-redis-rest-url`]: fixture.url,
          [`${path}/upstash-redis-rest-token`]: fixture.token,
          [`${path}/share-token-secret`]: 'listener-test-share-token-secret-0123456789',
        });
        // Nothing of the secrets in its environment: only where they are.
        const listener = startListener({
          ...aws.env,
          ...group(),
          SSM_PARAMETER_PATH: path,
          // The machine's Postgres speaks no TLS (a deployed listener verifies the certificate).
          DB_TLS_UNVERIFIED: 'true',
          DATABASE_URL: undefined,
          REDIS_URL: undefined,
          UPSTASH_REDIS_REST_URL: undefined,
          UPSTASH_REDIS_REST_TOKEN: undefined,
        });
        await listener.waitFor(new RegExp(`reading image_events on ${fixture.url.replace(/[.]/g, '\\.')}`));
        const api = await apiWith({ UPSTASH_REDIS_REST_URL: fixture.url, UPSTASH_REDIS_REST_TOKEN: fixture.token, LOG_LEVEL: 'silent' });
        const image = (await api.upload({ title: 'secrets from ssm' })).json as { id: string };
        expect((await listener.waitFor(new RegExp(image.id))).split('\t')[2]).toBe(uploaded(image.id, 'secrets from ssm'));
      } finally {
        await aws.stop();
      }
    });

    it('refuses to start, naming the parameter, when one is missing', async () => {
      const aws = await startAwsStandIn();
      try {
        const path = '/photo-gallery/listener-missing';
        await aws.putParameters({
          [`${path}/database-url`]: process.env.DATABASE_URL ?? '',
          [`${path}/api-keys`]: 'listener-test-key-0123456789',
          [`${path}/upstash-redis-rest-url`]: fixture.url,
        });
        const listener = startListener({ ...aws.env, ...group(), SSM_PARAMETER_PATH: path });
        expect(await listener.exit()).not.toBe(0);
        expect(listener.lines.join('\n')).toContain(`${path}/upstash-redis-rest-token`);
      } finally {
        await aws.stop();
      }
    });
  },
);
