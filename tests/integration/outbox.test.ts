/**
 * The outbox (issue 14): every change's event written in the change's own transaction, delivered
 * after it commits — by the function at once, by the relay when Redis was down — at least once on
 * the stream and in commit order per image; deletions that finish once S3 is back; objects that never
 * outlive a transaction that did not commit. Faults are real: a Redis server killed and started
 * again, an S3 switched off behind a TCP switch.
 */

import { randomUUID } from 'node:crypto';
import { createClient } from '@redis/client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { api, apiWith } from '../helpers/api';
import { ownRedis, tcpSwitch } from '../helpers/faults';
import { startListener, stopListeners } from '../helpers/listener';
import { assertNoOrphans, getObject, objectKeys, resetState, rowIds, sql } from '../helpers/state';

type Image = { id: string; title: string };
const direct = createClient({ url: 'redis://127.0.0.1:6379', RESP: 2 });

beforeAll(() => direct.connect());
afterAll(() => direct.close());
beforeEach(resetState);
afterEach(async () => {
  await stopListeners();
  vi.resetModules();
});

/** The outbox rows of an image, oldest first. */
const outboxOf = (id: string) =>
  sql<{ id: string; event: string; title: string; published: boolean }[]>`
    select id::text, event, title, published_at is not null as published from outbox where subject_id = ${id} order by id`;

/** The stream entries (event JSON and outbox id) about `id`, in stream order. */
async function streamOf(id: string): Promise<{ event: string; outboxId: string }[]> {
  const entries = (await direct.sendCommand(['XRANGE', 'image_events', '-', '+'])) as [string, string[]][];
  return entries
    .map(([, fields]) => ({ event: fields[fields.indexOf('event') + 1] ?? '', outboxId: fields[fields.indexOf('outbox_id') + 1] ?? '' }))
    .filter((e) => e.event.includes(id));
}

describe('every change writes its event in its own transaction', () => {
  it('upload, edit, processing and delete, in order; an update that moves nothing a client sees writes none', async () => {
    const image = (await api.upload({ title: 'outboxed' })).json as Image;
    await api.patch(image.id, { title: 'outboxed again' });
    // The processing function's outcome, and a backfill of what the file is (no event).
    await sql`update images set processing = 'ready', updated_at = updated_at + interval '1 microsecond' where id = ${image.id}`;
    await sql`update images set size = size where id = ${image.id}`;
    await api.remove(image.id);
    expect((await outboxOf(image.id)).map((r) => [r.event, r.title])).toEqual([
      ['image_uploaded', 'outboxed'],
      ['image_updated', 'outboxed again'],
      ['image_processed', 'outboxed again'],
      ['image_deleted', 'outboxed again'],
    ]);
  });

  it('writes nothing for a change that did not commit', async () => {
    expect((await api.upload({ title: 'taken' })).status).toBe(201);
    expect((await api.upload({ title: 'taken' })).status).toBe(409);
    expect(await sql`select event from outbox`).toEqual([{ event: 'image_uploaded' }]);
  });

  it('delivers them right after the commit: the stream with the outbox id, the channel byte for byte, then marked', async () => {
    const published: string[] = [];
    const subscriber = direct.duplicate();
    await subscriber.connect();
    await subscriber.subscribe('image_channel', (m) => published.push(m));
    try {
      const image = (await api.upload({ title: 'delivered' })).json as Image;
      await api.patch(image.id, { description: 'edited' });
      const rows = await outboxOf(image.id);
      expect(rows.map((r) => r.published)).toEqual([true, true]);
      const expected = [
        `{"event":"image_uploaded","id":"${image.id}","title":"delivered"}`,
        `{"event":"image_updated","id":"${image.id}","title":"delivered"}`,
      ];
      expect(await streamOf(image.id)).toEqual(expected.map((event, i) => ({ event, outboxId: rows[i]?.id })));
      await new Promise((r) => setTimeout(r, 50));
      expect(published.filter((m) => m.includes(image.id))).toEqual(expected);
    } finally {
      await subscriber.close();
    }
  });
});

