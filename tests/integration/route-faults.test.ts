/**
 * Faults on every route that touches the database (tests/helpers/routes.ts's ROUTES), each made
 * real: Postgres unreachable (a port nothing listens on) is a 503; an unexpected database error (the
 * tables renamed away under the service) a bare 500 with nothing internal in it, logged with the
 * request id; and a body that is not JSON a 400 on every route that takes JSON.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeJpeg } from '../../support/images';
import { multipart } from '../../support/lambda-events';
import { api } from '../helpers/api';
import { invoke, type Reply } from '../helpers/lambda';
import { captureOutput } from '../helpers/output';
import { problem } from '../helpers/problems';
import { handlersWith, pathOf, ROUTES } from '../helpers/routes';
import { sharingWith } from '../helpers/sharing';
import { objectKeys, resetState, sql } from '../helpers/state';

const ID = '00000000-0000-4000-8000-0000000000f1';
/** Shaped like a share's token; no share has it. */
const NO_SHARE = 'AAAAAAAAAAAAAAAAAAAAAA';
const JSON_TYPE = { 'content-type': 'application/json' };

interface Request {
  headers?: Record<string, string>;
  body?: string | Buffer;
}
const json = (value: unknown): Request => ({ headers: JSON_TYPE, body: JSON.stringify(value) });

/**
 * For every route that touches the database: a request valid enough to reach it (every check before
 * the database passes). A route in ROUTES that is neither here nor in NO_DATABASE fails the test.
 */
const REQUESTS: Record<string, () => Promise<Request> | Request> = {
  'POST /api/v1/images': async () => {
    const { body, contentType } = await multipart([
      ['title', 'reaches the database'],
      ['description', ''],
      ['file', { bytes: makeJpeg(), filename: 'f.jpg', type: 'image/jpeg' }],
    ]);
    return { headers: { 'content-type': contentType }, body };
  },
  'GET /api/v1/images': () => ({}),
  'GET /api/v1/images/{id}': () => ({}),
  'PATCH /api/v1/images/{id}': () => json({ title: 'x' }),
  'DELETE /api/v1/images/{id}': () => ({}),
  'POST /api/v1/uploads': () => json({ title: 'x', description: '', filename: 'x.jpg', size: 10, content_type: 'image/jpeg' }),
  'POST /api/v1/uploads/{id}/complete': () => ({}),
  'POST /api/v1/albums': () => json({ title: 'x' }),
  'GET /api/v1/albums': () => ({}),
  'GET /api/v1/albums/{id}': () => ({}),
  'PATCH /api/v1/albums/{id}': () => json({ title: 'x' }),
  'DELETE /api/v1/albums/{id}': () => ({}),
  'POST /api/v1/albums/{id}/images': () => json({ image_ids: [ID] }),
  'POST /api/v1/albums/{id}/images/remove': () => json({ image_ids: [ID] }),
  'POST /api/v1/shares': () => json({ image_ids: [ID] }),
  'GET /api/v1/shares': () => ({}),
  'DELETE /api/v1/shares/{id}': () => ({}),
  'GET /api/v1/shared/{token}': () => ({}),
  'GET /api/v1/shared/{token}/images': () => ({}),
  'GET /api/v1/shared/{token}/images/{id}': () => ({}),
  'POST /api/v1/shared/{token}/unlock': () => json({ password: 'whatever it is' }),
};
/** The functions that never touch the database: the documents and the page. */
const NO_DATABASE = new Set(['openapi', 'docs', 'web']);
const DATABASE_ROUTES = ROUTES.filter((r) => !NO_DATABASE.has(r.module)).map((r) => r.route);

type Handlers = Awaited<ReturnType<typeof handlersWith>>;

/** Calls `route` with its request, the share token given (none by default). */
async function call(routes: Handlers, route: string, request: Request, token = NO_SHARE): Promise<Reply> {
  const handler = routes.get(route);
  if (!handler) throw new Error(`no handler for ${route}`);
  return invoke(handler, { method: route.split(' ')[0] ?? '', route, ...pathOf(route, { id: ID, token }), ...request });
}

