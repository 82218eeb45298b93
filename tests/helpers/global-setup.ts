import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { startS3Emulator } from '../../scripts/local-services';
import { runMigrations } from '../../scripts/migrate';

/** The Postgres server the tests make their throwaway database on. */
const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_BUCKET = 'gallery-test';

/**
 * Creates a throwaway database with the real migrations applied and starts an S3 emulator; the
 * environment set here is what the handlers' config reads in every test worker.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const name = `gallery_test_${process.pid}_${Date.now()}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  await runMigrations(url.toString());

  const s3Dir = await mkdtemp(join(tmpdir(), 'gallery-s3-'));
  // Where the contract check notes every (operation, status) the run produced.
  const recordDir = await mkdtemp(join(tmpdir(), 'gallery-contract-'));
  const s3 = await startS3Emulator({ port: 0, directory: s3Dir, bucket: TEST_BUCKET });

  Object.assign(process.env, {
    DATABASE_URL: url.toString(),
    TEST_DATABASE_ADMIN_URL: ADMIN_URL,
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
  });

  return async () => {
    await s3.stop();
    await rm(s3Dir, { recursive: true, force: true });
    await rm(recordDir, { recursive: true, force: true });
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  };
}
