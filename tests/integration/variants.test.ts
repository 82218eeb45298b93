/**
 * The processing function through its real handler, with S3 events as S3 sends them, against the
 * real bucket (s3rver), Postgres and Redis: every accepted type in, thumb and display WebP out, upright,
 * with no metadata; failures marked and published; deletions and races leave no copy behind.
 */

import { readFileSync } from 'node:fs';
import { createClient } from '@redis/client';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as processHandler } from '../../functions/images-process';
import { handler as processFailedHandler } from '../../functions/images-process-failed';
import { makeJpeg, makePng } from '../../support/images';
import { failedProcessingEvent, lambdaContext, s3Event } from '../../support/lambda-events';
import { api } from '../helpers/api';
import { gigapixelHeic, megapixelAvif } from '../helpers/image-bombs';
import { getObject, objectKeys, putObject, resetState, sql } from '../helpers/state';
import { runsWith } from '../helpers/tools';

type Image = {
  id: string;
  title: string;
  file_url: string;
  updated_at: string;
  variants: { thumb: { url: string; width: number; height: number }; display: { url: string; width: number; height: number } } | null;
  processing: string;
};

const fixture = (name: string) => readFileSync(new URL(`../fixtures/images/${name}`, import.meta.url));
const keyOf = (image: Image) => {
  const path = new URL(image.file_url).pathname;
  return path.slice(path.lastIndexOf('/images/') + 1);
};
const process = (key: string) => processHandler(s3Event(String(globalThis.process.env.S3_BUCKET), key), lambdaContext());

/** Uploads bytes through the API, then runs the processing the S3 event would start. */
async function uploadAndProcess(title: string, bytes: Buffer, filename = 'f'): Promise<Image> {
  const res = await api.upload({ title, file: { bytes, filename } });
  expect(res.status).toBe(201);
  const image = res.json as Image;
  expect(image).toMatchObject({ processing: 'pending', variants: null });
  await process(keyOf(image));
  return (await api.get(image.id)).json as Image;
}

/** The four corners of an image, each as 1s and 0s for its red, green, blue (the fixtures' quadrants). */
async function corners(bytes: Buffer): Promise<string[]> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number) => {
    const i = (y * info.width + x) * info.channels;
    return [data[i], data[i + 1], data[i + 2]].map((v) => ((v ?? 0) > 128 ? 1 : 0)).join('');
  };
  return [at(5, 5), at(info.width - 6, 5), at(5, info.height - 6), at(info.width - 6, info.height - 6)];
}

/** True when an EXIF block's first IFD points to a GPS IFD (tag 0x8825). */
function hasGps(exif: Buffer | undefined): boolean {
  if (!exif) return false;
  const tiff = exif.subarray(exif.indexOf('Exif\0\0', 0, 'latin1') >= 0 ? exif.indexOf('Exif\0\0', 0, 'latin1') + 6 : 0);
  const le = tiff.toString('latin1', 0, 2) === 'II';
  const u16 = (o: number) => (le ? tiff.readUInt16LE(o) : tiff.readUInt16BE(o));
  const ifd = le ? tiff.readUInt32LE(4) : tiff.readUInt32BE(4);
  for (let i = 0; i < u16(ifd); i++) if (u16(ifd + 2 + i * 12) === 0x8825) return true;
  return false;
}

const published: string[] = [];
const subscriber = createClient({ url: 'redis://127.0.0.1:6379' });
beforeAll(async () => {
  await subscriber.connect();
  await subscriber.subscribe('image_channel', (message) => published.push(message));
});
afterAll(async () => {
  await subscriber.close();
});
beforeEach(async () => {
  await resetState();
  published.length = 0;
});

