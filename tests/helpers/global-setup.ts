import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { type RunningPostgres, startEmbeddedPostgres } from '../../scripts/embedded-postgres';
import { redisAnswers, startS3Emulator } from '../../scripts/local-services';
import { runMigrations } from '../../scripts/migrate';
import { freePort } from '../../support/ports';
import { skippedSummary } from './tools';

/** The Postgres server the tests use unless told otherwise, and the one a developer's machine usually has. */
const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_BUCKET = 'gallery-test';

/** Whether something accepts a TCP connection on 127.0.0.1:`port` within half a second. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, timeout: 500 });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/**
 * The server to make the throwaway database on: an embedded PostgreSQL (scripts/embedded-postgres.ts)
 * when TEST_POSTGRES=embedded, or when neither TEST_DATABASE_ADMIN_URL names one nor anything answers at
 * 127.0.0.1:5432; else that server.
 */
async function postgresServer(): Promise<{ adminUrl: string; embedded?: RunningPostgres; folder?: string }> {
  const choice = process.env.TEST_POSTGRES;
  if (choice !== undefined && choice !== 'embedded') throw new Error(`TEST_POSTGRES must be "embedded" or unset, not "${choice}"`);
  if (!choice) {
    if (process.env.TEST_DATABASE_ADMIN_URL) return { adminUrl: process.env.TEST_DATABASE_ADMIN_URL };
    if (await answers(5432)) return { adminUrl: DEFAULT_ADMIN_URL };
  }
  const folder = await mkdtemp(join(tmpdir(), 'gallery-pg-'));
  // A throwaway cluster: durability buys nothing here, and fsync costs every commit.
  const embedded = await startEmbeddedPostgres({
    port: await freePort(),
    directory: join(folder, 'data'),
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' },
  });
  process.stdout.write(`tests: embedded ${embedded.version} at ${embedded.url}\n`);
  return { adminUrl: embedded.url, embedded, folder };
}

/**
 * Checks that Redis answers, creates a throwaway database with the real migrations applied and starts
 * an S3 emulator; the environment set here is what the handlers' config reads in every test worker.
 */
export default async function setup(): Promise<() => Promise<void>> {
  if (!(await redisAnswers(REDIS_URL))) {
    // One line and out: thrown, vitest would report an unhandled error and "no test files found".
    process.stderr.write(
      `npm test needs Redis, and nothing answers at ${REDIS_URL}: install and start it (apt-get install redis-server, brew install redis) or set REDIS_URL\n`,
    );
    process.exit(1);
  }
  const server = await postgresServer();
  const name = `gallery_test_${process.pid}_${Date.now()}`;
  const admin = postgres(server.adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const url = new URL(server.adminUrl);
  url.pathname = `/${name}`;
  await runMigrations(url.toString());

  const s3Dir = await mkdtemp(join(tmpdir(), 'gallery-s3-'));
  // Where the contract check notes every (operation, status) the run produced, and tests/helpers/tools.ts
  // what was skipped for a missing tool.
  const recordDir = await mkdtemp(join(tmpdir(), 'gallery-contract-'));
  const skippedDir = await mkdtemp(join(tmpdir(), 'gallery-skipped-'));
  const s3 = await startS3Emulator({ port: 0, directory: s3Dir, bucket: TEST_BUCKET });

  Object.assign(process.env, {
    DATABASE_URL: url.toString(),
    TEST_DATABASE_ADMIN_URL: server.adminUrl,
    S3_ENDPOINT: s3.url,
    S3_BUCKET: TEST_BUCKET,
    S3_FORCE_PATH_STYLE: 'true',
    S3_MAX_ATTEMPTS: '1',
    S3_TIMEOUT_MS: '2000',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
    FILES_BASE_URL: `${s3.url}/${TEST_BUCKET}`,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    // Signs the access tokens of unlocked shares; a new one each run.
    SHARE_TOKEN_SECRET: randomBytes(32).toString('base64url'),
    CONTRACT_RECORD_DIR: recordDir,
    SKIPPED_RECORD_DIR: skippedDir,
  });

  return async () => {
    const records = await Promise.all((await readdir(skippedDir)).map((f) => readFile(join(skippedDir, f), 'utf8')));
    const summary = skippedSummary(records.join(''));
    if (summary) process.stdout.write(`${summary}\n`);
    await s3.stop();
    await Promise.all([s3Dir, recordDir, skippedDir].map((d) => rm(d, { recursive: true, force: true })));
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    await server.embedded?.stop();
    if (server.folder) await rm(server.folder, { recursive: true, force: true });
  };
}
