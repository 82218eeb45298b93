/**
 * Share links end to end through the real handlers, against the real Postgres, Redis and S3
 * emulator (CONTRACT.md, "Round three: Shares"): what the owner makes, lists and revokes; what a
 * viewer sees, and for how long; that a revocation, an expiry, a deleted image or a changed album
 * reaches the very next viewer request, whatever the cache held; passwords and access tokens.
 */
import { createHash } from 'node:crypto';
import { createClient } from '@redis/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as processHandler } from '../../functions/images-process';
import { makeJpeg } from '../../support/images';
import { lambdaContext, s3Event } from '../../support/lambda-events';
import { api } from '../helpers/api';
import { albums } from '../helpers/collections';
import { invalid, problem } from '../helpers/problems';
import { type Sharing, sharingWith, someAddress } from '../helpers/sharing';
import { resetState, sql } from '../helpers/state';

interface Share {
  id: string;
  url: string;
  token: string;
  album_id: string | null;
  image_ids: string[] | null;
  title: string;
  description: string;
  expires_at: string | null;
  has_password: boolean;
  allow_originals: boolean;
  image_count: number;
  created_at: string;
}
interface Image {
  id: string;
  title: string;
  file_url: string | null;
  sha256?: string | null;
  variants: { thumb: { url: string }; display: { url: string } } | null;
  [member: string]: unknown;
}

const direct = createClient({ url: 'redis://127.0.0.1:6379', RESP: 2 });
let s: Sharing;

beforeAll(async () => {
  await direct.connect();
  s = await sharingWith({});
});
afterAll(async () => {
  await direct.close();
  vi.resetModules();
});
beforeEach(resetState);

const notFound = problem(404, 'No share at this link: it was never made, or it was revoked.');
const gone = problem(410, 'This link has expired.');
const locked = problem(
  401,
  'This share is protected: unlock it with its password (POST …/unlock), then send the access token as Authorization: Bearer.',
);
const wrongPassword = problem(401, "The password is not this share's.");
const notInShare = (id: string) => problem(404, `No image with id ${id} in this share.`);
const onlyOneSource = invalid([{ field: 'album_id', message: 'give exactly one of album_id and image_ids' }]);

/** What a share is cached under: `share:` and its token's SHA-256 (never the token itself). */
const cacheKey = (token: string) => `share:${createHash('sha256').update(token).digest('hex')}`;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function upload(title: string, bytes = makeJpeg()): Promise<Image> {
  const res = await api.upload({ title, file: { bytes, filename: `${title}.jpg` } });
  expect(res.status).toBe(201);
  return res.json as Image;
}

async function shareOf(body: Record<string, unknown>): Promise<Share> {
  const res = await s.create(body);
  expect(res.status, res.text).toBe(201);
  return res.json as Share;
}

async function albumOf(title: string, images: Image[]): Promise<string> {
  const { id } = (await albums.create({ title })).json as { id: string };
  if (images.length > 0)
    expect(
      (
        await albums.add(
          id,
          images.map((i) => i.id),
        )
      ).status,
    ).toBe(200);
  return id;
}

/** Every viewer request of a share, as a viewer with `headers` sends them, and their statuses. */
async function viewerStatuses(token: string, imageId: string, headers: Record<string, string> = {}): Promise<number[]> {
  return [
    (await s.get(token, headers)).status,
    (await s.images(token, undefined, headers)).status,
    (await s.image(token, imageId, headers)).status,
  ];
}

