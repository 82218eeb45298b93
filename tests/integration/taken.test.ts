/**
 * When a photo was taken, its camera and its exposure, read by the real processing function (an S3
 * event, as S3 sends it) from files made here: sharp draws the pictures, heif-enc codes the HEIC, and
 * exiftool writes the EXIF (a corrupt block is made by changing bytes exiftool wrote). The image
 * resource then carries taken_at, camera and exposure; GPS is never stored nor answered; a file
 * that says nothing, or says it badly, gives nulls and is still processed.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as processHandler } from '../../functions/images-process';
import { lambdaContext, s3Event } from '../../support/lambda-events';
import { api } from '../helpers/api';
import { albums } from '../helpers/collections';
import { resetState, sql } from '../helpers/state';

const run = promisify(execFile);
const works = (command: string, args: string[]) =>
  run(command, args).then(
    () => true,
    () => false,
  );
const hasExiftool = await works('exiftool', ['-ver']);
const hasHeifEnc = await works('heif-enc', ['--version']);

interface Image {
  id: string;
  title: string;
  file_url: string;
  processing: string;
  taken_at: string | null;
  camera: { make: string | null; model: string | null; lens: string | null } | null;
  exposure: { f_number: number | null; exposure_time: number | null; iso: number | null; focal_length: number | null } | null;
}

const CAMERA_TAGS = [
  '-Make=Canon',
  '-Model=Canon EOS R5',
  '-LensModel=RF24-70mm F2.8 L IS USM',
  '-FNumber=2.8',
  '-ExposureTime=1/250',
  '-ISO=400',
  '-FocalLength=50',
];
const CAMERA = { make: 'Canon', model: 'Canon EOS R5', lens: 'RF24-70mm F2.8 L IS USM' };
const EXPOSURE = { f_number: 2.8, exposure_time: 0.004, iso: 400, focal_length: 50 };
const GPS_TAGS = ['-GPSLatitude=48.858370', '-GPSLatitudeRef=N', '-GPSLongitude=2.294481', '-GPSLongitudeRef=E', '-GPSAltitude=35'];

let dir: string;
let files = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'taken-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(resetState);

/** A picture as sharp codes it, with no metadata. */
const picture = (format: 'jpeg' | 'png') =>
  sharp({ create: { width: 96, height: 64, channels: 3, background: '#3a6' } })
    .toFormat(format)
    .toBuffer();

/** `file` with what exiftool writes given `args`; its failure (or a warning) fails the test. */
async function exiftool(file: Buffer, ext: string, args: string[]): Promise<Buffer> {
  const path = join(dir, `${files++}.${ext}`);
  await writeFile(path, file);
  const { stderr } = await run('exiftool', ['-overwrite_original', ...args, path]);
  expect(stderr).toBe('');
  return readFile(path);
}

/** A HEIC of the picture, coded by heif-enc, with no EXIF. */
async function heic(): Promise<Buffer> {
  const name = join(dir, `${files++}`);
  await writeFile(`${name}.png`, await picture('png'));
  await run('heif-enc', ['-q', '50', `${name}.png`, '-o', `${name}.heic`]);
  return readFile(`${name}.heic`);
}

const jpegWith = async (args: string[]) => exiftool(await picture('jpeg'), 'jpg', args);

/** Uploads bytes through the API, runs the processing the S3 event starts, and answers the image as GET does then. */
async function processed(title: string, bytes: Buffer): Promise<Image> {
  const res = await api.upload({ title, file: { bytes, filename: 'photo' } });
  expect(res.status).toBe(201);
  const image = res.json as Image;
  expect(image).toMatchObject({ processing: 'pending', taken_at: null, camera: null, exposure: null });
  const path = new URL(image.file_url).pathname;
  await processHandler(s3Event(String(process.env.S3_BUCKET), path.slice(path.lastIndexOf('/images/') + 1)), lambdaContext());
  const after = await api.get(image.id);
  expect(after.status).toBe(200);
  return after.json as Image;
}

/** What the row holds of the photo's time, as text, and whether the EXIF was read. */
const stored = async (id: string) =>
  (
    await sql<{ taken_at: string | null; taken_local: string | null; taken_sort: string; read: boolean }[]>`
      select taken_at, taken_local::text, taken_sort::text, exif_read_at is not null as read from images where id = ${id}`
  )[0];

