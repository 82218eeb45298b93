/**
 * An album's events: written by the database's triggers in the change's own transaction (the outbox),
 * relayed to the stream `image_events` right after the commit, never to `image_channel` (the seed's
 * channel keeps its image events only), and printed by the listener. Only what the owner does to an
 * album is said: a count moved by an image's deletion, or an album's, says nothing of its own.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from '@redis/client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { api, apiWith } from '../helpers/api';
import { albums } from '../helpers/collections';
import { startListener, stopListeners } from '../helpers/listener';
import { insertMany } from '../helpers/rows';
import { resetState, sql } from '../helpers/state';

const direct = createClient({ url: 'redis://127.0.0.1:6379', RESP: 2 });
const subscriber = direct.duplicate();
const published: string[] = [];

beforeAll(async () => {
  await direct.connect();
  await subscriber.connect();
  await subscriber.subscribe('image_channel', (message) => published.push(message));
});
afterAll(async () => {
  await subscriber.close();
  await direct.close();
});
beforeEach(async () => {
  await resetState();
  published.length = 0;
});
afterEach(async () => {
  await stopListeners();
  vi.resetModules();
});

/** The stream's events about `id` (the other agents on this machine share the stream), in stream order. */
async function streamOf(id: string): Promise<string[]> {
  const entries = (await direct.sendCommand(['XRANGE', 'image_events', '-', '+'])) as [string, string[]][];
  return entries.map(([, fields]) => fields[fields.indexOf('event') + 1] ?? '').filter((event) => event.includes(`"id":"${id}"`));
}

/** What the outbox holds of an album's events, every one delivered. */
const outboxOf = (id: string) =>
  sql<{ event: string; delivered: boolean }[]>`
    select event, published_at is not null as delivered from outbox where subject_id = ${id} order by id`;

const event = (name: string, id: string, title: string, imageIds?: string[]) =>
  JSON.stringify({ event: name, id, title, ...(imageIds ? { image_ids: [...imageIds].sort() } : {}) });

async function created(title: string): Promise<string> {
  const res = await albums.create({ title });
  expect(res.status).toBe(201);
  return (res.json as { id: string }).id;
}

describe("an album's events", () => {
  it('go to the stream at once, in order, with their members: created, updated, images added and removed, deleted', async () => {
    const id = await created('Events');
    const [a, b, c] = (await insertMany('evented', 3)) as [string, string, string];
    expect((await albums.patch(id, { title: 'Events renamed' })).status).toBe(200);
    expect((await albums.add(id, [b, a, a])).status).toBe(200);
    expect((await albums.add(id, [a])).status).toBe(200); // nothing new: no event
    expect((await albums.take(id, [b, c])).status).toBe(200); // c was not in it
    expect((await albums.take(id, [c])).status).toBe(200); // nothing taken: no event
    expect((await albums.patch(id, { cover_image_id: a })).status).toBe(200);
    expect((await albums.patch(id, { title: 'Events renamed', description: '' })).status).toBe(200); // no change
    expect((await albums.patch(id, { cover_image_id: null })).status).toBe(200);
    expect((await albums.remove(id)).status).toBe(204);

    expect(await streamOf(id)).toEqual([
      event('album_created', id, 'Events'),
      event('album_updated', id, 'Events renamed'),
      event('album_images_added', id, 'Events renamed', [a, b]),
      event('album_images_removed', id, 'Events renamed', [b]),
      event('album_updated', id, 'Events renamed'),
      event('album_updated', id, 'Events renamed'),
      event('album_deleted', id, 'Events renamed'),
    ]);
    expect((await outboxOf(id)).every((row) => row.delivered)).toBe(true);
  });

  it('never go to image_channel, which keeps the image events', async () => {
    const id = await created('Quiet');
    const image = ((await api.upload({ title: 'loud' })).json as { id: string }).id;
    await albums.add(id, [image]);
    await albums.take(id, [image]);
    await albums.patch(id, { description: 'still quiet' });
    await albums.remove(id);
    await new Promise((r) => setTimeout(r, 100));
    expect(published.filter((m) => m.includes(id))).toEqual([]);
    expect(published.filter((m) => m.includes(image))).toEqual([event('image_uploaded', image, 'loud')]);
  });

  it('a deleted image says so itself: no album_images_removed, and no album_updated for the cover it was', async () => {
    const id = await created('Loses one');
    const [kept, doomed] = (await Promise.all(['kept', 'doomed'].map(async (t) => (await api.upload({ title: t })).json))) as {
      id: string;
    }[];
    await albums.add(id, [kept?.id ?? '', doomed?.id ?? '']);
    await albums.patch(id, { cover_image_id: doomed?.id });
    const before = await streamOf(id);
    expect((await api.remove(doomed?.id ?? '')).status).toBe(204);
    expect(await albums.get(id)).toMatchObject({ json: { image_count: 1, cover: { image_id: kept?.id } } });
    expect(await streamOf(id)).toEqual(before);
    expect(await outboxOf(id)).toHaveLength(before.length);
    expect(await streamOf(doomed?.id ?? '')).toContain(event('image_deleted', doomed?.id ?? '', 'doomed'));
  });

  it("a deleted album's images leave it without an album_images_removed", async () => {
    const id = await created('Goes');
    const images = (await insertMany('left', 2)) as string[];
    await albums.add(id, images);
    await albums.remove(id);
    expect((await streamOf(id)).map((e) => JSON.parse(e).event)).toEqual(['album_created', 'album_images_added', 'album_deleted']);
  });

  it('a count moved by adding or removing images is no album_updated', async () => {
    const id = await created('Counted');
    const images = (await insertMany('counted', 4)) as string[];
    await albums.add(id, images.slice(0, 3));
    await albums.take(id, images.slice(0, 1));
    await albums.add(id, images.slice(3));
    expect((await outboxOf(id)).map((row) => row.event)).toEqual([
      'album_created',
      'album_images_added',
      'album_images_removed',
      'album_images_added',
    ]);
  });

  it('are printed by the listener, each as the stream carries it', async () => {
    const listener = startListener({
      REDIS_URL: 'redis://127.0.0.1:6379',
      UPSTASH_REDIS_REST_URL: undefined,
      UPSTASH_REDIS_REST_TOKEN: undefined,
      LISTENER_GROUP: `test-${randomUUID().slice(0, 8)}`,
      LISTENER_CONSUMER: 'listener-1',
    });
    await listener.waitFor(/reading image_events on .* in group/);
    const live = await apiWith({ LOG_LEVEL: 'silent' });
    const image = ((await live.upload({ title: 'printed' })).json as { id: string }).id;
    const id = await created('Printed');
    await albums.add(id, [image]);
    await albums.remove(id);
    for (const expected of [
      event('album_created', id, 'Printed'),
      event('album_images_added', id, 'Printed', [image]),
      event('album_deleted', id, 'Printed'),
    ]) {
      const line = await listener.waitFor(new RegExp(expected.replace(/[{}[\]]/g, '\\$&')));
      expect(line.split('\t')).toEqual([expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/), 'INFO', expected]);
    }
  });
});
