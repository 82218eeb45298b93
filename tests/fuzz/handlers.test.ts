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
import { handler as createHandler } from '../../functions/images-create';
import { handler as deleteHandler } from '../../functions/images-delete';
import { handler as getHandler } from '../../functions/images-get';
import { handler as listHandler } from '../../functions/images-list';
import { handler as updateHandler } from '../../functions/images-update';
import { handler as completeUploadHandler } from '../../functions/uploads-complete';
import { handler as createUploadHandler } from '../../functions/uploads-create';
import { makeJpeg, makePng } from '../../support/images';
import { type Call, httpEvent, lambdaContext } from '../../support/lambda-events';
import { api } from '../helpers/api';
import { assertDocumented, componentSchema, conforms, parameterConforms } from '../helpers/contract';
import { assertNoOrphans, resetState } from '../helpers/state';

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
    const id = fc.oneof(
      fc.uuid(),
      fc.uuid().map((u) => u.toUpperCase()),
      fc.string({ maxLength: 40 }),
      fc.stringMatching(/^[0-9a-fA-F-]{30,40}$/),
    );
    await fc.assert(
      fc.asyncProperty(id, fc.boolean(), async (candidate, remove) => {
        const route = remove ? 'DELETE /api/v1/images/{id}' : 'GET /api/v1/images/{id}';
        const res = await send(remove ? deleteHandler : getHandler, {
          method: remove ? 'DELETE' : 'GET',
          path: `/api/v1/images/${encodeURIComponent(candidate)}`,
          route,
          pathParameters: { id: candidate },
        });
        expect({ status: res.status, candidate }).toMatchObject({ status: parameterConforms(route, 'id', candidate) ? 404 : 422 });
      }),
      settings,
    );
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
