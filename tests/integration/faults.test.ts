import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startS3Emulator } from '../../scripts/local-services';
import { api, apiWith } from '../helpers/api';
import { captureOutput } from '../helpers/output';
import { problem } from '../helpers/problems';
import { assertNoOrphans, objectKeys, resetState, rowIds, sql } from '../helpers/state';

/** An S3 endpoint where an emulator ran and has been stopped. */
async function stoppedEmulator(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gallery-s3-stopped-'));
  const s3 = await startS3Emulator({ port: 0, directory: dir, bucket: 'gone' });
  await s3.stop();
  await rm(dir, { recursive: true, force: true });
  return s3.url;
}

const unavailable = (what: string) => problem(503, `The ${what} is unavailable; try again later.`);

beforeEach(resetState);
afterEach(() => {
  vi.resetModules();
});

describe('Postgres unreachable (a port nothing listens on)', () => {
  const wrongPort = () => {
    const url = new URL(process.env.DATABASE_URL ?? '');
    url.port = '1';
    return url.toString();
  };

  it('answers 503 to every endpoint and leaves no object in S3', async () => {
    const down = await apiWith({ DATABASE_URL: wrongPort() });
    const id = '00000000-0000-4000-8000-000000000001';
    const upload = await down.upload({ title: 'db down' });
    expect(upload.status).toBe(503);
    expect(upload.json).toEqual(unavailable('database'));
    expect(await objectKeys()).toEqual([]);
    const replies = [
      await down.get(id),
      await down.list(),
      await down.patch(id, { title: 'x' }),
      await down.remove(id),
      await down.createUpload({ title: 'x', description: '', filename: 'x.jpg', size: 10, content_type: 'image/jpeg' }),
      await down.completeUpload(id),
    ];
    for (const res of replies) {
      expect(res.status).toBe(503);
      expect(res.json).toEqual(unavailable('database'));
    }
  });
});

describe('S3 unreachable (a stopped emulator)', () => {
  it('answers 503 to an upload and writes no row', async () => {
    const down = await apiWith({ S3_ENDPOINT: await stoppedEmulator() });
    const res = await down.upload({ title: 's3 down' });
    expect(res.status).toBe(503);
    expect(res.json).toEqual(unavailable('object storage'));
    expect(await rowIds()).toEqual([]);
  });

  it('answers 204 to a DELETE: the row goes now, its file once S3 is back (tests/integration/outbox.test.ts)', async () => {
    const image = (await api.upload({ title: 'survivor' })).json as { id: string };
    const down = await apiWith({ S3_ENDPOINT: await stoppedEmulator(), FILE_REMOVAL_BUDGET_MS: '300' });
    expect((await down.remove(image.id)).status).toBe(204);
    expect(await rowIds()).toEqual([]);
    expect(await objectKeys()).toEqual([`images/${image.id}.jpg`]);
    expect((await sql`select count(*)::int as n from file_removals`)[0]?.n).toBe(3);
    expect((await api.get(image.id)).status).toBe(404);
  });

  it('still serves reads, which do not touch S3 (presigning a private original is local)', async () => {
    const image = (await api.upload({ title: 'readable' })).json as { id: string; file_url: string };
    const down = await apiWith({ S3_ENDPOINT: await stoppedEmulator() });
    const unsigned = (i: unknown) => ({ ...(i as object), file_url: new URL((i as { file_url: string }).file_url).pathname });
    expect(unsigned((await down.get(image.id)).json)).toEqual(unsigned(image));
    expect(((await down.list()).json as unknown[]).map(unsigned)).toEqual([unsigned(image)]);
  });
});

describe('the row cannot be committed after the object was written', () => {
  beforeEach(async () => {
    // A deferred constraint trigger fires at COMMIT, after the handler has stored the object.
    await sql`create or replace function refuse_commit() returns trigger language plpgsql as $$
      begin raise exception 'refused at commit'; end $$`;
    await sql`create constraint trigger refuse_commit after insert on images
      deferrable initially deferred for each row when (new.title = 'refused at commit')
      execute function refuse_commit()`;
  });
  afterEach(async () => {
    await sql`drop trigger if exists refuse_commit on images`;
    await sql`drop function if exists refuse_commit()`;
  });

  it('removes the object again and answers 500 with nothing internal', async () => {
    const res = await api.upload({ title: 'refused at commit' });
    expect(res.status).toBe(500);
    expect(res.json).toEqual(problem(500, 'An unexpected error occurred.'));
    expect(await rowIds()).toEqual([]);
    expect(await objectKeys()).toEqual([]);
  });

  it('does not disturb other uploads', async () => {
    expect((await api.upload({ title: 'committed fine' })).status).toBe(201);
    await assertNoOrphans();
  });
});

