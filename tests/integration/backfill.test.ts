/**
 * `npm run db:backfill`: images stored before the file columns existed get them from their objects;
 * the rest is left alone, and a row whose object is gone is reported, not invented.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { beforeEach, describe, expect, it } from 'vitest';
import { backfillFileFacts, backfillVariants } from '../../lib/images/backfill';
import { api } from '../helpers/api';
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
  });
});