beforeEach(resetState);
afterEach(() => {
  vi.restoreAllMocks();
  vi.resetModules();
});

it('every route of ROUTES is known here: it touches the database (with a request that reaches it) or never does', () => {
  expect(DATABASE_ROUTES.filter((route) => !(route in REQUESTS))).toEqual([]);
});

describe('Postgres unreachable (a port nothing listens on)', () => {
  it.each(DATABASE_ROUTES)('%s: 503, and nothing left in the bucket', async (route) => {
    const url = new URL(process.env.DATABASE_URL ?? '');
    url.port = '1';
    const routes = await handlersWith({ DATABASE_URL: url.toString(), LOG_LEVEL: 'silent' });
    const request = REQUESTS[route];
    if (!request) throw new Error(`no request for ${route}`);
    const res = await call(routes, route, await request());
    expect(res.json).toEqual(problem(503, 'The database is unavailable; try again later.'));
    expect(await objectKeys()).toEqual([]);
  });
});

describe('an unexpected database error (the tables renamed away under the service)', () => {
  const TABLES = ['images', 'uploads', 'albums', 'album_images', 'shares', 'share_images'];

  it('is a bare 500 on every route that touches the database, each logged with its request id and the cause', async () => {
    const routes = await handlersWith({ LOG_LEVEL: 'error' });
    const requests = await Promise.all(DATABASE_ROUTES.map(async (route) => [route, await REQUESTS[route]?.()] as const));
    const lines = captureOutput([process.stderr]);
    for (const table of TABLES) await sql.unsafe(`alter table ${table} rename to ${table}_away`);
    const replies: [string, Reply][] = [];
    try {
      for (const [route, request] of requests) replies.push([route, await call(routes, route, request ?? {})]);
    } finally {
      for (const table of TABLES) await sql.unsafe(`alter table ${table}_away rename to ${table}`);
      vi.restoreAllMocks();
    }
    for (const [route, res] of replies) {
      expect({ route, body: res.json, type: res.headers['content-type'] }).toEqual({
        route,
        body: problem(500, 'An unexpected error occurred.'),
        type: 'application/problem+json',
      });
    }
    const logged = lines.map(
      (l) => JSON.parse(l) as { level: string; msg: string; route?: string; requestId?: string; cause?: { code?: string } },
    );
    expect(logged.map((l) => l.route).sort()).toEqual([...DATABASE_ROUTES].sort());
    for (const line of logged) {
      expect(line).toMatchObject({ level: 'error', msg: 'request failed', cause: { code: '42P01' } });
      expect(line.requestId).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(new Set(logged.map((l) => l.requestId)).size).toBe(DATABASE_ROUTES.length);
    expect(await objectKeys()).toEqual([]);
  });
});

describe('a body that is not JSON', () => {
  const JSON_ROUTES = Object.entries(REQUESTS)
    .filter(([, request]) => (request() as Request).headers?.['content-type'] === 'application/json')
    .map(([route]) => route);
  const BODIES: [string, Request][] = [
    ['malformed JSON', { headers: JSON_TYPE, body: '{"title": "x",' }],
    ['JSON sent as text/plain', { headers: { 'content-type': 'text/plain' }, body: '{"title":"x"}' }],
    ['a form', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'title=x' }],
    ['bytes that are not UTF-8', { headers: JSON_TYPE, body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) }],
  ];

  it.each(JSON_ROUTES)('%s: 400 problem+json, whatever the body is instead', async (route) => {
    const routes = await handlersWith({ LOG_LEVEL: 'silent' });
    // The unlock of a share that exists: a link to no share is a 404 before its body is read.
    const viewer = await sharingWith({});
    const image = (await api.upload({ title: 'shared' })).json as { id: string };
    const share = (await viewer.create({ image_ids: [image.id], password: 'the password' })).json as { token: string };
    for (const [what, request] of BODIES) {
      const res = await call(routes, route, request, share.token);
      expect({ what, status: res.status, type: res.headers['content-type'] }).toEqual({
        what,
        status: 400,
        type: 'application/problem+json',
      });
    }
  });
});
