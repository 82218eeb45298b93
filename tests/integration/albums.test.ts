/**
 * Albums through their real handlers against the real Postgres, S3 emulator and Redis: the
 * lifecycle (create, list, get, PATCH, DELETE), membership (add, remove), and the count and cover
 * being true at every read — after an image leaves, is deleted, or gets its variants.
 */
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as processHandler } from '../../functions/images-process';
import { lambdaContext, s3Event } from '../../support/lambda-events';
import { api } from '../helpers/api';
import { albums } from '../helpers/collections';
import { invalid, problem } from '../helpers/problems';
import { insertMany } from '../helpers/rows';
import { resetState, sql } from '../helpers/state';

interface Album {
  id: string;
  title: string;
  description: string;
  image_count: number;
  cover: { image_id: string; thumb: { url: string; width: number; height: number } | null } | null;
  created_at: string;
  updated_at: string;
}

beforeEach(resetState);

const UNKNOWN = '00000000-0000-4000-8000-000000000000';
const sideways = readFileSync(new URL('../fixtures/images/exif6.jpg', import.meta.url));

async function created(title: string, description?: string): Promise<Album> {
  const res = await albums.create(description === undefined ? { title } : { title, description });
  expect(res.status).toBe(201);
  return res.json as Album;
}

/** Uploads an image through the API: its id. */
async function uploaded(title: string): Promise<string> {
  const res = await api.upload({ title });
  expect(res.status).toBe(201);
  return (res.json as { id: string }).id;
}

const read = async (id: string): Promise<Album> => {
  const res = await albums.get(id);
  expect(res.status).toBe(200);
  return res.json as Album;
};

/** What the database holds of an album's images: its stored count, and the rows themselves. */
async function membership(albumId: string): Promise<{ count: number | undefined; rows: string[] }> {
  const [album] = await sql<{ image_count: number }[]>`select image_count from albums where id = ${albumId}`;
  const rows = await sql<{ image_id: string }[]>`select image_id from album_images where album_id = ${albumId} order by image_id`;
  return { count: album?.image_count, rows: rows.map((r) => r.image_id) };
}

const sorted = (ids: string[]) => [...ids].sort();