/** The ids a viewer sees, every page followed through its Link. */
async function viewerIds(token: string, query: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<string[]> {
  const ids: string[] = [];
  let next: Record<string, string> | undefined = query;
  while (next) {
    const page = await s.images(token, next, headers);
    expect(page.status, page.text).toBe(200);
    ids.push(...(page.json as Image[]).map((i) => i.id));
    const link = page.headers.link;
    next = link ? Object.fromEntries(new URL(/^<([^>]+)>/.exec(link)?.[1] ?? '', 'http://x').searchParams) : undefined;
  }
  return ids;
}

describe('making a share', () => {
  it('of images: 201, the share with its link, a token of 128 random bits, Location', async () => {
    const [a, b] = [await upload('first'), await upload('second')];
    const res = await s.create({ image_ids: [a.id, b.id.toUpperCase()] });
    expect(res.status).toBe(201);
    const share = res.json as Share;
    expect(share).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      url: `/s/${share.token}`,
      token: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      album_id: null,
      image_ids: [b.id, a.id],
      title: '',
      description: '',
      expires_at: null,
      has_password: false,
      allow_originals: false,
      image_count: 2,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/),
    });
    expect(Buffer.from(share.token, 'base64url')).toHaveLength(16);
    expect(res.headers.location).toBe(`/api/v1/shares/${share.id}`);
    const tokens = new Set([share.token]);
    for (let i = 0; i < 20; i++) tokens.add((await shareOf({ image_ids: [a.id] })).token);
    expect(tokens.size).toBe(21);
  });

  it('of images: an id given twice is shared once', async () => {
    const a = await upload('twice');
    expect(await shareOf({ image_ids: [a.id, a.id] })).toMatchObject({ image_ids: [a.id], image_count: 1 });
  });

  it("of an album: its title unless one is given, its count as the album's", async () => {
    const images = [await upload('one'), await upload('two')];
    const album = await albumOf('Summer by the sea', images);
    expect(await shareOf({ album_id: album })).toMatchObject({
      album_id: album,
      image_ids: null,
      title: 'Summer by the sea',
      image_count: 2,
    });
    expect(await shareOf({ album_id: album, title: 'For grandma', description: 'The best ones' })).toMatchObject({
      title: 'For grandma',
      description: 'The best ones',
    });
    expect(await shareOf({ album_id: album, title: '' })).toMatchObject({ title: '' });
  });

  it('refuses both sources and neither (422), and makes nothing', async () => {
    const a = await upload('either');
    const album = await albumOf('Either', [a]);
    expect((await s.create({ album_id: album, image_ids: [a.id] })).json).toEqual(onlyOneSource);
    expect((await s.create({})).json).toEqual(onlyOneSource);
    expect((await s.create({ title: 'nothing to share' })).json).toEqual(onlyOneSource);
    expect(await sql`select id from shares`).toEqual([]);
  });

  it('lists every unknown image id by its place in the request (422), and makes nothing', async () => {
    const a = await upload('known');
    const unknown = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];
    const res = await s.create({ image_ids: [a.id, unknown[0], a.id, unknown[1]] });
    expect(res.json).toEqual(
      problem(422, 'Some of the images do not exist; nothing was changed.', [
        { field: 'image_ids.1', message: `names no image (${unknown[0]})` },
        { field: 'image_ids.3', message: `names no image (${unknown[1]})` },
      ]),
    );
    expect(await sql`select id from shares`).toEqual([]);
  });

  it('refuses an album that does not exist (422: a field, not the resource asked for)', async () => {
    const res = await s.create({ album_id: '33333333-3333-4333-8333-333333333333' });
    expect(res.json).toEqual(invalid([{ field: 'album_id', message: 'names no album' }]));
  });

  it.each([
    ['no ids', { image_ids: [] }, 'image_ids', 'must hold at least one id'],
    [
      '501 ids',
      { image_ids: Array.from({ length: 501 }, () => '44444444-4444-4444-8444-444444444444') },
      'image_ids',
      'must hold at most 500 ids',
    ],
    ['an id that is no UUID', { image_ids: ['nope'] }, 'image_ids.0', 'must be a UUID'],
    ['a title of 65 characters', { title: 'é'.repeat(65) }, 'title', 'must be at most 64 characters'],
    ['a description of 1025 characters', { description: 'x'.repeat(1025) }, 'description', 'must be at most 1024 characters'],
    ['allow_originals that is no boolean', { allow_originals: 'yes' }, 'allow_originals', 'must be true or false'],
    ['an unknown field', { public: true }, 'public', 'is not an allowed field'],
  ])('refuses %s (422)', async (_, body, field, message) => {
    const a = await upload('valid');
    const res = await s.create({ image_ids: [a.id], ...body });
    expect(res.status).toBe(422);
    expect((res.json as { errors: unknown[] }).errors).toContainEqual({ field, message });
  });

  it('takes expires_at in the future and at most a year away, in any offset', async () => {
    const a = await upload('expiring');
    const at = (ms: number) => new Date(Date.now() + ms).toISOString();
    const day = 24 * 3600 * 1000;
    const refused = async (expires_at: string, message: string) => {
      const res = await s.create({ image_ids: [a.id], expires_at });
      expect(res.status, expires_at).toBe(422);
      expect((res.json as { errors: unknown[] }).errors).toContainEqual({ field: 'expires_at', message });
    };
    await refused(at(-1000), 'must be in the future');
    await refused(at(366 * day), 'must be at most 365 days away');
    await refused('2027-01-01T00:00:00', 'Invalid ISO datetime');
    await refused('tomorrow', 'Invalid ISO datetime');
    await refused('2099-01-01T00:00:00Z', 'must be at most 365 days away');

    const inAnHour = new Date(Date.now() + 3600 * 1000);
    inAnHour.setUTCMilliseconds(250);
    // The same instant, written with a +02:00 offset.
    const local = new Date(inAnHour.getTime() + 2 * 3600 * 1000).toISOString().replace('Z', '+02:00');
    expect((await shareOf({ image_ids: [a.id], expires_at: local })).expires_at).toBe(
      `${inAnHour.toISOString().slice(0, 19)}.250000+00:00`,
    );
    expect((await shareOf({ image_ids: [a.id], expires_at: at(364 * day) })).expires_at).not.toBeNull();
  });

  it('counts a password in characters (code points), 8 to 128, and never shows it', async () => {
    const a = await upload('guarded');
    const make = (password: unknown) => s.create({ image_ids: [a.id], password });
    // Seven emoji are fourteen UTF-16 units: still seven characters.
    expect((await make('😀'.repeat(7))).json).toEqual(invalid([{ field: 'password', message: 'must be at least 8 characters' }]));
    expect((await make('x'.repeat(129))).json).toEqual(invalid([{ field: 'password', message: 'must be at most 128 characters' }]));
    expect((await make('\ud800'.repeat(8))).json).toEqual(invalid([{ field: 'password', message: 'must be valid Unicode text' }]));
    expect((await make(12345678)).json).toEqual(invalid([{ field: 'password', message: 'must be a string' }]));
    for (const password of ['😀'.repeat(8), '😀'.repeat(128), 'x'.repeat(8)]) {
      const res = await make(password);
      expect(res.status).toBe(201);
      expect(res.json).toMatchObject({ has_password: true });
      expect(res.text).not.toContain(password);
    }
    const stored = await sql<{ password_hash: string }[]>`select password_hash from shares`;
    for (const { password_hash } of stored) expect(password_hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect((await s.list()).text).not.toContain('😀');
  });

  it('allow_originals: false unless asked', async () => {
    const a = await upload('originals');
    expect(await shareOf({ image_ids: [a.id] })).toMatchObject({ allow_originals: false });
    expect(await shareOf({ image_ids: [a.id], allow_originals: true })).toMatchObject({ allow_originals: true });
  });
});

