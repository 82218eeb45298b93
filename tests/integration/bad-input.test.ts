/**
 * Every bad input we could think of: each gets its exact status and problem+json body, and changes
 * nothing in the database or the bucket. (PATCH bodies, ids, cursors and limits: images-read-write.)
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { makeJpeg, makePng, pngBomb } from '../../support/images';
import type { FileSpec } from '../../support/lambda-events';
import { api } from '../helpers/api';
import { gigapixelHeic, megapixelAvif } from '../helpers/image-bombs';
import { invalid, problem, tooManyPixels } from '../helpers/problems';
import { getObject, resetState, sha256, snapshot, sql } from '../helpers/state';
import { runsWith } from '../helpers/tools';

const unsupported = problem(415, 'The file is not a JPEG, PNG, WebP, GIF, AVIF, HEIC or HEIF image.');

const jpegPart = (): FileSpec => ({ bytes: makeJpeg(), filename: 'cat.jpg', type: 'image/jpeg' });

beforeEach(async () => {
  await resetState();
  // Something to leave untouched.
  expect((await api.upload({ title: 'bystander' })).status).toBe(201);
});

/** Runs a request that must be refused, and checks that it changed nothing. */
async function refused(request: () => ReturnType<typeof api.upload>, status: number, body: unknown): Promise<void> {
  const before = await snapshot();
  const res = await request();
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toBe('application/problem+json');
  expect(res.json).toEqual(body);
  expect(await snapshot()).toEqual(before);
}

describe('uploads that are refused, changing nothing', () => {
  it('a missing file part', () =>
    refused(
      () =>
        api.uploadParts([
          ['title', 't'],
          ['description', 'd'],
        ]),
      422,
      invalid([{ field: 'file', message: 'is required' }]),
    ));

  it('two file parts', () =>
    refused(
      () =>
        api.uploadParts([
          ['title', 't'],
          ['description', 'd'],
          ['file', jpegPart()],
          ['file', jpegPart()],
        ]),
      422,
      invalid([{ field: 'file', message: 'must be a single file' }]),
    ));

  it('an empty (zero-byte) file', () =>
    refused(
      () => api.upload({ title: 't', file: { bytes: Buffer.alloc(0), filename: 'empty.jpg', type: 'image/jpeg' } }),
      422,
      invalid([{ field: 'file', message: 'must not be empty' }]),
    ));

  it('unknown extra fields', () =>
    refused(
      () =>
        api.uploadParts([
          ['title', 't'],
          ['description', 'd'],
          ['id', 'mine'],
          ['file_url', 'x'],
          ['file', jpegPart()],
        ]),
      422,
      invalid([
        { field: 'id', message: 'is not an allowed field' },
        { field: 'file_url', message: 'is not an allowed field' },
      ]),
    ));

  it('a title of spaces', () =>
    refused(() => api.upload({ title: '      ' }), 422, invalid([{ field: 'title', message: 'must not be blank' }])));

  it('a 10,000-character title', () =>
    refused(() => api.upload({ title: 'x'.repeat(10_000) }), 422, invalid([{ field: 'title', message: 'must be at most 32 characters' }])));

  it('a title with a NUL character', () =>
    refused(() => api.upload({ title: 'nul\u0000here' }), 422, invalid([{ field: 'title', message: 'must not contain NUL characters' }])));

  it.each([
    ['HTML declared as JPEG', Buffer.from('<!doctype html><script>alert(document.cookie)</script>'), 'x.jpg', 'image/jpeg'],
    ['SVG declared as SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'), 'x.svg', 'image/svg+xml'],
    ['SVG declared as PNG', Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'), 'x.png', 'image/png'],
    ['a script declared as GIF', Buffer.from('#!/bin/sh\nrm -rf /\n'), 'x.gif', 'image/gif'],
    ['JavaScript declared as WebP', Buffer.from('fetch("/steal?c="+document.cookie)'), 'x.webp', 'image/webp'],
    ['a PDF declared as JPEG', Buffer.from('%PDF-1.7\n1 0 obj\n<<>>\nendobj\n'), 'x.jpg', 'image/jpeg'],
  ])('%s (415)', (_, bytes, filename, type) =>
    refused(() => api.upload({ title: 't', file: { bytes, filename, type } }), 415, unsupported),
  );

  it('a JPEG cut off inside its header (422: unreadable)', () =>
    refused(
      () => api.upload({ title: 't', file: { bytes: makeJpeg().subarray(0, 100), filename: 'cut.jpg' } }),
      422,
      invalid([{ field: 'file', message: 'is not a readable image: its header is cut off or corrupt' }]),
    ));

  it('an image bomb: a small PNG claiming 100000×100000 pixels', async () => {
    const bomb = pngBomb(100_000, 100_000);
    expect(bomb.length).toBeLessThan(2_000);
    await refused(
      () => api.upload({ title: 'bomb', file: { bytes: bomb, filename: 'bomb.png', type: 'image/png' } }),
      422,
      tooManyPixels(100_000, 100_000),
    );
  });

  it('an image bomb that displays small: a 3 KB AVIF, a 16384² grid cut by its clean aperture to 400×300', async () => {
    const avif = await megapixelAvif();
    await refused(
      () => api.upload({ title: 'bomb', file: { bytes: avif, filename: 'small.avif', type: 'image/avif' } }),
      422,
      tooManyPixels(16384, 16384),
    );
  });

  it.runIf(runsWith('HEIC files (bad-input.test.ts)', 'heif-enc'))(
    'the 1-gigapixel HEIC that displays as 400×300 (a 32768² grid, clipped)',
    async () => {
      const heic = await gigapixelHeic();
      await refused(
        () => api.upload({ title: 'bomb', file: { bytes: heic, filename: 'IMG_0001.HEIC', type: 'image/heic' } }),
        422,
        tooManyPixels(32768, 32768),
      );
    },
  );
});

