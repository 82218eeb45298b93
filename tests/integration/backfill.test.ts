/**
 * `npm run db:backfill`: images stored before the file columns existed get them from their objects,
 * images processed before the processing read EXIF get when and how they were taken, and every
 * title and description is folded for search as the service folds it now; the rest is left alone,
 * a row whose object is gone is reported, not invented, and a second run changes nothing.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as processHandler } from '../../functions/images-process';
import { backfillFileFacts, backfillSearchText } from '../../lib/images/backfill';
import { backfillPhotoFacts, backfillVariants } from '../../lib/variants/backfill';
import { lambdaContext, s3Event } from '../../support/lambda-events';
import { api } from '../helpers/api';
import { albums } from '../helpers/collections';
import { putObject, resetState, sha256, sql } from '../helpers/state';

const run = promisify(execFile);
const sideways = readFileSync(new URL('../fixtures/images/exif6.jpg', import.meta.url));
const heic = readFileSync(new URL('../fixtures/images/irot90.heic', import.meta.url));

/** A row as the seed's table held it (the seven columns, none of what the file is), its object at images/<id>.<ext>. */
async function legacyImage(title: string, ext: string, bytes?: Buffer): Promise<{ id: string; key: string }> {
  const id = randomUUID();
  const key = `images/${id}.${ext}`;
  if (bytes) await putObject(key, bytes);
  await sql`insert into images (id, title, description, filename, file_url)
            values (${id}, ${title}, '', 'f', ${`${process.env.FILES_BASE_URL}/${key}`})`;
  return { id, key };
}

beforeEach(resetState);

describe('backfill of what the file is', () => {
  it('fills type, size, displayed dimensions and hash from the objects, once', async () => {
    const { id: jpeg } = await legacyImage('old jpeg', 'jpg', sideways);
    const { id: heif } = await legacyImage('old heic', 'heic', heic);
    const fresh = ((await api.upload({ title: 'already filled' })).json as { id: string }).id;
    const before = await sql`select * from images where id = ${fresh}`;

    expect(await backfillFileFacts()).toEqual({ filled: 2, failed: [] });
    const rows =
      await sql`select id, content_type, size, width, height, sha256 from images where id in ${sql([jpeg, heif])} order by title`;
    expect(rows).toEqual([
      { id: heif, content_type: 'image/heic', size: String(heic.byteLength), width: 300, height: 400, sha256: sha256(heic) },
      { id: jpeg, content_type: 'image/jpeg', size: String(sideways.byteLength), width: 300, height: 400, sha256: sha256(sideways) },
    ]);
    expect(await sql`select * from images where id = ${fresh}`).toEqual(before);
    expect(await backfillFileFacts()).toEqual({ filled: 0, failed: [] });
  });

  it('reports a row whose object is missing, leaves it as it is, and fills the others', async () => {
    const { id: gone, key } = await legacyImage('gone', 'jpg');
    const { id: there } = await legacyImage('there', 'jpg', sideways);
    const report = await backfillFileFacts(1);
    expect(report).toEqual({ filled: 1, failed: [{ id: gone, reason: `no object at ${key}` }] });
    expect((await sql`select width from images where id = ${there}`)[0]).toEqual({ width: 300 });
    expect((await sql`select sha256 from images where id = ${gone}`)[0]).toEqual({ sha256: null });
  });

  it('makes the variants of images that have none', async () => {
    const { id: old } = await legacyImage('no variants', 'jpg', sideways);
    expect(await backfillVariants()).toEqual({ filled: 1, failed: [] });
    const [row] = await sql`select processing, variants from images where id = ${old}`;
    expect(row).toMatchObject({ processing: 'ready', variants: { thumb: { width: 300, height: 400 } } });
    expect(await backfillVariants()).toEqual({ filled: 0, failed: [] });
  });

  it('runs as npm run db:backfill, saying what it did', async () => {
    await legacyImage('by script', 'jpg', sideways);
    const { stdout } = await run('node_modules/.bin/tsx', ['scripts/backfill.ts'], { env: process.env });
    expect(stdout).toContain('backfill: 1 image(s) filled, 0 left as they are');
    expect(stdout).toContain('variants: 1 image(s) processed, 0 not');
    // Processed by the backfill, so read then: nothing left for the EXIF backfill; folded at insert here.
    expect(stdout).toContain('photo facts: 0 image(s) read, 0 not');
    expect(stdout).toContain('search text: 1 image(s) folded');
    const again = await run('node_modules/.bin/tsx', ['scripts/backfill.ts'], { env: process.env });
    expect(again.stdout).toContain('backfill: 0 image(s) filled, 0 left as they are');
    expect(again.stdout).toContain('photo facts: 0 image(s) read, 0 not');
    expect(again.stdout).toContain('search text: 0 image(s) folded');
  });
});

/** A JPEG whose EXIF says when, with what and how it was taken (and where, which is never kept). */
const photo = (taken: string, offset?: string) =>
  sharp({ create: { width: 64, height: 48, channels: 3, background: '#336' } })
    .jpeg()
    .withExif({
      IFD0: { Make: 'Fujifilm', Model: 'X100V' },
      IFD2: { DateTimeOriginal: taken, ...(offset ? { OffsetTimeOriginal: offset } : {}), ISOSpeedRatings: '200' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '52/1 31/1 0/1' },
    })
    .toBuffer();

/** Uploads and processes an image, then forgets what the processing read of its EXIF, as for an image processed before it did. */
async function processedLongAgo(title: string, bytes: Buffer): Promise<string> {
  const image = (await api.upload({ title, file: { bytes, filename: 'p.jpg' } })).json as { id: string; file_url: string };
  const path = new URL(image.file_url).pathname;
  await processHandler(s3Event(String(process.env.S3_BUCKET), path.slice(path.lastIndexOf('/images/') + 1)), lambdaContext());
  await sql`update images set taken_at = null, taken_local = null, camera = null, exposure = null, exif_read_at = null where id = ${image.id}`;
  return image.id;
}

