/**
 * Issue 9's reproductions, each a request that once crashed, hung or 500ed a function: now a quick
 * 4xx problem+json that changes nothing. And the places where the OpenAPI document and the service
 * disagreed, each checked from both sides.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as docs } from '../../functions/docs';
import { makeJpeg } from '../../support/images';
import { multipart } from '../../support/lambda-events';
import { api } from '../helpers/api';
import { componentSchema, conforms, parameterConforms, parameterSchema } from '../helpers/contract';
import { invoke } from '../helpers/lambda';
import { invalid, problem } from '../helpers/problems';
import { resetState, snapshot } from '../helpers/state';

const XX = { 'content-type': 'multipart/form-data; boundary=XX' };
const malformed = (detail: string) => problem(400, `The multipart body is malformed: ${detail}.`);

let bystander: { id: string; title: string };

beforeEach(async () => {
  await resetState();
  const res = await api.upload({ title: 'bystander' });
  expect(res.status).toBe(201);
  bystander = res.json as typeof bystander;
});

/** Sends a request that must be refused with `status` and `body`, and checks that nothing changed. */
async function refused(request: () => ReturnType<typeof api.post>, status: number, body: unknown): Promise<void> {
  const before = await snapshot();
  const res = await request();
  expect(res.json).toEqual(body);
  expect(res.status).toBe(status);
  expect(await snapshot()).toEqual(before);
}

/** A complete, valid upload body with `extra` parts between the fields and the file. */
const uploadWith = (extra: [string, string][], order: 'before' | 'after' = 'after') =>
  multipart([
    ...(order === 'before' ? extra : []),
    ['title', 'Extra fields'],
    ['description', 'a'],
    ...(order === 'after' ? extra : []),
    ['file', { bytes: makeJpeg(), filename: 'cat.jpg', type: 'image/jpeg' }],
  ]);

describe('the multipart parser never throws outside the request', () => {
  it('1. a part without a name is a 400', () =>
    refused(
      () => api.post(XX, Buffer.from('--XX\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XX--\r\n')),
      400,
      malformed('a part has no name'),
    ));

  it('2. a file part cut off before the closing boundary is a 400', () =>
    refused(
      () => api.post(XX, Buffer.from('--XX\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\nx')),
      400,
      malformed('it ends inside a part, before the closing boundary'),
    ));

  it.each(['after', 'before'] as const)(
    '3. description[] %s description is an unknown field (422), never merged or dropped',
    async (order) => {
      const { body, contentType } = await uploadWith([['description[]', 'b']], order);
      await refused(
        () => api.post({ 'content-type': contentType }, body),
        422,
        invalid([{ field: 'description[]', message: 'is not an allowed field' }]),
      );
    },
  );

  it('3. a field sent twice is a list, refused as not a string (422)', async () => {
    const { body, contentType } = await uploadWith([['description', 'b']]);
    await refused(
      () => api.post({ 'content-type': contentType }, body),
      422,
      invalid([{ field: 'description', message: 'must be a string' }]),
    );
  });

  it('3. a field named __proto__ is an unknown field, not a prototype', async () => {
    const { body, contentType } = await uploadWith([
      ['__proto__', 'x'],
      ['constructor', 'y'],
    ]);
    await refused(
      () => api.post({ 'content-type': contentType }, body),
      422,
      invalid([
        { field: '__proto__', message: 'is not an allowed field' },
        { field: 'constructor', message: 'is not an allowed field' },
      ]),
    );
  });

  it('4. a part whose headers never end is a 400 at once, not a timeout', () =>
    refused(
      () => api.post(XX, Buffer.from('--XX\r\n\r\n--XX--')),
      400,
      malformed('every part needs a Content-Disposition: form-data header'),
    ));

  it('4. headers without their empty line, however long the body, are a 400', () =>
    refused(
      () =>
        api.post(
          XX,
          Buffer.concat([Buffer.from('--XX\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n'), Buffer.alloc(20_000, 'a')]),
        ),
      400,
      malformed("a part's headers do not end with an empty line"),
    ));

  it.each([
    ['no boundary at all', 'hello', malformed('it does not contain its boundary')],
    ['a boundary not followed by CRLF', '--XXjunk', malformed('a boundary line is not followed by CRLF')],
    ['a header line without a colon', '--XX\r\nnonsense\r\n\r\nx\r\n--XX--', malformed('a part header has no name')],
    [
      'a repeated Content-Disposition',
      '--XX\r\nContent-Disposition: form-data; name="a"\r\nContent-Disposition: form-data; name="b"\r\n\r\nx\r\n--XX--',
      malformed('a part repeats its content-disposition header'),
    ],
    [
      'an attachment, not form-data',
      '--XX\r\nContent-Disposition: attachment; name="a"\r\n\r\nx\r\n--XX--',
      malformed('every part needs a Content-Disposition: form-data header'),
    ],
    [
      'an unterminated quoted name',
      '--XX\r\nContent-Disposition: form-data; name="title\r\n\r\nx\r\n--XX--',
      malformed('every part needs a Content-Disposition: form-data header'),
    ],
    [
      'a bad filename*',
      '--XX\r\nContent-Disposition: form-data; name="file"; filename*=UTF-8\'\'%FF\r\n\r\nx\r\n--XX--',
      malformed('a part has an unreadable filename*'),
    ],
  ])('%s is a 400', (_, body, expected) => refused(() => api.post(XX, Buffer.from(body, 'latin1')), 400, expected));

  it('more parts than any upload has is a 400', () => {
    const part = '--XX\r\nContent-Disposition: form-data; name="x"\r\n\r\ny\r\n';
    return refused(() => api.post(XX, Buffer.from(`${part.repeat(17)}--XX--\r\n`)), 400, malformed('it has more than 16 parts'));
  });

  it.each([
    ['no boundary parameter', 'multipart/form-data'],
    ['a boundary longer than 70 characters', `multipart/form-data; boundary=${'b'.repeat(71)}`],
    ['a boundary with a character RFC 2046 forbids', 'multipart/form-data; boundary=a"b'],
    ['another multipart type', 'multipart/mixed; boundary=XX'],
  ])('a Content-Type with %s is a 400', (_, type) =>
    refused(
      () => api.post({ 'content-type': type }, Buffer.from('--XX\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--XX--')),
      400,
      problem(400, 'The body must be multipart/form-data with the fields title, description and file.'),
    ),
  );
});

