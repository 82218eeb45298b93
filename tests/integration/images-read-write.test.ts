import { fillPlaceholders } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { readQueries } from '../../lib/images/rows';
import { api } from '../helpers/api';
import { invalid, problem } from '../helpers/problems';
import { assertNoOrphans, objectKeys, resetState, rowIds, sql, unsigned } from '../helpers/state';

type Image = { id: string; title: string; description: string; created_at: string; updated_at: string; file_url: string };

beforeEach(resetState);

async function uploaded(title: string, description = 'Short desc'): Promise<Image> {
  const res = await api.upload({ title, description });
  expect(res.status).toBe(201);
  return res.json as Image;
}

describe('GET /api/v1/images/{id}', () => {
  it('returns the image as it was created', async () => {
    const image = await uploaded('get me');
    const res = await api.get(image.id);
    expect(res.status).toBe(200);
    expect(unsigned(res.json)).toEqual(unsigned(image));
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('finds an id given in upper case', async () => {
    const image = await uploaded('upper');
    expect(unsigned((await api.get(image.id.toUpperCase())).json)).toEqual(unsigned(image));
  });

  it('answers 404 for an unknown id', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const res = await api.get(id);
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.json).toEqual(problem(404, `No image with id ${id}.`));
  });

  it('answers 422 for an id that is not a UUID', async () => {
    const res = await api.get('not-a-uuid');
    expect(res.status).toBe(422);
    expect(res.json).toEqual(invalid([{ field: 'id', message: 'must be a UUID' }]));
  });
});

