/**
 * Duplicates and declared SHA-256s in direct uploads, through the real handlers, Postgres and two
 * stores: s3rver (the tests' emulator), which reports no checksum, so complete hashes the file; and
 * moto, whose S3 records the SHA-256 of a PutObject sent with `ChecksumAlgorithm: 'SHA256'` and
 * reports it on HeadObject, so complete reads only the header. moto records no checksum from a POST's
 * fields, so there a PutObject with the checksum stands for the browser's checksummed POST; a proxy
 * in front of it counts the bytes complete reads.
 */
import { createHash } from 'node:crypto';
import { CreateBucketCommand, HeadObjectCommand, ListObjectsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AwsStandIn, hasCommand, startAwsStandIn } from '../../support/aws-stand-in';
import { makeJpeg } from '../../support/images';
import { api, apiWith } from '../helpers/api';
import { type StoreRequest, type Switch, storeProxy } from '../helpers/faults';
import { invalid, problem } from '../helpers/problems';
import { assertNoOrphans, objectKeys, resetState, sha256, snapshot, sql } from '../helpers/state';

interface Signed {
  id: string;
  upload: { method: string; url: string; fields: Record<string, string> };
  complete_url: string;
}
interface Image {
  id: string;
  title: string;
  sha256: string;
  size: number;
}

const request = (bytes: Uint8Array, over: Record<string, unknown> = {}) => ({
  title: 'Harbour',
  description: 'From the pier',
  filename: 'IMG_0042.jpg',
  size: bytes.byteLength,
  content_type: 'image/jpeg',
  ...over,
});

const base64Sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('base64');

/** The 409 of a declared SHA-256 that the image `id` has. */
const duplicateOf = (id: string) => ({
  ...problem(
    409,
    `This file is already in the gallery as image ${id}. To upload it again all the same, sign the upload with "allow_duplicate": true.`,
  ),
  duplicate_of: id,
});

/** The 422 of a stored file whose SHA-256 is not the declared one. */
const mismatch = (declared: string, actual: string) =>
  invalid([{ field: 'sha256', message: `was declared as ${declared}, but the uploaded file's SHA-256 is ${actual}` }]);

/** POSTs a file to the signed target the way a browser form does: every field, then `file`. */
async function postFile(signed: Signed, bytes: Uint8Array): Promise<number> {
  const form = new FormData();
  for (const [name, value] of Object.entries(signed.upload.fields)) form.append(name, value);
  form.append('file', new Blob([bytes]), 'photo');
  return (await fetch(signed.upload.url, { method: 'POST', body: form })).status;
}

/** An image made by the multipart path (which compares nothing), with these bytes. */
async function imageOf(bytes: Uint8Array, title: string): Promise<Image> {
  const res = await api.upload({ title, file: { bytes, filename: 'cat.jpg', type: 'image/jpeg' } });
  expect(res.status).toBe(201);
  return res.json as Image;
}

/** Two JPEGs of the same length and different bytes. */
function twoFiles(): [Buffer, Buffer] {
  const a = makeJpeg(64, 48);
  const b = makeJpeg(65, 48);
  const length = Math.max(a.byteLength, b.byteLength);
  return [Buffer.concat([a, Buffer.alloc(length - a.byteLength)]), Buffer.concat([b, Buffer.alloc(length - b.byteLength)])];
}

beforeEach(resetState);