describe('uploads that are accepted as they are', () => {
  it('stores SQL and HTML in fields verbatim, never executed or interpreted', async () => {
    const title = "'); drop table images; --";
    const description = '<img src=x onerror=alert(1)>';
    const res = await api.upload({ title, description });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json).toMatchObject({ title, description });
    const [row] = await sql`select title, description from images where id = ${(res.json as { id: string }).id}`;
    expect(row).toEqual({ title, description });
    expect((await api.get((res.json as { id: string }).id)).json).toMatchObject({ title, description });
    expect((await sql`select count(*)::int as n from images`)[0]?.n).toBe(2);
  });

  it.each([
    ['path components', '../../../etc/passwd.jpg', 'passwd.jpg'],
    ['Windows path components', 'C:\\Windows\\System32\\evil.jpg', 'evil.jpg'],
    ['control characters', 'bell\u0007nul\u0000esc\u001b[31mdel\u007f.jpg', 'bellnulesc[31mdel.jpg'],
    ['a right-to-left override', 'invoice\u202egpj.exe', 'invoicegpj.exe'],
    ['300 characters', `${'a'.repeat(296)}.jpg`, 'a'.repeat(128)],
  ])('a filename with %s is cut to a safe name; the key is the server’s', async (_, filename, expected) => {
    const res = await api.upload({ title: `name ${filename.length}`, file: { bytes: makeJpeg(), filename } });
    expect(res.status).toBe(201);
    const image = res.json as { id: string; filename: string; file_url: string };
    expect(image.filename).toBe(expected);
    expect(new URL(image.file_url).pathname.endsWith(`/images/${image.id}.jpg`)).toBe(true);
  });

  it('a PNG declared as JPEG is stored as PNG', async () => {
    const png = makePng(8, 8);
    const res = await api.upload({ title: 'spoofed', file: { bytes: png, filename: 'photo.jpg', type: 'image/jpeg' } });
    const image = res.json as { id: string; file_url: string };
    expect(new URL(image.file_url).pathname.endsWith('.png')).toBe(true);
    const stored = await getObject(`images/${image.id}.png`);
    expect(stored.contentType).toBe('image/png');
    expect(sha256(stored.bytes)).toBe(sha256(png));
  });

  it('a JPEG cut off after its header is stored exactly as sent (pixels are not decoded)', async () => {
    const jpeg = makeJpeg(64, 48);
    const cut = jpeg.subarray(0, jpeg.length - 200);
    const res = await api.upload({ title: 'truncated', file: { bytes: cut, filename: 'cut.jpg' } });
    expect(res.status).toBe(201);
    expect(sha256((await getObject(`images/${(res.json as { id: string }).id}.jpg`)).bytes)).toBe(sha256(cut));
  });
});
