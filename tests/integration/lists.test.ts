/**
 * GET /api/v1/images (and an album's list, and a share's) with every order and filter, alone and
 * combined, walked page by page through the Link header across ties of created_at and of taken
 * time, against a model of what each list must hold; search by words; the cursor bound to its list;
 * and EXPLAIN of the very queries the handler runs, at tens of thousands of rows, for every
 * combination: no sequential scan of images.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fold } from '../../lib/images/fold';
import { type ListRequest, pageSql } from '../../lib/images/list';
import { api } from '../helpers/api';
import { albums, shared, shares } from '../helpers/collections';
import type { Reply } from '../helpers/lambda';
import { invalid } from '../helpers/problems';
import { type ImageRow, insertImages, insertMany } from '../helpers/rows';
import { resetState, sql } from '../helpers/state';

interface Listed {
  id: string;
  title: string;
  taken_at: string | null;
}

/** An image as the model knows it: its sort keys as exact text, and its words. */
interface Known {
  id: string;
  title: string;
  description: string;
  created: string;
  /** taken_local as `YYYY-MM-DDTHH:MM:SS.ffffff`, or '' for a photo that says nothing (it sorts below all). */
  taken: string;
}

type Query = Record<string, string>;

/** The words of a text as search splits them: folded, between anything that is not a letter or digit. */
const words = (text: string) =>
  fold(text)
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);

/** What a list must hold, in its order: the model's answer to a query. */
function expected(all: Known[], query: Query, within?: Set<string>): string[] {
  const wanted = query.q === undefined ? [] : words(query.q);
  const day = (k: Known) => k.taken.slice(0, 10);
  const dated = query.taken_from !== undefined || query.taken_to !== undefined;
  return all
    .filter((k) => within === undefined || within.has(k.id))
    .filter((k) => {
      const own = words(`${k.title} ${k.description}`);
      return wanted.every((w) => own.some((o) => o.startsWith(w)));
    })
    .filter((k) => !dated || (k.taken !== '' && day(k) >= (query.taken_from ?? '') && day(k) <= (query.taken_to ?? '9999')))
    .sort((a, b) => {
      const keys = (k: Known) => (query.sort === 'taken' ? [k.taken, k.created, k.id] : [k.created, k.id]);
      const [x, y] = [keys(a), keys(b)];
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return (x[i] ?? '') < (y[i] ?? '') ? 1 : -1;
      return 0;
    })
    .map((k) => k.id);
}

/** The query of a response's Link, or undefined on the last page. */
function nextQuery(reply: Reply, path: string): Query | undefined {
  const link = reply.headers.link;
  if (link === undefined) return undefined;
  const url = new URL(/^<([^>]+)>; rel="next"$/.exec(link)?.[1] ?? '', 'http://x');
  expect(url.pathname).toBe(path);
  return Object.fromEntries(url.searchParams);
}

type Lister = (query: Query) => Promise<Reply>;

/** Walks a list from `query` to its end by the Links: the ids served, checking each Link keeps every filter. */
async function walk(list: Lister, path: string, query: Query): Promise<string[]> {
  const seen: string[] = [];
  let next: Query | undefined = query;
  for (let page = 0; next !== undefined; page++) {
    expect(page).toBeLessThan(100);
    const res = await list(next);
    expect(res.status, res.text).toBe(200);
    seen.push(...(res.json as Listed[]).map((i) => i.id));
    next = nextQuery(res, path);
    if (next) {
      const { cursor, ...kept } = next;
      expect(cursor).toMatch(/^[\w-]+$/);
      // The same list: every filter and the order (the default order is left out, as a client would).
      const { cursor: _, ...asked } = query;
      expect(kept).toEqual(asked.sort === 'created' ? (({ sort: __, ...rest }) => rest)(asked) : asked);
    }
  }
  return seen;
}

const listImages: Lister = (query) => api.list(query);

