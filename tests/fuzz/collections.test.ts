/**
 * Property-based fuzzing of the album endpoints and of the list query parameters through the real
 * handlers (real Postgres, S3 emulator, Redis), in the style of tests/fuzz/handlers.test.ts: for
 * every request no exception escapes the handler, the answer comes within a bound, it is never a
 * 5xx, and it is a response the OpenAPI document describes; where the document can judge an input
 * (a body, a parameter), the service accepts exactly what the document allows.
 *
 * Bounded in `npm test` (a fixed seed, FUZZ_RUNS runs a property); `npm run fuzz` runs far longer
 * with a fresh seed. fast-check prints the seed and the shrunk counterexample of any failure.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as albumsCreate } from '../../functions/albums-create';
import { handler as albumsDelete } from '../../functions/albums-delete';
import { handler as albumsGet } from '../../functions/albums-get';
import { handler as albumsAdd } from '../../functions/albums-images-add';
import { handler as albumsRemove } from '../../functions/albums-images-remove';
import { handler as albumsList } from '../../functions/albums-list';
import { handler as albumsUpdate } from '../../functions/albums-update';
import { handler as imagesList } from '../../functions/images-list';
import { type Call, httpEvent, lambdaContext } from '../../support/lambda-events';
import { albums } from '../helpers/collections';
import { assertDocumented, componentSchema, conforms, parameterConforms } from '../helpers/contract';
import { insertMany } from '../helpers/rows';
import { resetState, sql } from '../helpers/state';

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const SEED = process.env.FUZZ_SEED === 'random' ? Date.now() : Number(process.env.FUZZ_SEED ?? 20261207);
/** Far above any answer's time: a handler still busy after this long is hanging. */
const DEADLINE_MS = 5_000;
const settings = { numRuns: RUNS, seed: SEED, interruptAfterTimeLimit: 30 * 60_000 };

