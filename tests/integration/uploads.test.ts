/**
 * Direct uploads through the real handlers, the real bucket (s3rver) and Postgres: sign, POST the
 * file to the signed target as a browser or curl does, complete. s3rver enforces nothing of a signed
 * POST (no size range, type, key, signature or expiry), so the tests send the wrong thing on purpose
 * and hold the completion to every check.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import jpeg from 'jpeg-js';
import { beforeEach, describe, expect, it } from 'vitest';
import { sweepExpiredUploads } from '../../lib/uploads/pending';
import { makeJpeg, makePng } from '../../support/images';
import { api, apiWith } from '../helpers/api';
import { type StoreRequest, storeProxy } from '../helpers/faults';
import { gigapixelHeic, megapixelAvif } from '../helpers/image-bombs';
import { invalid, problem, tooManyPixels } from '../helpers/problems';
import { assertNoOrphans, getObject, objectKeys, putObject, resetState, sha256, snapshot, sql, unsigned } from '../helpers/state';
import { runsWith } from '../helpers/tools';

const run = promisify(execFile);

interface Signed {
  id: string;
  upload: { method: string; url: string; fields: Record<string, string> };
  expires_at: string;
  complete_url: string;
}
interface Image {
  id: string;
  title: string;
  filename: string;
  file_url: string;
  content_type: string;
  size: number;
  width: number;
  height: number;
  sha256: string;
}

const request = (over: Record<string, unknown> = {}) => ({
  title: 'Harbour',
  description: 'From the pier',
  filename: 'IMG_0042.jpg',
  size: 1000,
  content_type: 'image/jpeg',
  ...over,
});

/** Signs an upload for these bytes (unless told to declare otherwise). */
async function sign(bytes: Uint8Array, over: Record<string, unknown> = {}): Promise<Signed> {
  const res = await api.createUpload(request({ size: bytes.byteLength, ...over }));
  expect(res.status).toBe(201);
  return res.json as Signed;
}

/** POSTs a file to the signed target the way a browser form does: every field, then `file`. */
async function postFile(signed: Signed, bytes: Uint8Array, fields: Record<string, string> = {}): Promise<number> {
  const form = new FormData();
  for (const [name, value] of Object.entries({ ...signed.upload.fields, ...fields })) form.append(name, value);
  form.append('file', new Blob([bytes]), 'photo');
  const res = await fetch(signed.upload.url, { method: 'POST', body: form });
  return res.status;
}

/** A JPEG with a hand-written EXIF APP1 right after SOI, holding only the Orientation tag. */
function withOrientation(bytes: Buffer, orientation: number): Buffer {
  const tiff = Buffer.alloc(8 + 2 + 12 + 4);
  tiff.write('II', 0, 'latin1');
  tiff.writeUInt16LE(42, 2);
  tiff.writeUInt32LE(8, 4);
  tiff.writeUInt16LE(1, 8);
  tiff.writeUInt16LE(0x0112, 10); // Orientation
  tiff.writeUInt16LE(3, 12); // SHORT
  tiff.writeUInt32LE(1, 14);
  tiff.writeUInt16LE(orientation, 18);
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const header = Buffer.from([0xff, 0xe1, 0, 0]);
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([bytes.subarray(0, 2), header, payload, bytes.subarray(2)]);
}

/** A smooth photo-like JPEG (gradients, so a large one stays a few MB). */
function photo(width: number, height: number): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data[i] = (x * 255) / width;
      data[i + 1] = (y * 255) / height;
      data[i + 2] = ((x + y) * 7) & 0xff;
      data[i + 3] = 255;
    }
  }
  return Buffer.from(jpeg.encode({ data, width, height }, 80).data);
}

/** The bytes given, each padded at its end (after the image) to the length of the longest. */
function sameLength(...files: Buffer[]): Buffer[] {
  const length = Math.max(...files.map((f) => f.byteLength));
  return files.map((f) => Buffer.concat([f, Buffer.alloc(length - f.byteLength)]));
}

beforeEach(resetState);