describe('POST /api/v1/albums', () => {
  it('makes an album: 201, its Location, an empty description, no images, no cover; GET answers the same', async () => {
    const res = await albums.create({ title: 'Summer' });
    expect(res.status).toBe(201);
    const album = res.json as Album;
    expect(album).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      title: 'Summer',
      description: '',
      image_count: 0,
      cover: null,
      created_at: expect.any(String),
      updated_at: album.created_at,
    });
    expect(res.headers.location).toBe(`/api/v1/albums/${album.id}`);
    expect(await read(album.id)).toEqual(album);
  });

  it('keeps the description given', async () => {
    const album = await created('Winter', 'Snow, mostly');
    expect(album.description).toBe('Snow, mostly');
    expect((await read(album.id)).description).toBe('Snow, mostly');
  });

  it('counts the title in code points: 64 emoji pass, 65 do not', async () => {
    const title = '📷'.repeat(64);
    expect(title.length).toBe(128); // UTF-16 units: twice the limit
    expect((await created(title)).title).toBe(title);
    const res = await albums.create({ title: '📷'.repeat(65) });
    expect(res.status).toBe(422);
    expect(res.json).toEqual(invalid([{ field: 'title', message: 'must be at most 64 characters' }]));
    const description = await albums.create({ title: 'long description', description: 'é'.repeat(1025) });
    expect(description.json).toEqual(invalid([{ field: 'description', message: 'must be at most 1024 characters' }]));
    expect((await albums.create({ title: 'longest description', description: '😀'.repeat(1024) })).status).toBe(201);
  });

  it('answers 409 for a title another album has, and makes nothing', async () => {
    await created('Taken');
    const res = await albums.create({ title: 'Taken', description: 'again' });
    expect(res.status).toBe(409);
    expect(res.json).toEqual(problem(409, 'An album with this title already exists.'));
    expect(await sql`select title from albums`).toEqual([{ title: 'Taken' }]);
    // Titles are compared exactly: another case is another title.
    expect((await albums.create({ title: 'taken' })).status).toBe(201);
  });

  it.each([
    [{}, [{ field: 'title', message: 'is required' }]],
    [{ title: '' }, [{ field: 'title', message: 'must not be empty' }]],
    [{ title: ' \t ' }, [{ field: 'title', message: 'must not be blank' }]],
    [{ title: 7 }, [{ field: 'title', message: 'must be a string' }]],
    [{ title: 'ok', description: null }, [{ field: 'description', message: 'must be a string' }]],
    [{ title: 'ok', cover_image_id: UNKNOWN }, [{ field: 'cover_image_id', message: 'is not an allowed field' }]],
    [
      { title: 'ok', extra: 1, more: 2 },
      [
        { field: 'extra', message: 'is not an allowed field' },
        { field: 'more', message: 'is not an allowed field' },
      ],
    ],
    [['a list'], [{ field: 'body', message: 'must be a JSON object' }]],
  ])('answers 422 for %j, and makes nothing', async (body, errors) => {
    const res = await albums.create(body);
    expect(res.status).toBe(422);
    expect(res.json).toEqual(invalid(errors));
    expect(await sql`select id from albums`).toEqual([]);
  });

  it('answers 400 for a body that is not JSON, or not sent as JSON', async () => {
    const broken = await albums.create('{"title": "half');
    expect(broken.status).toBe(400);
    expect(broken.json).toEqual(problem(400, 'The body is not valid JSON.'));
    const text = await albums.create(JSON.stringify({ title: 'as text' }), { 'content-type': 'text/plain' });
    expect(text.status).toBe(400);
    expect(await sql`select id from albums`).toEqual([]);
  });
});

describe('GET /api/v1/albums', () => {
  /** Every page from `query` on, following each Link: the ids in the order served, and the pages' sizes. */
  async function walk(query: Record<string, string>): Promise<{ ids: string[]; sizes: number[] }> {
    const ids: string[] = [];
    const sizes: number[] = [];
    let next: Record<string, string> | undefined = query;
    for (let page = 0; next && page < 100; page++) {
      const res = await albums.list(next);
      expect(res.status).toBe(200);
      const items = res.json as Album[];
      ids.push(...items.map((a) => a.id));
      sizes.push(items.length);
      const link = res.headers.link;
      if (link === undefined) break;
      const url = new URL(/^<([^>]+)>; rel="next"$/.exec(link)?.[1] ?? '', 'http://x');
      expect(url.pathname).toBe('/api/v1/albums');
      next = Object.fromEntries(url.searchParams);
      expect(next.limit).toBe(query.limit);
    }
    return { ids, sizes };
  }

  it('lists newest first, each with its count and cover', async () => {
    const a = await created('first');
    const b = await created('second');
    const image = await uploaded('in b');
    await albums.add(b.id, [image]);
    const res = await albums.list();
    expect(res.status).toBe(200);
    expect(res.headers.link).toBeUndefined();
    expect(res.json).toEqual([await read(b.id), a]);
    expect((res.json as Album[])[0]).toMatchObject({ image_count: 1, cover: { image_id: image, thumb: null } });
  });

  it('pages through albums that share a created_at, by 2 and by 3, losing and repeating none', async () => {
    for (let i = 0; i < 4; i++) await created(`made one by one ${i}`);
    // One statement: one created_at for all twelve, to the microsecond.
    await sql`insert into albums (id, title) select gen_random_uuid(), 'made at once ' || n from generate_series(1, 12) n`;
    const expected = (await sql<{ id: string }[]>`select id from albums order by created_at desc, id desc`).map((r) => r.id);
    expect(expected).toHaveLength(16);
    for (const limit of ['2', '3']) {
      const { ids, sizes } = await walk({ limit });
      expect(ids).toEqual(expected);
      expect(sizes.slice(0, -1).every((n) => n === Number(limit))).toBe(true);
    }
  });

  it.each<[string, Record<string, string>, string, string]>([
    ['garbage', { cursor: 'not a cursor!' }, 'cursor', 'is not a valid cursor'],
    ['a cursor of the images list', { cursor: 'images' }, 'cursor', 'is not a valid cursor'],
    ['limit 0', { limit: '0' }, 'limit', 'must be at least 1'],
    ['limit 101', { limit: '101' }, 'limit', 'must be at most 100'],
  ])('answers 422 for %s', async (_, query, field, message) => {
    let q = query;
    if (query.cursor === 'images') {
      await insertMany('listed', 3);
      const link = (await api.list({ limit: '1' })).headers.link ?? '';
      q = { cursor: new URL(/<([^>]+)>/.exec(link)?.[1] ?? '', 'http://x').searchParams.get('cursor') ?? '' };
      expect(q.cursor).not.toBe('');
    }
    const res = await albums.list(q);
    expect(res.status).toBe(422);
    expect(res.json).toEqual(invalid([{ field, message }]));
  });
});