describe('GET /api/v1/images/', () => {
  it('lists newest first, with and without the trailing slash', async () => {
    const a = await uploaded('first');
    const b = await uploaded('second');
    for (const path of ['/api/v1/images/', '/api/v1/images']) {
      const res = await api.list(undefined, path);
      expect(res.status).toBe(200);
      expect(unsigned(res.json)).toEqual(unsigned([b, a]));
      expect(res.headers.link).toBeUndefined();
    }
  });

  it('returns an empty array when there are no images', async () => {
    const res = await api.list();
    expect(res.status).toBe(200);
    expect(res.json).toEqual([]);
  });

  it('pages one row at a time through rows that share a timestamp, losing and repeating none', async () => {
    // One statement: every row gets the same now(), to the microsecond.
    await sql`
      insert into images (id, title, description, filename, file_url)
      select gen_random_uuid(), 'same instant ' || n, '', 'f.jpg', 'http://x/images/' || n || '.jpg'
      from generate_series(1, 12) as n`;
    const expected = await sql<{ id: string }[]>`select id from images order by created_at desc, id desc`;
    expect(new Set((await sql`select created_at from images`).map((r) => String(r.created_at))).size).toBe(1);

    const seen: string[] = [];
    let query: Record<string, string> = { limit: '1' };
    for (let page = 0; page < 20; page++) {
      const res = await api.list(query);
      expect(res.status).toBe(200);
      const items = res.json as Image[];
      seen.push(...items.map((i) => i.id));
      const link = res.headers.link;
      if (!link) break;
      const match = /^<([^>]+)>; rel="next"$/.exec(link);
      expect(match).not.toBeNull();
      const next = new URL(match?.[1] ?? '', 'http://localhost');
      expect(next.pathname).toBe('/api/v1/images/');
      query = Object.fromEntries(next.searchParams);
      expect(query.limit).toBe('1');
    }
    expect(seen).toEqual(expected.map((r) => r.id));
  });

  it('pages by 5 through 12 images and stops with no Link on the last page', async () => {
    for (let i = 0; i < 12; i++) await uploaded(`image ${i}`);
    const first = await api.list({ limit: '5' });
    expect((first.json as Image[]).map((i) => i.title)).toEqual(['image 11', 'image 10', 'image 9', 'image 8', 'image 7']);
    const cursorOf = (link: string | undefined) =>
      new URL(/<([^>]+)>/.exec(link ?? '')?.[1] ?? '', 'http://x').searchParams.get('cursor') ?? '';
    const second = await api.list({ limit: '5', cursor: cursorOf(first.headers.link) });
    const third = await api.list({ limit: '5', cursor: cursorOf(second.headers.link) });
    expect((third.json as Image[]).map((i) => i.title)).toEqual(['image 1', 'image 0']);
    expect(third.headers.link).toBeUndefined();
  });

  it('walks the list index, first page and after a cursor, with no sort and no sequential scan', async () => {
    await sql`
      insert into images (id, title, description, filename, file_url, created_at)
      select gen_random_uuid(), 'indexed ' || n, '', 'f.jpg', 'http://x/images/' || n || '.jpg', now() - n * interval '1 ms'
      from generate_series(1, 20000) as n`;
    await sql`analyze images`;
    // EXPLAIN the very queries the list endpoint runs, bound as it binds them.
    const explain = async (query: { toSQL: () => { sql: string; params: unknown[] } }, values: Record<string, unknown>) => {
      const { sql: text, params } = query.toSQL();
      const rows = await sql.unsafe(`explain ${text}`, fillPlaceholders(params, values) as never[]);
      return rows.map((r) => String(r['QUERY PLAN'])).join('\n');
    };
    const [middle] = await sql<
      { created_at: string; id: string }[]
    >`select created_at::text, id from images order by created_at desc, id desc offset 10000 limit 1`;
    const plans = [
      await explain(readQueries().firstPage, { limit: 51 }),
      await explain(readQueries().pageAfter, { createdAt: middle?.created_at, id: middle?.id, limit: 51 }),
    ];
    for (const plan of plans) {
      expect(plan).toMatch(/Index (Only )?Scan Backward using images_created_at_id_idx/);
      expect(plan).not.toMatch(/Seq Scan|Sort/);
    }
  });

  it('takes a well-formed cursor from elsewhere as a position: older images, or none', async () => {
    const a = await uploaded('older');
    const b = await uploaded('newer');
    const cursor = (createdAt: string) => Buffer.from(`${createdAt}|ffffffff-ffff-4fff-bfff-ffffffffffff`).toString('base64url');
    expect(unsigned((await api.list({ cursor: cursor('2999-01-01T00:00:00.000000+00:00') })).json)).toEqual(unsigned([b, a]));
    expect(unsigned((await api.list({ cursor: cursor(b.created_at) })).json)).toEqual(unsigned([b, a]));
    expect((await api.list({ cursor: cursor('2000-01-01T00:00:00.000000+00:00') })).json).toEqual([]);
  });

  it('uses 50 as the default page size', async () => {
    await sql`
      insert into images (id, title, description, filename, file_url)
      select gen_random_uuid(), 'bulk ' || n, '', 'f.jpg', 'http://x/images/' || n || '.jpg'
      from generate_series(1, 51) as n`;
    const res = await api.list();
    expect((res.json as Image[]).length).toBe(50);
    expect(res.headers.link).toMatch(/^<\/api\/v1\/images\/\?limit=50&cursor=[\w-]+>; rel="next"$/);
  });

  it.each([
    [{ limit: '0' }, 'limit', 'must be at least 1'],
    [{ limit: '101' }, 'limit', 'must be at most 100'],
    [{ limit: 'ten' }, 'limit', 'must be a whole number from 1 to 100'],
    [{ limit: '-1' }, 'limit', 'must be at least 1'],
    [{ limit: '2.5' }, 'limit', 'must be a whole number from 1 to 100'],
    [{ cursor: 'garbage!' }, 'cursor', 'is not a valid cursor'],
    [{ cursor: Buffer.from('2026-01-01|nope').toString('base64url') }, 'cursor', 'is not a valid cursor'],
  ])('answers 422 for %j', async (query, field, message) => {
    const res = await api.list(query);
    expect(res.status).toBe(422);
    expect((res.json as { errors: unknown }).errors).toEqual([{ field, message }]);
  });
});