describe.runIf(hasExiftool || process.env.CI)('taken_at, camera and exposure from the processing', () => {
  it('a JPEG with DateTimeOriginal and OffsetTimeOriginal: RFC 3339 with that offset', async () => {
    const image = await processed(
      'with offset',
      await jpegWith(['-DateTimeOriginal=2025:07:14 18:03:11', '-OffsetTimeOriginal=+02:00', ...CAMERA_TAGS]),
    );
    expect(image).toMatchObject({ processing: 'ready', taken_at: '2025-07-14T18:03:11+02:00', camera: CAMERA, exposure: EXPOSURE });
    expect(await stored(image.id)).toEqual({
      taken_at: '2025-07-14T18:03:11+02:00',
      taken_local: '2025-07-14 18:03:11',
      taken_sort: '2025-07-14 18:03:11',
      read: true,
    });
  });

  it('without an offset: the local time as recorded, with no zone', async () => {
    const image = await processed('no offset', await jpegWith(['-DateTimeOriginal=2024:02:29 23:59:59', '-Make=Nikon']));
    expect(image).toMatchObject({
      processing: 'ready',
      taken_at: '2024-02-29T23:59:59',
      camera: { make: 'Nikon', model: null, lens: null },
      exposure: null,
    });
    expect(await stored(image.id)).toMatchObject({ taken_local: '2024-02-29 23:59:59' });
  });

  it('keeps the sub-seconds the file records, and a negative or zero offset', async () => {
    const west = await processed(
      'sub-seconds',
      await jpegWith(['-DateTimeOriginal=2025:01:02 03:04:05', '-SubSecTimeOriginal=042', '-OffsetTimeOriginal=-05:30']),
    );
    expect(west.taken_at).toBe('2025-01-02T03:04:05.042-05:30');
    expect(await stored(west.id)).toMatchObject({ taken_local: '2025-01-02 03:04:05.042' });
    const utc = await processed('utc', await jpegWith(['-DateTimeOriginal=2025:01:02 03:04:05', '-OffsetTimeOriginal=+00:00']));
    expect(utc.taken_at).toBe('2025-01-02T03:04:05+00:00');
  });

  it.runIf(hasHeifEnc || process.env.CI)("reads a HEIC's EXIF", async () => {
    const file = await exiftool(await heic(), 'heic', [
      '-DateTimeOriginal=2023:12:31 22:00:00',
      '-OffsetTimeOriginal=+09:00',
      ...CAMERA_TAGS,
    ]);
    const image = await processed('heic', file);
    expect(image).toMatchObject({ processing: 'ready', taken_at: '2023-12-31T22:00:00+09:00', camera: CAMERA, exposure: EXPOSURE });
  });

  it.runIf(hasHeifEnc || process.env.CI)('a HEIC without EXIF: nulls, and ready', async () => {
    const image = await processed('heic bare', await heic());
    expect(image).toMatchObject({ processing: 'ready', taken_at: null, camera: null, exposure: null });
    expect(await stored(image.id)).toEqual({ taken_at: null, taken_local: null, taken_sort: '-infinity', read: true });
  });

  it('a file with no EXIF at all: nulls, read, and ready', async () => {
    for (const [title, bytes] of [
      ['bare jpeg', await picture('jpeg')],
      ['bare png', await picture('png')],
    ] as const) {
      const image = await processed(title, bytes);
      expect(image).toMatchObject({ processing: 'ready', taken_at: null, camera: null, exposure: null });
      expect(await stored(image.id)).toEqual({ taken_at: null, taken_local: null, taken_sort: '-infinity', read: true });
    }
  });

  describe('a corrupt EXIF block: nulls for what it cannot give, and the image still ready', () => {
    /** A JPEG exiftool wrote with a date, a camera and an exposure; where its TIFF header is, and its byte order. */
    async function written() {
      const jpeg = await jpegWith(['-DateTimeOriginal=2025:07:14 18:03:11', '-OffsetTimeOriginal=+02:00', ...CAMERA_TAGS]);
      const tiff = jpeg.indexOf('Exif\0\0') + 6;
      const le = jpeg.toString('latin1', tiff, tiff + 2) === 'II';
      const setU32 = (at: number, value: number) => (le ? jpeg.writeUInt32LE(value, at) : jpeg.writeUInt32BE(value, at));
      return { jpeg, tiff, setU32 };
    }

    it('IFD0 pointing outside the block', async () => {
      const { jpeg, tiff, setU32 } = await written();
      setU32(tiff + 4, 0xfffff000);
      const image = await processed('ifd0 outside', jpeg);
      expect(image).toMatchObject({ processing: 'ready', taken_at: null, camera: null, exposure: null });
      expect(await stored(image.id)).toMatchObject({ taken_local: null, read: true });
    });

    it('no TIFF byte order', async () => {
      const { jpeg, tiff } = await written();
      jpeg.write('XX', tiff, 'latin1');
      const image = await processed('no byte order', jpeg);
      expect(image).toMatchObject({ processing: 'ready', taken_at: null, camera: null, exposure: null });
    });

    it('an APP1 segment cut short inside the block', async () => {
      const { jpeg, tiff } = await written();
      const app1 = tiff - 10; // FF E1, the length, "Exif\0\0"
      const kept = 2 + 6 + 40;
      const length = Buffer.alloc(2);
      length.writeUInt16BE(kept);
      const cut = Buffer.concat([
        jpeg.subarray(0, app1 + 2),
        length,
        jpeg.subarray(app1 + 4, app1 + 2 + kept),
        jpeg.subarray(app1 + 2 + jpeg.readUInt16BE(app1 + 2)),
      ]);
      const image = await processed('cut short', cut);
      expect(image).toMatchObject({ processing: 'ready', taken_at: null, camera: null, exposure: null });
    });

    it('a date that does not exist: no taken_at, the rest kept; an offset out of range: the local time alone', async () => {
      const image = await processed('impossible date', await jpegWith(['-DateTimeOriginal=2025:02:30 10:00:00', ...CAMERA_TAGS]));
      expect(image).toMatchObject({ processing: 'ready', taken_at: null, camera: CAMERA, exposure: EXPOSURE });
      expect(await stored(image.id)).toMatchObject({ taken_local: null, taken_sort: '-infinity', read: true });
      const offset = await processed(
        'impossible offset',
        await jpegWith(['-DateTimeOriginal=2025:02:28 10:00:00', '-OffsetTimeOriginal=+15:00']),
      );
      expect(offset).toMatchObject({ processing: 'ready', taken_at: '2025-02-28T10:00:00' });
    });
  });

  it('never stores nor answers GPS, from a file that has it', async () => {
    const file = await jpegWith(['-DateTimeOriginal=2025:07:14 18:03:11', '-OffsetTimeOriginal=+02:00', ...CAMERA_TAGS, ...GPS_TAGS]);
    const path = join(dir, `${files++}.jpg`);
    await writeFile(path, file);
    expect((await run('exiftool', ['-s3', '-n', '-GPSLatitude', path])).stdout.trim()).toBe('48.85837');
    const image = await processed('located', file);
    expect(image).toMatchObject({ taken_at: '2025-07-14T18:03:11+02:00', camera: CAMERA, exposure: EXPOSURE });
    // Where the file says it was taken, as any member or value; ids, times, hashes and signed URLs aside (random digits).
    const location = /48\.858|2\.2944|gps|latitude|longitude|altitude/i;
    const RANDOM = ['id', 'file_url', 'created_at', 'updated_at', 'sha256', 'variants', 'exif_read_at'];
    const facts = (resource: Record<string, unknown>) =>
      JSON.stringify(Object.fromEntries(Object.entries(resource).filter(([name]) => !RANDOM.includes(name))));
    const answered = facts((await api.get(image.id)).json as Record<string, unknown>);
    expect(answered).toContain('Canon EOS R5');
    expect(answered).not.toMatch(location);
    const [row] = await sql<{ row: Record<string, unknown> }[]>`select to_jsonb(i) as row from images i where id = ${image.id}`;
    expect(facts(row?.row ?? {})).toContain('Canon EOS R5');
    expect(facts(row?.row ?? {})).not.toMatch(location);
    const listed = (await api.list()).json as Record<string, unknown>[];
    expect(listed.map((i) => i.id)).toContain(image.id);
    for (const item of listed) expect(facts(item)).not.toMatch(location);
  });

  it('a photo processed after it joined an album takes its place in the album by the time it was taken', async () => {
    const album = (await albums.create({ title: 'by time' })).json as { id: string };
    const older = await processed('taken earlier', await jpegWith(['-DateTimeOriginal=2020:05:01 12:00:00']));
    const res = await api.upload({
      title: 'taken later',
      file: { bytes: await jpegWith(['-DateTimeOriginal=2021:05:01 12:00:00']), filename: 'p' },
    });
    const later = res.json as Image;
    await albums.add(album.id, [later.id, older.id]);
    const inAlbum = async () => (await api.list({ album: album.id, sort: 'taken' })).json as Image[];
    // Not processed yet: it says nothing of its time, so it comes after those that do.
    expect((await inAlbum()).map((i) => i.title)).toEqual(['taken earlier', 'taken later']);
    const path = new URL(later.file_url).pathname;
    await processHandler(s3Event(String(process.env.S3_BUCKET), path.slice(path.lastIndexOf('/images/') + 1)), lambdaContext());
    expect((await inAlbum()).map((i) => [i.title, i.taken_at])).toEqual([
      ['taken later', '2021-05-01T12:00:00'],
      ['taken earlier', '2020-05-01T12:00:00'],
    ]);
    const copies = await sql`select image_taken_sort::text as t from album_images where image_id = ${later.id}`;
    expect(copies).toEqual([{ t: '2021-05-01 12:00:00' }]);
    expect((await api.list({ album: album.id, taken_from: '2021-05-01', taken_to: '2021-05-01' })).json).toEqual([
      expect.objectContaining({ id: later.id }),
    ]);
  });
});