describe('every order and filter, alone and combined, paged across ties', () => {
  const known: Known[] = [];
  const inAlbum = new Set<string>();
  const inShare = new Set<string>();
  let albumId = '';
  let token = '';

  const TITLES = ['Sunset at the beach', 'Beach day', 'Café du monde', 'CAFÉ NOIR', 'Sunrise', 'Unsunny', 'Mountain', 'Night'];
  const DESCRIPTIONS = ['', 'sun all day', 'coffee', 'bear sighting', 'seabeach', 'cafeteria', 'the sun', 'Bé'];
  // Repeats make ties of taken time; the edges of days test the date range's ends.
  const TAKEN = [
    null,
    '2024-06-01T10:00:00',
    '2024-06-01T10:00:00',
    '2024-06-02T00:00:00',
    '2024-06-02T23:59:59.999999',
    '2024-06-03T00:00:00',
    null,
    '2023-12-31T23:59:59',
    '2024-06-01T23:59:59.5',
    '2024-06-01T10:00:00',
    null,
  ];

  beforeAll(async () => {
    await resetState();
    let n = 0;
    // Three statements: three created_at values, each shared by a dozen images.
    for (const size of [14, 13, 11]) {
      const rows: ImageRow[] = Array.from({ length: size }, () => {
        n++;
        return {
          title: `${TITLES[n % TITLES.length]} ${n}`,
          description: DESCRIPTIONS[(n * 3) % DESCRIPTIONS.length] ?? '',
          takenLocal: TAKEN[n % TAKEN.length] ?? null,
        };
      });
      await insertImages(rows);
    }
    const rows = await sql<Known[]>`
      select id, title, description, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as created,
        coalesce(to_char(taken_local, 'YYYY-MM-DD"T"HH24:MI:SS.US'), '') as taken
      from images`;
    known.push(...rows);
    expect(new Set(known.map((k) => k.created)).size).toBe(3);
    const ids = known.map((k) => k.id).sort();
    albumId = ((await albums.create({ title: 'Filtered' })).json as { id: string }).id;
    const albumMembers = ids.filter((_, i) => i % 3 !== 1);
    expect((await albums.add(albumId, albumMembers)).status).toBe(200);
    for (const id of albumMembers) inAlbum.add(id);
    const shareMembers = ids.filter((_, i) => i % 2 === 0);
    const share = await shares.create({ image_ids: shareMembers });
    expect(share.status).toBe(201);
    token = (share.json as { token: string }).token;
    for (const id of shareMembers) inShare.add(id);
  });

  const SORTS = ['created', 'taken'];
  const QS = [undefined, 'sun bea', 'cafe', 'CAFÉ'];
  const RANGES: [string | undefined, string | undefined][] = [
    [undefined, undefined],
    ['2024-06-02', undefined],
    [undefined, '2024-06-01'],
    ['2024-06-01', '2024-06-02'],
    ['2024-06-02', '2024-06-02'],
  ];
  const combos = SORTS.flatMap((sort) => QS.flatMap((q) => RANGES.map(([from, to]) => ({ sort, q, from, to }))));

  const queryOf = (c: (typeof combos)[number], limit: string): Query => ({
    limit,
    sort: c.sort,
    ...(c.q !== undefined ? { q: c.q } : {}),
    ...(c.from !== undefined ? { taken_from: c.from } : {}),
    ...(c.to !== undefined ? { taken_to: c.to } : {}),
  });

  it.each(combos)('all images: %j', async (c) => {
    const query = queryOf(c, c.q === undefined ? '2' : '3');
    expect(await walk(listImages, '/api/v1/images/', query)).toEqual(expected(known, query));
  });

  it.each(combos)('an album: %j', async (c) => {
    const query = { ...queryOf(c, '2'), album: albumId };
    const seen = await walk(listImages, '/api/v1/images/', query);
    expect(seen).toEqual(expected(known, query, inAlbum));
  });

  it.each(combos)('a share: %j', async (c) => {
    const query = queryOf(c, '3');
    const path = `/api/v1/shared/${token}/images`;
    expect(await walk((q) => shared.images(token, q), path, query)).toEqual(expected(known, query, inShare));
  });

  it('the model is not trivial: ties, empty and full answers are all among the combinations', async () => {
    const sizes = combos.map((c) => expected(known, queryOf(c, '2')).length);
    expect(sizes).toContain(0);
    expect(Math.max(...sizes)).toBe(known.length);
    expect(new Set(known.filter((k) => k.taken !== '').map((k) => k.taken)).size).toBeLessThan(known.filter((k) => k.taken !== '').length);
  });
});

