/**
 * Albums under concurrent writers, with real concurrency in Postgres (the handlers get a pool of 25
 * connections, so these requests run in parallel transactions as in parallel Lambda containers):
 * adds, removes, cover changes and deletions of images and albums at once. Nothing is retried: every
 * answer must be one the contract allows (never a 500 from a foreign key or a deadlock), and at the
 * end every album's count is the number of its rows.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apiWith } from '../helpers/api';
import { invoke, type Reply } from '../helpers/lambda';
import { insertMany } from '../helpers/rows';
import { resetState, sql } from '../helpers/state';

type Api = Awaited<ReturnType<typeof apiWith>>;
type Handler = Parameters<typeof invoke>[0];
let api: Api;
let handlers: Record<'create' | 'add' | 'remove' | 'patch' | 'drop' | 'get' | 'share' | 'revoke', Handler>;

const ENV = { DB_MAX_CONNECTIONS: '25', LOG_LEVEL: 'silent' };

beforeAll(async () => {
  api = await apiWith(ENV);
  // The album handlers over the same fresh modules (one pool of 25), reading ENV at import.
  const saved = Object.fromEntries(Object.keys(ENV).map((k) => [k, process.env[k]]));
  Object.assign(process.env, ENV);
  try {
    const [create, add, remove, patch, drop, get, share, revoke] = await Promise.all([
      import('../../functions/albums-create'),
      import('../../functions/albums-images-add'),
      import('../../functions/albums-images-remove'),
      import('../../functions/albums-update'),
      import('../../functions/albums-delete'),
      import('../../functions/albums-get'),
      import('../../functions/shares-create'),
      import('../../functions/shares-delete'),
    ]);
    handlers = {
      share: share.handler,
      revoke: revoke.handler,
      create: create.handler,
      add: add.handler,
      remove: remove.handler,
      patch: patch.handler,
      drop: drop.handler,
      get: get.handler,
    };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});
beforeEach(resetState);

const JSON_TYPE = { 'content-type': 'application/json' };
const albums = {
  create: (title: string): Promise<Reply> =>
    invoke(handlers.create, {
      method: 'POST',
      path: '/api/v1/albums',
      route: 'POST /api/v1/albums',
      headers: JSON_TYPE,
      body: JSON.stringify({ title }),
    }),
  add: (id: string, ids: string[]): Promise<Reply> =>
    invoke(handlers.add, {
      method: 'POST',
      path: `/api/v1/albums/${id}/images`,
      route: 'POST /api/v1/albums/{id}/images',
      pathParameters: { id },
      headers: JSON_TYPE,
      body: JSON.stringify({ image_ids: ids }),
    }),
  take: (id: string, ids: string[]): Promise<Reply> =>
    invoke(handlers.remove, {
      method: 'POST',
      path: `/api/v1/albums/${id}/images/remove`,
      route: 'POST /api/v1/albums/{id}/images/remove',
      pathParameters: { id },
      headers: JSON_TYPE,
      body: JSON.stringify({ image_ids: ids }),
    }),
  cover: (id: string, imageId: string | null): Promise<Reply> =>
    invoke(handlers.patch, {
      method: 'PATCH',
      path: `/api/v1/albums/${id}`,
      route: 'PATCH /api/v1/albums/{id}',
      pathParameters: { id },
      headers: JSON_TYPE,
      body: JSON.stringify({ cover_image_id: imageId }),
    }),
  drop: (id: string): Promise<Reply> =>
    invoke(handlers.drop, { method: 'DELETE', path: `/api/v1/albums/${id}`, route: 'DELETE /api/v1/albums/{id}', pathParameters: { id } }),
  get: (id: string): Promise<Reply> =>
    invoke(handlers.get, { method: 'GET', path: `/api/v1/albums/${id}`, route: 'GET /api/v1/albums/{id}', pathParameters: { id } }),
};

const shares = {
  create: (ids: string[]): Promise<Reply> =>
    invoke(handlers.share, {
      method: 'POST',
      path: '/api/v1/shares',
      route: 'POST /api/v1/shares',
      headers: JSON_TYPE,
      body: JSON.stringify({ image_ids: ids }),
    }),
  revoke: (id: string): Promise<Reply> =>
    invoke(handlers.revoke, {
      method: 'DELETE',
      path: `/api/v1/shares/${id}`,
      route: 'DELETE /api/v1/shares/{id}',
      pathParameters: { id },
    }),
};

async function album(title: string): Promise<string> {
  const res = await albums.create(title);
  expect(res.status).toBe(201);
  return (res.json as { id: string }).id;
}

/** Every album's stored count beside the number of its rows: equal when the counts are true. */
async function counts(): Promise<{ id: string; stored: number; rows: number }[]> {
  return sql<{ id: string; stored: number; rows: number }[]>`
    select a.id, a.image_count as stored, (select count(*)::int from album_images ai where ai.album_id = a.id) as rows
    from albums a order by a.id`;
}
const assertCountsTrue = async () => {
  const all = await counts();
  expect(all.filter((a) => a.stored !== a.rows)).toEqual([]);
  return all;
};