describe('Redis stopped while images change', () => {
  it('loses no event: once Redis is back, the listener prints every one, in order per image', async () => {
    const redis = await ownRedis();
    try {
      const listener = startListener({ REDIS_URL: redis.url, LISTENER_GROUP: 'outage', LISTENER_CONSUMER: 'l1', LOG_LEVEL: 'silent' });
      await listener.waitFor(/reading image_events/);
      const down = await apiWith({ REDIS_URL: redis.url, REDIS_TIMEOUT_MS: '100', LOG_LEVEL: 'silent' });
      await redis.stop();

      // While Redis is down every write still answers as usual.
      const a = (await down.upload({ title: 'outage a' })).json as Image;
      const b = (await down.upload({ title: 'outage b' })).json as Image;
      expect((await down.patch(a.id, { title: 'outage a2' })).status).toBe(200);
      expect((await down.patch(b.id, { description: 'b edited' })).status).toBe(200);
      expect((await down.remove(a.id)).status).toBe(204);
      expect((await outboxOf(a.id)).map((r) => r.published)).toEqual([false, false, false]);

      await redis.start(); // empty, as a Redis without persistence comes back
      const expectations: [Image, string[]][] = [
        [
          a,
          [
            `image_uploaded","id":"${a.id}","title":"outage a"`,
            `image_updated","id":"${a.id}","title":"outage a2"`,
            `image_deleted","id":"${a.id}","title":"outage a2"`,
          ],
        ],
        [b, [`image_uploaded","id":"${b.id}","title":"outage b"`, `image_updated","id":"${b.id}","title":"outage b"`]],
      ];
      for (const [image, events] of expectations) {
        await listener.waitFor(new RegExp(events.at(-1)?.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') ?? ''));
        const printed = listener.lines.filter((l) => l.includes(image.id)).map((l) => l.split('\t')[2]);
        expect(printed).toEqual(events.map((e) => `{"event":"${e}}`));
      }
      expect((await outboxOf(b.id)).every((r) => r.published)).toBe(true);
    } finally {
      await redis.stop();
    }
  });
});

describe('the relay', () => {
  it("drops a stale cached image and raises its fence before it tells of the change the write's own invalidation missed", async () => {
    const redis = await tcpSwitch('http://127.0.0.1:6379');
    const cacheAtPublish: (string | null)[] = [];
    const subscriber = direct.duplicate();
    const probe = direct.duplicate();
    await Promise.all([subscriber.connect(), probe.connect()]);
    try {
      const service = await apiWith({ REDIS_URL: redis.url.replace('http:', 'redis:'), REDIS_TIMEOUT_MS: '200', LOG_LEVEL: 'silent' });
      const image = (await service.upload({ title: 'fenced' })).json as Image;
      expect((await service.get(image.id)).headers['x-cache']).toBe('MISS');
      expect((await service.get(image.id)).headers['x-cache']).toBe('HIT');

      redis.down();
      const patched = await service.patch(image.id, { title: 'fenced 2' });
      expect(patched.status).toBe(200);
      redis.up();
      // The write's own invalidation never reached Redis: the version before it is still cached.
      expect(JSON.parse((await direct.get(`image:${image.id}`)) ?? '{}')).toMatchObject({ title: 'fenced' });

      // What the cache holds at the moment a subscriber hears of the change: no longer the old version.
      await subscriber.subscribe('image_channel', (message) => {
        if (message.includes(image.id)) void probe.get(`image:${image.id}`).then((cached) => cacheAtPublish.push(cached));
      });
      vi.resetModules();
      const { relayPending } = await import('../../lib/outbox/relay');
      const { imagesBeforeDelivery } = await import('../../lib/images/cache');
      await relayPending(100, { subjectId: image.id, before: imagesBeforeDelivery() });
      await expect.poll(() => cacheAtPublish.length).toBe(1);
      expect(cacheAtPublish).toEqual([null]);
      expect(await direct.get(`image:${image.id}:fence`)).toBe((patched.json as { updated_at: string }).updated_at);

      // The fence is the version now: a read of it is cached again.
      const miss = await service.get(image.id);
      expect(miss.headers['x-cache']).toBe('MISS');
      expect(miss.json).toMatchObject({ title: 'fenced 2' });
      const hit = await service.get(image.id);
      expect(hit.headers['x-cache']).toBe('HIT');
      expect(hit.json).toMatchObject({ title: 'fenced 2' });
    } finally {
      await Promise.all([subscriber.close(), probe.close()]);
      await redis.close();
    }
  });

  it('run twice at once, delivers each event once', async () => {
    const imageIds = Array.from({ length: 40 }, () => randomUUID());
    for (const [i, imageId] of imageIds.entries())
      await sql`insert into outbox (subject_id, event, title) values (${imageId}, 'image_uploaded', ${`relay ${i}`})`;
    vi.resetModules();
    const first = await import('../../lib/outbox/relay');
    vi.resetModules();
    const second = await import('../../lib/outbox/relay');
    let delivered = 0;
    for (let round = 0; round < 20 && delivered < 40; round++) {
      const [x, y] = await Promise.all([first.relayPending(5), second.relayPending(5)]);
      delivered += x + y;
    }
    expect(delivered).toBe(40);
    const ids = (await sql<{ id: string }[]>`select id::text from outbox`).map((r) => r.id);
    const entries = (await direct.sendCommand(['XRANGE', 'image_events', '-', '+'])) as [string, string[]][];
    const counts = new Map<string, number>();
    // Only this test's entries: the machine's Redis is shared, and another database's outbox ids
    // (the bench's, npm start's) are the same small numbers.
    for (const [, fields] of entries) {
      const id = fields[fields.indexOf('outbox_id') + 1] ?? '';
      const event = fields[fields.indexOf('event') + 1] ?? '';
      if (ids.includes(id) && imageIds.some((imageId) => event.includes(imageId))) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(counts.size).toBe(40);
  });

  it("a function's after-commit delivery and the relay at once deliver each event of the image once, in order", async () => {
    const image = randomUUID();
    for (let i = 0; i < 30; i++)
      await sql`insert into outbox (subject_id, event, title) values (${image}, 'image_updated', ${`race ${i}`})`;
    vi.resetModules();
    const afterCommit = await import('../../lib/outbox/relay');
    vi.resetModules();
    const relay = await import('../../lib/outbox/relay');
    for (let round = 0; round < 10; round++) await Promise.all([afterCommit.relaySubject(image), relay.relayPending(7)]);
    expect((await outboxOf(image)).every((r) => r.published)).toBe(true);
    const titles = (await streamOf(image)).map((e) => JSON.parse(e.event).title);
    expect(titles).toEqual(Array.from({ length: 30 }, (_, i) => `race ${i}`));
  });

  it("never delivers an image's event before an older one another relay holds", async () => {
    const image = randomUUID();
    const [older] = await sql<
      { id: string }[]
    >`insert into outbox (subject_id, event, title) values (${image}, 'image_uploaded', 'held') returning id::text`;
    await sql`insert into outbox (subject_id, event, title) values (${image}, 'image_updated', 'held')`;
    const { relayPending } = await import('../../lib/outbox/relay');
    // Another relay holds the older event (its transaction open, the row locked).
    const holder = await sql.reserve();
    try {
      await holder`begin`;
      await holder`select id from outbox where id = ${older?.id ?? ''} for update`;
      expect(await relayPending(10)).toBe(0);
      expect(await streamOf(image)).toEqual([]);
    } finally {
      await holder`rollback`;
      holder.release();
    }
    expect(await relayPending(10)).toBeGreaterThanOrEqual(2);
    expect((await streamOf(image)).map((e) => JSON.parse(e.event).event)).toEqual(['image_uploaded', 'image_updated']);
  });

  it('prunes delivered events past their retention, and keeps the rest', async () => {
    await sql`insert into outbox (subject_id, event, title, published_at) values
      (${randomUUID()}, 'image_uploaded', 'old', now() - interval '200 hours'),
      (${randomUUID()}, 'image_uploaded', 'recent', now() - interval '1 hour'),
      (${randomUUID()}, 'image_uploaded', 'undelivered', null)`;
    const { pruneOutbox } = await import('../../lib/outbox/relay');
    expect(await pruneOutbox()).toBe(1);
    expect((await sql`select title from outbox order by title`).map((r) => r.title)).toEqual(['recent', 'undelivered']);
  });
});

describe('deletions that finish', () => {
  it('S3 stopped during a DELETE: 204, the row is gone, the files are removed once S3 is back', async () => {
    const image = (await api.upload({ title: 'gone while s3 is down' })).json as Image & { file_url: string };
    const s3 = await tcpSwitch(String(process.env.S3_ENDPOINT));
    try {
      const behind = await apiWith({ S3_ENDPOINT: s3.url, FILE_REMOVAL_BUDGET_MS: '300' });
      s3.down();
      expect((await behind.remove(image.id)).status).toBe(204);
      expect(await rowIds()).toEqual([]);
      expect(await objectKeys()).toEqual([`images/${image.id}.jpg`]);
      expect((await sql`select key from file_removals order by key`).map((r) => r.key)).toEqual([
        `images/${image.id}.jpg`,
        `variants/${image.id}/display.webp`,
        `variants/${image.id}/thumb.webp`,
      ]);
      // The relay tries while S3 is still down: the jobs stay, tried again later.
      const { runRemovals } = await import('../../lib/outbox/removals');
      expect(await runRemovals()).toBe(0);
      expect((await sql`select attempts from file_removals`).every((r) => r.attempts === 1)).toBe(true);
      s3.up();
      await sql`update file_removals set not_before = now()`;
      expect(await runRemovals()).toBe(3);
      expect(await objectKeys()).toEqual([]);
      expect(await sql`select id from file_removals`).toEqual([]);
    } finally {
      await s3.close();
    }
  });

  it('a removal a relay took first is waited for: the files are gone when the request answers; past the budget, left to the relay', async () => {
    vi.stubEnv('FILE_REMOVAL_BUDGET_MS', '400');
    try {
      vi.resetModules();
      const { removeNow, runRemovals } = await import('../../lib/outbox/removals');
      const { putObject, deleteObject } = await import('../../lib/storage');
      const jobFor = async (key: string) => {
        await putObject(key, Buffer.from('bytes'), 'image/jpeg', 'held.jpg');
        const [job] = await sql<{ id: string }[]>`insert into file_removals (key) values (${key}) returning id::text`;
        return Number(job?.id);
      };
      /** A relay's transaction holding the job, as runRemovals does while S3 answers. */
      const relayHolding = async (id: number) => {
        const relay = await sql.reserve();
        await relay`begin`;
        await relay`select id from file_removals where id = ${id} for update`;
        return relay;
      };
      let answered = false;

      // The relay finishes within the budget: the request waits for it, and finds nothing left to do.
      const first = await jobFor('images/held-1.jpg');
      const relay = await relayHolding(first);
      const removing = removeNow([first]).then(() => (answered = true));
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(answered).toBe(false);
      await deleteObject('images/held-1.jpg');
      await relay`delete from file_removals where id = ${first}`;
      await relay`commit`;
      relay.release();
      await removing;
      expect(await objectKeys()).toEqual([]);
      expect(await sql`select id from file_removals`).toEqual([]);

      // A holder that does not let go within the budget: the request answers, the job stays for the relay.
      const second = await jobFor('images/held-2.jpg');
      const stuck = await relayHolding(second);
      const started = Date.now();
      await removeNow([second]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(350);
      await stuck`rollback`;
      stuck.release();
      expect(await objectKeys()).toEqual(['images/held-2.jpg']);
      expect(await runRemovals()).toBe(1);
      expect(await objectKeys()).toEqual([]);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('a healthy S3 removes the files before the DELETE answers, and leaves no job', async () => {
    const image = (await api.upload({ title: 'gone at once' })).json as Image;
    expect((await api.remove(image.id)).status).toBe(204);
    expect(await objectKeys()).toEqual([]);
    expect(await sql`select id from file_removals`).toEqual([]);
  });
});

describe('objects stored in a transaction that never commits', () => {
  /**
   * S3 behind a switch and the removal code bound to it; `failedAttempt` stores `key` under a guard,
   * then S3 goes away and the work fails before its commit, so the guard's job stays.
   */
  async function behindSwitch() {
    const s3 = await tcpSwitch(String(process.env.S3_ENDPOINT));
    await apiWith({ S3_ENDPOINT: s3.url, FILE_REMOVAL_BUDGET_MS: '300' });
    const removals = await import('../../lib/outbox/removals');
    const { putObject } = await import('../../lib/storage');
    const failedAttempt = (key: string, bytes: string, failure: string) =>
      expect(
        removals.guardObjects([key], async () => {
          await putObject(key, Buffer.from(bytes), 'image/jpeg', 'x.jpg');
          s3.down();
          throw new Error(failure);
        }),
      ).rejects.toThrow(failure);
    return { s3, ...removals, putObject, failedAttempt };
  }

  it('are removed by their guard once it is due, when S3 could not remove them at once', async () => {
    const { s3, runRemovals, failedAttempt } = await behindSwitch();
    try {
      const key = `images/${randomUUID()}.jpg`;
      // The object is stored, then the function fails before its commit — and S3 is gone too.
      await failedAttempt(key, 'bytes', 'the commit failed');
      expect(await objectKeys()).toEqual([key]);
      // Not due yet: a transaction still in flight must never lose its object.
      s3.up();
      expect(await runRemovals()).toBe(0);
      expect(await objectKeys()).toEqual([key]);
      await sql`update file_removals set not_before = now()`;
      expect(await runRemovals()).toBe(1);
      expect(await objectKeys()).toEqual([]);
    } finally {
      await s3.close();
    }
  });

  it('a later attempt that commits the same keys cancels the removal job a failed one left, and keeps its files', async () => {
    const { s3, guardObjects, runRemovals, putObject, failedAttempt } = await behindSwitch();
    try {
      const { db } = await import('../../lib/db');
      const key = `images/${randomUUID()}.jpg`;
      // The first attempt stores the object and fails, and S3 is down for its clean-up: its job stays.
      await failedAttempt(key, 'first', 'the copy failed');
      s3.up();
      // The retry stores the object again and commits.
      await guardObjects([key], (release) =>
        db().transaction(async (tx) => {
          await release(tx);
          await putObject(key, Buffer.from('second'), 'image/jpeg', 'x.jpg');
        }),
      );
      expect(await sql`select key from file_removals`).toEqual([]);
      await sql`update file_removals set not_before = now()`;
      expect(await runRemovals()).toBe(0);
      expect((await getObject(key)).bytes.toString()).toBe('second');
    } finally {
      await s3.close();
    }
  });

  it('a committed upload leaves no guard behind', async () => {
    expect((await api.upload({ title: 'committed' })).status).toBe(201);
    expect(await sql`select id from file_removals`).toEqual([]);
    await assertNoOrphans();
  });

  it('the COMMIT refused after the PUT: the object is removed at once and no guard stays', async () => {
    await sql`create or replace function refuse_commit() returns trigger language plpgsql as $$ begin raise exception 'refused at commit'; end $$`;
    await sql`create constraint trigger refuse_commit after insert on images deferrable initially deferred for each row execute function refuse_commit()`;
    try {
      expect((await api.upload({ title: 'refused at commit' })).status).toBe(500);
    } finally {
      await sql`drop trigger refuse_commit on images`;
      await sql`drop function refuse_commit()`;
    }
    expect(await objectKeys()).toEqual([]);
    expect(await sql`select id from file_removals`).toEqual([]);
  });
});