describe('sort=taken', () => {
  it('newest taken first; those without a time last, newest uploaded first among them, paged across ties', async () => {
    await resetState();
    const [undatedOld] = await insertMany('undated old', 1);
    const same = await insertMany('same moment', 5, () => ({ takenLocal: '2022-01-01T12:00:00' }));
    const undated = await insertMany('undated', 4);
    const [newest] = await insertMany('newest taken', 1, () => ({ takenLocal: '2022-01-01T12:00:00.000001' }));
    const byIdDesc = (ids: string[]) => [...ids].sort().reverse();
    const seen = await walk(listImages, '/api/v1/images/', { limit: '2', sort: 'taken' });
    expect(seen).toEqual([newest, ...byIdDesc(same), ...byIdDesc(undated), undatedOld]);
  });
});

describe('taken_from and taken_to', () => {
  it('are inclusive at both ends, by the local date the photo records, whatever its offset', async () => {
    await resetState();
    const ids = await insertImages([
      { title: 'day before, last instant', takenLocal: '2024-06-01T23:59:59.999999' },
      { title: 'first instant', takenLocal: '2024-06-02T00:00:00' },
      { title: 'late, far west', takenLocal: '2024-06-02T23:30:00', takenAt: '2024-06-02T23:30:00-10:00' },
      { title: 'early, far east', takenLocal: '2024-06-03T00:30:00', takenAt: '2024-06-03T00:30:00+14:00' },
      { title: 'last instant', takenLocal: '2024-06-03T23:59:59.999999' },
      { title: 'day after', takenLocal: '2024-06-04T00:00:00' },
      { title: 'no date' },
    ]);
    const titles = async (query: Query) => ((await api.list(query)).json as Listed[]).map((i) => i.title).sort();
    expect(await titles({ taken_from: '2024-06-02', taken_to: '2024-06-03' })).toEqual(
      ['early, far east', 'first instant', 'last instant', 'late, far west'].sort(),
    );
    expect(await titles({ taken_from: '2024-06-04' })).toEqual(['day after']);
    expect(await titles({ taken_to: '2024-06-01' })).toEqual(['day before, last instant']);
    expect(await titles({ taken_from: '2024-06-03', taken_to: '2024-06-03' })).toEqual(['early, far east', 'last instant']);
    expect(ids).toHaveLength(7);
  });

  it.each([
    [{ taken_from: '2024-02-30' }, 'taken_from', 'must be a date that exists'],
    [{ taken_to: '2024-6-1' }, 'taken_to', 'must be a date, YYYY-MM-DD'],
    [{ taken_from: '2024-06-03', taken_to: '2024-06-02' }, 'taken_from', 'must not be after taken_to'],
    [{ sort: 'title' }, 'sort', expect.any(String)],
    [{ album: 'not-an-album' }, 'album', 'must be a UUID'],
  ])('answers 422 for %j', async (query, field, message) => {
    const res = await api.list(query);
    expect(res.status).toBe(422);
    expect(res.json).toEqual(invalid([{ field, message }]));
  });
});