type Handler = (event: APIGatewayProxyEventV2, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;
interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** Invokes a real handler: nothing escapes, an answer within DEADLINE_MS, never a 5xx, and documented. */
async function send(handler: Handler, call: Call): Promise<Answer> {
  const escaped: unknown[] = [];
  const record = (err: unknown) => escaped.push(err);
  process.on('uncaughtException', record);
  process.on('unhandledRejection', record);
  let timer: NodeJS.Timeout | undefined;
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${DEADLINE_MS} ms`)), DEADLINE_MS);
    });
    const result = (await Promise.race([handler(httpEvent(call), lambdaContext()), deadline])) as APIGatewayProxyStructuredResultV2;
    await new Promise((r) => setTimeout(r, 1));
    if (escaped.length > 0) throw new Error(`an exception escaped the handler: ${String(escaped[0])}`);
    const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
    const answer = { status: result.statusCode ?? 200, headers, text: result.body ?? '' };
    if (answer.status >= 500) throw new Error(`a ${answer.status}: ${answer.text}`);
    assertDocumented(call.route, answer);
    return answer;
  } finally {
    clearTimeout(timer);
    process.off('uncaughtException', record);
    process.off('unhandledRejection', record);
  }
}

// --- inputs -------------------------------------------------------------------------------------

const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty'];

/** Text of every kind: any code point (lone surrogates too), graphemes, and the edge characters. */
const anyText = (maxLength = 70) =>
  fc.oneof(
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.constantFrom('', ' ', '\t\n', '\u0000', '\ufffd', '\ud800', 'a'.repeat(64), 'é'.repeat(65), '😀'.repeat(64), '😀'.repeat(65)),
    fc.constantFrom(...PROTOTYPE_NAMES),
  );

/** A value as API Gateway hands a query parameter over: decoded from UTF-8 (no lone surrogate survives). */
const asReceived = (s: string) => Buffer.from(s).toString();

/** A JSON body as text, and what the service parses of it. */
const jsonText = (value: unknown) => JSON.stringify(value) ?? 'null';

const JSON_TYPE = { 'content-type': 'application/json' };

let albumId = '';
let imageIds: string[] = [];

/** Ids: the fixture's images, unknown UUIDs in either case, and strings that are not UUIDs. */
const anId = () =>
  fc.oneof(
    fc.constantFrom(...imageIds),
    fc.uuid(),
    fc.uuid().map((u) => u.toUpperCase()),
    fc.string({ maxLength: 40 }),
    fc.constantFrom(...PROTOTYPE_NAMES),
  );

beforeAll(async () => {
  await resetState();
  imageIds = (await insertMany('fuzzed', 6, (n) => ({ takenLocal: n % 2 ? `2024-0${n}-1${n}T10:00:00` : null }))) as string[];
  const res = await albums.create({ title: 'fuzz target' });
  albumId = (res.json as { id: string }).id;
  await albums.add(albumId, imageIds.slice(0, 4));
  console.log(`fuzz: ${RUNS} runs a property, seed ${SEED} (FUZZ_SEED=${SEED} repeats this run)`);
});

afterAll(async () => {
  // Whatever the fuzzer did, every album's count is the number of its images.
  const wrong = await sql`
    select a.id from albums a where a.image_count <> (select count(*) from album_images ai where ai.album_id = a.id)`;
  expect(wrong).toEqual([]);
  await resetState();
});

// --- properties ---------------------------------------------------------------------------------

describe('fuzz: the album endpoints and the list parameters', () => {
  it('POST /api/v1/albums: bodies are accepted exactly when the document allows them', async () => {
    const body = fc.oneof(
      fc.record({ title: anyText(), description: anyText(1100) }, { requiredKeys: [] }),
      fc.record({ title: anyText(), extra: fc.jsonValue() }, { requiredKeys: [] }),
      fc.dictionary(fc.constantFrom(...PROTOTYPE_NAMES, 'title'), fc.jsonValue(), { maxKeys: 3 }).map((v) => JSON.parse(JSON.stringify(v))),
      fc.jsonValue(),
    );
    await fc.assert(
      fc.asyncProperty(body, async (value) => {
        const text = jsonText(value);
        const res = await send(albumsCreate, {
          method: 'POST',
          path: '/api/v1/albums',
          route: 'POST /api/v1/albums',
          headers: JSON_TYPE,
          body: text,
        });
        const allowed = conforms(componentSchema('AlbumCreate'), JSON.parse(text));
        // A title taken now is what the document cannot judge.
        expect({ status: res.status, allowed, body: res.text }).toMatchObject({ allowed: [201, 409].includes(res.status) });
      }),
      settings,
    );
  });

  it('PATCH /api/v1/albums/{id}: bodies are accepted exactly when the document allows them', async () => {
    const body = fc.oneof(
      fc.record(
        { title: anyText(), description: anyText(1100), cover_image_id: fc.oneof(anId(), fc.constant(null)) },
        { requiredKeys: [] },
      ),
      fc.record({ cover_image_id: fc.oneof(anId(), fc.constant(null), fc.jsonValue()), image_count: fc.jsonValue() }, { requiredKeys: [] }),
      fc.jsonValue(),
    );
    await fc.assert(
      fc.asyncProperty(body, async (value) => {
        const text = jsonText(value);
        const res = await send(albumsUpdate, {
          method: 'PATCH',
          path: `/api/v1/albums/${albumId}`,
          route: 'PATCH /api/v1/albums/{id}',
          pathParameters: { id: albumId },
          headers: JSON_TYPE,
          body: text,
        });
        const allowed = conforms(componentSchema('AlbumPatch'), JSON.parse(text));
        // What the document cannot judge: a title another album has, a cover that is not in the album.
        const notMember = res.status === 422 && /"cover_image_id","message":"must be an image in the album"/.test(res.text);
        expect({ status: res.status, allowed, body: res.text }).toMatchObject({ allowed: [200, 409].includes(res.status) || notMember });
      }),
      settings,
    );
  });

  it('POST /api/v1/albums/{id}/images and …/remove: id lists are accepted exactly when the document allows them', async () => {
    const body = fc.oneof(
      fc.record({ image_ids: fc.array(anId(), { maxLength: 8 }) }),
      fc.record({ image_ids: fc.oneof(fc.jsonValue(), fc.constant(Array.from({ length: 501 }, () => imageIds[0]))) }, { requiredKeys: [] }),
      fc.record(
        { image_ids: fc.array(fc.constantFrom(...imageIds), { minLength: 1, maxLength: 8 }), extra: fc.jsonValue() },
        { requiredKeys: [] },
      ),
      fc.jsonValue(),
    );
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), async (value, adding) => {
        const text = jsonText(value);
        const route = adding ? 'POST /api/v1/albums/{id}/images' : 'POST /api/v1/albums/{id}/images/remove';
        const res = await send(adding ? albumsAdd : albumsRemove, {
          method: 'POST',
          path: `/api/v1/albums/${albumId}/images${adding ? '' : '/remove'}`,
          route,
          pathParameters: { id: albumId },
          headers: JSON_TYPE,
          body: text,
        });
        const parsed = JSON.parse(text) as { image_ids?: unknown };
        const allowed = conforms(componentSchema('ImageIds'), parsed);
        // Adding an id that names no image is what the document cannot judge: a 422 naming each.
        const known = new Set(imageIds);
        const allKnown = Array.isArray(parsed?.image_ids) && parsed.image_ids.every((id) => known.has(String(id).toLowerCase()));
        const expected = !allowed ? 422 : adding && !allKnown ? 422 : 200;
        expect({ status: res.status, allowed, body: res.text }).toMatchObject({ status: expected });
      }),
      settings,
    );
  });

  it('album ids in paths: refused exactly when the document refuses them, else 404 for one that is no album', async () => {
    const operations = [
      { handler: albumsGet, method: 'GET', route: 'GET /api/v1/albums/{id}', suffix: '', body: undefined },
      { handler: albumsDelete, method: 'DELETE', route: 'DELETE /api/v1/albums/{id}', suffix: '', body: undefined },
      { handler: albumsUpdate, method: 'PATCH', route: 'PATCH /api/v1/albums/{id}', suffix: '', body: '{"title":"never applied"}' },
      {
        handler: albumsAdd,
        method: 'POST',
        route: 'POST /api/v1/albums/{id}/images',
        suffix: '/images',
        body: jsonText({ image_ids: imageIds.slice(0, 1) }),
      },
      {
        handler: albumsRemove,
        method: 'POST',
        route: 'POST /api/v1/albums/{id}/images/remove',
        suffix: '/images/remove',
        body: '{"image_ids":["530918e4-2d9a-49a7-931e-fb5e18228cc1"]}',
      },
    ];
    const id = fc.oneof(
      fc.uuid(),
      fc.uuid().map((u) => u.toUpperCase()),
      fc.string({ maxLength: 40 }),
      fc.stringMatching(/^[0-9a-fA-F-]{30,40}$/),
    );
    await fc.assert(
      fc.asyncProperty(id, fc.integer({ min: 0, max: operations.length - 1 }), async (candidate, which) => {
        const op = operations[which] ?? operations[0];
        if (!op || candidate.toLowerCase() === albumId) return;
        const res = await send(op.handler, {
          method: op.method,
          path: `/api/v1/albums/${encodeURIComponent(candidate)}${op.suffix}`,
          route: op.route,
          pathParameters: { id: candidate },
          headers: JSON_TYPE,
          ...(op.body !== undefined ? { body: op.body } : {}),
        });
        expect({ status: res.status, candidate }).toMatchObject({ status: parameterConforms(op.route, 'id', candidate) ? 404 : 422 });
      }),
      settings,
    );
  });

  it('GET /api/v1/albums: limit is refused exactly when the document refuses it; no cursor 500s', async () => {
    const limit = fc.oneof(
      fc.integer({ min: -5, max: 150 }).map(String),
      fc.string({ maxLength: 6 }),
      fc.constantFrom('0x10', '1e1', '+5', '05'),
    );
    const cursor = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b).toString('base64url')),
      fc.tuple(fc.date({ noInvalidDate: true }), fc.uuid()).map(([d, u]) => Buffer.from(`${d.toISOString()}|${u}`).toString('base64url')),
    );
    await fc.assert(
      fc.asyncProperty(fc.option(limit, { nil: undefined }), fc.option(cursor, { nil: undefined }), async (l, c) => {
        const query = { ...(l !== undefined ? { limit: asReceived(l) } : {}), ...(c !== undefined ? { cursor: asReceived(c) } : {}) };
        const res = await send(albumsList, { method: 'GET', path: '/api/v1/albums', route: 'GET /api/v1/albums', query });
        if (c === undefined && query.limit !== undefined) {
          expect({ status: res.status, limit: query.limit }).toMatchObject({
            status: parameterConforms('GET /api/v1/albums', 'limit', query.limit) ? 200 : 422,
          });
        }
      }),
      settings,
    );
  });

  it('GET /api/v1/images: sort, q, taken_from, taken_to and album are refused exactly when the document refuses them', async () => {
    /** A day written YYYY-MM-DD, existing or not (the document says format: date). */
    const day = fc
      .tuple(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }))
      .map(([y, m, d]) => `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`);
    // Mostly values the document allows, so that one odd value decides the answer, not the first bad one.
    const mostly = <T>(good: fc.Arbitrary<T>, odd: fc.Arbitrary<T>) =>
      fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: odd });
    const params = fc.record(
      {
        sort: mostly(fc.constantFrom('created', 'taken'), fc.oneof(fc.constantFrom('TAKEN', '', 'title'), fc.string({ maxLength: 8 }))),
        q: fc.oneof(
          anyText(30),
          fc.constantFrom(
            'sun bea',
            "o'brien",
            'a & b | !c',
            '(x)',
            'c:\\d',
            '"',
            '\\',
            '*:',
            'x\u0000y',
            '\u0000fuzzed',
            'fuzzed\u0000 1',
          ),
          fc.string({ maxLength: 210 }),
        ),
        taken_from: mostly(day, fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('2024-6-1', '2024-06-01T00:00'))),
        taken_to: mostly(day, fc.string({ maxLength: 12 })),
        album: mostly(fc.constantFrom(albumId, albumId.toUpperCase()), anId()),
        limit: mostly(
          fc.integer({ min: 1, max: 100 }).map(String),
          fc.oneof(fc.integer({ min: -1, max: 200 }).map(String), fc.string({ maxLength: 4 })),
        ),
      },
      { requiredKeys: [] },
    );
    /** A day the calendar has (the document's `format: date`, which its schema check leaves to the reader). */
    const realDay = (s: string) => {
      const at = new Date(`${s}T00:00:00Z`);
      return !Number.isNaN(at.getTime()) && at.toISOString().slice(0, 10) === s;
    };
    await fc.assert(
      fc.asyncProperty(params, async (raw) => {
        const query = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, asReceived(v)]));
        const res = await send(imagesList, { method: 'GET', path: '/api/v1/images/', route: 'GET /api/v1/images', query });
        const documented = Object.entries(query).every(
          ([name, value]) => parameterConforms('GET /api/v1/images', name, value) && (!name.startsWith('taken_') || realDay(value)),
        );
        // The one rule across parameters, said in the description: a range must not end before it starts.
        const ordered = query.taken_from === undefined || query.taken_to === undefined || query.taken_from <= query.taken_to;
        expect({ status: res.status, query, body: res.text }).toMatchObject({ status: documented && ordered ? 200 : 422 });
      }),
      settings,
    );
  });

  it("GET /api/v1/images: a real page's cursor, with any sort and filters, is a 200 or a 422, never more", async () => {
    // The fuzzing before may have emptied the album.
    await albums.add(albumId, imageIds);
    const cursors: string[] = [];
    const queries: Record<string, string>[] = [
      {},
      { sort: 'taken' },
      { album: albumId },
      { q: 'fuzzed' },
      { taken_from: '2024-01-01', sort: 'taken' },
    ];
    for (const query of queries) {
      const res = await send(imagesList, {
        method: 'GET',
        path: '/api/v1/images/',
        route: 'GET /api/v1/images',
        query: { ...query, limit: '1' },
      });
      const link = res.headers.link ?? '';
      const cursor = new URL(/<([^>]+)>/.exec(link)?.[1] ?? '/', 'http://x').searchParams.get('cursor');
      if (cursor) cursors.push(cursor);
    }
    expect(cursors).toHaveLength(5);
    const mutated = fc.tuple(fc.constantFrom(...cursors), fc.nat(), fc.constantFrom('A', '_', '-', 'z', '0')).map(([c, at, ch]) => {
      const i = at % c.length;
      return `${c.slice(0, i)}${ch}${c.slice(i + 1)}`;
    });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constantFrom(...cursors), mutated),
        fc.record(
          {
            sort: fc.constantFrom('created', 'taken'),
            album: fc.constantFrom(albumId, imageIds[0] ?? ''),
            q: fc.constantFrom('fuzzed', 'fuzz 1'),
            taken_from: fc.constant('2024-01-01'),
          },
          { requiredKeys: [] },
        ),
        async (cursor, filters) => {
          const res = await send(imagesList, {
            method: 'GET',
            path: '/api/v1/images/',
            route: 'GET /api/v1/images',
            query: { ...filters, cursor, limit: '2' },
          });
          expect([200, 422]).toContain(res.status);
        },
      ),
      settings,
    );
  });
});
