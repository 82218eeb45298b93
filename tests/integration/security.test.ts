import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeJpeg } from '../../support/images';
import { apiWith } from '../helpers/api';
import { captureOutput } from '../helpers/output';
import { problem } from '../helpers/problems';
import { getObject, resetState, snapshot, sql } from '../helpers/state';

type Api = Awaited<ReturnType<typeof apiWith>>;
const KEY = 'k3y-0f-at-least-16-chars';
const OTHER_KEY = 'an0ther-key-for-the-ci-bot';

beforeEach(resetState);
afterEach(() => {
  vi.restoreAllMocks();
});

const unauthorized = problem(401, 'A valid API key is required: send Authorization: Bearer <key> or x-api-key: <key>.');

describe('write protection with API_KEYS (GALLERY_ACCESS=public: reads open)', () => {
  let api: Api;
  beforeEach(async () => {
    api = await apiWith({ API_KEYS: `${KEY}, ${OTHER_KEY}`, GALLERY_ACCESS: 'public', LOG_LEVEL: 'silent' });
  });

  /** An upload with credentials in the headers. */
  const uploadWith = (headers: Record<string, string>, title = 'keyed') =>
    api.uploadParts(
      [
        ['title', title],
        ['description', ''],
        ['file', { bytes: makeJpeg(), filename: 'k.jpg' }],
      ],
      undefined,
      headers,
    );

  it.each([
    ['no key', {}],
    ['a wrong key', { authorization: 'Bearer not-the-key-at-all-no' }],
    ['a key that is a prefix of a real one', { 'x-api-key': KEY.slice(0, -1) }],
    ['a real key with another scheme', { authorization: `Basic ${KEY}` }],
    ['an empty bearer', { authorization: 'Bearer ' }],
  ])('refuses an upload with %s: 401 problem+json, WWW-Authenticate, nothing stored', async (_, headers) => {
    const before = await snapshot();
    const res = await uploadWith(headers);
    expect(res.status).toBe(401);
    expect(res.json).toEqual(unauthorized);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="photo-gallery"');
    expect(await snapshot()).toEqual(before);
  });

  it('accepts either key, as Bearer or in x-api-key; PATCH and DELETE too; GET stays public', async () => {
    const created = await uploadWith({ authorization: `Bearer ${KEY}` });
    expect(created.status).toBe(201);
    const { id } = created.json as { id: string };
    expect((await uploadWith({ 'x-api-key': OTHER_KEY }, 'second')).status).toBe(201);

    expect((await api.get(id)).status).toBe(200);
    expect((await api.list()).status).toBe(200);

    const denied = await api.patch(id, { title: 'x' });
    expect(denied.status).toBe(401);
    const patched = await api.patch(id, { title: 'x' }, { 'content-type': 'application/json', 'x-api-key': KEY });
    expect(patched.status).toBe(200);

    const { invoke } = await import('../helpers/lambda');
    const { handler } = await import('../../functions/images-delete');
    const call = { method: 'DELETE', path: `/api/v1/images/${id}`, route: 'DELETE /api/v1/images/{id}', pathParameters: { id } };
    expect((await invoke(handler, call)).status).toBe(401);
    expect((await invoke(handler, { ...call, headers: { authorization: `bearer ${OTHER_KEY}` } })).status).toBe(204);
  });

  it('guards direct uploads as the other writes: signing and completing need a key', async () => {
    const declared = { title: 'direct', description: '', filename: 'd.jpg', size: 10, content_type: 'image/jpeg' };
    expect((await api.createUpload(declared)).json).toEqual(unauthorized);
    const signed = await api.createUpload(declared, { 'content-type': 'application/json', authorization: `Bearer ${KEY}` });
    expect(signed.status).toBe(201);
    const { id } = signed.json as { id: string };
    expect((await api.completeUpload(id)).json).toEqual(unauthorized);
    expect((await api.completeUpload(id, { 'x-api-key': KEY })).status).toBe(409); // not uploaded yet: past the key
  });

  it('refuses to start with a key shorter than 16 characters', async () => {
    await expect(apiWith({ API_KEYS: 'short' })).rejects.toThrow(/API_KEYS each key must be at least 16 characters/);
  });
});