describe('GET /api/v1/albums/{id}', () => {
  it('answers 404 for an album that does not exist, 422 for an id that is not a UUID', async () => {
    const missing = await albums.get(UNKNOWN);
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual(problem(404, `No album with id ${UNKNOWN}.`));
    const bad = await albums.get('nope');
    expect(bad.status).toBe(422);
    expect(bad.json).toEqual(invalid([{ field: 'id', message: 'must be a UUID' }]));
  });

  it('finds an album by its id in upper case', async () => {
    const album = await created('shouted');
    expect(await read(album.id.toUpperCase())).toEqual(album);
  });
});

describe('PATCH /api/v1/albums/{id}', () => {
  it('changes the title and the description; updated_at moves forward, created_at stays', async () => {
    const album = await created('before', 'old');
    const res = await albums.patch(album.id, { title: 'after', description: 'new' });
    expect(res.status).toBe(200);
    const patched = res.json as Album;
    expect(patched).toEqual({ ...album, title: 'after', description: 'new', updated_at: expect.any(String) });
    expect(patched.updated_at > album.updated_at).toBe(true);
    expect(await read(album.id)).toEqual(patched);
    const again = (await albums.patch(album.id, { description: '' })).json as Album;
    expect(again).toMatchObject({ title: 'after', description: '' });
    expect(again.updated_at > patched.updated_at).toBe(true);
  });

  it('answers 409 for a title another album has, and changes nothing', async () => {
    await created('one');
    const two = await created('two');
    const res = await albums.patch(two.id, { title: 'one', description: 'changed' });
    expect(res.status).toBe(409);
    expect(res.json).toEqual(problem(409, 'An album with this title already exists.'));
    expect(await read(two.id)).toEqual(two);
    // Its own title is not another album's.
    expect((await albums.patch(two.id, { title: 'two' })).status).toBe(200);
  });

  it.each([
    [{}, [{ field: 'body', message: 'at least one of title, description and cover_image_id is required' }]],
    [{ title: '   ' }, [{ field: 'title', message: 'must not be blank' }]],
    [{ title: 'x'.repeat(65) }, [{ field: 'title', message: 'must be at most 64 characters' }]],
    [{ cover_image_id: 'not-a-uuid' }, [{ field: 'cover_image_id', message: 'must be a UUID' }]],
    [{ title: 'ok', image_count: 3 }, [{ field: 'image_count', message: 'is not an allowed field' }]],
  ])('answers 422 for %j', async (body, errors) => {
    const album = await created('patched badly');
    const res = await albums.patch(album.id, body);
    expect(res.status).toBe(422);
    expect(res.json).toEqual(invalid(errors));
    expect(await read(album.id)).toEqual(album);
  });

  it('answers 404 for an album that does not exist, 400 for a body that is not JSON', async () => {
    const missing = await albums.patch(UNKNOWN, { title: 'x' });
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual(problem(404, `No album with id ${UNKNOWN}.`));
    const album = await created('json only');
    expect((await albums.patch(album.id, '{title: x}')).status).toBe(400);
  });

  it('sets the cover to an image of the album; null, or the image leaving, gives the newest again', async () => {
    const album = await created('covers');
    const [a, b, c] = [await uploaded('a'), await uploaded('b'), await uploaded('c')];
    const outside = await uploaded('outside');
    await albums.add(album.id, [a, b, c]);
    const coverOf = async () => (await read(album.id)).cover?.image_id;
    expect(await coverOf()).toBe(c); // the newest uploaded

    const chosen = await albums.patch(album.id, { cover_image_id: a.toUpperCase() });
    expect(chosen.status).toBe(200);
    expect((chosen.json as Album).cover).toEqual({ image_id: a, thumb: null });
    expect(await coverOf()).toBe(a);

    for (const id of [outside, UNKNOWN]) {
      const res = await albums.patch(album.id, { cover_image_id: id, title: 'not applied' });
      expect(res.status).toBe(422);
      expect(res.json).toEqual(invalid([{ field: 'cover_image_id', message: 'must be an image in the album' }]));
      expect((await read(album.id)).title).toBe('covers');
    }

    expect(((await albums.patch(album.id, { cover_image_id: null })).json as Album).cover?.image_id).toBe(c);
    await albums.patch(album.id, { cover_image_id: b });
    expect(await coverOf()).toBe(b);
    expect((await albums.take(album.id, [b])).status).toBe(200);
    expect(await coverOf()).toBe(c); // the chosen one left: the newest again
    expect((await api.remove(c)).status).toBe(204);
    expect(await coverOf()).toBe(a); // the newest was deleted: the newest left
    expect((await albums.patch(album.id, { cover_image_id: a })).status).toBe(200);
    expect((await api.remove(a)).status).toBe(204);
    expect((await read(album.id)).cover).toBeNull(); // empty now
    expect(await membership(album.id)).toEqual({ count: 0, rows: [] });
  });

  it("shows the cover's thumbnail once the processing has made its variants", async () => {
    const album = await created('thumbs');
    const res = await api.upload({ title: 'sideways', file: { bytes: sideways, filename: 'exif6.jpg' } });
    const image = res.json as { id: string; file_url: string };
    await albums.add(album.id, [image.id]);
    expect((await read(album.id)).cover).toEqual({ image_id: image.id, thumb: null });
    const path = new URL(image.file_url).pathname;
    await processHandler(s3Event(String(process.env.S3_BUCKET), path.slice(path.lastIndexOf('/images/') + 1)), lambdaContext());
    const variants = ((await api.get(image.id)).json as { variants: { thumb: unknown } }).variants;
    const thumb = { url: `${process.env.FILES_BASE_URL}/variants/${image.id}/thumb.webp`, width: 300, height: 400 };
    expect(variants.thumb).toEqual(thumb);
    expect((await read(album.id)).cover).toEqual({ image_id: image.id, thumb });
    expect((await albums.list()).json).toEqual([expect.objectContaining({ id: album.id, cover: { image_id: image.id, thumb } })]);
  });
});