describe('POST /api/v1/uploads: signing', () => {
  it('answers 201 with a presigned POST for exactly the declared size and type at uploads/<id>', async () => {
    const res = await api.createUpload(request());
    expect(res.status).toBe(201);
    const signed = res.json as Signed;
    expect(signed.upload.method).toBe('POST');
    expect(signed.upload.url).toBe(`${process.env.S3_ENDPOINT}/${process.env.S3_BUCKET}`);
    expect(signed.upload.fields).toMatchObject({ key: `uploads/${signed.id}`, 'Content-Type': 'image/jpeg' });
    expect(signed.complete_url).toBe(`/api/v1/uploads/${signed.id}/complete`);
    const policy = JSON.parse(Buffer.from(signed.upload.fields.Policy ?? '', 'base64').toString()) as {
      expiration: string;
      conditions: unknown[];
    };
    expect(policy.conditions).toEqual(
      expect.arrayContaining([
        ['content-length-range', 1000, 1000],
        ['eq', '$Content-Type', 'image/jpeg'],
        { key: `uploads/${signed.id}` },
      ]),
    );
    // Valid for UPLOAD_URL_EXPIRES_SECONDS (900), the pending row as long.
    const seconds = (Date.parse(signed.expires_at) - Date.now()) / 1000;
    expect(seconds).toBeGreaterThan(880);
    expect(seconds).toBeLessThanOrEqual(900);
    expect(Math.abs(Date.parse(policy.expiration) - Date.parse(signed.expires_at))).toBeLessThan(5_000);
    const [row] = await sql`select title, description, filename, size, content_type from uploads where id = ${signed.id}`;
    expect(row).toEqual({
      title: 'Harbour',
      description: 'From the pier',
      filename: 'IMG_0042.jpg',
      size: '1000',
      content_type: 'image/jpeg',
    });
    expect(await objectKeys()).toEqual([]);
  });

  it('keeps the declared file name only as a name: cut to its last segment, controls removed', async () => {
    const signed = (await api.createUpload(request({ filename: '../../etc/\u0000passwd.heic', content_type: 'image/heic' })))
      .json as Signed;
    const [row] = await sql`select filename from uploads where id = ${signed.id}`;
    expect(row?.filename).toBe('passwd.heic');
  });

  it.each([
    [
      'a size above MAX_DIRECT_UPLOAD_BYTES',
      { size: 100 * 1024 * 1024 + 1 },
      problem(413, 'The file is larger than the limit of 104857600 bytes (100 MiB).'),
    ],
    [
      'a type that is not an image',
      { content_type: 'text/html' },
      problem(415, 'content_type must be an accepted image type: JPEG, PNG, WebP, GIF, AVIF, HEIC or HEIF.'),
    ],
    [
      'an SVG',
      { content_type: 'image/svg+xml' },
      problem(415, 'content_type must be an accepted image type: JPEG, PNG, WebP, GIF, AVIF, HEIC or HEIF.'),
    ],
    ['a size of 0', { size: 0 }, invalid([{ field: 'size', message: 'must be at least 1 byte' }])],
    ['a fractional size', { size: 1.5 }, invalid([{ field: 'size', message: 'must be a whole number of bytes' }])],
    ['a size as text', { size: '1000' }, invalid([{ field: 'size', message: 'must be a whole number of bytes' }])],
    ['a blank title', { title: '   ' }, invalid([{ field: 'title', message: 'must not be blank' }])],
    ['an empty file name', { filename: '' }, invalid([{ field: 'filename', message: 'must not be empty' }])],
    ['an unknown field', { key: 'images/mine.jpg' }, invalid([{ field: 'key', message: 'is not an allowed field' }])],
  ])('refuses %s, storing nothing', async (_, over, expected) => {
    const before = await snapshot();
    const res = await api.createUpload(request(over));
    expect(res.json).toEqual(expected);
    expect(await snapshot()).toEqual(before);
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', '__PROTO__'])(
    'refuses the content_type %j, a name every plain object has, with 415, storing nothing',
    async (contentType) => {
      const before = await snapshot();
      const res = await api.createUpload(request({ content_type: contentType }));
      expect(res.json).toEqual(problem(415, 'content_type must be an accepted image type: JPEG, PNG, WebP, GIF, AVIF, HEIC or HEIF.'));
      expect(await snapshot()).toEqual(before);
    },
  );

  it('refuses a title taken now with 409', async () => {
    expect((await api.upload({ title: 'Harbour' })).status).toBe(201);
    const before = await snapshot();
    expect((await api.createUpload(request())).json).toEqual(problem(409, 'An image with this title already exists.'));
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a body that is not JSON with 400', async () => {
    expect((await api.createUpload('{"title":', { 'content-type': 'application/json' })).json).toEqual(
      problem(400, 'The body is not valid JSON.'),
    );
  });
});

describe('POST /api/v1/uploads/{id}/complete', () => {
  it('verifies the stored file, makes the image (201, Location) and leaves nothing pending', async () => {
    const bytes = makeJpeg(120, 80);
    const signed = await sign(bytes);
    expect(await postFile(signed, bytes)).toBe(204);
    const res = await api.completeUpload(signed.id);
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/api/v1/images/${signed.id}`);
    const image = res.json as Image;
    expect(image).toMatchObject({
      id: signed.id,
      title: 'Harbour',
      filename: 'IMG_0042.jpg',
      file_url: expect.stringMatching(new RegExp(`^${process.env.FILES_BASE_URL}/images/${signed.id}\\.jpg\\?X-Amz-`)),
      content_type: 'image/jpeg',
      size: bytes.byteLength,
      width: 120,
      height: 80,
      sha256: sha256(bytes),
    });
    const stored = await getObject(`images/${signed.id}.jpg`);
    expect(sha256(stored.bytes)).toBe(sha256(bytes));
    expect(stored.contentType).toBe('image/jpeg');
    expect(stored.disposition).toBe(`inline; filename="IMG_0042.jpg"; filename*=UTF-8''IMG_0042.jpg`);
    expect(await objectKeys()).toEqual([`images/${signed.id}.jpg`]);
    expect(await sql`select id from uploads`).toEqual([]);
    expect(unsigned((await api.get(signed.id)).json)).toEqual(unsigned(image));
    await assertNoOrphans();
  });

  it('is idempotent: completing again answers 200 with the same image', async () => {
    const bytes = makeJpeg();
    const signed = await sign(bytes);
    await postFile(signed, bytes);
    const first = await api.completeUpload(signed.id);
    const again = await api.completeUpload(signed.id);
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(unsigned(again.json)).toEqual(unsigned(first.json));
    expect(again.headers.location).toBe(first.headers.location);
  });

  it('makes one image of two completions at once', async () => {
    const bytes = makeJpeg(200, 150);
    const signed = await sign(bytes);
    await postFile(signed, bytes);
    const many = await apiWith({ DB_MAX_CONNECTIONS: '4' });
    const replies = await Promise.all([1, 2, 3, 4].map(() => many.completeUpload(signed.id)));
    expect(replies.map((r) => r.status).sort()).toEqual([200, 200, 200, 201]);
    for (const reply of replies) expect(unsigned(reply.json)).toEqual(unsigned(replies[0]?.json));
    expect(await objectKeys()).toEqual([`images/${signed.id}.jpg`]);
    expect(await sql`select id from images`).toHaveLength(1);
  });

  it('answers 409 before the file is there, and completes once it is', async () => {
    const bytes = makeJpeg();
    const signed = await sign(bytes);
    const before = await snapshot();
    expect((await api.completeUpload(signed.id)).json).toEqual(
      problem(409, 'The file has not been uploaded yet: POST it to upload.url with every upload.fields entry, then complete.'),
    );
    expect(await snapshot()).toEqual(before);
    await postFile(signed, bytes);
    expect((await api.completeUpload(signed.id)).status).toBe(201);
  });

  it('answers 404 for an upload never signed', async () => {
    const id = '7d8c6b1e-2f3a-4b5c-9d8e-7f6a5b4c3d2e';
    expect((await api.completeUpload(id)).json).toEqual(
      problem(404, `No pending upload with id ${id}: it was never created, or it has expired.`),
    );
  });

  it('answers 404 for an expired upload, and discards its row and its file', async () => {
    const bytes = makeJpeg();
    const signed = await sign(bytes);
    await postFile(signed, bytes);
    await sql`update uploads set expires_at = now() - interval '1 second' where id = ${signed.id}`;
    expect((await api.completeUpload(signed.id)).status).toBe(404);
    expect(await objectKeys()).toEqual([]);
    expect(await sql`select id from uploads`).toEqual([]);
  });

  describe('the wrong file sent on purpose (s3rver stores it; the completion must not)', () => {
    /** Completes after sending `bytes` for a declaration of `declared`; checks the refusal and what is left. */
    async function refusedAt(declared: Uint8Array, bytes: Uint8Array, expected: unknown, over: Record<string, unknown> = {}) {
      const signed = await sign(declared, over);
      expect(await postFile(signed, bytes)).toBe(204); // the emulator checks nothing
      const res = await api.completeUpload(signed.id);
      expect(res.json).toEqual(expected);
      // The file is deleted; the signed upload stays, to be sent again until it expires.
      expect(await objectKeys()).toEqual([]);
      expect(await sql`select id from images`).toEqual([]);
      expect(await sql`select id from uploads`).toEqual([{ id: signed.id }]);
      return signed;
    }

    it('a file of another size than declared: 422, and the right one completes after', async () => {
      const right = makeJpeg(64, 48);
      const signed = await refusedAt(
        right,
        makeJpeg(65, 48),
        invalid([
          { field: 'size', message: `was declared as ${right.byteLength} bytes, but the uploaded file has ${makeJpeg(65, 48).byteLength}` },
        ]),
      );
      await postFile(signed, right);
      expect((await api.completeUpload(signed.id)).status).toBe(201);
    });

    it('a text file declared as a JPEG: 415', async () => {
      const text = Buffer.from('<html><script>alert(1)</script></html>'.padEnd(1000, ' '));
      await refusedAt(text, text, problem(415, 'The file is not a JPEG, PNG, WebP, GIF, AVIF, HEIC or HEIF image.'));
    });

    it('a file whose header is cut off: 422', async () => {
      const cut = makeJpeg().subarray(0, 100);
      await refusedAt(cut, cut, invalid([{ field: 'file', message: 'is not a readable image: its header is cut off or corrupt' }]));
    });

    it('a decompression bomb: 422', async () => {
      const bomb = makePng(4, 3);
      bomb.writeUInt32BE(100_000, 16);
      bomb.writeUInt32BE(100_000, 20);
      await refusedAt(bomb, bomb, tooManyPixels(100_000, 100_000));
    });

    it('an image bomb that displays small: the 3 KB AVIF whose 16384² grid its clean aperture cuts to 400×300: 422', async () => {
      const avif = await megapixelAvif();
      await refusedAt(avif, avif, tooManyPixels(16384, 16384), { content_type: 'image/avif', filename: 'small.avif' });
    });

    it.runIf(runsWith('HEIC files (uploads.test.ts)', 'heif-enc'))('the 1-gigapixel HEIC that displays as 400×300: 422', async () => {
      const heic = await gigapixelHeic();
      await refusedAt(heic, heic, tooManyPixels(32768, 32768), { content_type: 'image/heic', filename: 'IMG_0001.HEIC' });
    });

    it('a file above MAX_DIRECT_UPLOAD_BYTES: 413, though the declaration was within it', async () => {
      const small = await apiWith({ MAX_DIRECT_UPLOAD_BYTES: '2000' });
      const declared = makeJpeg(8, 8);
      const signed = (await small.createUpload(request({ size: declared.byteLength }))).json as Signed;
      await postFile(signed, makeJpeg(300, 300));
      expect((await small.completeUpload(signed.id)).json).toEqual(
        problem(413, 'The file is larger than the limit of 2000 bytes (2000 bytes).'),
      );
      expect(await objectKeys()).toEqual([]);
    });

    it('a file sent to another key than the signed one: not there (409), and no image', async () => {
      const bytes = makeJpeg();
      const signed = await sign(bytes);
      await postFile(signed, bytes, { key: 'images/chosen-by-the-client.jpg' });
      expect((await api.completeUpload(signed.id)).status).toBe(409);
      expect(await sql`select id from images`).toEqual([]);
    });
  });

  it('answers 409 when the title was taken meanwhile, and discards the upload', async () => {
    const bytes = makeJpeg();
    const signed = await sign(bytes);
    await postFile(signed, bytes);
    expect((await api.upload({ title: 'Harbour' })).status).toBe(201);
    expect((await api.completeUpload(signed.id)).json).toEqual(problem(409, 'An image with this title already exists.'));
    expect(await objectKeys()).toEqual([expect.stringMatching(/^images\//)]);
    expect(await sql`select id from uploads`).toEqual([]);
    await assertNoOrphans();
  });

  describe('the file replaced while it is checked (a presigned POST can be used again until it expires)', () => {
    const changed = problem(409, 'The file changed while it was being checked; complete the upload again.');

    it.each([
      // Caught at the read, or at the next one: no copy is attempted.
      ['the read of its first bytes', (req: StoreRequest) => req.method === 'GET' && req.ranged, 0],
      ['the read for its SHA-256', (req: StoreRequest) => req.method === 'GET' && !req.ranged, 0],
      ['the copy to images/', (req: StoreRequest) => req.copyOf !== undefined, 1],
    ])('replaced just before %s: 409, no image, the new file kept and verified by the next complete', async (_, at, copies) => {
      const [first, second] = sameLength(makeJpeg(120, 80), makeJpeg(64, 48)) as [Buffer, Buffer];
      const signed = await sign(first);
      expect(await postFile(signed, first)).toBe(204);
      let replaced = false;
      const seen: StoreRequest[] = [];
      const proxy = await storeProxy(async (req) => {
        seen.push(req);
        if (replaced || (req.copyOf ?? req.key) !== `uploads/${signed.id}` || !at(req)) return undefined;
        replaced = true;
        expect(await postFile(signed, second)).toBe(204);
        return undefined;
      });
      try {
        const behind = await apiWith({ S3_ENDPOINT: proxy.url });
        expect((await behind.completeUpload(signed.id)).json).toEqual(changed);
        expect(replaced).toBe(true);
        expect(seen.filter((req) => req.copyOf !== undefined)).toHaveLength(copies);
        expect(await sql`select id from images`).toEqual([]);
        expect(await objectKeys()).toEqual([`uploads/${signed.id}`]);
        expect(await sql`select id from uploads`).toEqual([{ id: signed.id }]);
        await assertNoOrphans();
        // Completed again, the file now there is the one verified, stored and described.
        const again = await behind.completeUpload(signed.id);
        expect(again.status).toBe(201);
        expect(again.json).toMatchObject({ width: 64, height: 48, size: second.byteLength, sha256: sha256(second) });
        expect(sha256((await getObject(`images/${signed.id}.jpg`)).bytes)).toBe(sha256(second));
        expect(await objectKeys()).toEqual([`images/${signed.id}.jpg`]);
        await assertNoOrphans();
      } finally {
        await proxy.close();
      }
    });

    it('replaced for the read of its first bytes and put back before the hash: 409, the type judged was not of the bytes stored', async () => {
      const [first, second] = sameLength(makeJpeg(120, 80), makeJpeg(64, 48)) as [Buffer, Buffer];
      const signed = await sign(first);
      await postFile(signed, first);
      const puts: Buffer[] = [second, first];
      const proxy = await storeProxy(async (req) => {
        const next =
          req.key === `uploads/${signed.id}` && req.method === 'GET' && req.ranged === (puts.length === 2) ? puts.shift() : undefined;
        if (next) expect(await postFile(signed, next)).toBe(204);
        return undefined;
      });
      try {
        const behind = await apiWith({ S3_ENDPOINT: proxy.url });
        expect((await behind.completeUpload(signed.id)).json).toEqual(changed);
        // Refused at the first read: there was no read for the hash, so nothing to put back for.
        expect(puts.splice(0)).toEqual([first]);
        expect(await sql`select id from images`).toEqual([]);
        expect(await objectKeys()).toEqual([`uploads/${signed.id}`]);
        expect((await behind.completeUpload(signed.id)).json).toMatchObject({ width: 64, height: 48, sha256: sha256(second) });
        await assertNoOrphans();
      } finally {
        await proxy.close();
      }
    });
  });

  describe('the store failing meanwhile', () => {
    it('a connection cut during the read for the SHA-256: 503, the upload kept, and completed once the store answers', async () => {
      const bytes = makeJpeg(120, 80);
      const signed = await sign(bytes);
      await postFile(signed, bytes);
      let cut = false;
      const proxy = await storeProxy((req) => {
        if (cut || req.method !== 'GET' || req.ranged) return undefined;
        cut = true;
        return 'cut';
      });
      try {
        const behind = await apiWith({ S3_ENDPOINT: proxy.url });
        expect((await behind.completeUpload(signed.id)).json).toEqual(problem(503, 'The object storage is unavailable; try again later.'));
        expect(cut).toBe(true);
        // The client's file is not lost: a transient fault says nothing about it.
        expect(await objectKeys()).toEqual([`uploads/${signed.id}`]);
        expect(await sql`select id from uploads`).toEqual([{ id: signed.id }]);
        expect(await sql`select id from images`).toEqual([]);
        const again = await behind.completeUpload(signed.id);
        expect(again.status).toBe(201);
        expect(again.json).toMatchObject({ sha256: sha256(bytes) });
        await assertNoOrphans();
      } finally {
        await proxy.close();
      }
    });

    it('the store unreachable: 503, and the upload kept', async () => {
      const bytes = makeJpeg();
      const signed = await sign(bytes);
      await postFile(signed, bytes);
      const proxy = await storeProxy(() => undefined);
      try {
        const behind = await apiWith({ S3_ENDPOINT: proxy.url });
        proxy.down();
        const before = await snapshot();
        expect((await behind.completeUpload(signed.id)).status).toBe(503);
        expect(await snapshot()).toEqual(before);
        proxy.up();
        expect((await behind.completeUpload(signed.id)).status).toBe(201);
      } finally {
        await proxy.close();
      }
    });

    it('the title taken meanwhile and the store gone before the discard: still 409, the pending row removed', async () => {
      const bytes = makeJpeg();
      const signed = await sign(bytes);
      await postFile(signed, bytes);
      const other = (await api.upload({ title: 'Harbour' })).json as Image;
      // Down from the first delete on: the verification went through, the discard cannot reach S3.
      const proxy = await storeProxy((req, store) => {
        if (req.method === 'DELETE') store.down();
        return undefined;
      });
      try {
        const behind = await apiWith({ S3_ENDPOINT: proxy.url, FILE_REMOVAL_BUDGET_MS: '300' });
        expect((await behind.completeUpload(signed.id)).json).toEqual(problem(409, 'An image with this title already exists.'));
        expect(await sql`select id from uploads`).toEqual([]);
        expect((await sql`select id from images`).map((r) => r.id)).toEqual([other.id]);
        // Left for the uploads/ lifecycle rule: a pending object without its row completes nothing.
        expect(await objectKeys()).toEqual([`images/${other.id}.jpg`, `uploads/${signed.id}`]);
        await assertNoOrphans();
      } finally {
        await proxy.close();
      }
    });
  });

  it('answers 404 when the upload expires while its file is checked, and discards it', async () => {
    const bytes = makeJpeg();
    const signed = await sign(bytes);
    await postFile(signed, bytes);
    // Expires after the first look at the row, before the claim.
    const proxy = await storeProxy(async (req) => {
      if (req.method === 'GET' && !req.ranged)
        await sql`update uploads set expires_at = now() - interval '1 second' where id = ${signed.id}`;
      return undefined;
    });
    try {
      const behind = await apiWith({ S3_ENDPOINT: proxy.url });
      expect((await behind.completeUpload(signed.id)).json).toEqual(
        problem(404, `No pending upload with id ${signed.id}: it was never created, or it has expired.`),
      );
      expect(await sql`select id from images`).toEqual([]);
      expect(await sql`select id from uploads`).toEqual([]);
      expect(await objectKeys()).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('reports a 12 MP photo taken sideways (EXIF orientation 6) as displayed: 3000×4000', async () => {
    const bytes = withOrientation(photo(4000, 3000), 6);
    const signed = await sign(bytes, { filename: 'IMG_1234.JPG' });
    await postFile(signed, bytes);
    const image = (await api.completeUpload(signed.id)).json as Image;
    expect(image).toMatchObject({ width: 3000, height: 4000, size: bytes.byteLength, sha256: sha256(bytes) });
  });

  it.runIf(runsWith('a direct upload of a HEIC (uploads.test.ts)', 'heif-enc'))(
    'accepts a HEIC made by heif-enc, stored as .heic with its type and size',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'gallery-heic-'));
      try {
        await writeFile(join(dir, 'in.jpg'), photo(640, 480));
        await run('heif-enc', ['-q', '50', join(dir, 'in.jpg'), '-o', join(dir, 'out.heic')]);
        const heic = await readFile(join(dir, 'out.heic'));
        const signed = await sign(heic, { filename: 'IMG_0042.HEIC', content_type: 'image/heic' });
        await postFile(signed, heic);
        const image = (await api.completeUpload(signed.id)).json as Image;
        expect(image).toMatchObject({ content_type: 'image/heic', width: 640, height: 480, size: heic.byteLength, sha256: sha256(heic) });
        expect(new URL(image.file_url).pathname).toMatch(/\.heic$/);
        expect((await getObject(`images/${signed.id}.heic`)).contentType).toBe('image/heic');
        // The multipart path takes HEIC as well.
        const multipart = await api.upload({ title: 'HEIC by multipart', file: { bytes: heic, filename: 'x.heic' } });
        expect(multipart.json).toMatchObject({ content_type: 'image/heic', width: 640, height: 480 });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('expired uploads are swept', () => {
  it('discards expired uploads, their files and rows, and leaves the others', async () => {
    const bytes = makeJpeg();
    const expired = await sign(bytes, { title: 'expired' });
    const live = await sign(bytes, { title: 'live' });
    await postFile(expired, bytes);
    await postFile(live, bytes);
    await sql`update uploads set expires_at = now() - interval '1 minute' where id = ${expired.id}`;
    expect(await sweepExpiredUploads()).toEqual({ swept: 1, more: false });
    expect(await sql`select id from uploads`).toEqual([{ id: live.id }]);
    expect(await objectKeys()).toEqual([`uploads/${live.id}`]);
    expect((await api.completeUpload(live.id)).status).toBe(201);
  });

  it('sweeps until none is left, many batches in one run, and stops at its time budget for the next run', async () => {
    // Expired uploads a key holder piled up: rows and their objects, behind the API's back.
    const ids = Array.from({ length: 2500 }, () => randomUUID());
    await sql`insert into uploads ${sql(
      ids.map((id) => ({
        id,
        title: 't',
        description: '',
        filename: 'f.jpg',
        size: 1,
        content_type: 'image/jpeg',
        expires_at: new Date(0),
      })),
    )}`;
    for (const id of ids.slice(0, 30)) await putObject(`uploads/${id}`, Buffer.from('x'));
    expect(await sweepExpiredUploads({ budgetMs: 0 })).toEqual({ swept: 0, more: true });
    expect(await sweepExpiredUploads({ batch: 1000 })).toEqual({ swept: 2500, more: false });
    expect(await sql`select count(*)::int as n from uploads`).toEqual([{ n: 0 }]);
    expect(await objectKeys()).toEqual([]);
  });
});