describe("the owner's list", () => {
  it('is newest first, paged through Link, with each share as made', async () => {
    const a = await upload('listed');
    const made: Share[] = [];
    for (let i = 0; i < 5; i++) made.push(await shareOf({ image_ids: [a.id], title: `share ${i}` }));
    const seen: Share[] = [];
    let query: Record<string, string> | undefined = { limit: '2' };
    const links: string[] = [];
    while (query) {
      const page = await s.list(query);
      expect(page.status).toBe(200);
      seen.push(...(page.json as Share[]));
      const link = page.headers.link;
      if (link) links.push(link);
      query = link ? Object.fromEntries(new URL(/^<([^>]+)>/.exec(link)?.[1] ?? '', 'http://x').searchParams) : undefined;
    }
    expect(seen).toEqual([...made].reverse());
    expect(links).toHaveLength(2);
    for (const link of links) expect(link).toMatch(/^<\/api\/v1\/shares\?limit=2&cursor=[A-Za-z0-9_-]+>; rel="next"$/);
  });

  it("shows an album share's count as the album's now", async () => {
    const [a, b] = [await upload('a'), await upload('b')];
    const album = await albumOf('Growing', [a]);
    const share = await shareOf({ album_id: album });
    await albums.add(album, [b.id]);
    expect(((await s.list()).json as Share[]).find((x) => x.id === share.id)).toMatchObject({ image_count: 2, image_ids: null });
  });

  it('refuses a cursor that is not one, or a limit out of range (422)', async () => {
    const notACursor = invalid([{ field: 'cursor', message: 'is not a valid cursor' }]);
    for (const cursor of ['nope!', Buffer.from('2026-01-01|x').toString('base64url'), 'x'.repeat(201)]) {
      expect((await s.list({ cursor })).json, cursor).toEqual(notACursor);
    }
    expect((await s.list({ cursor: '' })).json).toEqual(invalid([{ field: 'cursor', message: 'must not be empty' }]));
    expect((await s.list({ limit: '101' })).json).toEqual(invalid([{ field: 'limit', message: 'must be at most 100' }]));
  });
});