const factsOf = (id: string) =>
  sql`select processing, taken_at, taken_local::text, taken_sort::text, camera, exposure, exif_read_at is not null as read,
        updated_at::text from images where id = ${id}`;

describe('backfill of when and how photos were taken', () => {
  it('reads the EXIF of ready images processed before it was read, once; the API and the album order show it', async () => {
    const east = await processedLongAgo('east', await photo('2019:08:01 07:30:00', '+09:00'));
    const local = await processedLongAgo('local', await photo('2018:01:01 00:00:00'));
    const album = (await albums.create({ title: 'old photos' })).json as { id: string };
    await albums.add(album.id, [east, local]);
    const pending = (
      (await api.upload({ title: 'still pending', file: { bytes: await photo('2017:01:01 00:00:00'), filename: 'p.jpg' } })).json as {
        id: string;
      }
    ).id;
    const [before] = await factsOf(east);
    expect(before).toMatchObject({ processing: 'ready', taken_at: null, read: false });
    // Cached as it is now: the backfill drops it.
    expect((await api.get(east)).headers['x-cache']).toBe('MISS');
    expect((await api.get(east)).headers['x-cache']).toBe('HIT');

    expect(await backfillPhotoFacts(1)).toEqual({ filled: 2, failed: [] });
    expect((await factsOf(east))[0]).toEqual({
      ...before,
      taken_at: '2019-08-01T07:30:00+09:00',
      taken_local: '2019-08-01 07:30:00',
      taken_sort: '2019-08-01 07:30:00',
      camera: { make: 'Fujifilm', model: 'X100V', lens: null },
      exposure: { f_number: null, exposure_time: null, iso: 200, focal_length: null },
      read: true,
    });
    const got = await api.get(east);
    expect(got.headers['x-cache']).toBe('MISS');
    expect(got.json).toMatchObject({ taken_at: '2019-08-01T07:30:00+09:00', camera: { make: 'Fujifilm' } });
    // Its GPS (52° 31′ N) was never read: no member of it, no value of it among the facts.
    const { camera, exposure, taken_at } = got.json as Record<string, unknown>;
    expect(got.text).not.toMatch(/gps|latitude/i);
    expect(JSON.stringify({ camera, exposure, taken_at })).not.toMatch(/52|31/);
    expect((await factsOf(local))[0]).toMatchObject({ taken_at: '2018-01-01T00:00:00', read: true });
    // A pending image is the processing's to read.
    expect((await factsOf(pending))[0]).toMatchObject({ processing: 'pending', read: false });
    const inAlbum = (await api.list({ album: album.id, sort: 'taken' })).json as { id: string }[];
    expect(inAlbum.map((i) => i.id)).toEqual([east, local]);

    const after = await sql`select * from images order by id`;
    expect(await backfillPhotoFacts()).toEqual({ filled: 0, failed: [] });
    expect(await sql`select * from images order by id`).toEqual(after);
  });

  it('reports a ready image whose original is gone, and reads the others', async () => {
    const { id: gone, key } = await legacyImage('gone', 'jpg');
    await sql`update images set processing = 'ready' where id = ${gone}`;
    const there = await processedLongAgo('there', await photo('2020:08:01 07:30:00'));
    expect(await backfillPhotoFacts()).toEqual({ filled: 1, failed: [{ id: gone, reason: `no object at ${key}` }] });
    expect((await factsOf(there))[0]).toMatchObject({ taken_at: '2020-08-01T07:30:00', read: true });
    expect((await factsOf(gone))[0]).toMatchObject({ taken_at: null, read: false });
  });
});

describe('backfill of the search text', () => {
  it('folds every title and description as the service does, once; search then finds them', async () => {
    const ids = await Promise.all(
      [
        ['Café au lait', 'Straße'],
        ['ÆRØ', ''],
        ['plain', 'words'],
      ].map(async ([title, description]) => ((await api.upload({ title: title ?? '', description })).json as { id: string }).id),
    );
    // As the migration left rows stored before search: lower case, accents kept; and one never filled.
    await sql`update images set search_title = lower(title), search_description = lower(description) where id <> ${ids[2] ?? ''}`;
    await sql`update images set search_title = '', search_description = '' where id = ${ids[2] ?? ''}`;
    const titles = async (q: string) => ((await api.list({ q })).json as { title: string }[]).map((i) => i.title);
    expect(await titles('cafe')).toEqual([]);
    expect(await titles('plain')).toEqual([]);
    const updated = await sql`select id, updated_at::text from images order by id`;

    expect(await backfillSearchText(2)).toBe(3);
    expect(await sql`select title, search_title, search_description from images order by title`).toEqual([
      { title: 'Café au lait', search_title: 'cafe au lait', search_description: 'strasse' },
      { title: 'plain', search_title: 'plain', search_description: 'words' },
      { title: 'ÆRØ', search_title: 'aero', search_description: '' },
    ]);
    expect(await titles('cafe strasse')).toEqual(['Café au lait']);
    expect(await titles('aer')).toEqual(['ÆRØ']);
    expect(await titles('plain wor')).toEqual(['plain']);
    // No event, no new version: what a client sees did not change.
    expect(await sql`select id, updated_at::text from images order by id`).toEqual(updated);
    expect(await sql`select event from outbox where event = 'image_updated'`).toEqual([]);

    const after = await sql`select * from images order by id`;
    expect(await backfillSearchText()).toBe(0);
    expect(await sql`select * from images order by id`).toEqual(after);
  });
});