describe('q', () => {
  const titles = async (q: string) => {
    const res = await api.list({ q });
    expect(res.status, res.text).toBe(200);
    return (res.json as Listed[]).map((i) => i.title).sort();
  };

  beforeAll(async () => {
    await resetState();
    await insertImages([
      { title: 'Sunset at the beach' },
      { title: 'Café', description: 'on the corner' },
      { title: 'Morning', description: 'sunny beach walk' },
      { title: 'Unsunny', description: 'seabeach' },
      { title: "O'Brien's pub", description: 'C:\\photos & more' },
      { title: 'Straße', description: 'Ærø ﬁsh' },
      { title: '東京タワー', description: 'ночь' },
      { title: 'Model T-800', description: 'v1.2 rev' },
    ]);
  });

  it('matches each word as the start of a word of the title or the description, case and accents aside', async () => {
    expect(await titles('sun bea')).toEqual(['Morning', 'Sunset at the beach']);
    expect(await titles('cafe')).toEqual(['Café']);
    expect(await titles('CAFÉ')).toEqual(['Café']);
    expect(await titles('café corner')).toEqual(['Café']); // a word of the title, a word of the description
    expect(await titles('Sunset')).toEqual(['Sunset at the beach']);
    expect(await titles('strasse')).toEqual(['Straße']);
    expect(await titles('aero fish')).toEqual(['Straße']);
    expect(await titles('НОЧЬ')).toEqual(['東京タワー']);
    expect(await titles('obrien')).toEqual([]);
    expect(await titles('brien')).toEqual(["O'Brien's pub"]);
  });

  it('every word must match, and only from the start of a word', async () => {
    expect(await titles('sun xyz')).toEqual([]);
    expect(await titles('set')).toEqual([]); // inside "Sunset"
    expect(await titles('each')).toEqual([]); // inside "beach"
    expect(await titles('unsun')).toEqual(['Unsunny']);
    expect(await titles('seab')).toEqual(['Unsunny']);
  });

  it.each([
    '"sun',
    "sun'",
    'sun\\',
    '\\\\sun',
    'sun:*',
    'sun:A',
    'a & b',
    'sun & !bea',
    'sun | bea',
    '!sun',
    '(sun',
    'sun)',
    '((sun) | (bea))',
    'sun <-> bea',
    'sun <2> bea',
    'c:\\photos',
    'o\'brien"s',
    'sun\u0000',
    'T-800',
    'v1.2',
    '-800',
    'a'.repeat(200),
  ])('q=%j never breaks the query: 200, or 422 for what the document refuses', async (q) => {
    const res = await api.list({ q });
    expect(res.status, res.text).toBe(200);
  });

  it('punctuation is not an operator, nor is NUL: the words around it are matched', async () => {
    expect(await titles('sun\u0000bea')).toEqual(['Morning', 'Sunset at the beach']);
    expect(await titles('sun | bea')).toEqual(['Morning', 'Sunset at the beach']);
    expect(await titles('(sun) !bea')).toEqual(['Morning', 'Sunset at the beach']);
    expect(await titles('"cafe"')).toEqual(['Café']);
    expect(await titles('c:\\photos')).toEqual(["O'Brien's pub"]);
    expect(await titles('sun:*')).toEqual(['Morning', 'Sunset at the beach']);
  });

  it('an edited title or description is found by its new words, and no longer by its old ones', async () => {
    const [id = ''] = await insertImages([{ title: 'Zebra crossing', description: 'Abbey Road' }]);
    expect((await api.patch(id, { title: 'Éléphant' })).status).toBe(200);
    expect(await titles('zebra')).toEqual([]);
    expect(await titles('elephant abbey')).toEqual(['Éléphant']);
    expect((await api.patch(id, { description: 'Piccadilly' })).status).toBe(200);
    expect(await titles('abbey')).toEqual([]);
    expect(await titles('ELEPH picca')).toEqual(['Éléphant']);
  });

  it.each(['', '!!!', '   ', '-', '&|', '*', "'", "''''", '\\', ':*', '%_*?', '\u0000', '\u0301'])(
    'searches for nothing with q=%j, which holds no word: every image, as without q',
    async (q) => {
      const res = await api.list({ q, limit: '2' });
      expect(res.status).toBe(200);
      expect(res.json).toEqual((await api.list({ limit: '2' })).json);
      // Nor is it carried in the next page's link.
      expect(res.headers.link ?? '').not.toContain('q=');
    },
  );

  it('answers 422 for a q over 200 characters', async () => {
    const res = await api.list({ q: 'a'.repeat(201) });
    expect(res.json).toEqual(invalid([{ field: 'q', message: 'must be at most 200 characters' }]));
  });
});