describe('revoking', () => {
  it('204; the next viewer request, of any endpoint, is a 404; again is a 404', async () => {
    const a = await upload('revoked');
    const share = await shareOf({ image_ids: [a.id] });
    expect(await viewerStatuses(share.token, a.id)).toEqual([200, 200, 200]);
    expect((await s.revoke(share.id)).status).toBe(204);
    expect((await s.get(share.token)).json).toEqual(notFound);
    expect(await viewerStatuses(share.token, a.id)).toEqual([404, 404, 404]);
    expect((await s.unlock(share.token, 'whatever-it-was')).json).toEqual(notFound);
    expect((await s.revoke(share.id)).json).toEqual(problem(404, `No share with id ${share.id}.`));
    expect((await s.revoke('55555555-5555-4555-8555-555555555555')).status).toBe(404);
    expect((await s.revoke('not-an-id')).json).toEqual(invalid([{ field: 'id', message: 'must be a UUID' }]));
    expect(((await s.list()).json as Share[]).map((x) => x.id)).toEqual([]);
    expect((await api.get(a.id)).status).toBe(200);
  });

  it('a share a viewer request cached: cached under share:<sha256(token)>, dropped and fenced off by the revocation', async () => {
    const a = await upload('cached then revoked');
    const share = await shareOf({ image_ids: [a.id], title: 'Cached' });
    const key = cacheKey(share.token);
    expect((await s.get(share.token)).status).toBe(200);
    const cached = JSON.parse((await direct.get(key)) ?? 'null') as Record<string, unknown>;
    expect(cached).toMatchObject({ id: share.id, title: 'Cached', passwordHash: null });
    expect(JSON.stringify(cached)).not.toContain(share.token);
    expect(await direct.ttl(key)).toBeGreaterThan(0);
    // The next request is served from the cache: the row may go without it noticing, unless told.
    await sql`update shares set title = 'Changed behind' where id = ${share.id}`;
    expect((await s.get(share.token)).json).toMatchObject({ title: 'Cached' });

    expect((await s.revoke(share.id)).status).toBe(204);
    expect(await direct.get(key)).toBeNull();
    expect(await direct.get(`${key}:fence`)).toBe('~deleted');
    expect(await viewerStatuses(share.token, a.id)).toEqual([404, 404, 404]);
  });

  it('a viewer read that fetched the share before the revocation cannot cache it after', async () => {
    const a = await upload('late fill');
    const share = await shareOf({ image_ids: [a.id] });
    const { shareCache, SHARE_VERSION } = await import('../../lib/shares/cache');
    expect((await s.revoke(share.id)).status).toBe(204);
    // The slow read's fill arrives after the revocation answered.
    const digest = cacheKey(share.token).slice('share:'.length);
    await shareCache.fill(
      digest,
      JSON.stringify({
        id: share.id,
        albumId: null,
        title: '',
        description: '',
        expiresAt: null,
        passwordHash: null,
        allowOriginals: false,
      }),
      SHARE_VERSION,
    );
    expect(await direct.get(cacheKey(share.token))).toBeNull();
    expect((await s.get(share.token)).status).toBe(404);
  });

  it("drops the cached share even while another relay holds the share's earlier event", async () => {
    const a = await upload('held');
    const share = await shareOf({ image_ids: [a.id] });
    expect((await s.get(share.token)).status).toBe(200);
    expect(await direct.exists(cacheKey(share.token))).toBe(1);
    // Another relay (the listener, the scheduled function) is delivering the share's creation right
    // now: its row is locked, so the revocation's event must wait behind it.
    await sql`update outbox set published_at = null where subject_id = ${share.id}`;
    const relay = await sql.reserve();
    try {
      await relay`begin`;
      await relay`select id from outbox where subject_id = ${share.id} for update`;
      expect((await s.revoke(share.id)).status).toBe(204);
      expect(await viewerStatuses(share.token, a.id)).toEqual([404, 404, 404]);
    } finally {
      await relay`rollback`;
      relay.release();
    }
  });
});