describe('variants of every accepted type', () => {
  const webp = async () =>
    sharp({ create: { width: 900, height: 600, channels: 3, background: '#3366cc' } })
      .webp()
      .toBuffer();
  const cases: [string, () => Promise<Buffer> | Buffer, [number, number], [number, number]][] = [
    ['a JPEG taken sideways (EXIF orientation 6)', () => fixture('exif6.jpg'), [300, 400], [300, 400]],
    [
      'a 12 MP JPEG',
      () =>
        sharp({ create: { width: 4000, height: 3000, channels: 3, background: '#aa7733' } })
          .jpeg()
          .toBuffer(),
      [400, 300],
      [2048, 1536],
    ],
    ['a PNG', () => makePng(640, 480), [400, 300], [640, 480]],
    ['a WebP', webp, [400, 267], [900, 600]],
    ['an animated GIF (its first frame)', () => fixture('anim.gif'), [120, 80], [120, 80]],
    ['an AVIF with a rotation', () => fixture('irot90.avif'), [300, 400], [300, 400]],
    ['a HEIC with a rotation', () => fixture('irot90.heic'), [300, 400], [300, 400]],
    ['a HEIC grid', () => fixture('grid-irot90.heic'), [300, 400], [300, 400]],
  ];

  it.each(cases)('%s: thumb and display WebP, longest sides 400 and 2048, never upscaled', async (name, bytes, thumb, display) => {
    const source = await bytes();
    const image = await uploadAndProcess(name.slice(0, 32), source);
    expect(image.processing).toBe('ready');
    expect(image.variants).toEqual({
      thumb: { url: `${globalThis.process.env.FILES_BASE_URL}/variants/${image.id}/thumb.webp`, width: thumb[0], height: thumb[1] },
      display: { url: `${globalThis.process.env.FILES_BASE_URL}/variants/${image.id}/display.webp`, width: display[0], height: display[1] },
    });
    for (const variant of ['thumb', 'display'] as const) {
      const stored = await getObject(`variants/${image.id}/${variant}.webp`);
      expect(stored.contentType).toBe('image/webp');
      const meta = await sharp(stored.bytes).metadata();
      expect({ format: meta.format, width: meta.width, height: meta.height, pages: meta.pages ?? 1 }).toEqual({
        format: 'webp',
        width: image.variants?.[variant].width,
        height: image.variants?.[variant].height,
        pages: 1,
      });
      // Fetched as a browser would, from where the resource says.
      expect((await fetch(image.variants?.[variant].url ?? '')).status).toBe(200);
    }
    expect(published).toContain(JSON.stringify({ event: 'image_processed', id: image.id, title: image.title }));
  });

  it('turns a photo taken sideways upright', async () => {
    const image = await uploadAndProcess('upright', fixture('exif6.jpg'));
    // The fixture: top-left red, top-right green, bottom-left blue, bottom-right white, to be turned 90° clockwise.
    expect(await corners((await getObject(`variants/${image.id}/thumb.webp`)).bytes)).toEqual(['001', '100', '111', '010']);
    const heic = await uploadAndProcess('upright heic', fixture('irot90.heic'));
    // irot 90: turned 90° anticlockwise.
    expect(await corners((await getObject(`variants/${heic.id}/display.webp`)).bytes)).toEqual(['010', '111', '100', '001']);
  });

  it('takes the first frame of an animation (red), not another (blue)', async () => {
    const image = await uploadAndProcess('first frame', fixture('anim.gif'));
    expect(await corners((await getObject(`variants/${image.id}/thumb.webp`)).bytes)).toEqual(['100', '100', '100', '100']);
  });

  it('keeps no EXIF, XMP or GPS in the copies, and sRGB without an ICC profile', async () => {
    const located = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#55aa55' } })
      .jpeg()
      .withExif({
        IFD0: { Artist: 'Someone', Copyright: 'Someone' },
        IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '52/1 31/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '13/1 24/1 0/1' },
      })
      .withIccProfile('p3')
      .toBuffer();
    expect(hasGps((await sharp(located).metadata()).exif)).toBe(true);
    const image = await uploadAndProcess('located', located);
    for (const variant of ['thumb', 'display']) {
      const meta = await sharp((await getObject(`variants/${image.id}/${variant}.webp`)).bytes).metadata();
      expect({ exif: meta.exif, xmp: meta.xmp, icc: meta.icc, space: meta.space }).toEqual({
        exif: undefined,
        xmp: undefined,
        icc: undefined,
        space: 'srgb',
      });
    }
    // The original is kept byte for byte, location and all: file_url is the seed's, untouched.
    expect((await getObject(keyOf(image))).bytes.equals(located)).toBe(true);
  });
});

