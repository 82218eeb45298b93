/**
 * `npm run db:backfill`: images stored before the file columns existed get them from their objects;
 * the rest is left alone, and a row whose object is gone is reported, not invented.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { beforeEach, describe, expect, it } from 'vitest';
import { backfillFileFacts } from '../../lib/images/backfill';
import { api } from '../helpers/api';
import { putObject, resetState, sha256, sql } from '../helpers/state';

const run = promisify(execFile);
const sideways = readFileSync(new URL('../fixtures/images/exif6.jpg', import.meta.url));
const heic = readFileSync(new URL('../fixtures/images/irot90.heic', import.meta.url));

/** A row as the seed's table held it: the seven columns, none of what the file is. */
async function legacyImage(title: string, key: string, bytes?: Buffer): Promise<string> {
  if (bytes) await putObject(key, bytes);
  const [row] = await sql<{ id: string }[]>`
    insert into images (id, title, description, filename, file_url)
    values (gen_random_uuid(), ${title}, '', 'f', ${`${process.env.FILES_BASE_URL}/${key}`}) returning id`;
  return row?.id ?? '';
}

beforeEach(resetState);

describe('backfill of what the file is', () => {
  it('fills type, size, displayed dimensions and hash from the objects, once', async () => {
    const jpeg = await legacyImage('old jpeg', 'images/old-jpeg.jpg', sideways);
    const heif = await legacyImage('old heic', 'images/old-heic.heic', heic);
    const fresh = ((await api.upload({ title: 'already filled' })).json as { id: string }).id;
    const before = await sql`select * from images where id = ${fresh}`;

    expect(await backfillFileFacts()).toEqual({ filled: 2, failed: [] });
    const rows = await sql`select id, content_type, size, width, height, sha256 from images where id in ${sql([jpeg, heif])} order by title`;
    expect(rows).toEqual([
      { id: heif, content_type: 'image/heic', size: String(heic.byteLength), width: 300, height: 400, sha256: sha256(heic) },
      { id: jpeg, content_type: 'image/jpeg', size: String(sideways.byteLength), width: 300, height: 400, sha256: sha256(sideways) },
    ]);
    expect(await sql`select * from images where id = ${fresh}`).toEqual(before);
    expect(await backfillFileFacts()).toEqual({ filled: 0, failed: [] });
  });

  it('reports a row whose object is missing, leaves it as it is, and fills the others', async () => {
    const gone = await legacyImage('gone', 'images/gone.jpg');
    const there = await legacyImage('there', 'images/there.jpg', sideways);
    const report = await backfillFileFacts(1);
    expect(report).toEqual({ filled: 1, failed: [{ id: gone, reason: 'no object at images/gone.jpg' }] });
    expect((await sql`select width from images where id = ${there}`)[0]).toEqual({ width: 300 });
    expect((await sql`select sha256 from images where id = ${gone}`)[0]).toEqual({ sha256: null });
  });

  it('runs as npm run db:backfill, saying what it did', async () => {
    await legacyImage('by script', 'images/script.jpg', sideways);
    const { stdout } = await run('node_modules/.bin/tsx', ['scripts/backfill.ts'], { env: process.env });
    expect(stdout).toContain('backfill: 1 image(s) filled, 0 left as they are');
  });
});