describe('POST /api/v1/uploads with sha256', () => {
  it('signs the checksum into the POST (its fields and its policy) and keeps the declaration, in lower case', async () => {
    const bytes = makeJpeg();
    const res = await api.createUpload(request(bytes, { sha256: sha256(bytes).toUpperCase() }));
    expect(res.status).toBe(201);
    const signed = res.json as Signed;
    expect(signed.upload.fields).toMatchObject({ 'x-amz-checksum-algorithm': 'SHA256', 'x-amz-checksum-sha256': base64Sha256(bytes) });
    const policy = JSON.parse(Buffer.from(signed.upload.fields.Policy ?? '', 'base64').toString()) as { conditions: unknown[] };
    expect(policy.conditions).toEqual(
      expect.arrayContaining([
        ['eq', '$x-amz-checksum-algorithm', 'SHA256'],
        ['eq', '$x-amz-checksum-sha256', base64Sha256(bytes)],
      ]),
    );
    expect(await sql`select sha256 from uploads where id = ${signed.id}`).toEqual([{ sha256: sha256(bytes) }]);
  });

  it('answers 409 naming the image that has the declared SHA-256, with a Link to it, and stores nothing', async () => {
    const bytes = makeJpeg(40, 30);
    const existing = await imageOf(bytes, 'Cat');
    const before = await snapshot();
    for (const declared of [sha256(bytes), sha256(bytes).toUpperCase()]) {
      // Another title; and the same title, which the duplicate answer comes before.
      for (const title of ['Another title', 'Cat']) {
        const res = await api.createUpload(request(bytes, { title, sha256: declared }));
        expect(res.json).toEqual(duplicateOf(existing.id));
        expect(res.headers.link).toBe(`</api/v1/images/${existing.id}>; rel="duplicate"`);
      }
    }
    expect(await snapshot()).toEqual(before);
    // The link is where the image is.
    expect((await api.get(existing.id)).json).toMatchObject({ id: existing.id, title: 'Cat' });
  });

  it('names the oldest image when several have the bytes', async () => {
    const bytes = makeJpeg(40, 30);
    const oldest = await imageOf(bytes, 'First');
    await imageOf(bytes, 'Second');
    await imageOf(bytes, 'Third');
    expect((await api.createUpload(request(bytes, { sha256: sha256(bytes) }))).json).toEqual(duplicateOf(oldest.id));
  });

  it('with "allow_duplicate": true signs it all the same, and completing makes a second image of the same bytes', async () => {
    const bytes = makeJpeg(40, 30);
    const existing = await imageOf(bytes, 'Cat');
    const res = await api.createUpload(request(bytes, { sha256: sha256(bytes), allow_duplicate: true }));
    expect(res.status).toBe(201);
    const signed = res.json as Signed;
    expect(await postFile(signed, bytes)).toBe(204);
    const done = await api.completeUpload(signed.id);
    expect(done.status).toBe(201);
    expect(done.json).toMatchObject({ id: signed.id, title: 'Harbour', sha256: sha256(bytes) });
    expect(await sql`select id from images where sha256 = ${sha256(bytes)} order by created_at`).toEqual([
      { id: existing.id },
      { id: signed.id },
    ]);
    await assertNoOrphans();
  });

  it('compares nothing without sha256 (allow_duplicate alone has no effect): the same file is taken twice, as by multipart', async () => {
    const bytes = makeJpeg(40, 30);
    await imageOf(bytes, 'By multipart');
    await imageOf(bytes, 'By multipart again');
    for (const [title, over] of [
      ['Direct', {}],
      ['Direct again', { allow_duplicate: false }],
    ] as const) {
      const signed = (await api.createUpload(request(bytes, { title, ...over }))).json as Signed;
      expect(signed.upload.fields).not.toHaveProperty('x-amz-checksum-sha256');
      expect(await postFile(signed, bytes)).toBe(204);
      expect((await api.completeUpload(signed.id)).status).toBe(201);
    }
    expect(await sql`select count(*)::int as n from images where sha256 = ${sha256(bytes)}`).toEqual([{ n: 4 }]);
  });

  it.each([
    ['63 hex digits', { sha256: 'a'.repeat(63) }, 'sha256', 'must be a SHA-256 in hex: 64 characters 0-9 and a-f'],
    ['65 hex digits', { sha256: 'a'.repeat(65) }, 'sha256', 'must be a SHA-256 in hex: 64 characters 0-9 and a-f'],
    ['a letter past f', { sha256: `${'a'.repeat(63)}g` }, 'sha256', 'must be a SHA-256 in hex: 64 characters 0-9 and a-f'],
    ['base64 instead of hex', { sha256: base64Sha256(makeJpeg()) }, 'sha256', 'must be a SHA-256 in hex: 64 characters 0-9 and a-f'],
    ['a number', { sha256: 12 }, 'sha256', 'must be a SHA-256 in hex: 64 characters 0-9 and a-f'],
    ['null', { sha256: null }, 'sha256', 'must be a SHA-256 in hex: 64 characters 0-9 and a-f'],
    ['allow_duplicate as text', { allow_duplicate: 'true' }, 'allow_duplicate', 'must be true or false'],
  ])('refuses a declaration with %s: 422, storing nothing', async (_, over, field, message) => {
    const before = await snapshot();
    expect((await api.createUpload(request(makeJpeg(), over))).json).toEqual(invalid([{ field, message }]));
    expect(await snapshot()).toEqual(before);
  });
});

describe('POST /api/v1/uploads/{id}/complete with a declared SHA-256, on a store that reports no checksum (s3rver)', () => {
  it('hashes the file: another file than declared is 422 and deleted, the upload kept; the declared one completes', async () => {
    const [declared, other] = twoFiles();
    const signed = (await api.createUpload(request(declared, { sha256: sha256(declared) }))).json as Signed;
    // s3rver enforces no policy: it stores the other bytes, which S3 would have refused.
    expect(await postFile(signed, other)).toBe(204);
    expect((await api.completeUpload(signed.id)).json).toEqual(mismatch(sha256(declared), sha256(other)));
    expect(await objectKeys()).toEqual([]);
    expect(await sql`select id from images`).toEqual([]);
    expect(await sql`select id from uploads`).toEqual([{ id: signed.id }]);
    expect(await postFile(signed, declared)).toBe(204);
    const done = await api.completeUpload(signed.id);
    expect(done.status).toBe(201);
    expect(done.json).toMatchObject({ sha256: sha256(declared), size: declared.byteLength });
    await assertNoOrphans();
  });
});