describe('the parser reads what real clients send', () => {
  it('a quoted boundary, a preamble, transport padding, an epilogue and a filename* name', async () => {
    const jpeg = makeJpeg();
    const body = Buffer.concat([
      Buffer.from('preamble to ignore\r\n--a:b c\t \r\nContent-Disposition: form-data; name=title\r\n\r\nQuoted boundary\r\n'),
      Buffer.from('--a:b c\r\ncontent-disposition: FORM-DATA; name="description"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nd\r\n'),
      Buffer.from(
        '--a:b c\r\nContent-Disposition: form-data; name="file"; filename*=UTF-8\'\'caf%C3%A9.jpg\r\nContent-Type: image/jpeg\r\n\r\n',
      ),
      jpeg,
      Buffer.from('\r\n--a:b c--\r\nepilogue to ignore'),
    ]);
    const res = await api.post({ 'content-type': 'multipart/form-data; boundary="a:b c"' }, body);
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ title: 'Quoted boundary', description: 'd', filename: 'café.jpg' });
  });

  it('a backslash-escaped quote in a file name, and a Windows path kept for the name cleaner', async () => {
    const file = (name: string) =>
      Buffer.concat([
        Buffer.from(
          `--XX\r\nContent-Disposition: form-data; name="title"\r\n\r\n${name.length}\r\n--XX\r\nContent-Disposition: form-data; name="description"\r\n\r\n\r\n`,
        ),
        Buffer.from(`--XX\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n\r\n`),
        makeJpeg(),
        Buffer.from('\r\n--XX--\r\n'),
      ]);
    expect((await api.post(XX, file('say \\"hi\\".jpg'))).json).toMatchObject({ filename: 'say "hi".jpg' });
    expect((await api.post(XX, file('C:\\photos\\cat.jpg'))).json).toMatchObject({ filename: 'cat.jpg' });
  });
});

describe('text that is not what the client sent is refused, never stored', () => {
  it('6. a byte 0xFF in a multipart title is a 400', () => {
    const body = Buffer.concat([
      Buffer.from('--XX\r\nContent-Disposition: form-data; name="title"\r\n\r\nbad '),
      Buffer.from([0xff]),
      Buffer.from(
        '\r\n--XX\r\nContent-Disposition: form-data; name="description"\r\n\r\nd\r\n--XX\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n',
      ),
      makeJpeg(),
      Buffer.from('\r\n--XX--\r\n'),
    ]);
    return refused(() => api.post(XX, body), 400, problem(400, 'The field "title" is not valid UTF-8 text.'));
  });

  it('6. a byte 0xFF in a PATCH body that arrives as bytes is a 400', () =>
    refused(
      () =>
        api.patchRaw(
          bystander.id,
          { 'content-type': 'application/json' },
          Buffer.from([...Buffer.from('{"description":"'), 0xff, ...Buffer.from('"}')]),
        ),
      400,
      problem(400, 'The body is not valid UTF-8.'),
    ));

  it('6. a PATCH body a gateway already decoded, with U+FFFD where the byte was, is a 422', () =>
    refused(
      () => api.patch(bystander.id, '{"description":"\ufffd"}'),
      422,
      invalid([{ field: 'description', message: 'must not contain U+FFFD, the mark of bytes that were not UTF-8' }]),
    ));
});