describe('DELETE /api/v1/albums/{id}', () => {
  it('deletes the album only: 204, then 404; its images stay, its memberships go', async () => {
    const album = await created('doomed');
    const kept = await created('kept');
    const [a, b] = [await uploaded('stays a'), await uploaded('stays b')];
    await albums.add(album.id, [a, b]);
    await albums.add(kept.id, [a]);
    const res = await albums.remove(album.id);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect((await albums.get(album.id)).status).toBe(404);
    const again = await albums.remove(album.id);
    expect(again.status).toBe(404);
    expect(again.json).toEqual(problem(404, `No album with id ${album.id}.`));
    for (const id of [a, b]) expect((await api.get(id)).status).toBe(200);
    expect(await sql`select album_id from album_images where album_id = ${album.id}`).toEqual([]);
    expect(await membership(kept.id)).toEqual({ count: 1, rows: [a] });
    expect((await albums.list()).json).toEqual([await read(kept.id)]);
  });

  it('answers 422 for an id that is not a UUID', async () => {
    const res = await albums.remove('12');
    expect(res.status).toBe(422);
    expect(res.json).toEqual(invalid([{ field: 'id', message: 'must be a UUID' }]));
  });
});

describe('POST /api/v1/albums/{id}/images', () => {
  it('adds images, idempotently: those in it already stay, a repeat within a request counts once', async () => {
    const album = await created('adding');
    const [a, b, c] = await insertMany('member', 3);
    const first = await albums.add(album.id, [a, b, a, b]);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ id: album.id, image_count: 2 });
    expect((first.json as Album).updated_at > album.updated_at).toBe(true);
    const second = await albums.add(album.id, [b, c, c]);
    expect(second.json).toMatchObject({ image_count: 3 });
    const same = await albums.add(album.id, [a, b, c]);
    expect(same.json).toEqual(second.json); // nothing new: not even updated_at moves
    expect(await membership(album.id)).toEqual({ count: 3, rows: sorted([a, b, c] as string[]) });
  });

  it('lets an image be in many albums', async () => {
    const [x, y] = [await created('x'), await created('y')];
    const [image] = await insertMany('shared', 1);
    await albums.add(x.id, [image]);
    await albums.add(y.id, [image]);
    expect((await read(x.id)).image_count).toBe(1);
    expect((await read(y.id)).image_count).toBe(1);
  });

  it('answers 422 listing every unknown id at its place in the request, and adds none of the others', async () => {
    const album = await created('strict');
    const [known] = await insertMany('known', 1);
    const unknownA = '11111111-1111-4111-8111-111111111111';
    const unknownB = '22222222-2222-4222-8222-222222222222';
    const res = await albums.add(album.id, [known, unknownA, known, unknownB.toUpperCase()]);
    expect(res.status).toBe(422);
    expect(res.json).toEqual(
      problem(422, 'Some of the images do not exist; nothing was changed.', [
        { field: 'image_ids.1', message: `names no image (${unknownA})` },
        { field: 'image_ids.3', message: `names no image (${unknownB})` },
      ]),
    );
    expect(await membership(album.id)).toEqual({ count: 0, rows: [] });
    expect(await read(album.id)).toEqual(album);
  });

  it('takes 500 ids in one request, and no more', async () => {
    const album = await created('five hundred');
    const ids = (await insertMany('many', 501)) as string[];
    const over = await albums.add(album.id, ids);
    expect(over.status).toBe(422);
    expect(over.json).toEqual(invalid([{ field: 'image_ids', message: 'must hold at most 500 ids' }]));
    expect((await read(album.id)).image_count).toBe(0);
    const full = await albums.add(album.id, ids.slice(0, 500));
    expect(full.status).toBe(200);
    expect((full.json as Album).image_count).toBe(500);
    expect((await membership(album.id)).rows).toHaveLength(500);
  });

  it.each([
    [{ image_ids: [] }, [{ field: 'image_ids', message: 'must hold at least one id' }]],
    [{ image_ids: ['nope'] }, [{ field: 'image_ids.0', message: 'must be a UUID' }]],
    [{ image_ids: UNKNOWN }, [{ field: 'image_ids', message: 'must be an array of image ids' }]],
    [{}, [{ field: 'image_ids', message: 'is required' }]],
    [{ image_ids: [UNKNOWN], title: 'x' }, [{ field: 'title', message: 'is not an allowed field' }]],
  ])('answers 422 for %j', async (body, errors) => {
    const album = await created('bad bodies');
    const res = await albums.add(album.id, body);
    expect(res.status).toBe(422);
    expect(res.json).toEqual(invalid(errors));
  });

  it('answers 404 for an album that does not exist, 400 for a body that is not JSON', async () => {
    const [image] = await insertMany('orphan', 1);
    const res = await albums.add(UNKNOWN, [image]);
    expect(res.status).toBe(404);
    expect(res.json).toEqual(problem(404, `No album with id ${UNKNOWN}.`));
    const album = await created('json');
    expect((await albums.add(album.id, 'image_ids=1')).status).toBe(400);
  });
});