describe('PATCH /api/v1/images/{id}', () => {
  it('changes title and description and moves updated_at forward (seed README example)', async () => {
    const image = await uploaded('old title', 'old desc');
    const res = await api.patch(image.id, { title: 'New title', description: 'New desc' });
    expect(res.status).toBe(200);
    const updated = res.json as Image;
    expect(updated).toMatchObject({ ...image, title: 'New title', description: 'New desc', updated_at: updated.updated_at });
    expect(updated.updated_at > image.updated_at).toBe(true);
    expect(updated.created_at).toBe(image.created_at);
    expect(unsigned((await api.get(image.id)).json)).toEqual(unsigned(updated));
  });

  it('changes only what is sent', async () => {
    const image = await uploaded('keep me', 'before');
    const res = await api.patch(image.id, { description: '' });
    expect(res.json).toMatchObject({ title: 'keep me', description: '' });
  });

  it('moves updated_at strictly forward, by one microsecond when the clock has not passed it', async () => {
    const image = await uploaded('many updates');
    // A stamp ahead of now(): the next update cannot take now(), it takes the stamp plus 1 µs.
    await sql`update images set updated_at = '2999-01-01 00:00:00.000007+00' where id = ${image.id}`;
    const first = (await api.patch(image.id, { description: 'v1' })).json as Image;
    expect(first.updated_at).toBe('2999-01-01T00:00:00.000008+00:00');
    const second = (await api.patch(image.id, { description: 'v2' })).json as Image;
    expect(second.updated_at).toBe('2999-01-01T00:00:00.000009+00:00');
  });

  it('answers 404 for an unknown id', async () => {
    const id = '3f2a5c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b';
    const res = await api.patch(id, { title: 'x' });
    expect(res.status).toBe(404);
    expect(res.json).toEqual(problem(404, `No image with id ${id}.`));
  });

  it('answers 409 when the new title is taken, changing nothing', async () => {
    await uploaded('taken');
    const image = await uploaded('mine');
    const res = await api.patch(image.id, { title: 'taken' });
    expect(res.status).toBe(409);
    expect(unsigned((await api.get(image.id)).json)).toEqual(unsigned(image));
  });

  it.each([
    ['an empty object', {}, [{ field: 'body', message: 'at least one of title and description is required' }]],
    ['an unknown field', { title: 'ok', owner: 'me' }, [{ field: 'owner', message: 'is not an allowed field' }]],
    ['a title of 33 characters', { title: 'a'.repeat(33) }, [{ field: 'title', message: 'must be at most 32 characters' }]],
    ['a blank title', { title: ' \t ' }, [{ field: 'title', message: 'must not be blank' }]],
    ['a number as title', { title: 5 }, [{ field: 'title', message: 'must be a string' }]],
    ['a null description', { description: null }, [{ field: 'description', message: 'must be a string' }]],
    ['an array', [1, 2], [{ field: 'body', message: 'must be a JSON object' }]],
  ])('answers 422 for %s', async (_, body, errors) => {
    const image = await uploaded('unchanged');
    const res = await api.patch(image.id, body);
    expect(res.status).toBe(422);
    expect((res.json as { errors: unknown }).errors).toEqual(errors);
    expect(unsigned((await api.get(image.id)).json)).toEqual(unsigned(image));
  });

  it('answers 400 for malformed JSON and for a body that is not JSON', async () => {
    const image = await uploaded('json only');
    const malformed = await api.patch(image.id, '{"title": ');
    expect(malformed.status).toBe(400);
    expect(malformed.json).toEqual(problem(400, 'The body is not valid JSON.'));
    const form = await api.patch(image.id, 'title=x', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(400);
    expect(form.json).toEqual(problem(400, 'The body must be JSON, sent with Content-Type: application/json.'));
  });

  it('answers 422 for a non-UUID id', async () => {
    const res = await api.patch('123', { title: 'x' });
    expect(res.status).toBe(422);
  });
});

describe('DELETE /api/v1/images/{id}', () => {
  it('deletes the row and its file: 204, then 404', async () => {
    const keep = await uploaded('keep');
    const image = await uploaded('delete me');
    const first = await api.remove(image.id);
    expect(first.status).toBe(204);
    expect(first.text).toBe('');
    const second = await api.remove(image.id);
    expect(second.status).toBe(404);
    expect(second.json).toEqual(problem(404, `No image with id ${image.id}.`));
    expect(await rowIds()).toEqual([keep.id]);
    expect(await objectKeys()).toEqual([`images/${keep.id}.jpg`]);
    expect((await fetch(image.file_url)).status).toBe(404);
    expect((await api.get(image.id)).status).toBe(404);
    await assertNoOrphans();
  });

  it('answers 422 for a non-UUID id', async () => {
    expect((await api.remove('x')).status).toBe(422);
  });
});