describe('5. cursors naming moments Postgres cannot hold', () => {
  const cursor = (createdAt: string) => Buffer.from(`${createdAt}|00000000-0000-0000-0000-000000000000`).toString('base64url');

  it.each([
    '2026-02-31T00:00:00.000000+00:00',
    '0000-01-01T00:00:00.000000+00:00',
    '2025-02-29T00:00:00.000000+00:00',
    '1900-02-29T00:00:00.000000+00:00',
    '2026-04-31T00:00:00.000000+00:00',
    '2026-01-01T24:00:00.000000+00:00',
    '2026-01-01T23:60:00.000000+00:00',
    '2026-01-01T23:59:60.000000+00:00',
  ])('%s is a 422', async (moment) => {
    const res = await api.list({ cursor: cursor(moment) });
    expect(res.status).toBe(422);
    expect(res.json).toEqual(invalid([{ field: 'cursor', message: 'is not a valid cursor' }]));
  });

  it.each(['2024-02-29T23:59:59.999999+00:00', '2000-02-29T00:00:00.000000+00:00', '0001-01-01T00:00:00.000000+00:00'])(
    '%s, a real moment, is a position (200)',
    async (moment) => {
      expect((await api.list({ cursor: cursor(moment) })).status).toBe(200);
    },
  );
});

describe('the OpenAPI document says what the service does', () => {
  const imageRoute = 'GET /api/v1/images/{id}';
  const listRoute = 'GET /api/v1/images';

  it('an upper-case UUID is an id on both sides', async () => {
    const upper = bystander.id.toUpperCase();
    expect(parameterConforms(imageRoute, 'id', upper)).toBe(true);
    expect((await api.get(upper)).json).toMatchObject({ id: bystander.id });
    expect(parameterConforms(imageRoute, 'id', `{${bystander.id}}`)).toBe(false);
    expect((await api.get(`{${bystander.id}}`)).status).toBe(422);
  });

  it.each([
    ['NUL', 'a\u0000b'],
    ['a lone high surrogate', 'a\ud800b'],
    ['a lone low surrogate', '\udc00'],
    ['U+FFFD', '\ufffd'],
  ])('a description with %s is refused by the document and by the service', async (_, text) => {
    expect(conforms(componentSchema('ImagePatch'), { description: text })).toBe(false);
    expect((await api.patch(bystander.id, { description: text })).status).toBe(422);
  });

  it('a description with emoji, CJK and RTL text is allowed by both', async () => {
    const text = '😀 猫 עברית';
    expect(conforms(componentSchema('ImagePatch'), { description: text })).toBe(true);
    expect((await api.patch(bystander.id, { description: text })).status).toBe(200);
  });

  it.each(['0x10', '1e1', '+5', ' 5', '5 ', '5.0', '05', '', '١٠'])(
    'limit=%j is refused by the document and by the service',
    async (limit) => {
      expect(parameterConforms(listRoute, 'limit', limit)).toBe(false);
      const res = await api.list({ limit });
      expect(res.status).toBe(422);
      expect(res.json).toEqual(invalid([{ field: 'limit', message: 'must be a whole number from 1 to 100' }]));
    },
  );

  it('limit is documented as the integer 1 to 100', () => {
    expect(parameterSchema(listRoute, 'limit')).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 });
    for (const limit of ['1', '16', '100']) expect(parameterConforms(listRoute, 'limit', limit)).toBe(true);
  });

  it.each(['application/merge-patch+json', 'application/vnd.api+json', 'text/json', 'application/json; charset=latin1'])(
    'a PATCH sent as %s is a 400: only application/json is documented',
    (type) =>
      refused(
        () => api.patch(bystander.id, '{"description":"x"}', { 'content-type': type }),
        400,
        problem(400, 'The body must be JSON, sent with Content-Type: application/json.'),
      ),
  );

  it('a PATCH sent as application/json; charset=UTF-8 is taken', async () => {
    expect((await api.patch(bystander.id, { description: 'x' }, { 'content-type': 'application/json; charset=UTF-8' })).status).toBe(200);
  });

  it("/docs/{file}'s 404 says no such file, as documented", async () => {
    const res = await invoke(docs, {
      method: 'GET',
      path: '/docs/nope.js',
      route: 'GET /docs/{file}',
      pathParameters: { file: 'nope.js' },
    });
    expect(res.status).toBe(404);
    expect(res.json).toEqual(problem(404, 'No such file.'));
  });
});