describe('the cursor is bound to its list', () => {
  const OTHER_LIST = invalid([
    {
      field: 'cursor',
      message: 'was made for another list: keep the sort and filters of the page it came from, or start again without it',
    },
  ]);
  let albumId = '';
  let otherAlbum = '';

  beforeAll(async () => {
    await resetState();
    const ids = await insertMany('bound', 8, (n) => ({ takenLocal: `2024-06-0${1 + (n % 3)}T10:00:00`, description: 'sunny' }));
    albumId = ((await albums.create({ title: 'bound' })).json as { id: string }).id;
    otherAlbum = ((await albums.create({ title: 'other' })).json as { id: string }).id;
    await albums.add(albumId, ids);
    await albums.add(otherAlbum, ids);
  });

  /** The cursor of the first page of `query`'s list (limit 2). */
  async function cursorOf(query: Query): Promise<string> {
    const res = await api.list({ ...query, limit: '2' });
    return nextQuery(res, '/api/v1/images/')?.cursor ?? '';
  }

  it('a cursor reused with another order, filter, album, or none of them, is a 422 that says why', async () => {
    const base: Query = { sort: 'taken', album: albumId, q: 'sun', taken_from: '2024-06-01', taken_to: '2024-06-03' };
    const cursor = await cursorOf(base);
    expect(cursor).not.toBe('');
    expect((await api.list({ ...base, cursor })).status).toBe(200);
    const others: Query[] = [
      { ...base, sort: 'created' },
      { ...base, album: otherAlbum },
      { ...base, q: 'sunn' },
      { ...base, taken_from: '2024-06-02' },
      { ...base, taken_to: '2024-06-02' },
      (({ album: _, ...rest }) => rest)(base),
      (({ q: _, ...rest }) => rest)(base),
      (({ taken_from: _, ...rest }) => rest)(base),
      {},
    ];
    for (const other of others) {
      const res = await api.list({ ...other, cursor });
      expect(res.status, JSON.stringify(other)).toBe(422);
      expect(res.json).toEqual(OTHER_LIST);
    }
    // A plain list's cursor in a filtered list, and the other way round.
    const plain = await cursorOf({});
    expect((await api.list({ q: 'sun', cursor: plain })).json).toEqual(OTHER_LIST);
    expect((await api.list({ cursor: await cursorOf({ sort: 'taken' }) })).json).toEqual(OTHER_LIST);
    // A share of some images is another list; a share of the album is the album's list.
    const firstPageCursor = async (share: { token: string }) =>
      nextQuery(await shared.images(share.token, { limit: '2' }), `/api/v1/shared/${share.token}/images`)?.cursor ?? '';
    const ids = (await sql<{ id: string }[]>`select id from images`).map((r) => r.id);
    const ofImages = (await shares.create({ image_ids: ids })).json as { token: string };
    expect((await api.list({ album: albumId, cursor: await firstPageCursor(ofImages) })).json).toEqual(OTHER_LIST);
    const ofAlbum = (await shares.create({ album_id: albumId })).json as { token: string };
    expect((await api.list({ album: albumId, cursor: await firstPageCursor(ofAlbum) })).status).toBe(200);
  });

  it('the same words in another case or accent are the same list', async () => {
    const cursor = await cursorOf({ q: 'SUN' });
    expect((await api.list({ q: 'sün', cursor, limit: '2' })).status).toBe(200);
  });

  it('a cursor that is not one is a 422 of its own', async () => {
    for (const cursor of ['%%%', Buffer.from('t|abc|2024-06-01T10:00:00|x|y').toString('base64url'), 'YQ']) {
      const res = await api.list({ cursor, sort: 'taken' });
      expect(res.status).toBe(422);
      expect(res.json).toEqual(invalid([{ field: 'cursor', message: 'is not a valid cursor' }]));
    }
  });

  it('an album that does not exist is an empty list', async () => {
    const res = await api.list({ album: '00000000-0000-4000-8000-000000000000' });
    expect(res.status).toBe(200);
    expect(res.json).toEqual([]);
    expect(res.headers.link).toBeUndefined();
  });
});

