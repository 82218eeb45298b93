/**
 * A share's events (CONTRACT.md, "Events (stream only)"): share_created and share_revoked go through
 * the outbox to the stream image_events, with nothing of the link in them (neither the token nor the
 * digest the cache keeps it under); the seed's channel image_channel hears none of them. Deleting an
 * album revokes its shares, each with its own share_revoked.
 */
import { createHash } from 'node:crypto';
import { createClient } from '@redis/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { api } from '../helpers/api';
import { albums } from '../helpers/collections';
import { type Sharing, sharingWith } from '../helpers/sharing';
import { resetState, sql } from '../helpers/state';

const direct = createClient({ url: 'redis://127.0.0.1:6379', RESP: 2 });
const subscriber = direct.duplicate();
const published: string[] = [];
let s: Sharing;

beforeAll(async () => {
  await direct.connect();
  await subscriber.connect();
  await subscriber.subscribe('image_channel', (message) => published.push(message));
  s = await sharingWith({});
});
afterAll(async () => {
  await subscriber.close();
  await direct.close();
  vi.resetModules();
});
beforeEach(async () => {
  await resetState();
  published.length = 0;
});

/** The stream's entries about `id`, oldest first: the event's JSON and every other field. The stream is the machine's: others write to it too. */
async function streamOf(id: string): Promise<{ event: string; rest: string[] }[]> {
  const entries = (await direct.sendCommand(['XREVRANGE', 'image_events', '+', '-', 'COUNT', '5000'])) as [string, string[]][];
  return entries
    .map(([, fields]) => {
      const at = fields.indexOf('event');
      return { event: fields[at + 1] ?? '', rest: fields.filter((_, i) => i !== at && i !== at + 1) };
    })
    .filter((e) => (JSON.parse(e.event) as { id?: string }).id === id)
    .reverse();
}

/** The outbox ids of a subject's events, oldest first. */
const outboxIds = async (id: string) =>
  (await sql<{ id: string }[]>`select id::text from outbox where subject_id = ${id} order by id`).map((r) => r.id);

describe('share events', () => {
  it('share_created and share_revoked on the stream, with their outbox ids, nothing of the link in them; nothing on image_channel', async () => {
    const image = (await api.upload({ title: 'shared' })).json as { id: string };
    const created = await s.create({ image_ids: [image.id], title: 'Holidays "by the sea"', password: 'a secret password' });
    const share = created.json as { id: string; token: string };
    expect((await s.get(share.token, {})).status).toBe(401);
    expect((await s.revoke(share.id)).status).toBe(204);

    const title = JSON.stringify('Holidays "by the sea"');
    const ids = await outboxIds(share.id);
    expect(await streamOf(share.id)).toEqual([
      { event: `{"event":"share_created","id":"${share.id}","title":${title}}`, rest: ['outbox_id', ids[0]] },
      { event: `{"event":"share_revoked","id":"${share.id}","title":${title}}`, rest: ['outbox_id', ids[1]] },
    ]);
    expect(await sql`select id from outbox where subject_id = ${share.id} and published_at is null`).toEqual([]);

    const digest = createHash('sha256').update(share.token).digest('hex');
    const entries = JSON.stringify(await streamOf(share.id));
    for (const secret of [share.token, digest, '_cache_key', 'scrypt', 'a secret password']) expect(entries).not.toContain(secret);

    // Pub/sub is asynchronous: the image's own upload event arrives, the share's never do.
    await expect.poll(() => published.some((m) => m.includes(image.id))).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(published.filter((m) => m.includes(share.id) || m.includes('share_'))).toEqual([]);
  });

  it('deleting an album revokes each of its shares: a share_revoked for each', async () => {
    const image = (await api.upload({ title: 'in the album' })).json as { id: string };
    const album = (await albums.create({ title: 'Going away' })).json as { id: string };
    await albums.add(album.id, [image.id]);
    const first = (await s.create({ album_id: album.id })).json as { id: string; token: string };
    const second = (await s.create({ album_id: album.id, title: 'For the family' })).json as { id: string; token: string };
    const unrelated = (await s.create({ image_ids: [image.id] })).json as { id: string };

    expect((await albums.remove(album.id)).status).toBe(204);
    for (const [share, title] of [
      [first, 'Going away'],
      [second, 'For the family'],
    ] as const) {
      const events = (await streamOf(share.id)).map((e) => e.event);
      expect(events).toEqual([
        `{"event":"share_created","id":"${share.id}","title":"${title}"}`,
        `{"event":"share_revoked","id":"${share.id}","title":"${title}"}`,
      ]);
      expect(JSON.stringify(events)).not.toContain(share.token);
    }
    expect((await streamOf(album.id)).map((e) => JSON.parse(e.event).event)).toEqual([
      'album_created',
      'album_images_added',
      'album_deleted',
    ]);
    expect((await streamOf(unrelated.id)).map((e) => JSON.parse(e.event).event)).toEqual(['share_created']);
    expect(await sql`select id from outbox where published_at is null`).toEqual([]);
  });
});
