/**
 * Property-based fuzzing of every input path through the real handlers (real Postgres, S3 emulator,
 * Redis): random and malformed multipart bodies, JSON bodies, raw bytes, headers, ids, cursors and
 * limits. For every request: no exception escapes the handler (not even later, from a stray event
 * handler), the answer comes within a bound, it is never a 5xx, and it is a response the OpenAPI
 * document describes. Where the document can judge an input (a field, a parameter), the service
 * accepts exactly what the document allows.
 *
 * Bounded in `npm test` (a fixed seed, FUZZ_RUNS runs a property); `npm run fuzz` runs far longer
 * with a fresh seed. fast-check prints the seed and the shrunk counterexample of any failure.
 */
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as albumsCreateHandler } from '../../functions/albums-create';
import { handler as albumsDeleteHandler } from '../../functions/albums-delete';
import { handler as albumsGetHandler } from '../../functions/albums-get';
import { handler as albumsAddHandler } from '../../functions/albums-images-add';
import { handler as albumsRemoveHandler } from '../../functions/albums-images-remove';
import { handler as albumsUpdateHandler } from '../../functions/albums-update';
import { handler as createHandler } from '../../functions/images-create';
import { handler as deleteHandler } from '../../functions/images-delete';
import { handler as getHandler } from '../../functions/images-get';
import { handler as listHandler } from '../../functions/images-list';
import { handler as updateHandler } from '../../functions/images-update';
import { handler as sharedGetHandler } from '../../functions/shared-get';
import { handler as sharedImageHandler } from '../../functions/shared-image-get';
import { handler as sharedImagesHandler } from '../../functions/shared-images-list';
import { handler as unlockHandler } from '../../functions/shared-unlock';
import { handler as sharesCreateHandler } from '../../functions/shares-create';
import { handler as sharesDeleteHandler } from '../../functions/shares-delete';
import { handler as sharesListHandler } from '../../functions/shares-list';
import { handler as completeUploadHandler } from '../../functions/uploads-complete';
import { handler as createUploadHandler } from '../../functions/uploads-create';
import { makeJpeg, makePng } from '../../support/images';
import { type Call, httpEvent, lambdaContext } from '../../support/lambda-events';
import { api } from '../helpers/api';
import { assertDocumented, componentSchema, conforms, parameterConforms } from '../helpers/contract';
import { handlersWith } from '../helpers/routes';
import { someAddress } from '../helpers/sharing';
import { assertNoOrphans, resetState, sql } from '../helpers/state';

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = process.env.FUZZ_SEED === 'random' ? Date.now() : Number(process.env.FUZZ_SEED ?? 20261127);
/** Far above any answer's time: a handler still busy after this long is hanging. */
const DEADLINE_MS = 5_000;
const settings = { numRuns: RUNS, seed: SEED, interruptAfterTimeLimit: 30 * 60_000 };