describe('responses and stored objects', () => {
  it('sends the security headers on every response, errors included', async () => {
    const api = await apiWith({ LOG_LEVEL: 'silent' });
    const created = await api.upload({ title: 'headers' });
    const replies = [created, await api.get((created.json as { id: string }).id), await api.get('nope'), await api.list({ limit: '0' })];
    for (const res of replies) {
      expect(res.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
      });
    }
  });

  it('stores objects with the detected type and an inline Content-Disposition that cannot inject headers', async () => {
    const api = await apiWith({ LOG_LEVEL: 'silent' });
    const res = await api.upload({ title: 'disposition', file: { bytes: makeJpeg(), filename: 'чай "zero".jpg', type: 'text/html' } });
    const stored = await getObject(`images/${(res.json as { id: string }).id}.jpg`);
    expect(stored.contentType).toBe('image/jpeg');
    // Browsers and undici send a quote in a file name as %22 (HTML's multipart rules).
    expect(stored.disposition).toBe(`inline; filename="___ %22zero%22.jpg"; filename*=UTF-8''%D1%87%D0%B0%D0%B9%20%2522zero%2522.jpg`);
  });
});

describe('logs', () => {
  it('carry no API key and no file contents, even when a request fails', async () => {
    const lines = captureOutput();
    const marker = 'PIXELS-THAT-MUST-NOT-BE-LOGGED';
    const bytes = Buffer.concat([makeJpeg(), Buffer.from(marker)]);
    const url = new URL(process.env.DATABASE_URL ?? '');
    url.port = '1';
    const api = await apiWith({ API_KEYS: KEY, LOG_LEVEL: 'debug', DATABASE_URL: url.toString() });
    const res = await api.uploadParts(
      [
        ['title', 'logged?'],
        ['description', ''],
        ['file', { bytes, filename: 'm.jpg' }],
      ],
      undefined,
      { authorization: `Bearer ${KEY}` },
    );
    expect(res.status).toBe(503);
    await api.patch(
      '00000000-0000-4000-8000-000000000000',
      { title: 'x' },
      { 'content-type': 'application/json', 'x-api-key': 'wrong-key-wrong-key' },
    );
    vi.restoreAllMocks();
    const log = lines.join('');
    expect(log).toContain('"level":"error"');
    expect(log).not.toContain(KEY);
    expect(log).not.toContain('wrong-key-wrong-key');
    expect(log).not.toContain(marker);
    expect(log).not.toContain(bytes.toString('base64').slice(0, 40));
  });

  it('carry the SQL of a failed query but not its parameters (the user data in it)', async () => {
    // A trigger that refuses one title: the INSERT fails with a database error that is logged.
    await sql`create or replace function refuse_marked() returns trigger language plpgsql as $$
      begin if new.title like 'SECRET-%' then raise exception 'refused by a test trigger'; end if; return new; end $$`;
    await sql`create trigger refuse_marked before insert on images for each row execute function refuse_marked()`;
    const lines = captureOutput();
    try {
      const api = await apiWith({ LOG_LEVEL: 'info' });
      const res = await api.upload({ title: 'SECRET-TITLE-4711', description: 'SECRET-DESC-0815' });
      expect(res.status).toBe(500);
    } finally {
      vi.restoreAllMocks();
      await sql`drop trigger refuse_marked on images`;
      await sql`drop function refuse_marked()`;
    }
    const log = lines.join('');
    expect(log).toContain('refused by a test trigger');
    expect(log).toMatch(/insert into \\"images\\"/);
    expect(log).not.toContain('SECRET-TITLE-4711');
    expect(log).not.toContain('SECRET-DESC-0815');
  });
});