describe('expiry', () => {
  it('410 from the request after expires_at, on every viewer endpoint, also from the cache; never cached past it', async () => {
    const a = await upload('expires');
    const expiresAt = new Date(Date.now() + 2500);
    const share = await shareOf({ image_ids: [a.id], expires_at: expiresAt.toISOString() });
    const key = cacheKey(share.token);
    expect((await s.get(share.token)).json).toMatchObject({ expires_at: share.expires_at });
    const ttl = await direct.pTTL(key);
    expect(ttl).toBeGreaterThan(0);
    expect(Date.now() + ttl).toBeLessThanOrEqual(expiresAt.getTime());
    // Were the entry to outlive the expiry (a clock apart), the cached share still answers 410.
    await direct.expire(key, 60);
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt.getTime() - Date.now() + 10)));
    expect(await direct.exists(key)).toBe(1);
    expect((await s.get(share.token)).json).toEqual(gone);
    expect(await viewerStatuses(share.token, a.id)).toEqual([410, 410, 410]);
    expect((await s.unlock(share.token, 'no matter')).json).toEqual(gone);
    // The owner still sees it, expired.
    expect(((await s.list()).json as Share[])[0]).toMatchObject({ id: share.id, expires_at: share.expires_at });
  });

  it('an expired share read from the database is not cached', async () => {
    const a = await upload('expired');
    const share = await shareOf({ image_ids: [a.id], expires_at: new Date(Date.now() + 60_000).toISOString() });
    await sql`update shares set expires_at = now() - interval '1 second' where id = ${share.id}`;
    expect((await s.get(share.token)).json).toEqual(gone);
    expect(await direct.exists(cacheKey(share.token))).toBe(0);
  });

  it('an access token ends with the share, if the share ends first', async () => {
    const a = await upload('short lived');
    const expiresAt = new Date(Date.now() + 3600 * 1000);
    const share = await shareOf({ image_ids: [a.id], expires_at: expiresAt.toISOString(), password: 'open sesame' });
    const unlocked = (await s.unlock(share.token, 'open sesame')).json as { expires_at: string };
    expect(Date.parse(unlocked.expires_at)).toBe(Math.floor(expiresAt.getTime() / 1000) * 1000);
  });
});