const MOTO_BUCKET = 'gallery-duplicates';

// moto_server is a pip package (.ci/run installs it); without it only CI insists.
describe.runIf(hasCommand('moto_server') || process.env.CI)('complete on a store that reports checksums (moto)', () => {
  let moto: AwsStandIn;
  let store: S3Client;
  let proxy: Switch;
  let onMoto: Awaited<ReturnType<typeof apiWith>>;
  /** Every GET of the pending object that went through the proxy: ranged or not, and the bytes of its body. */
  const reads: { ranged: boolean; bytes: number }[] = [];

  beforeAll(async () => {
    moto = await startAwsStandIn();
    store = new S3Client({
      region: 'us-east-1',
      endpoint: moto.url,
      forcePathStyle: true,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    await store.send(new CreateBucketCommand({ Bucket: MOTO_BUCKET }));
    proxy = await storeProxy(() => undefined, {
      target: moto.url,
      answered: (req: StoreRequest, _status, bytes) => {
        if (req.method === 'GET' && req.key.startsWith('uploads/')) reads.push({ ranged: req.ranged, bytes });
      },
    });
    onMoto = await apiWith({
      S3_ENDPOINT: proxy.url,
      S3_BUCKET: MOTO_BUCKET,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      FILES_BASE_URL: `${moto.url}/${MOTO_BUCKET}`,
    });
  });
  afterAll(async () => {
    await proxy?.close();
    store?.destroy();
    await moto?.stop();
  });
  beforeEach(() => {
    reads.length = 0;
  });

  /** A 2 MiB JPEG (a small picture padded after its end marker): its header is in the first 64 KiB. */
  const large = () => Buffer.concat([makeJpeg(64, 48), Buffer.alloc(2 * 1024 * 1024 - makeJpeg(64, 48).byteLength)]);

  /** Signs on moto for `declared`, then stores `bytes` at the signed key, with their checksum or without. */
  async function stored(declared: Buffer, bytes: Buffer, withChecksum: boolean): Promise<Signed> {
    const res = await onMoto.createUpload(request(declared, { sha256: sha256(declared) }));
    expect(res.status).toBe(201);
    const signed = res.json as Signed;
    expect(signed.upload.fields['x-amz-checksum-sha256']).toBe(base64Sha256(declared));
    await store.send(
      new PutObjectCommand({
        Bucket: MOTO_BUCKET,
        Key: `uploads/${signed.id}`,
        Body: bytes,
        ContentType: 'image/jpeg',
        ...(withChecksum ? { ChecksumAlgorithm: 'SHA256' } : {}),
      }),
    );
    const head = await store.send(new HeadObjectCommand({ Bucket: MOTO_BUCKET, Key: `uploads/${signed.id}`, ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumSHA256).toBe(withChecksum ? base64Sha256(bytes) : undefined);
    return signed;
  }

  /** The keys on moto that are this upload's (the bucket is kept from test to test). */
  const keysOnMoto = async (id: string) =>
    ((await store.send(new ListObjectsCommand({ Bucket: MOTO_BUCKET }))).Contents ?? [])
      .map((o) => o.Key ?? '')
      .filter((key) => key.includes(id))
      .sort();

  it('the store vouches for the declared SHA-256: complete reads only the first 64 KiB of a 2 MiB file', async () => {
    const bytes = large();
    const signed = await stored(bytes, bytes, true);
    const res = await onMoto.completeUpload(signed.id);
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ id: signed.id, size: bytes.byteLength, sha256: sha256(bytes), width: 64, height: 48 });
    expect(reads).toEqual([{ ranged: true, bytes: 64 * 1024 }]);
    expect(await keysOnMoto(signed.id)).toEqual([`images/${signed.id}.jpg`]);
    expect(await sql`select sha256 from images where id = ${signed.id}`).toEqual([{ sha256: sha256(bytes) }]);
  });

  it('the store keeps no checksum of the object: complete reads it whole for its SHA-256, as on s3rver', async () => {
    const bytes = large();
    const signed = await stored(bytes, bytes, false);
    expect((await onMoto.completeUpload(signed.id)).json).toMatchObject({ sha256: sha256(bytes) });
    expect(reads).toEqual([
      { ranged: true, bytes: 64 * 1024 },
      { ranged: false, bytes: bytes.byteLength },
    ]);
  });

  it('the store reports another SHA-256 than declared: 422 before any read, the file deleted, the upload kept', async () => {
    const [declared, other] = twoFiles();
    const signed = await stored(declared, other, true);
    expect((await onMoto.completeUpload(signed.id)).json).toEqual(mismatch(sha256(declared), sha256(other)));
    expect(reads).toEqual([]);
    expect(await keysOnMoto(signed.id)).toEqual([]);
    expect(await sql`select id from images`).toEqual([]);
    expect(await sql`select id from uploads`).toEqual([{ id: signed.id }]);
  });
});