describe('failures, repeats and races', () => {
  it('marks an image no decoder reads as failed, and says so', async () => {
    // A JPEG header that promises pixels its data does not hold: accepted at upload, undecodable.
    const broken = Buffer.concat([makeJpeg(64, 48).subarray(0, 300), Buffer.alloc(200, 0xaa)]);
    const image = await uploadAndProcess('broken', broken);
    expect(image).toMatchObject({ processing: 'failed', variants: null });
    expect(published).toContain(JSON.stringify({ event: 'image_processing_failed', id: image.id, title: 'broken' }));
    expect((await objectKeys()).filter((k) => k.startsWith('variants/'))).toEqual([]);
  });

  /**
   * An original that got in before the upload checks it faces now (or that a backfill reads): an
   * accepted upload of `as`, its stored object then replaced by `bytes`.
   */
  async function storedEarlier(title: string, as: Buffer, bytes: Buffer): Promise<Image> {
    const image = (await api.upload({ title, file: { bytes: as, filename: 'f' } })).json as Image;
    await putObject(keyOf(image), bytes);
    await process(keyOf(image));
    return (await api.get(image.id)).json as Image;
  }

  /** Checks that the processing of `image` failed, said so, and made no copy. */
  async function expectFailed(image: Image) {
    expect(image).toMatchObject({ processing: 'failed', variants: null });
    expect(published).toContain(JSON.stringify({ event: 'image_processing_failed', id: image.id, title: image.title }));
    expect((await objectKeys()).filter((k) => k.startsWith('variants/'))).toEqual([]);
  }

  it.each([
    ['the 268 MP AVIF that displays as 400×300', 'plain.avif', megapixelAvif],
    [
      'an SVG (librsvg is blocked)',
      'plain.png',
      async () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="30"/></svg>'),
    ],
    [
      'a TIFF (libtiff is blocked)',
      'plain.png',
      () =>
        sharp({ create: { width: 40, height: 30, channels: 3, background: '#36c' } })
          .tiff()
          .toBuffer(),
    ],
  ])('an original that got in earlier, %s: failed, and said so, no copies', async (name, as, bytes) => {
    await expectFailed(await storedEarlier(name.slice(0, 32), fixture(as), await bytes()));
  });

  it.runIf(runsWith('HEIC files (variants.test.ts)', 'heif-enc'))(
    'an original that got in earlier, the 1-gigapixel HEIC: failed, and said so',
    async () => {
      await expectFailed(await storedEarlier('gigapixel', fixture('plain.heic'), await gigapixelHeic()));
    },
  );

  it('does nothing the second time the same event arrives (S3 delivers at least once)', async () => {
    const image = await uploadAndProcess('twice', fixture('plain.jpg'));
    const before = await sql`select updated_at::text, variants from images where id = ${image.id}`;
    published.length = 0;
    await process(keyOf(image));
    expect(await sql`select updated_at::text, variants from images where id = ${image.id}`).toEqual(before);
    await new Promise((r) => setTimeout(r, 50));
    expect(published.filter((m) => m.includes(image.id))).toEqual([]);
  });

  it('two runs at once (a repeated event, a backfill beside the function): one image_processed, nothing else', async () => {
    const image = (await api.upload({ title: 'raced', file: { bytes: fixture('plain.jpg'), filename: 'p.jpg' } })).json as Image;
    const outcomes = await Promise.all([process(keyOf(image)), process(keyOf(image))]);
    expect(outcomes).toHaveLength(2);
    expect(await sql`select event from outbox where subject_id = ${image.id} order by id`).toEqual([
      { event: 'image_uploaded' },
      { event: 'image_processed' },
    ]);
    expect(((await api.get(image.id)).json as Image).processing).toBe('ready');
    expect((await objectKeys()).filter((k) => k.startsWith('variants/'))).toHaveLength(2);
    expect(await sql`select key from file_removals`).toEqual([]);
  });

  it('an image whose processing failed every attempt (the failure queue) turns failed, once; a settled one stays', async () => {
    const bucket = String(globalThis.process.env.S3_BUCKET);
    const pending = (await api.upload({ title: 'timed out' })).json as Image;
    const ready = await uploadAndProcess('made anyway', fixture('plain.jpg'));
    published.length = 0;
    const batch = failedProcessingEvent(s3Event(bucket, keyOf(pending)), s3Event(bucket, keyOf(ready)));
    expect(await processFailedHandler(batch, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(((await api.get(pending.id)).json as Image).processing).toBe('failed');
    expect(((await api.get(ready.id)).json as Image).processing).toBe('ready');
    // The queue delivers at least once: the same message again changes nothing.
    expect(await processFailedHandler(batch, lambdaContext())).toEqual({ batchItemFailures: [] });
    await new Promise((r) => setTimeout(r, 50));
    expect(published.filter((m) => m.includes(pending.id) || m.includes(ready.id))).toEqual([
      JSON.stringify({ event: 'image_processing_failed', id: pending.id, title: 'timed out' }),
    ]);
  });

  it('reports a failed processing it could not record (the database down) for the queue to offer again', async () => {
    const image = (await api.upload({ title: 'recorded later' })).json as Image;
    const batch = failedProcessingEvent(s3Event(String(globalThis.process.env.S3_BUCKET), keyOf(image)));
    vi.resetModules();
    const saved = globalThis.process.env.DATABASE_URL;
    globalThis.process.env.DATABASE_URL = 'postgres://postgres@127.0.0.1:1/gallery';
    let down: typeof processFailedHandler;
    try {
      down = (await import('../../functions/images-process-failed')).handler;
    } finally {
      globalThis.process.env.DATABASE_URL = saved;
    }
    const [message] = batch.Records;
    expect(await down(batch, lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: message?.messageId }] });
    expect(((await api.get(image.id)).json as Image).processing).toBe('pending');
    vi.resetModules();
  });

  it('fails, to be retried, while the object is there but its row has not committed', async () => {
    const key = 'images/6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b.jpg';
    await putObject(key, fixture('plain.jpg'));
    await expect(process(key)).rejects.toThrow(/no row yet/);
    expect((await objectKeys()).filter((k) => k.startsWith('variants/'))).toEqual([]);
  });

  it('skips an image deleted before its event was handled', async () => {
    const image = (await api.upload({ title: 'gone first' })).json as Image;
    expect((await api.remove(image.id)).status).toBe(204);
    await process(keyOf(image));
    expect(await objectKeys()).toEqual([]);
  });

  it('deletes the copies it made for an image deleted while they were made', async () => {
    const image = (await api.upload({ title: 'deleted meanwhile', file: { bytes: fixture('plain.jpg'), filename: 'p.jpg' } }))
      .json as Image;
    // The row vanishes at the moment processing records its outcome: a trigger skips that UPDATE.
    await sql`create or replace function vanish() returns trigger language plpgsql as $$ begin return null; end $$`;
    await sql`create trigger vanish before update on images for each row when (new.processing = 'ready') execute function vanish()`;
    try {
      await process(keyOf(image));
    } finally {
      await sql`drop trigger vanish on images`;
      await sql`drop function vanish()`;
    }
    expect((await objectKeys()).filter((k) => k.startsWith('variants/'))).toEqual([]);
  });

  it('DELETE removes the original and both copies', async () => {
    const image = await uploadAndProcess('to delete', fixture('plain.jpg'));
    expect((await objectKeys()).length).toBe(3);
    expect((await api.remove(image.id)).status).toBe(204);
    expect(await objectKeys()).toEqual([]);
  });

  it('a PATCH never processes again', async () => {
    const image = await uploadAndProcess('patched', fixture('plain.jpg'));
    const patched = (await api.patch(image.id, { title: 'patched again' })).json as Image;
    expect(patched).toMatchObject({ processing: 'ready', variants: image.variants });
    expect((await objectKeys()).length).toBe(3);
  });

  it('never lets a GET that read the pending row cache it after image_processed (forced interleaving)', async () => {
    const image = (await api.upload({ title: 'race', file: { bytes: fixture('plain.jpg'), filename: 'p.jpg' } })).json as Image;
    const { getImage } = await import('../../lib/images/read');
    const { cacheImage } = await import('../../lib/images/cache');
    // 1. A GET misses the cache and reads the row, still pending...
    const stale = await getImage(image.id);
    expect(stale.processing).toBe('pending');
    // 2. ...processing commits, fences and publishes image_processed...
    await process(keyOf(image));
    expect(published).toContain(JSON.stringify({ event: 'image_processed', id: image.id, title: 'race' }));
    // 3. ...and only then does the GET try to fill the cache with what it read: refused.
    await cacheImage(stale, JSON.stringify(stale));
    const read = await api.get(image.id);
    expect(read.json).toMatchObject({ processing: 'ready' });
    expect((read.json as Image).variants).not.toBeNull();
  });
});