describe('an unexpected database error (the table renamed away under the service)', () => {
  it('is a bare 500 on every endpoint, logged with the request id, nothing internal in the body', async () => {
    const id = '00000000-0000-4000-8000-000000000001';
    const lines = captureOutput([process.stderr]);
    await sql`alter table images rename to images_away`;
    try {
      const broken = await apiWith({ LOG_LEVEL: 'error' });
      const replies = [
        await broken.upload({ title: 'no table' }),
        await broken.get(id),
        await broken.list(),
        await broken.patch(id, { title: 'x' }),
        await broken.remove(id),
        await broken.createUpload({ title: 'x', description: '', filename: 'x.jpg', size: 10, content_type: 'image/jpeg' }),
        await broken.completeUpload(id),
      ];
      for (const res of replies) expect(res.json).toEqual(problem(500, 'An unexpected error occurred.'));
    } finally {
      await sql`alter table images_away rename to images`;
      vi.restoreAllMocks();
    }
    const logged = lines.map((l) => JSON.parse(l) as { level: string; msg: string; requestId?: string; cause?: { code?: string } });
    expect(logged).toHaveLength(7);
    for (const line of logged) {
      expect(line).toMatchObject({ level: 'error', msg: 'request failed', cause: { code: '42P01' } });
      expect(line.requestId).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(new Set(logged.map((l) => l.requestId)).size).toBe(7);
    expect(await objectKeys()).toEqual([]);
  });
});

describe('configuration', () => {
  it.each([
    ['images-create', 'DATABASE_URL', undefined, /DATABASE_URL is required/],
    ['images-get', 'DATABASE_URL', undefined, /DATABASE_URL is required/],
    ['images-list', 'DATABASE_URL', 'mysql://x', /DATABASE_URL must be a postgres:\/\/ URL/],
    ['images-update', 'DATABASE_URL', undefined, /DATABASE_URL is required/],
    ['images-delete', 'S3_BUCKET', undefined, /S3_BUCKET is required/],
    ['images-create', 'MAX_UPLOAD_BYTES', 'lots', /MAX_UPLOAD_BYTES/],
    ['images-get', 'REDIS_TIMEOUT_MS', '0', /REDIS_TIMEOUT_MS/],
    ['images-update', 'API_KEYS', 'short', /API_KEYS each key must be at least 16 characters/],
    ['openapi', 'LOG_LEVEL', 'loud', /LOG_LEVEL/],
    ['docs', 'LOG_LEVEL', 'loud', /LOG_LEVEL/],
    ['web', 'FILES_BASE_URL', 'cdn.example', /FILES_BASE_URL/],
  ])('%s fails its cold start, naming the variable, when %s is %s', async (fn, name, value, message) => {
    vi.resetModules();
    const saved = process.env[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
    try {
      await expect(import(`../../functions/${fn}.ts`)).rejects.toThrow(message);
    } finally {
      if (saved === undefined) delete process.env[name];
      else process.env[name] = saved;
    }
  });

  it('refuses, on a deployed function, to read a secret before loadSecrets() has read them from SSM', async () => {
    vi.resetModules();
    process.env.SSM_PARAMETER_PATH = '/photo-gallery/prod';
    try {
      const { authConfig, databaseConfig, redisConfig, storageConfig } = await import('../../lib/config');
      for (const section of [authConfig, databaseConfig, redisConfig]) {
        expect(() => section()).toThrow(/a secret was read before loadSecrets\(\) finished \(SSM_PARAMETER_PATH is set\)/);
      }
      expect(storageConfig().S3_BUCKET).toBe(process.env.S3_BUCKET);
    } finally {
      delete process.env.SSM_PARAMETER_PATH;
    }
  });

  it('refuses to start with a FILES_BASE_URL that would make file_url longer than 128 characters', async () => {
    await expect(apiWith({ FILES_BASE_URL: `http://example.com/${'x'.repeat(70)}` })).rejects.toThrow(
      /FILES_BASE_URL is too long: file_url \(base \+ "\/" \+ a 48-character key\) must fit in 128 characters/,
    );
    await expect(apiWith({ FILES_BASE_URL: `http://example.com/${'x'.repeat(42)}` })).resolves.toBeDefined();
  });
});

describe('DB_PREPARE', () => {
  /** Server-side prepared statements in the session of the handlers' one connection. */
  async function preparedAfterReads(prepare: string): Promise<number> {
    const api = await apiWith({ DB_PREPARE: prepare, DB_MAX_CONNECTIONS: '1', LOG_LEVEL: 'silent' });
    const image = (await api.upload({ title: `prepare ${prepare}` })).json as { id: string };
    await api.get(image.id);
    await api.list();
    const { db } = await import('../../lib/db');
    const { sql: raw } = await import('drizzle-orm');
    const rows = await db().execute(raw`select count(*)::int as n from pg_prepared_statements`);
    return Number((rows as unknown as { n: number }[])[0]?.n);
  }

  it('false (for RDS Proxy and pgbouncer in transaction mode) leaves no prepared statement behind', async () => {
    expect(await preparedAfterReads('false')).toBe(0);
  });

  it('true prepares the statements once per connection', async () => {
    expect(await preparedAfterReads('true')).toBeGreaterThan(0);
  });
});
