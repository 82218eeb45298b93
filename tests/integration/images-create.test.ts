import { beforeEach, describe, expect, it } from 'vitest';
import { GIF, makeJpeg, makePng } from '../../support/images';
import { api } from '../helpers/api';
import { invalid, problem } from '../helpers/problems';
import { assertNoOrphans, getObject, objectKeys, resetState, rowIds, sha256 } from '../helpers/state';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

beforeEach(resetState);

describe('POST /api/v1/images/', () => {
  it('stores the seed README example: 201, the image, Location, the object under a server-made key', async () => {
    const jpeg = makeJpeg(64, 48);
    const res = await api.upload({
      title: 'My title',
      description: 'Short desc',
      file: { bytes: jpeg, filename: 'image.jpg', type: 'image/jpeg' },
    });

    expect(res.status).toBe(201);
    const image = res.json as Record<string, string>;
    // The seed's seven fields first, as the seed has them; then what the file is.
    expect(Object.keys(image)).toEqual([
      'id',
      'title',
      'description',
      'filename',
      'file_url',
      'created_at',
      'updated_at',
      'content_type',
      'size',
      'width',
      'height',
      'sha256',
      'variants',
      'processing',
      'taken_at',
      'camera',
      'exposure',
    ]);
    expect(image).toMatchObject({ content_type: 'image/jpeg', size: jpeg.byteLength, width: 64, height: 48, sha256: sha256(jpeg) });
    // Its displayable copies are made after the answer, by the processing function.
    expect(image).toMatchObject({ variants: null, processing: 'pending' });
    expect(image.id).toMatch(UUID);
    expect(image).toMatchObject({ title: 'My title', description: 'Short desc', filename: 'image.jpg' });
    // Originals are private by default: the stored URL, presigned for this answer.
    const fileUrl = new URL(image.file_url ?? '');
    expect(`${fileUrl.origin}${fileUrl.pathname}`).toBe(`${process.env.FILES_BASE_URL}/images/${image.id}.jpg`);
    expect(fileUrl.searchParams.has('X-Amz-Signature')).toBe(true);
    expect(image.created_at).toMatch(ISO);
    expect(image.updated_at).toBe(image.created_at);
    expect(res.headers.location).toBe(`/api/v1/images/${image.id}`);
    expect(res.headers['content-type']).toBe('application/json');

    expect(await objectKeys()).toEqual([`images/${image.id}.jpg`]);
    const stored = await getObject(`images/${image.id}.jpg`);
    expect(stored.contentType).toBe('image/jpeg');
    expect(sha256(stored.bytes)).toBe(sha256(jpeg));
  });

  it('serves the uploaded bytes at file_url (sha256 equal)', async () => {
    const png = makePng(40, 30);
    const res = await api.upload({ title: 'fetch me', file: { bytes: png, filename: 'p.png', type: 'image/png' } });
    expect(res.status).toBe(201);
    const fetched = await fetch((res.json as { file_url: string }).file_url);
    expect(fetched.status).toBe(200);
    expect(fetched.headers.get('content-type')).toBe('image/png');
    expect(sha256(Buffer.from(await fetched.arrayBuffer()))).toBe(sha256(png));
  });

  it('answers the same on /api/v1/images without the trailing slash', async () => {
    const res = await api.uploadParts(
      [
        ['title', 'no slash'],
        ['description', ''],
        ['file', { bytes: GIF, filename: 'a.gif' }],
      ],
      '/api/v1/images',
    );
    expect(res.status).toBe(201);
    const image = res.json as { id: string; description: string; file_url: string };
    expect(image.description).toBe('');
    expect(new URL(image.file_url).pathname.endsWith(`/images/${image.id}.gif`)).toBe(true);
    expect(res.headers.location).toBe(`/api/v1/images/${image.id}`);
  });

  it('accepts titles of exactly 32 multi-byte characters (emoji, Cyrillic) and refuses 33', async () => {
    const emoji32 = '😀'.repeat(32);
    const cyrillic32 = 'Ж'.repeat(32);
    for (const title of [emoji32, cyrillic32]) {
      const res = await api.upload({ title, description: 'я'.repeat(32) });
      expect(res.status, title).toBe(201);
      expect((res.json as { title: string }).title).toBe(title);
    }
    for (const title of ['😀'.repeat(33), 'Ж'.repeat(33)]) {
      const res = await api.upload({ title });
      expect(res.status).toBe(422);
      expect(res.json).toEqual(invalid([{ field: 'title', message: 'must be at most 32 characters' }]));
    }
    const longDescription = await api.upload({ title: 'desc too long', description: 'я'.repeat(33) });
    expect(longDescription.status).toBe(422);
    expect((longDescription.json as { errors: unknown }).errors).toEqual([
      { field: 'description', message: 'must be at most 32 characters' },
    ]);
    expect((await rowIds()).length).toBe(2);
    await assertNoOrphans();
  });

  it('answers 409 for a taken title and leaves no object behind', async () => {
    expect((await api.upload({ title: 'Taken' })).status).toBe(201);
    const res = await api.upload({ title: 'Taken' });
    expect(res.status).toBe(409);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.json).toEqual(problem(409, 'An image with this title already exists.'));
    const { rows, keys } = await assertNoOrphans();
    expect(rows).toHaveLength(1);
    expect(keys).toHaveLength(1);
  });

  it('judges the type by the bytes: a text file declared as image/jpeg is 415', async () => {
    const res = await api.upload({
      title: 'liar',
      file: { bytes: Buffer.from('just some text, not a picture\n'), filename: 'cat.jpg', type: 'image/jpeg' },
    });
    expect(res.status).toBe(415);
    expect(res.json).toEqual(problem(415, 'The file is not a JPEG, PNG, WebP, GIF, AVIF, HEIC or HEIF image.'));
    expect(await objectKeys()).toEqual([]);
    expect(await rowIds()).toEqual([]);
  });

  it('stores a PNG declared as JPEG as a PNG, named by the server', async () => {
    const res = await api.upload({ title: 'png in disguise', file: { bytes: makePng(), filename: 'x.jpg', type: 'image/jpeg' } });
    expect(res.status).toBe(201);
    const image = res.json as { id: string; filename: string };
    expect(image.filename).toBe('x.jpg');
    expect((await getObject(`images/${image.id}.png`)).contentType).toBe('image/png');
  });

  it('answers 413 with the limit for a file over MAX_UPLOAD_BYTES, storing nothing', async () => {
    const limit = 4 * 1024 * 1024;
    const big = Buffer.concat([makeJpeg(), Buffer.alloc(limit)]);
    const res = await api.upload({ title: 'too big', file: { bytes: big, filename: 'big.jpg', type: 'image/jpeg' } });
    expect(res.status).toBe(413);
    expect(res.json).toEqual(
      problem(
        413,
        'The file is larger than the limit of 4194304 bytes (4 MiB). Larger files go straight to the store: POST /api/v1/uploads (see /docs).',
      ),
    );
    expect(await objectKeys()).toEqual([]);
    expect(await rowIds()).toEqual([]);
  });

  it('accepts a file of exactly the limit', async () => {
    const limit = 4 * 1024 * 1024;
    const jpeg = makeJpeg();
    const exact = Buffer.concat([jpeg, Buffer.alloc(limit - jpeg.length)]);
    const res = await api.upload({ title: 'exactly the limit', file: { bytes: exact, filename: 'e.jpg' } });
    expect(res.status).toBe(201);
    await assertNoOrphans();
  });

  it('cuts the client file name to its last segment and drops control characters', async () => {
    const res = await api.uploadParts([
      ['title', 'paths'],
      ['description', 'd'],
      ['file', { bytes: makeJpeg(), filename: 'a\u0007b\u202e.jpg' }],
    ]);
    expect(res.status).toBe(201);
    expect((res.json as { filename: string }).filename).toBe('ab.jpg');
  });

  it.each([
    [
      'the title is missing',
      [
        ['description', 'd'],
        ['file', 'jpeg'],
      ],
      [{ field: 'title', message: 'is required' }],
    ],
    [
      'the description is missing',
      [
        ['title', 't'],
        ['file', 'jpeg'],
      ],
      [{ field: 'description', message: 'is required' }],
    ],
    [
      'the file is missing',
      [
        ['title', 't'],
        ['description', 'd'],
      ],
      [{ field: 'file', message: 'is required' }],
    ],
    [
      'the file is a text field',
      [
        ['title', 't'],
        ['description', 'd'],
        ['file', 'not a file'],
      ],
      [{ field: 'file', message: 'must be a file part (with a filename), not a text field' }],
    ],
    [
      'the title is blank',
      [
        ['title', '   '],
        ['description', 'd'],
        ['file', 'jpeg'],
      ],
      [{ field: 'title', message: 'must not be blank' }],
    ],
    [
      'the title is empty',
      [
        ['title', ''],
        ['description', 'd'],
        ['file', 'jpeg'],
      ],
      [{ field: 'title', message: 'must not be empty' }],
    ],
    [
      'an unknown field is sent',
      [
        ['title', 't'],
        ['description', 'd'],
        ['owner', 'me'],
        ['file', 'jpeg'],
      ],
      [{ field: 'owner', message: 'is not an allowed field' }],
    ],
    [
      'two files are sent',
      [
        ['title', 't'],
        ['description', 'd'],
        ['file', 'jpeg'],
        ['file', 'jpeg'],
      ],
      [{ field: 'file', message: 'must be a single file' }],
    ],
    [
      'the file is empty',
      [
        ['title', 't'],
        ['description', 'd'],
        ['file', 'empty'],
      ],
      [{ field: 'file', message: 'must not be empty' }],
    ],
  ])('answers 422 when %s, changing nothing', async (_, parts, errors) => {
    const res = await api.uploadParts(
      (parts as [string, string][]).map(([name, value]): [string, string | { bytes: Buffer; filename: string }] =>
        name === 'file' && value === 'jpeg'
          ? [name, { bytes: makeJpeg(), filename: 'f.jpg' }]
          : name === 'file' && value === 'empty'
            ? [name, { bytes: Buffer.alloc(0), filename: 'f.jpg' }]
            : [name, value],
      ),
    );
    expect(res.status).toBe(422);
    expect((res.json as { errors: unknown }).errors).toEqual(errors);
    expect(await rowIds()).toEqual([]);
    expect(await objectKeys()).toEqual([]);
  });

  it('answers 400 when the body is not multipart', async () => {
    const res = await api.post({ 'content-type': 'application/json' }, '{"title":"t","description":"d"}');
    expect(res.status).toBe(400);
    expect(res.json).toEqual(problem(400, 'The body must be multipart/form-data with the fields title, description and file.'));
  });

  it('answers 400 for a malformed multipart body', async () => {
    const res = await api.post(
      { 'content-type': 'multipart/form-data; boundary=XYZ' },
      Buffer.from('--XYZ\r\nContent-Disposition: form-data; name="title"\r\n\r\nunterminated'),
    );
    expect(res.status).toBe(400);
    expect(res.json).toEqual(problem(400, 'The multipart body is malformed: it ends inside a part, before the closing boundary.'));
  });
});