describe('POST /api/v1/albums/{id}/images/remove', () => {
  it('takes images out; ids not in it are ignored; the images stay', async () => {
    const album = await created('removing');
    const [a, b, c] = await insertMany('member', 3);
    await albums.add(album.id, [a, b]);
    const res = await albums.take(album.id, [a, c, UNKNOWN, a]);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: album.id, image_count: 1, cover: { image_id: b } });
    expect(await membership(album.id)).toEqual({ count: 1, rows: [b] });
    expect(await sql`select count(*)::int as n from images`).toEqual([{ n: 3 }]);
    const before = res.json as Album;
    const nothing = await albums.take(album.id, [c]);
    expect(nothing.json).toEqual(before); // nothing left: updated_at stays
  });

  it('answers 404 for an album that does not exist, 422 for a bad body, 400 for one that is not JSON', async () => {
    expect((await albums.take(UNKNOWN, [UNKNOWN])).status).toBe(404);
    const album = await created('removal bodies');
    const bad = await albums.take(album.id, { image_ids: [] });
    expect(bad.status).toBe(422);
    expect(bad.json).toEqual(invalid([{ field: 'image_ids', message: 'must hold at least one id' }]));
    expect((await albums.take(album.id, '[')).status).toBe(400);
  });
});

describe('the count and the cover, true at every read', () => {
  it('a deleted image leaves every album in its own transaction: count, cover and list at once', async () => {
    const [x, y] = [await created('x'), await created('y')];
    const [a, b] = [await uploaded('in both'), await uploaded('in x')];
    await albums.add(x.id, [a, b]);
    await albums.add(y.id, [a]);
    const before = await read(x.id);
    expect(before).toMatchObject({ image_count: 2, cover: { image_id: b } });
    expect((await api.remove(b)).status).toBe(204);
    const after = await read(x.id);
    expect(after).toMatchObject({ image_count: 1, cover: { image_id: a } });
    expect(after.updated_at > before.updated_at).toBe(true);
    expect((await api.remove(a)).status).toBe(204);
    expect(await read(y.id)).toMatchObject({ image_count: 0, cover: null });
    expect((await albums.list()).json).toEqual([await read(y.id), await read(x.id)]);
    expect(await membership(x.id)).toEqual({ count: 0, rows: [] });
  });

  it('the stored count is the number of rows after every kind of change', async () => {
    const album = await created('counted');
    const ids = (await insertMany('counted', 10)) as string[];
    const check = async () => {
      const { count, rows } = await membership(album.id);
      expect(count).toBe(rows.length);
      expect((await read(album.id)).image_count).toBe(rows.length);
    };
    await albums.add(album.id, ids.slice(0, 6));
    await check();
    await albums.add(album.id, ids.slice(3, 10));
    await check();
    await albums.take(album.id, ids.slice(0, 2));
    await check();
    await api.remove(ids[5] ?? '');
    await check();
    await sql`delete from images where id = ${ids[9] ?? ''}`;
    await check();
    expect((await read(album.id)).image_count).toBe(6);
  });
});