describe('what a viewer sees', () => {
  it('the summary: title, description, expiry, the count now, allow_originals', async () => {
    const [a, b] = [await upload('a'), await upload('b')];
    const share = await shareOf({ image_ids: [a.id, b.id], title: 'Holidays', description: 'Us', allow_originals: true });
    const res = await s.get(share.token);
    expect(res.json).toEqual({ title: 'Holidays', description: 'Us', expires_at: null, image_count: 2, allow_originals: true });
  });

  it('each image without sha256 and with file_url null; variants as the owner gets them', async () => {
    const a = await upload('viewed');
    await processHandler(s3Event(String(process.env.S3_BUCKET), `images/${a.id}.jpg`), lambdaContext());
    const owner = (await api.get(a.id)).json as Image;
    expect(owner.variants).not.toBeNull();
    const share = await shareOf({ image_ids: [a.id] });
    const listed = ((await s.images(share.token)).json as Image[])[0];
    const got = (await s.image(share.token, a.id)).json as Image;
    const { sha256: _, file_url: __, ...rest } = owner;
    expect(got).toEqual({ ...rest, file_url: null });
    expect(listed).toEqual(got);
    expect('sha256' in got).toBe(false);
    const thumb = await fetch(String(got.variants?.thumb.url));
    expect(thumb.status).toBe(200);
    expect(
      Buffer.from(await thumb.arrayBuffer())
        .subarray(8, 12)
        .toString('latin1'),
    ).toBe('WEBP');
  });

  it('with allow_originals, file_url fetches the original bytes', async () => {
    const bytes = makeJpeg(40, 30);
    const a = await upload('original', bytes);
    const share = await shareOf({ image_ids: [a.id], allow_originals: true });
    for (const image of [(await s.image(share.token, a.id)).json, ((await s.images(share.token)).json as Image[])[0]] as Image[]) {
      expect(image).not.toHaveProperty('sha256');
      const res = await fetch(String(image.file_url));
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
    }
  });

  it('404 for an image not in the share (one that exists, one that does not), 422 for an id that is no UUID', async () => {
    const [a, b] = [await upload('in'), await upload('out')];
    const share = await shareOf({ image_ids: [a.id] });
    expect((await s.image(share.token, b.id)).json).toEqual(notInShare(b.id));
    const missing = '66666666-6666-4666-8666-666666666666';
    expect((await s.image(share.token, missing)).json).toEqual(notInShare(missing));
    expect((await s.image(share.token, 'x')).json).toEqual(invalid([{ field: 'id', message: 'must be a UUID' }]));
    expect(await viewerIds(share.token)).toEqual([a.id]);
  });

  it('a deleted image leaves every share at once: list, get, count', async () => {
    const [a, b] = [await upload('stays'), await upload('goes')];
    const album = await albumOf('With both', [a, b]);
    const byImages = await shareOf({ image_ids: [a.id, b.id] });
    const byAlbum = await shareOf({ album_id: album });
    for (const share of [byImages, byAlbum]) {
      expect(await viewerIds(share.token)).toEqual([b.id, a.id]);
      expect((await s.get(share.token)).json).toMatchObject({ image_count: 2 });
    }
    expect((await api.remove(b.id)).status).toBe(204);
    for (const share of [byImages, byAlbum]) {
      expect(await viewerIds(share.token)).toEqual([a.id]);
      expect((await s.image(share.token, b.id)).json).toEqual(notInShare(b.id));
      expect((await s.get(share.token)).json).toMatchObject({ image_count: 1 });
    }
    const listed = (await s.list()).json as Share[];
    expect(listed.find((x) => x.id === byImages.id)).toMatchObject({ image_ids: [a.id], image_count: 1 });
    expect(listed.find((x) => x.id === byAlbum.id)).toMatchObject({ image_count: 1 });
  });

  it('an album share follows the album: images added and removed; deleted, the link is 404 at once, cached or not', async () => {
    const [a, b, c] = [await upload('a'), await upload('b'), await upload('c')];
    const album = await albumOf('Moving', [a]);
    const share = await shareOf({ album_id: album });
    const other = await shareOf({ album_id: album, title: 'Second link' });
    expect(await viewerIds(share.token)).toEqual([a.id]);
    await albums.add(album, [b.id, c.id]);
    expect(await viewerIds(share.token)).toEqual([c.id, b.id, a.id]);
    expect((await s.image(share.token, c.id)).status).toBe(200);
    await albums.take(album, [a.id]);
    expect(await viewerIds(share.token)).toEqual([c.id, b.id]);
    expect((await s.image(share.token, a.id)).json).toEqual(notInShare(a.id));
    expect((await s.get(share.token)).json).toMatchObject({ image_count: 2, title: 'Moving' });
    expect(await direct.exists(cacheKey(share.token))).toBe(1);

    expect((await albums.remove(album)).status).toBe(204);
    for (const link of [share, other]) {
      expect(await direct.get(cacheKey(link.token))).toBeNull();
      expect(await viewerStatuses(link.token, b.id)).toEqual([404, 404, 404]);
    }
    expect((await s.list()).json).toEqual([]);
    expect((await api.get(b.id)).status).toBe(200);
  });

  it("pages as the owner's list: limit, Link, order; filters; images outside the share never appear", async () => {
    const inside: Image[] = [];
    for (const title of ['sunset beach', 'sunrise hill', 'harbour', 'sunny street', 'market']) inside.push(await upload(title));
    const outside = await upload('sunlit outsider');
    const share = await shareOf({ image_ids: inside.map((i) => i.id) });
    const newestFirst = [...inside].reverse().map((i) => i.id);

    const first = await s.images(share.token, { limit: '2' });
    expect(first.headers.link).toMatch(new RegExp(`^</api/v1/shared/${share.token}/images\\?limit=2&cursor=[A-Za-z0-9_-]+>; rel="next"$`));
    expect(await viewerIds(share.token, { limit: '2' })).toEqual(newestFirst);
    expect(await viewerIds(share.token, { limit: '2', q: 'sun' })).toEqual(
      newestFirst.filter((id) => id !== inside[2]?.id && id !== inside[4]?.id),
    );
    expect(await viewerIds(share.token, { q: 'sun' })).not.toContain(outside.id);

    // Taken dates: two photos say when, the rest come after them, newest uploaded first.
    await sql`update images set taken_local = '2020-05-01T10:00:00' where id = ${inside[0]?.id ?? ''}`;
    await sql`update images set taken_local = '2021-05-01T10:00:00' where id = ${inside[3]?.id ?? ''}`;
    const taken = [inside[3]?.id, inside[0]?.id, ...newestFirst.filter((id) => id !== inside[0]?.id && id !== inside[3]?.id)];
    expect(await viewerIds(share.token, { sort: 'taken', limit: '1' })).toEqual(taken);
    expect(await viewerIds(share.token, { taken_from: '2021-01-01' })).toEqual([inside[3]?.id]);
    expect(await viewerIds(share.token, { taken_to: '2020-12-31', sort: 'taken' })).toEqual([inside[0]?.id]);
    expect((await s.images(share.token, { limit: '0' })).status).toBe(422);
    expect((await s.images(share.token, { taken_from: '2021-01-02', taken_to: '2021-01-01' })).status).toBe(422);
  });

  it("a cursor is bound to its share, order and filters: another's is a 422", async () => {
    const images = [await upload('p1'), await upload('p2'), await upload('p3')];
    const share = await shareOf({ image_ids: images.map((i) => i.id) });
    const twin = await shareOf({ image_ids: images.map((i) => i.id) });
    const cursorOf = (link: string | undefined) =>
      new URL(/^<([^>]+)>/.exec(link ?? '')?.[1] ?? '', 'http://x').searchParams.get('cursor') ?? '';
    const cursor = cursorOf((await s.images(share.token, { limit: '1' })).headers.link);
    const ownerCursor = cursorOf((await api.list({ limit: '1' })).headers.link);
    expect(cursor).not.toBe('');
    expect(ownerCursor).not.toBe('');
    const otherList = invalid([
      {
        field: 'cursor',
        message: 'was made for another list: keep the sort and filters of the page it came from, or start again without it',
      },
    ]);
    expect((await s.images(share.token, { limit: '1', cursor })).status).toBe(200);
    expect((await s.images(twin.token, { limit: '1', cursor })).json).toEqual(otherList);
    expect((await s.images(share.token, { limit: '1', cursor: ownerCursor })).json).toEqual(otherList);
    expect((await s.images(share.token, { limit: '1', cursor, sort: 'taken' })).status).toBe(422);
    expect((await s.images(share.token, { limit: '1', cursor, q: 'p1' })).json).toEqual(otherList);
    expect((await s.images(share.token, { cursor: 'not a cursor' })).status).toBe(422);
  });

  it('tokens that are not tokens are no share: 404 on every viewer endpoint, never a 500', async () => {
    const a = await upload('shapes');
    const share = await shareOf({ image_ids: [a.id] });
    const candidates = [
      'x'.repeat(10_000),
      'A'.repeat(44),
      `${share.token}x`,
      share.token.slice(0, -1),
      share.token.toLowerCase() === share.token ? share.token.toUpperCase() : share.token.toLowerCase(),
      '../../api/v1/shares',
      `${share.token}/..`,
      'a.b',
      'a b',
      '%00',
      '\u0000',
      '😀',
      "'; drop table shares; --",
      '',
    ];
    for (const token of candidates) {
      const statuses = [...(await viewerStatuses(token, a.id)), (await s.unlock(token, 'password1')).status];
      expect(statuses, JSON.stringify(token.slice(0, 50))).toEqual([404, 404, 404, 404]);
    }
    expect((await s.get(share.token)).status).toBe(200);
  });
});