/** The statuses of replies, each shown with its body when it is not one of `allowed`. */
const unexpected = (replies: Reply[], allowed: number[]) =>
  replies.filter((r) => !allowed.includes(r.status)).map((r) => `${r.status} ${r.text}`);

/** A deterministic shuffle-free pick: the ids at the positions `n` selects, for varied overlapping sets. */
const pick = (ids: string[], n: number, every: number) => ids.filter((_, i) => (i + n) % every === 0);

describe('albums under concurrent writers', () => {
  it('two clients adding overlapping sets at once: both 200, the union is in, the count is true', async () => {
    for (let round = 0; round < 10; round++) {
      const id = await album(`overlap ${round}`);
      const images = (await insertMany(`overlap ${round}`, 30)) as string[];
      const first = images.slice(0, 20);
      const second = images.slice(10, 30);
      const replies = await Promise.all([albums.add(id, first), albums.add(id, second)]);
      expect(unexpected(replies, [200])).toEqual([]);
      // Each answer is the album as its own request left it: at least its own images, at most all.
      for (const reply of replies) expect((reply.json as { image_count: number }).image_count).toBeGreaterThanOrEqual(20);
      expect(replies.map((r) => (r.json as { image_count: number }).image_count)).toContain(30);
      expect(((await albums.get(id)).json as { image_count: number }).image_count).toBe(30);
    }
    await assertCountsTrue();
  });

  it('one client adding while another removes: each answer true for its own moment, the count true at the end', async () => {
    const id = await album('add and remove');
    const images = (await insertMany('add and remove', 40)) as string[];
    await albums.add(id, images.slice(0, 20));
    for (let round = 0; round < 10; round++) {
      const replies = await Promise.all([albums.add(id, pick(images, round, 3)), albums.take(id, pick(images, round + 1, 2))]);
      expect(unexpected(replies, [200])).toEqual([]);
      await assertCountsTrue();
    }
  });

  it('an image deleted while it is added: the add includes it or answers 422 naming it, never a 500', async () => {
    const id = await album('deleted while added');
    const outcomes = { included: 0, refused: 0 };
    for (let round = 0; round < 20; round++) {
      const [doomed, other] = (await insertMany(`doomed ${round}`, 2)) as [string, string];
      const [added, deleted] = await Promise.all([albums.add(id, [other, doomed]), api.remove(doomed)]);
      expect(deleted.status).toBe(204);
      expect(unexpected([added], [200, 422])).toEqual([]);
      if (added.status === 422) {
        outcomes.refused++;
        expect((added.json as { errors: unknown }).errors).toEqual([{ field: 'image_ids.1', message: `names no image (${doomed})` }]);
        expect(await sql`select 1 from album_images where image_id = ${other}`).toEqual([]);
      } else {
        outcomes.included++;
      }
      // Either way the deleted image is in no album once both have answered.
      expect(await sql`select 1 from album_images where image_id = ${doomed}`).toEqual([]);
      await assertCountsTrue();
    }
    expect(outcomes.included + outcomes.refused).toBe(20);
  });

  it('an image in albums deleted while those albums change (add, remove, cover, delete): no deadlock, no 500', async () => {
    for (let round = 0; round < 15; round++) {
      const [x, y, z] = [await album(`x ${round}`), await album(`y ${round}`), await album(`z ${round}`)];
      const images = (await insertMany(`tangled ${round}`, 6)) as string[];
      const [doomed = ''] = images;
      for (const id of [x, y, z]) expect((await albums.add(id, images.slice(0, 4))).status).toBe(200);
      expect((await albums.cover(z, doomed)).status).toBe(200);
      const replies = await Promise.all([
        albums.add(x, [doomed, ...images.slice(4)]),
        albums.take(y, [doomed]),
        albums.cover(x, doomed),
        api.remove(doomed),
        albums.drop(z),
        albums.add(y, images.slice(3)),
      ]);
      const [addX, takeY, coverX, removed, dropZ, addY] = replies;
      expect(removed?.status).toBe(204);
      expect(dropZ?.status).toBe(204);
      expect(
        unexpected(
          [takeY, addY].flatMap((r) => (r ? [r] : [])),
          [200],
        ),
      ).toEqual([]);
      // Too late for the deleted image: it names no image now, or is not in the album any more.
      expect(
        unexpected(
          [addX, coverX].flatMap((r) => (r ? [r] : [])),
          [200, 422],
        ),
      ).toEqual([]);
      expect(await sql`select album_id from album_images where image_id = ${doomed}`).toEqual([]);
      expect(await sql`select id from albums where cover_image_id = ${doomed}`).toEqual([]);
      await assertCountsTrue();
    }
  });

  it('many adds, removes and image deletions at once: every count equals its rows', async () => {
    const ids = await Promise.all([album('busy a'), album('busy b'), album('busy c')]);
    const images = (await insertMany('busy', 60)) as string[];
    const doomed = new Set(images.filter((_, i) => i % 7 === 0));
    const requests: Promise<Reply>[] = [];
    for (let i = 0; i < 45; i++) {
      const target = ids[i % ids.length] ?? '';
      const set = pick(images, i, 4 + (i % 3)).filter((id) => !doomed.has(id) || i % 2 === 0);
      requests.push(i % 3 === 2 ? albums.take(target, set) : albums.add(target, set));
      if (i % 5 === 0) {
        const victim = [...doomed][i / 5];
        if (victim) requests.push(api.remove(victim));
      }
    }
    const replies = await Promise.all(requests);
    expect(unexpected(replies, [200, 204, 422])).toEqual([]);
    // A 422 only ever names images deleted at the same time.
    for (const reply of replies.filter((r) => r.status === 422)) {
      for (const { message } of (reply.json as { errors: { message: string }[] }).errors) {
        expect([...doomed].some((id) => message === `names no image (${id})`)).toBe(true);
      }
    }
    const all = await assertCountsTrue();
    expect(all.reduce((n, a) => n + a.rows, 0)).toBeGreaterThan(0);
    for (const id of ids) {
      const reply = await albums.get(id);
      const row = all.find((a) => a.id === id);
      expect((reply.json as { image_count: number }).image_count).toBe(row?.rows);
    }
  });

  it('images deleted while a share of them is revoked, and another made: no deadlock, counts true', async () => {
    for (let round = 0; round < 8; round++) {
      const images = (await insertMany(`shared ${round}`, 300)) as string[];
      const made = await shares.create(images);
      expect(made.status).toBe(201);
      const share = (made.json as { id: string }).id;
      const doomed = images.filter((_, i) => i % 60 === round);
      const replies = await Promise.all([shares.revoke(share), ...doomed.map((id) => api.remove(id)), shares.create(images.slice(0, 50))]);
      expect(unexpected(replies.slice(0, -1), [204])).toEqual([]);
      expect(unexpected(replies.slice(-1), [201, 422])).toEqual([]);
      const wrong = await sql`
        select s.id from shares s where s.image_count <> (select count(*) from share_images si where si.share_id = s.id)`;
      expect(wrong).toEqual([]);
    }
  });
});