type Handler = (event: APIGatewayProxyEventV2, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;
interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/**
 * Invokes a real handler and holds it to the three properties: nothing escapes, an answer within
 * DEADLINE_MS, never a 5xx; then to the contract. Throws (failing the property) on any breach.
 */
async function send(handler: Handler, call: Call, event = httpEvent(call)): Promise<Answer> {
  const escaped: unknown[] = [];
  const record = (err: unknown) => escaped.push(err);
  process.on('uncaughtException', record);
  process.on('unhandledRejection', record);
  let timer: NodeJS.Timeout | undefined;
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${DEADLINE_MS} ms`)), DEADLINE_MS);
    });
    const result = (await Promise.race([handler(event, lambdaContext()), deadline])) as APIGatewayProxyStructuredResultV2;
    // Errors thrown from stream or event handlers surface on a later turn of the event loop.
    await new Promise((r) => setTimeout(r, 1));
    if (escaped.length > 0) throw new Error(`an exception escaped the handler: ${String(escaped[0])}`);
    const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
    const text = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64').toString('latin1') : (result.body ?? '');
    const answer = { status: result.statusCode ?? 200, headers, text };
    if (answer.status >= 500) throw new Error(`a ${answer.status}: ${text}`);
    if (call.pathParameters?.proxy !== undefined) {
      // A path the document does not have (the greedy trailing-slash route caught it): a 404 problem.
      expect(answer.headers['content-type']).toBe('application/problem+json');
      expect(conforms(componentSchema('Problem'), JSON.parse(text))).toBe(true);
    } else {
      assertDocumented(call.route, answer);
    }
    return answer;
  } finally {
    clearTimeout(timer);
    process.off('uncaughtException', record);
    process.off('unhandledRejection', record);
  }
}

// --- inputs -------------------------------------------------------------------------------------

/** Names every plain object answers to: a lookup by one of them in an object finds an inherited member. */
const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__'];

/** Text of every kind: any code point (lone surrogates too), graphemes, and the edge characters. */
const anyText = (maxLength = 40) =>
  fc.oneof(
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.constantFrom('', ' ', '\t\n', '\u0000', '\ufffd', '\ud800', 'a'.repeat(32), 'é'.repeat(33), '😀'.repeat(32), '../x', '"'),
    fc.constantFrom(...PROTOTYPE_NAMES),
  );

const fieldName = fc.oneof(
  fc.constantFrom('title', 'description', 'file', 'description[]', 'title[0]', ''),
  fc.constantFrom(...PROTOTYPE_NAMES),
  fc.string({ maxLength: 12 }),
);

const imageBytes = fc.oneof(
  fc.constant(makeJpeg()),
  fc.constant(makePng()),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  fc.constant(makeJpeg().subarray(0, 120)),
  fc.constant(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')),
  // Box-structured and block-structured headers for the damage below to land in.
  fc
    .constantFrom('grid-irot90.heic', 'clap.heic', 'irot90.avif', 'anim.gif')
    .map((name) => readFileSync(new URL(`../fixtures/images/${name}`, import.meta.url))),
);

interface PartSpec {
  name: string | undefined;
  filename: string | undefined;
  type: string | undefined;
  content: Uint8Array;
  extraHeader: string | undefined;
}

const partSpec: fc.Arbitrary<PartSpec> = fc.record({
  name: fc.option(fieldName, { nil: undefined, freq: 8 }),
  filename: fc.option(fc.oneof(fc.constantFrom('cat.jpg', 'a"b.png', 'C:\\x\\y.gif', '', 'ü.jpg'), fc.string({ maxLength: 20 })), {
    nil: undefined,
  }),
  type: fc.option(fc.constantFrom('image/jpeg', 'text/plain; charset=utf-8', 'application/octet-stream', 'x', ...PROTOTYPE_NAMES), {
    nil: undefined,
  }),
  content: fc.oneof(
    imageBytes,
    anyText().map((s) => Buffer.from(s, 'utf8')),
  ),
  extraHeader: fc.option(
    fc.constantFrom('Content-Transfer-Encoding: base64', 'X-Y: z', 'nocolon', ': empty', 'Content-Disposition: form-data'),
    {
      nil: undefined,
      freq: 6,
    },
  ),
});

const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r|\n/g, ' ')}"`;

function serialize(parts: PartSpec[], boundary: string, closed: boolean): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = [
      'form-data',
      ...(p.name !== undefined ? [`name=${quote(p.name)}`] : []),
      ...(p.filename !== undefined ? [`filename=${quote(p.filename)}`] : []),
    ];
    const headers = [
      `Content-Disposition: ${disposition.join('; ')}`,
      ...(p.type ? [`Content-Type: ${p.type}`] : []),
      ...(p.extraHeader ? [p.extraHeader] : []),
    ];
    chunks.push(Buffer.from(`--${boundary}\r\n${headers.join('\r\n')}\r\n\r\n`, 'utf8'), Buffer.from(p.content), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(closed ? `--${boundary}--\r\n` : ''));
  return Buffer.concat(chunks);
}

const boundary = fc.stringMatching(/^[0-9A-Za-z'()+_,\-./:=?]{1,70}$/);

/** Damage to a body: cut it, overwrite, insert or delete bytes. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('none' as const) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
);

function mutate(body: Buffer, m: { kind: string; at?: number; bytes?: Uint8Array; length?: number; byte?: number }): Buffer {
  if (m.kind === 'none' || body.length === 0) return body;
  const at = (m.at ?? 0) % body.length;
  if (m.kind === 'cut') return body.subarray(0, at);
  if (m.kind === 'insert') return Buffer.concat([body.subarray(0, at), Buffer.from(m.bytes ?? []), body.subarray(at)]);
  if (m.kind === 'delete') return Buffer.concat([body.subarray(0, at), body.subarray(at + (m.length ?? 1))]);
  const copy = Buffer.from(body);
  copy[at] = m.byte ?? 0;
  return copy;
}

const contentType = (b: string) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(`multipart/form-data; boundary=${b}`) },
    { weight: 2, arbitrary: fc.constant(`multipart/form-data; boundary="${b}"`) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('multipart/form-data', 'application/json', 'text/plain', 'multipart/form-data; boundary=', ''),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  );

const headerNoise = fc.dictionary(
  fc.constantFrom('authorization', 'x-api-key', 'content-length', 'accept-encoding', 'x-forwarded-for', 'cookie'),
  fc.string({ maxLength: 30 }),
  { maxKeys: 3 },
);

/** An upload call: a Buffer body goes base64-encoded (as API Gateway sends multipart), else as text. */
const upload = (headers: Record<string, string>, body: Buffer, base64 = true): Call => ({
  method: 'POST',
  path: '/api/v1/images/',
  route: 'POST /api/v1/images',
  headers,
  body: base64 ? body : body.toString('utf8'),
});

/**
 * JSON objects with prototype names among their keys, as JSON.parse makes them (own properties, even
 * `__proto__`): the values given, plus or minus some keys named like members of every object.
 */
const withPrototypeKeys = (record: fc.Arbitrary<Record<string, unknown>>) =>
  fc
    .tuple(record, fc.dictionary(fc.constantFrom(...PROTOTYPE_NAMES), fc.jsonValue(), { minKeys: 1, maxKeys: 3 }))
    .map(([value, extra]) => JSON.parse(JSON.stringify({ ...value, ...extra })) as unknown);

// --- properties ---------------------------------------------------------------------------------

let imageId = '';

beforeAll(async () => {
  await resetState();
  const res = await api.upload({ title: 'fuzz target' });
  imageId = (res.json as { id: string }).id;
  console.log(`fuzz: ${RUNS} runs a property, seed ${SEED} (FUZZ_SEED=${SEED} repeats this run)`);
});

afterAll(async () => {
  // Whatever the fuzzer did, every row has its object and every object its row.
  await assertNoOrphans();
  await resetState();
});

describe('fuzz: no input crashes, hangs or 500s a function, and every answer is documented', () => {
  it('POST /api/v1/images/: random, damaged and hostile multipart bodies', async () => {
    await fc.assert(
      fc.asyncProperty(
        boundary.chain((b) =>
          fc.tuple(fc.constant(b), fc.array(partSpec, { maxLength: 6 }), fc.boolean(), contentType(b), mutation, headerNoise, fc.boolean()),
        ),
        async ([b, parts, closed, type, damage, noise, base64]) => {
          const body = mutate(serialize(parts, b, closed), damage);
          const res = await send(createHandler, upload({ ...noise, 'content-type': type }, body, base64));
          expect(res.status).toBeGreaterThanOrEqual(200);
        },
      ),
      settings,
    );
  });

  it('POST /api/v1/images/: random bytes under a multipart Content-Type', async () => {
    await fc.assert(
      fc.asyncProperty(boundary, fc.uint8Array({ maxLength: 300 }), async (b, bytes) => {
        const prefix = Buffer.from(`--${b}\r\n`);
        await send(
          createHandler,
          upload({ 'content-type': `multipart/form-data; boundary=${b}` }, Buffer.concat([prefix, Buffer.from(bytes)])),
        );
      }),
      settings,
    );
  });

  it('POST /api/v1/images/: well-formed uploads are accepted exactly when the document allows their fields', async () => {
    await fc.assert(
      fc.asyncProperty(anyText(), anyText(), async (title, description) => {
        const body = serialize(
          [
            { name: 'title', filename: undefined, type: undefined, content: Buffer.from(title, 'utf8'), extraHeader: undefined },
            {
              name: 'description',
              filename: undefined,
              type: undefined,
              content: Buffer.from(description, 'utf8'),
              extraHeader: undefined,
            },
            { name: 'file', filename: 'f.jpg', type: 'image/jpeg', content: makeJpeg(), extraHeader: undefined },
          ],
          'fuzzfuzz',
          true,
        );
        const res = await send(createHandler, upload({ 'content-type': 'multipart/form-data; boundary=fuzzfuzz' }, body));
        // What the service received: UTF-8 cannot carry a lone surrogate (it arrives as U+FFFD).
        const sent = { title: Buffer.from(title).toString(), description: Buffer.from(description).toString(), file: '' };
        const allowed = conforms(componentSchema('ImageUpload'), sent);
        expect({ status: res.status, allowed, body: res.text }).toMatchObject({ allowed: [201, 409].includes(res.status) });
      }),
      settings,
    );
  });

  it('PATCH /api/v1/images/{id}: JSON bodies are accepted exactly when the document allows them', async () => {
    const patchBody = fc.oneof(
      fc.record({ title: anyText(), description: anyText() }, { requiredKeys: [] }),
      fc.record({ title: anyText(), extra: fc.jsonValue() }, { requiredKeys: [] }),
      withPrototypeKeys(fc.record({ title: anyText(), description: anyText() }, { requiredKeys: [] })),
      fc.jsonValue(),
    );
    await fc.assert(
      fc.asyncProperty(patchBody, async (value) => {
        const text = JSON.stringify(value) ?? 'null';
        const res = await send(updateHandler, {
          method: 'PATCH',
          path: `/api/v1/images/${imageId}`,
          route: 'PATCH /api/v1/images/{id}',
          pathParameters: { id: imageId },
          headers: { 'content-type': 'application/json' },
          body: text,
        });
        const allowed = conforms(componentSchema('ImagePatch'), JSON.parse(text));
        expect({ status: res.status, allowed, body: res.text }).toMatchObject({ allowed: [200, 409].includes(res.status) });
      }),
      settings,
    );
  });

  it('PATCH /api/v1/images/{id}: raw bytes, any Content-Type, any id', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.constant(imageId),
          fc.uuid().map((u) => u.toUpperCase()),
          fc.string({ maxLength: 40 }),
        ),
        fc.oneof(
          fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/problem+json', ''),
          fc.string({ maxLength: 30 }),
        ),
        fc.oneof(
          fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
          fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? '')),
        ),
        fc.boolean(),
        async (id, type, bytes, base64) => {
          await send(updateHandler, {
            method: 'PATCH',
            path: `/api/v1/images/${encodeURIComponent(id)}`,
            route: 'PATCH /api/v1/images/{id}',
            pathParameters: { id },
            headers: { 'content-type': type },
            body: base64 ? bytes : bytes.toString('utf8'),
          });
        },
      ),
      settings,
    );
  });

  it('GET and DELETE /api/v1/images/{id}: an id is refused exactly when the document refuses it', async () => {
    await idsRefusedAsDocumented('images', getHandler, deleteHandler);
  });

  it('GET /api/v1/images/: limit is refused exactly when the document refuses it; no cursor 500s', async () => {
    const moment = fc
      .tuple(
        fc.integer({ min: 0, max: 9999 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 25 }),
        fc.integer({ min: 0, max: 61 }),
        fc.integer({ min: 0, max: 61 }),
      )
      .map(([y, mo, d, h, mi, s]) => {
        const p = (n: number, w = 2) => String(n).padStart(w, '0');
        return `${p(y, 4)}-${p(mo)}-${p(d)}T${p(h)}:${p(mi)}:${p(s)}.000000+00:00`;
      });
    const cursor = fc.oneof(
      fc.tuple(moment, fc.uuid()).map(([m, u]) => Buffer.from(`${m}|${u}`).toString('base64url')),
      fc.string({ maxLength: 60 }),
      fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b).toString('base64url')),
    );
    const limit = fc.oneof(
      fc.integer({ min: -5, max: 150 }).map(String),
      fc.string({ maxLength: 6 }),
      fc.constantFrom('0x10', '1e1', '+5', ' 5', '05', '5.0'),
    );
    await fc.assert(
      fc.asyncProperty(fc.option(limit, { nil: undefined }), fc.option(cursor, { nil: undefined }), async (l, c) => {
        const query = { ...(l !== undefined ? { limit: l } : {}), ...(c !== undefined ? { cursor: c } : {}) };
        const res = await send(listHandler, { method: 'GET', path: '/api/v1/images/', route: 'GET /api/v1/images', query });
        if (c === undefined && l !== undefined) {
          expect({ status: res.status, limit: l }).toMatchObject({
            status: parameterConforms('GET /api/v1/images', 'limit', l) ? 200 : 422,
          });
        }
      }),
      settings,
    );
  });

  it('POST /api/v1/uploads: declarations are accepted exactly when the document allows them', async () => {
    // An image whose SHA-256 a declaration may name: a duplicate (409, with its Link) is one of the answers.
    const existing = (await api.upload({ title: 'fuzz duplicate', file: { bytes: makeJpeg(33, 24), filename: 'd.jpg' } })).json as {
      sha256: string;
    };
    const sha256 = fc.oneof(
      fc.constantFrom(existing.sha256, existing.sha256.toUpperCase()),
      fc.stringMatching(/^[0-9a-fA-F]{64}$/),
      fc.stringMatching(/^[0-9a-fA-F]{63}$|^[0-9a-fA-F]{65}$|^[0-9a-fA-F]{63}[g-zG-Z ]$/),
      anyText(70),
      fc.jsonValue(),
    );
    const allowDuplicate = fc.oneof(fc.boolean(), fc.constantFrom('true', 'false', 1, 0, null), fc.jsonValue());
    const declaration = fc.oneof(
      fc.record(
        {
          title: anyText(),
          description: anyText(),
          filename: anyText(60),
          size: fc.oneof(fc.integer({ min: -2, max: 200 * 1024 * 1024 }), fc.double(), fc.string({ maxLength: 5 })),
          content_type: fc.oneof(
            fc.constantFrom('image/jpeg', 'image/heic', 'image/avif', 'IMAGE/PNG', 'image/svg+xml', 'text/html', ''),
            fc.constantFrom(...PROTOTYPE_NAMES, '__PROTO__', 'Constructor'),
            fc.string({ maxLength: 20 }),
          ),
          sha256,
          allow_duplicate: allowDuplicate,
          extra: fc.jsonValue(),
        },
        { requiredKeys: [] },
      ),
      // Valid but for the type, so that the type is what decides: an accepted one, or a prototype name.
      fc.record(
        {
          title: fc.oneof(fc.constantFrom('Harbour', ...PROTOTYPE_NAMES), anyText()),
          description: anyText(),
          filename: fc.constantFrom('IMG_0042.HEIC', ...PROTOTYPE_NAMES),
          size: fc.integer({ min: 1, max: 1_000_000 }),
          content_type: fc.constantFrom('image/jpeg', 'image/heic', ...PROTOTYPE_NAMES, '__PROTO__', 'Constructor'),
          sha256,
          allow_duplicate: allowDuplicate,
        },
        { requiredKeys: ['title', 'description', 'filename', 'size', 'content_type'] },
      ),
      withPrototypeKeys(fc.record({ title: anyText(), filename: anyText(), size: fc.nat(), content_type: fc.constant('image/jpeg') })),
      fc.jsonValue(),
    );
    await fc.assert(
      fc.asyncProperty(declaration, async (value) => {
        const text = JSON.stringify(value) ?? 'null';
        const res = await send(createUploadHandler, {
          method: 'POST',
          path: '/api/v1/uploads',
          route: 'POST /api/v1/uploads',
          headers: { 'content-type': 'application/json' },
          body: text,
        });
        // Allowed by the document: signed, or refused for what the document cannot say (a title
        // taken now, a size over the configured limit). A MIME type is case-insensitive, as the
        // document says; its enum can only list one spelling.
        const sent = JSON.parse(text) as unknown;
        const declared =
          sent && typeof sent === 'object' && !Array.isArray(sent) && 'content_type' in sent && typeof sent.content_type === 'string'
            ? { ...sent, content_type: sent.content_type.toLowerCase() }
            : sent;
        const allowed = conforms(componentSchema('UploadRequest'), declared);
        expect({ status: res.status, allowed, body: res.text }).toMatchObject({ allowed: [201, 409, 413].includes(res.status) });
      }),
      settings,
    );
  });

  it('POST /api/v1/uploads/{id}/complete: an id is refused exactly when the document refuses it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uuid(), fc.string({ maxLength: 40 })), async (id) => {
        const route = 'POST /api/v1/uploads/{id}/complete';
        const res = await send(completeUploadHandler, {
          method: 'POST',
          path: `/api/v1/uploads/${encodeURIComponent(id)}/complete`,
          route,
          pathParameters: { id },
        });
        expect({ status: res.status, id }).toMatchObject({ status: parameterConforms(route, 'id', id) ? 404 : 422 });
      }),
      settings,
    );
  });

  it('paths no route serves: the greedy trailing-slash routes answer 404', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 30 }), fc.boolean(), async (proxy, list) => {
        const res = await send(list ? listHandler : createHandler, {
          method: list ? 'GET' : 'POST',
          path: `/api/v1/images/${encodeURIComponent(proxy)}`,
          route: list ? 'GET /api/v1/images' : 'POST /api/v1/images',
          pathParameters: { proxy },
          headers: { 'content-type': 'multipart/form-data; boundary=x' },
          body: '--x--',
        });
        expect(res.status).toBe(404);
      }),
      settings,
    );
  });
});