describe('every combination is answered from an index', () => {
  const ALBUM = 'a1b2c3d4-0000-4000-8000-000000000001';
  const SMALL_ALBUM = 'a1b2c3d4-0000-4000-8000-000000000002';
  const SHARE = 'a1b2c3d4-0000-4000-8000-000000000003';

  beforeAll(async () => {
    await resetState();
    // 30 000 images over a year, two thirds with a time taken; search text on all; a large album, a
    // small one, and a share.
    await sql`
      insert into images (id, title, description, filename, file_url, created_at, taken_at, taken_local, search_title, search_description)
      select gen_random_uuid(), 'indexed ' || n, left(d, 32), 'f.jpg', 'http://x/images/' || n || '.jpg',
        now() - n * interval '1 minute', t::text, t,
        (array['sunset', 'beach', 'cafe', 'mountain', 'river', 'city', 'night', 'morning'])[1 + n % 8] || ' at the ' ||
          (array['lake', 'sea', 'park', 'hill'])[1 + n % 4] || ' ' || n,
        d
      from generate_series(1, 30000) as n,
        lateral (select case when n % 3 = 0 then null
                        else timestamp '2024-01-01' + ((n * 7919) % 365) * interval '1 day' + (n % 86400) * interval '1 second' end as t,
                        (array['red', 'green', 'blue', 'yellow'])[1 + n % 4] || ' ' || n as d) x`;
    await sql`insert into albums (id, title) values (${ALBUM}, 'large'), (${SMALL_ALBUM}, 'small')`;
    await sql`insert into album_images (album_id, image_id, image_created_at, image_taken_sort)
              select ${ALBUM}, id, created_at, taken_sort from images where abs(hashtext(id::text)) % 4 = 0`;
    await sql`insert into album_images (album_id, image_id, image_created_at, image_taken_sort)
              select ${SMALL_ALBUM}, id, created_at, taken_sort from images where abs(hashtext(id::text)) % 200 = 1`;
    await sql`insert into shares (id, token) values (${SHARE}, 'explained')`;
    await sql`insert into share_images (share_id, image_id, image_created_at, image_taken_sort)
              select ${SHARE}, id, created_at, taken_sort from images where abs(hashtext(id::text)) % 50 = 2`;
    await sql`analyze`;
  });

  const SCOPES: ListRequest['scope'][] = [
    { kind: 'all' },
    { kind: 'album', id: ALBUM },
    { kind: 'album', id: SMALL_ALBUM },
    { kind: 'share', id: SHARE },
  ];
  const combos = SCOPES.flatMap((scope) =>
    (['created', 'taken'] as const).flatMap((sort) =>
      [undefined, 'sun', 'sun bea', 'cafe lake 12'].flatMap((q) =>
        (
          [
            [undefined, undefined],
            ['2024-03-01', '2024-03-31'],
            ['2024-06-01', undefined],
            [undefined, '2024-01-15'],
          ] as const
        ).flatMap(([takenFrom, takenTo]) =>
          [false, true].map(
            (paged) => ({ scope, sort, q, takenFrom, takenTo, paged }) satisfies Omit<ListRequest, 'limit'> & { paged: boolean },
          ),
        ),
      ),
    ),
  );

  it(`EXPLAIN shows no sequential scan of images for any of the ${combos.length} queries`, async () => {
    const [middle] = await sql<{ taken: string; created: string; id: string }[]>`
      select to_char(taken_sort, 'YYYY-MM-DD"T"HH24:MI:SS.US') as taken,
        to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') as created, id
      from images where taken_local is not null order by created_at desc offset 12000 limit 1`;
    const scans: string[] = [];
    for (const { paged, ...request } of combos) {
      const after = paged && middle ? { takenSort: middle.taken, createdAt: middle.created, id: middle.id } : undefined;
      const { sql: text, params } = pageSql({ ...request, limit: 50 }, after);
      const plan = (await sql.unsafe(`explain ${text}`, params as never[])).map((r) => String(r['QUERY PLAN'])).join('\n');
      if (/Seq Scan on images/.test(plan)) scans.push(`${JSON.stringify({ ...request, paged })}\n${plan}`);
    }
    expect(scans).toEqual([]);
  });
});