describe('passwords and access tokens', () => {
  it('a protected share is 401 (WWW-Authenticate: Bearer) until unlocked; the access token opens every viewer endpoint for 12 hours', async () => {
    const a = await upload('protected');
    const share = await shareOf({ image_ids: [a.id], password: 'correct horse' });
    for (const res of [await s.get(share.token), await s.images(share.token), await s.image(share.token, a.id)]) {
      expect(res.json).toEqual(locked);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="photo-gallery"');
    }
    expect((await s.unlock(share.token, 'correct horsE')).json).toEqual(wrongPassword);
    const res = await s.unlock(share.token, 'correct horse');
    expect(res.status).toBe(200);
    const { access_token, expires_at } = res.json as { access_token: string; expires_at: string };
    const hours = (Date.parse(expires_at) - Date.now()) / 3600_000;
    expect(hours).toBeGreaterThan(11.99);
    expect(hours).toBeLessThanOrEqual(12);
    expect(res.text).not.toContain('correct horse');
    expect(await viewerStatuses(share.token, a.id, bearer(access_token))).toEqual([200, 200, 200]);
    expect(await viewerStatuses(share.token, a.id, { authorization: `bearer  ${access_token} ` })).toEqual([200, 200, 200]);
  });

  it('a password matches however its accents are encoded (NFC)', async () => {
    const a = await upload('accents');
    const share = await shareOf({ image_ids: [a.id], password: 'caf\u00e9 au lait' });
    expect((await s.unlock(share.token, 'cafe\u0301 au lait')).status).toBe(200);
  });

  it('refuses access tokens that are not to this share, expired, tampered with, or the owner key (401)', async () => {
    const a = await upload('tokens');
    const share = await shareOf({ image_ids: [a.id], password: 'first password' });
    const other = await shareOf({ image_ids: [a.id], password: 'second password' });
    const theirs = ((await s.unlock(other.token, 'second password')).json as { access_token: string }).access_token;
    const mine = ((await s.unlock(share.token, 'first password')).json as { access_token: string }).access_token;
    const { accessToken } = await import('../../lib/shares/secrets');
    const [payload = '', signature = ''] = mine.split('.');
    const flip = (s: string, at: number) => `${s.slice(0, at)}${s[at] === 'A' ? 'B' : 'A'}${s.slice(at + 1)}`;
    const otherId = Buffer.from(`${other.id}.${Buffer.from(payload, 'base64url').toString().split('.')[1]}`).toString('base64url');
    const refused = {
      "another share's": theirs,
      expired: accessToken(share.id, Math.floor(Date.now() / 1000) - 1),
      'a flipped signature': `${payload}.${flip(signature, 3)}`,
      'a signature cut short': `${payload}.${signature.slice(0, -2)}`,
      "another share's id under this signature": `${otherId}.${signature}`,
      'no signature': payload,
      'a third part': `${mine}.x`,
      'the share token itself': share.token,
      empty: '',
    };
    for (const [what, token] of Object.entries(refused)) {
      expect(await viewerStatuses(share.token, a.id, bearer(token)), what).toEqual([401, 401, 401]);
    }
    expect(await viewerStatuses(share.token, a.id, { authorization: `Basic ${mine}` })).toEqual([401, 401, 401]);
    expect(await viewerStatuses(share.token, a.id, { 'x-api-key': mine })).toEqual([401, 401, 401]);
    // Made by the service's key, for a moment still to come: valid.
    expect(await viewerStatuses(share.token, a.id, bearer(accessToken(share.id, Math.floor(Date.now() / 1000) + 60)))).toEqual([
      200, 200, 200,
    ]);
  });

  it('unlocking an open share is harmless: 200 with a token, nothing counted, the share as open as before', async () => {
    const a = await upload('open');
    const share = await shareOf({ image_ids: [a.id] });
    const from = someAddress();
    for (let i = 0; i < 12; i++) {
      const res = await s.unlock(share.token, `anything ${i}`, from);
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ access_token: expect.any(String), expires_at: expect.any(String) });
    }
    expect(await direct.exists(`unlock:client:${from}`)).toBe(0);
    const guarded = await shareOf({ image_ids: [a.id], password: 'the password' });
    expect((await s.unlock(guarded.token, 'the password', from)).status).toBe(200);
    expect(await viewerStatuses(share.token, a.id)).toEqual([200, 200, 200]);
  });

  it('refuses unlock bodies that are not a password: 400 for non-JSON, 422 for a missing or odd password', async () => {
    const a = await upload('bodies');
    const share = await shareOf({ image_ids: [a.id], password: 'the password' });
    expect((await s.unlockWith(share.token, 'password=the password')).status).toBe(400);
    expect((await s.unlockWith(share.token, '{"password":"the password"}', { 'content-type': 'text/plain' })).status).toBe(400);
    expect((await s.unlockWith(share.token, '{}')).json).toEqual(invalid([{ field: 'password', message: 'is required' }]));
    expect((await s.unlockWith(share.token, '{"password":1}')).status).toBe(422);
    expect((await s.unlockWith(share.token, '{"password":"the password","extra":1}')).status).toBe(422);
  });
});