// --- share links: the owner's endpoints, a viewer's, and who may call what ----------------------

const DAY_MS = 24 * 3600 * 1000;
const SHARE_PASSWORD = 'fuzz password';
const OWNER_KEYS = ['fuzz-owner-key-0123456789', 'fuzz-second-key-9876543210'];

/** The links the viewer properties aim at, made in beforeAll, and an access token to the protected one. */
const links = { open: '', locked: '', expired: '', revoked: '', access: '', otherAccess: '', albumId: '' };

/** A call to one of the share handlers, as API Gateway makes it. */
const shareCall = (route: string, path: string, extra: Partial<Call> = {}): Call => ({
  method: route.split(' ')[0] ?? '',
  route,
  path,
  ...extra,
});

async function made(handler: Handler, call: Call): Promise<Record<string, string>> {
  const res = await send(handler, call);
  expect(res.status, res.text).toBeLessThan(300);
  return JSON.parse(res.text) as Record<string, string>;
}

const createShare = (body: unknown) =>
  made(
    sharesCreateHandler,
    shareCall('POST /api/v1/shares', '/api/v1/shares', { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  );
const unlockCall = (token: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  shareCall('POST /api/v1/shared/{token}/unlock', `/api/v1/shared/${encodeURIComponent(token)}/unlock`, {
    pathParameters: { token },
    headers,
    body,
    sourceIp: someAddress(),
  });

/** The refusals of POST /api/v1/shares the document cannot state: ids that name nothing now, an expiry outside its window now. */
const isSemantic = (e: { field: string; message: string }) =>
  (e.field === 'album_id' && e.message === 'names no album') ||
  (/^image_ids\.\d+$/.test(e.field) && e.message.startsWith('names no image')) ||
  (e.field === 'expires_at' && ['must be in the future', 'must be at most 365 days away'].includes(e.message));

/** A real calendar day, as RFC 3339's full-date (the document's `format: date`) means. */
const isRealDate = (day: string) => {
  const [y = 0, m = 0, d = 0] = day.split('-').map(Number);
  const at = new Date(Date.UTC(2000, m - 1, d));
  at.setUTCFullYear(y);
  return /^\d{4}-\d{2}-\d{2}$/.test(day) && y >= 1 && at.getUTCFullYear() === y && at.getUTCMonth() === m - 1 && at.getUTCDate() === d;
};

describe('fuzz: share links', () => {
  beforeAll(async () => {
    links.albumId = (
      await made(
        albumsCreateHandler,
        shareCall('POST /api/v1/albums', '/api/v1/albums', {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ title: 'fuzz album' }),
        }),
      )
    ).id as string;
    await send(
      albumsAddHandler,
      shareCall('POST /api/v1/albums/{id}/images', `/api/v1/albums/${links.albumId}/images`, {
        pathParameters: { id: links.albumId },
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ image_ids: [imageId] }),
      }),
    );
    links.open = (await createShare({ image_ids: [imageId] })).token as string;
    links.locked = (await createShare({ album_id: links.albumId, password: SHARE_PASSWORD })).token as string;
    const other = (await createShare({ image_ids: [imageId], password: SHARE_PASSWORD })).token as string;
    const expired = await createShare({ image_ids: [imageId], expires_at: new Date(Date.now() + DAY_MS).toISOString() });
    await sql`update shares set expires_at = now() - interval '1 second' where id = ${expired.id ?? ''}`;
    links.expired = expired.token as string;
    const revoked = await createShare({ image_ids: [imageId] });
    await send(
      sharesDeleteHandler,
      shareCall('DELETE /api/v1/shares/{id}', `/api/v1/shares/${revoked.id}`, { pathParameters: { id: revoked.id ?? '' } }),
    );
    links.revoked = revoked.token as string;
    for (const [token, key] of [
      [links.locked, 'access'],
      [other, 'otherAccess'],
    ] as const) {
      links[key] = (await made(unlockHandler, unlockCall(token, JSON.stringify({ password: SHARE_PASSWORD })))).access_token as string;
    }
  });

  it('POST /api/v1/shares: bodies are accepted exactly when the document allows them, but for what it cannot state', async () => {
    const id = fc.oneof(
      fc.constant(imageId),
      fc.constant(imageId.toUpperCase()),
      fc.uuid(),
      fc.string({ maxLength: 40 }),
      fc.constantFrom(...PROTOTYPE_NAMES),
    );
    const instant = fc.integer({ min: -2 * DAY_MS, max: 400 * DAY_MS }).map((ms) => new Date(Date.now() + ms));
    const expiry = fc.oneof(
      instant.map((d) => d.toISOString()),
      // The same instants written in another offset, with more or fewer fraction digits.
      fc.tuple(instant, fc.integer({ min: -14, max: 14 }), fc.constantFrom('', '.5', '.123456', '.123456789')).map(([d, h, fraction]) => {
        const local = new Date(d.getTime() + h * 3600_000).toISOString().slice(0, 19);
        return `${local}${fraction}${h < 0 ? '-' : '+'}${String(Math.abs(h)).padStart(2, '0')}:00`;
      }),
      fc.constantFrom('2027-01-01T00:00:00', 'tomorrow', '', '2026-13-01T00:00:00Z', '2026-12-31T24:00:00Z', '2027-02-29T00:00:00Z'),
      fc.jsonValue(),
    );
    const password = fc.oneof(
      anyText(12),
      fc.constantFrom('😀'.repeat(7), '😀'.repeat(8), 'x'.repeat(128), 'x'.repeat(129), '😀'.repeat(129), 'correct horse'),
      fc.jsonValue(),
    );
    const anything = fc.record(
      {
        album_id: fc.oneof(fc.constant(links.albumId), fc.uuid(), anyText()),
        image_ids: fc.oneof(fc.array(id, { maxLength: 4 }), fc.constant(Array.from({ length: 501 }, () => imageId)), fc.jsonValue()),
        title: fc.oneof(anyText(70), fc.constant('é'.repeat(64)), fc.jsonValue()),
        description: fc.oneof(anyText(), fc.constant('x'.repeat(1025))),
        expires_at: expiry,
        password,
        allow_originals: fc.oneof(fc.boolean(), fc.jsonValue()),
        extra: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    /** Usually right, so that what decides is the one field that is not. */
    const mostly = <T, U>(right: fc.Arbitrary<T>, other: fc.Arbitrary<U>) =>
      fc.oneof({ weight: 4, arbitrary: right }, { weight: 1, arbitrary: other });
    const source = fc.oneof(
      fc.record({ album_id: mostly(fc.constant(links.albumId), fc.oneof(fc.uuid(), anyText())) }),
      fc.record({ image_ids: mostly(fc.constant([imageId]), fc.array(id, { maxLength: 4 })) }),
    );
    const options = fc.record(
      {
        title: mostly(fc.constantFrom('Holidays', '', 'é'.repeat(64)), anyText(70)),
        description: mostly(fc.constantFrom('', 'From the pier'), anyText()),
        expires_at: mostly(
          fc.integer({ min: 60_000, max: 360 * DAY_MS }).map((ms) => new Date(Date.now() + ms).toISOString()),
          expiry,
        ),
        // A password is rare: each share made with one costs a scrypt.
        password: fc.oneof({ weight: 1, arbitrary: password }, { weight: 3, arbitrary: fc.constant(undefined) }),
        allow_originals: mostly(fc.boolean(), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    const nearlyRight = fc
      .tuple(source, options)
      .map(([from, rest]) => JSON.parse(JSON.stringify({ ...from, ...rest })) as Record<string, unknown>);
    const body = fc.oneof(
      { weight: 4, arbitrary: nearlyRight },
      { weight: 3, arbitrary: anything },
      { weight: 1, arbitrary: withPrototypeKeys(fc.record({ image_ids: fc.constant([imageId]), title: anyText() }, { requiredKeys: [] })) },
      { weight: 1, arbitrary: fc.jsonValue() },
    );
    await fc.assert(
      fc.asyncProperty(body, async (value) => {
        const text = JSON.stringify(value) ?? 'null';
        const res = await send(
          sharesCreateHandler,
          shareCall('POST /api/v1/shares', '/api/v1/shares', { headers: { 'content-type': 'application/json' }, body: text }),
        );
        const allowed = conforms(componentSchema('ShareCreate'), JSON.parse(text));
        const errors = res.status === 422 ? ((JSON.parse(res.text) as { errors?: { field: string; message: string }[] }).errors ?? []) : [];
        const semantic = res.status === 422 && errors.length > 0 && errors.every(isSemantic);
        expect({ status: res.status, allowed, body: res.text }).toMatchObject({ allowed: res.status === 201 || semantic });
      }),
      settings,
    );
  });

  it('GET /api/v1/shares: limit is refused exactly when the document refuses it; no cursor 500s', async () => {
    const limit = fc.oneof(
      fc.integer({ min: -5, max: 150 }).map(String),
      fc.string({ maxLength: 6 }),
      fc.constantFrom('0x10', '1e1', ' 5'),
    );
    const cursor = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b).toString('base64url')),
    );
    await fc.assert(
      fc.asyncProperty(fc.option(limit, { nil: undefined }), fc.option(cursor, { nil: undefined }), async (l, c) => {
        const query = { ...(l !== undefined ? { limit: l } : {}), ...(c !== undefined ? { cursor: c } : {}) };
        const res = await send(sharesListHandler, shareCall('GET /api/v1/shares', '/api/v1/shares', { query }));
        if (c === undefined && l !== undefined) {
          expect({ status: res.status, limit: l }).toMatchObject({
            status: parameterConforms('GET /api/v1/shares', 'limit', l) ? 200 : 422,
          });
        }
      }),
      settings,
    );
  });

  it('the viewer endpoints: any token, image id and Authorization get what the contract says, never a 500', async () => {
    const token = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('open', 'locked', 'expired', 'revoked') },
      { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
      { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,50}$/) },
      { weight: 1, arbitrary: fc.constantFrom('x'.repeat(5000), '../shares', '%00', '\u0000', '😀') },
    );
    const authorization = fc.option(
      fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom('valid', 'other share', 'Bearer ', 'Basic x', `Bearer ${OWNER_KEYS[0]}`) },
        { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
        { weight: 1, arbitrary: fc.string({ maxLength: 60 }).map((s) => `Bearer ${s}`) },
      ),
      { nil: undefined },
    );
    const image = fc.oneof(fc.constant(imageId), fc.uuid(), fc.string({ maxLength: 40 }));
    const endpoint = fc.constantFrom('summary', 'list', 'image');
    await fc.assert(
      fc.asyncProperty(token, authorization, image, endpoint, async (which, auth, id, what) => {
        const t = which in links ? links[which as keyof typeof links] : which;
        const header = auth === 'valid' ? `Bearer ${links.access}` : auth === 'other share' ? `Bearer ${links.otherAccess}` : auth;
        const headers: Record<string, string> = header === undefined ? {} : { authorization: header };
        const base = `/api/v1/shared/${encodeURIComponent(t)}`;
        const res =
          what === 'summary'
            ? await send(sharedGetHandler, shareCall('GET /api/v1/shared/{token}', base, { pathParameters: { token: t }, headers }))
            : what === 'list'
              ? await send(
                  sharedImagesHandler,
                  shareCall('GET /api/v1/shared/{token}/images', `${base}/images`, { pathParameters: { token: t }, headers }),
                )
              : await send(
                  sharedImageHandler,
                  shareCall('GET /api/v1/shared/{token}/images/{id}', `${base}/images/${encodeURIComponent(id)}`, {
                    pathParameters: { token: t, id },
                    headers,
                  }),
                );
        // The contract's answer: no share (never made, revoked, or not a token at all), expired, locked, or the share.
        const open = which === 'open' || (which === 'locked' && auth === 'valid');
        const imageStatus = !parameterConforms('GET /api/v1/shared/{token}/images/{id}', 'id', id)
          ? 422
          : id.toLowerCase() === imageId
            ? 200
            : 404;
        const expected = which === 'expired' ? 410 : which === 'locked' && !open ? 401 : !open ? 404 : what === 'image' ? imageStatus : 200;
        expect({ status: res.status, which, auth, id, what }).toMatchObject({ status: expected });
      }),
      settings,
    );
  });

  it('GET /api/v1/shared/{token}/images: the query is refused exactly when the document refuses it; no cursor 500s', async () => {
    const right = <T, U>(value: fc.Arbitrary<T>, other: fc.Arbitrary<U>) =>
      fc.oneof({ weight: 4, arbitrary: value }, { weight: 1, arbitrary: other });
    const day = right(
      fc.date({ min: new Date('1990-01-01'), max: new Date('2030-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
      fc.oneof(
        fc
          .tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }))
          .map(([y, m, d]) => `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`),
        fc.constantFrom('2024-02-29', '2023-02-29', '2025-1-1', 'today', ''),
      ),
    );
    // What a URL can carry: well-formed text (a query string is decoded as UTF-8).
    const words = right(
      fc.constantFrom('sun bea', 'fuzz', 'Café', '²', 'x'.repeat(200)),
      fc.oneof(fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constantFrom('  ', '!!', 'é'.repeat(201))),
    );
    const query = fc.record(
      {
        limit: right(
          fc.integer({ min: 1, max: 100 }).map(String),
          fc.oneof(fc.integer({ min: -5, max: 150 }).map(String), fc.string({ maxLength: 4 })),
        ),
        sort: right(fc.constantFrom('created', 'taken'), fc.oneof(fc.constantFrom('Taken', ''), fc.string({ maxLength: 6 }))),
        q: words,
        taken_from: day,
        taken_to: day,
      },
      { requiredKeys: [] },
    );
    // Now and then a cursor: the service made none of these, so only the absence of a 500 is asked of it.
    const cursor = fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      {
        weight: 1,
        arbitrary: fc.oneof(
          fc.string({ maxLength: 40 }),
          fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b).toString('base64url')),
        ),
      },
    );
    const route = 'GET /api/v1/shared/{token}/images';
    await fc.assert(
      fc.asyncProperty(query, cursor, async (filters, c) => {
        const q: Record<string, string> = c === undefined ? filters : { ...filters, cursor: c };
        const res = await send(
          sharedImagesHandler,
          shareCall(route, `/api/v1/shared/${links.open}/images`, { pathParameters: { token: links.open }, query: q }),
        );
        if (c !== undefined) return;
        const each = Object.entries(q).every(([name, value]) => parameterConforms(route, name, value));
        const days = [q.taken_from, q.taken_to].every((d) => d === undefined || isRealDate(d));
        const ordered = q.taken_from === undefined || q.taken_to === undefined || q.taken_from <= q.taken_to;
        expect({ status: res.status, q }).toMatchObject({ status: each && days && ordered ? 200 : 422 });
      }),
      settings,
    );
  });

  it('POST /api/v1/shared/{token}/unlock: bodies are accepted exactly when the document allows them', async () => {
    const password = fc.oneof(
      anyText(20),
      fc.constant(SHARE_PASSWORD),
      fc.integer({ min: 1000, max: 1100 }).map((n) => '😀'.repeat(n)),
      fc.integer({ min: 1000, max: 1100 }).map((n) => 'x'.repeat(n)),
      fc.jsonValue(),
    );
    const body = fc.oneof(
      { weight: 4, arbitrary: fc.record({ password }) },
      { weight: 1, arbitrary: fc.record({ password, extra: fc.jsonValue() }, { requiredKeys: [] }) },
      { weight: 1, arbitrary: withPrototypeKeys(fc.record({ password: anyText() })) },
      { weight: 1, arbitrary: fc.jsonValue() },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('open', 'locked'), body, async (which, value) => {
        const text = JSON.stringify(value) ?? 'null';
        const token = which === 'open' ? links.open : links.locked;
        const res = await send(unlockHandler, unlockCall(token, text));
        const allowed = conforms(componentSchema('Unlock'), JSON.parse(text));
        // A protected share judges an allowed password: right, wrong, or too many wrong ones lately.
        const accepted = which === 'open' ? [200] : [200, 401, 429];
        expect({ status: res.status, allowed, body: res.text }).toMatchObject({ allowed: accepted.includes(res.status) });
      }),
      settings,
    );
  });

  it('POST /api/v1/shared/{token}/unlock: raw bytes and any Content-Type', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('open', 'locked', 'revoked'),
        fc.oneof(fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', ''), fc.string({ maxLength: 30 })),
        fc.oneof(
          fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
          fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? '')),
        ),
        fc.boolean(),
        async (which, type, bytes, base64) => {
          const token = links[which as 'open' | 'locked' | 'revoked'];
          const call = unlockCall(token, '', { 'content-type': type });
          await send(unlockHandler, { ...call, body: base64 ? bytes : bytes.toString('utf8') });
        },
      ),
      settings,
    );
  });

  it('who may call what: with owner keys, any Authorization and x-api-key is let through exactly when it carries a key', async () => {
    const routes = await handlersWith({ API_KEYS: OWNER_KEYS.join(','), GALLERY_ACCESS: 'private', LOG_LEVEL: 'silent' });
    const key = fc.oneof(
      fc.constantFrom(...OWNER_KEYS),
      fc.constantFrom(...OWNER_KEYS).map((k) => k.slice(0, -1)),
      fc.constantFrom(...OWNER_KEYS).map((k) => `${k}x`),
      fc.constantFrom(...OWNER_KEYS).map((k) => k.toUpperCase()),
      fc.string({ maxLength: 30 }),
    );
    const authorization = fc.option(
      fc.oneof(
        key.map((k) => `Bearer ${k}`),
        fc
          .tuple(
            fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'Token', ''),
            fc.constantFrom(' ', '  ', '\t', ''),
            key,
            fc.constantFrom('', ' ', ','),
          )
          .map(([scheme, space, k, tail]) => `${scheme}${space}${k}${tail}`),
        fc.string({ maxLength: 40 }),
      ),
      { nil: undefined },
    );
    const apiKey = fc.option(
      fc.oneof(
        key,
        key.map((k) => ` ${k} `),
      ),
      { nil: undefined },
    );
    const route = fc.constantFrom('GET /api/v1/shares', 'GET /api/v1/images', 'GET /api/v1/albums', 'GET /api/v1/shared/{token}');
    await fc.assert(
      fc.asyncProperty(route, authorization, apiKey, async (r, auth, xApiKey) => {
        const handler = routes.get(r);
        if (!handler) throw new Error(`no handler for ${r}`);
        const headers = {
          ...(auth !== undefined ? { authorization: auth } : {}),
          ...(xApiKey !== undefined ? { 'x-api-key': xApiKey } : {}),
        };
        const path = r.replace('{token}', links.open).replace(/^GET /, '');
        const res = await send(
          handler,
          shareCall(r, path, { headers, ...(r.includes('{token}') ? { pathParameters: { token: links.open } } : {}) }),
        );
        // The contract: the key as a bearer token, else in x-api-key; share links need none.
        const bearer = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(auth ?? '')?.[1];
        const presented = bearer ?? xApiKey?.trim();
        const keyed = presented !== undefined && OWNER_KEYS.includes(presented);
        expect({ status: res.status, auth, xApiKey, r }).toMatchObject({ status: r.includes('/shared/') || keyed ? 200 : 401 });
      }),
      settings,
    );
  });
});

// --- albums -------------------------------------------------------------------------------------

describe('fuzz: albums', () => {
  const jsonCall = (route: string, path: string, text: string, id?: string): Call =>
    shareCall(route, path, {
      headers: { 'content-type': 'application/json' },
      body: text,
      ...(id !== undefined ? { pathParameters: { id } } : {}),
    });
  /** Usually right, so that what decides is the one field that is not. */
  const mostly = <T, U>(right: fc.Arbitrary<T>, other: fc.Arbitrary<U>) =>
    fc.oneof({ weight: 3, arbitrary: right }, { weight: 1, arbitrary: other });
  let album = '';

  beforeAll(async () => {
    const res = await send(
      albumsCreateHandler,
      jsonCall('POST /api/v1/albums', '/api/v1/albums', JSON.stringify({ title: 'fuzzed album' })),
    );
    album = (JSON.parse(res.text) as { id: string }).id;
    await send(
      albumsAddHandler,
      jsonCall('POST /api/v1/albums/{id}/images', `/api/v1/albums/${album}/images`, JSON.stringify({ image_ids: [imageId] }), album),
    );
  });

  const ids = mostly(
    fc.oneof(fc.constant(imageId), fc.constant(imageId.toUpperCase()), fc.uuid()),
    fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom(...PROTOTYPE_NAMES)),
  );
  /** Now and then a member no schema allows. */
  const rarely = <T extends Record<string, unknown>>(record: fc.Arbitrary<T>) =>
    fc
      .tuple(record, fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.jsonValue() }))
      .map(([value, extra]) => JSON.parse(JSON.stringify(extra === undefined ? value : { ...value, extra })) as unknown);
  const errorsOf = (text: string) => (JSON.parse(text) as { errors?: { field: string; message: string }[] }).errors ?? [];

  it('POST /api/v1/albums: bodies are accepted exactly when the document allows them (a taken title aside)', async () => {
    const body = fc.oneof(
      {
        weight: 4,
        arbitrary: rarely(
          fc.record(
            {
              title: mostly(
                fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map((t) => `album ${t}`),
                fc.oneof(anyText(70), fc.jsonValue()),
              ),
              description: mostly(fc.constantFrom('', 'Two weeks'), fc.oneof(anyText(), fc.constant('x'.repeat(1025)))),
            },
            { requiredKeys: ['title'] },
          ),
        ),
      },
      { weight: 1, arbitrary: withPrototypeKeys(fc.record({ title: anyText() }, { requiredKeys: [] })) },
      { weight: 1, arbitrary: fc.jsonValue() },
    );
    await fc.assert(
      fc.asyncProperty(body, async (value) => {
        const text = JSON.stringify(value) ?? 'null';
        const res = await send(albumsCreateHandler, jsonCall('POST /api/v1/albums', '/api/v1/albums', text));
        const allowed = conforms(componentSchema('AlbumCreate'), JSON.parse(text));
        expect({ status: res.status, allowed, body: res.text }).toMatchObject({ allowed: [201, 409].includes(res.status) });
      }),
      settings,
    );
  });

  it('PATCH /api/v1/albums/{id}: bodies are accepted exactly when the document allows them (a taken title, a cover not in it aside)', async () => {
    const body = fc.oneof(
      {
        weight: 4,
        arbitrary: rarely(
          fc.record(
            {
              title: mostly(
                fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map((t) => `patched ${t}`),
                fc.oneof(anyText(70), fc.jsonValue()),
              ),
              description: mostly(fc.constantFrom('', 'Two weeks'), anyText()),
              cover_image_id: mostly(fc.constantFrom(imageId, null), fc.oneof(ids, fc.jsonValue())),
            },
            { requiredKeys: [] },
          ),
        ),
      },
      { weight: 1, arbitrary: withPrototypeKeys(fc.record({ title: anyText() }, { requiredKeys: [] })) },
      { weight: 1, arbitrary: fc.jsonValue() },
    );
    await fc.assert(
      fc.asyncProperty(body, async (value) => {
        const text = JSON.stringify(value) ?? 'null';
        const res = await send(albumsUpdateHandler, jsonCall('PATCH /api/v1/albums/{id}', `/api/v1/albums/${album}`, text, album));
        const allowed = conforms(componentSchema('AlbumPatch'), JSON.parse(text));
        const coverNotInIt =
          res.status === 422 &&
          errorsOf(res.text).every((e) => e.field === 'cover_image_id' && e.message === 'must be an image in the album');
        expect({ status: res.status, allowed, body: res.text }).toMatchObject({ allowed: [200, 409].includes(res.status) || coverNotInIt });
      }),
      settings,
    );
  });

  it('POST /api/v1/albums/{id}/images and …/remove: id lists are accepted exactly when the document allows them (ids that name nothing aside)', async () => {
    const body = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({ image_ids: fc.array(fc.oneof(fc.constant(imageId), fc.uuid()), { minLength: 1, maxLength: 4 }) }),
      },
      {
        weight: 4,
        arbitrary: rarely(
          fc.record({ image_ids: mostly(fc.array(ids, { minLength: 1, maxLength: 4 }), fc.oneof(fc.constant([]), fc.jsonValue())) }),
        ),
      },
      { weight: 1, arbitrary: fc.constant({ image_ids: Array.from({ length: 501 }, () => imageId) }) },
      { weight: 1, arbitrary: withPrototypeKeys(fc.record({ image_ids: fc.constant([imageId]) })) },
      { weight: 1, arbitrary: fc.jsonValue() },
    );
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), async (value, adding) => {
        const text = JSON.stringify(value) ?? 'null';
        const route = adding ? 'POST /api/v1/albums/{id}/images' : 'POST /api/v1/albums/{id}/images/remove';
        const path = `/api/v1/albums/${album}/images${adding ? '' : '/remove'}`;
        const res = await send(adding ? albumsAddHandler : albumsRemoveHandler, jsonCall(route, path, text, album));
        const allowed = conforms(componentSchema('ImageIds'), JSON.parse(text));
        const unknown =
          adding &&
          res.status === 422 &&
          errorsOf(res.text).every((e) => /^image_ids\.\d+$/.test(e.field) && e.message.startsWith('names no image'));
        expect({ status: res.status, allowed, body: res.text }).toMatchObject({ allowed: res.status === 200 || unknown });
        // Put back what a removal took, for the next run's cover.
        if (!adding) {
          await send(
            albumsAddHandler,
            jsonCall('POST /api/v1/albums/{id}/images', `/api/v1/albums/${album}/images`, JSON.stringify({ image_ids: [imageId] }), album),
          );
        }
      }),
      settings,
    );
  });

  it('GET and DELETE /api/v1/albums/{id}: an id is refused exactly when the document refuses it', async () => {
    await idsRefusedAsDocumented('albums', albumsGetHandler, albumsDeleteHandler);
  });
});

/**
 * GET and DELETE of `/api/v1/<collection>/{id}` with ids a client might send (real ones in either
 * case, any text, near-misses): each is refused (422) exactly when the document refuses it, else 404.
 */
async function idsRefusedAsDocumented(collection: 'images' | 'albums', get: Handler, remove: Handler) {
  const id = fc.oneof(
    fc.uuid(),
    fc.uuid().map((u) => u.toUpperCase()),
    fc.string({ maxLength: 40 }),
    fc.stringMatching(/^[0-9a-fA-F-]{30,40}$/),
  );
  await fc.assert(
    fc.asyncProperty(id, fc.boolean(), async (candidate, removing) => {
      const route = `${removing ? 'DELETE' : 'GET'} /api/v1/${collection}/{id}`;
      const res = await send(removing ? remove : get, {
        method: removing ? 'DELETE' : 'GET',
        path: `/api/v1/${collection}/${encodeURIComponent(candidate)}`,
        route,
        pathParameters: { id: candidate },
      });
      expect({ status: res.status, candidate }).toMatchObject({ status: parameterConforms(route, 'id', candidate) ? 404 : 422 });
    }),
    settings,
  );
}
