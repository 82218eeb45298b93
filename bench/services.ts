/**
 * The services the bench runs against: a throwaway database with the real migrations, an S3
 * emulator, the machine's Redis and, in front of it, the Upstash REST fixture the deployed functions
 * talk to; clients for each, the options and a work folder; and the requests the sections send. The
 * environment the app's config reads is set here, before any section imports a module of lib/
 * (config is read at import).
 */

import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { createClient } from '@redis/client';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import postgres from 'postgres';
import { startS3Emulator } from '../scripts/local-services';
import { runMigrations } from '../scripts/migrate';
import { type FileSpec, httpEvent, multipart } from '../support/lambda-events';
import { startUpstashFixture } from '../support/upstash-fixture';

const ADMIN_URL = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = 'redis://127.0.0.1:6379';
export const BUCKET = 'bench';
/** The write key of the deployed stage the cold starts stand for (read from SSM there). */
export const BENCH_API_KEY = 'bench-api-key-0123456789abcdef';
/** The secret that signs a protected share's access tokens, in the environment and in SSM alike. */
export const BENCH_SHARE_TOKEN_SECRET = 'bench-share-token-secret-0123456789abcdef';

const redisClient = () => createClient({ url: REDIS_URL });

export interface BenchOptions {
  iterations: number;
  coldRuns: number;
  /** Runs of the direct upload of a 50 MiB file (each moves hundreds of MiB through the emulator). */
  largeIterations: number;
  /** Warm runs of each original in the processing section (each makes a photo's copies twice: seconds). */
  processingIterations: number;
  /** The rows of the scale section's large table. */
  scaleRows: number;
}

export interface Services {
  options: BenchOptions;
  /** The project's folder (where `npm run bench` runs). */
  root: string;
  /** A temporary folder, removed at the end. */
  work: string;
  /** The throwaway database (DATABASE_URL). */
  databaseUrl: string;
  /** The bucket's URL on the emulator, the base of every file_url (FILES_BASE_URL). */
  filesBaseUrl: string;
  sql: ReturnType<typeof postgres>;
  redis: ReturnType<typeof redisClient>;
  s3Client: S3Client;
  /** Redis as the deployed functions reach it: Upstash's REST protocol (the fixture). */
  deployedRedis: { UPSTASH_REDIS_REST_URL: string; UPSTASH_REDIS_REST_TOKEN: string };
  close: () => Promise<void>;
}

/** Creates the database, starts the emulator and the fixture, and sets the environment. */
export async function startServices(options: BenchOptions): Promise<Services> {
  const work = mkdtempSync(join(tmpdir(), 'gallery-bench-'));
  const dbName = `gallery_bench_${process.pid}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName}`);
  await admin.unsafe(`CREATE DATABASE ${dbName}`);
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;
  await runMigrations(dbUrl.toString());
  const s3 = await startS3Emulator({ port: 0, directory: join(work, 's3'), bucket: BUCKET });
  const env = {
    DATABASE_URL: dbUrl.toString(),
    S3_BUCKET: BUCKET,
    S3_ENDPOINT: s3.url,
    S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
    FILES_BASE_URL: `${s3.url}/${BUCKET}`,
    REDIS_URL,
    LOG_LEVEL: 'error',
    // The deployed functions' share-token secret (SSM in the cold starts): the same in both.
    SHARE_TOKEN_SECRET: BENCH_SHARE_TOKEN_SECRET,
  };
  Object.assign(process.env, env);
  // The cold starts and the memory runs are as deployed: Redis is Upstash over REST (the zips leave
  // node-redis out).
  const upstash = await startUpstashFixture(REDIS_URL);
  const sql = postgres(env.DATABASE_URL, { max: 1, onnotice: () => {} });
  const redis = redisClient();
  await redis.connect();
  const s3Client = new S3Client({
    region: 'us-east-1',
    endpoint: s3.url,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    options,
    root: process.cwd(),
    work,
    databaseUrl: env.DATABASE_URL,
    filesBaseUrl: env.FILES_BASE_URL,
    sql,
    redis,
    s3Client,
    deployedRedis: { UPSTASH_REDIS_REST_URL: upstash.url, UPSTASH_REDIS_REST_TOKEN: upstash.token },
    close: async () => {
      await redis.close();
      await upstash.stop();
      await sql.end();
      await s3.stop();
      await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.end();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/** Adds `count` rows, a millisecond apart, newest first in the order generated. */
export async function seed(services: Services, count: number): Promise<void> {
  await services.sql`
    insert into images (id, title, description, filename, file_url, created_at, updated_at)
    select gen_random_uuid(), 'seed ' || n || ' ' || ${randomUUID().slice(0, 8)}, 'seeded', 'seed.jpg',
           ${`${services.filesBaseUrl}/images/`} || n || '.jpg',
           now() - n * interval '1 millisecond', now()
    from generate_series(1, ${count}) as n`;
}

/**
 * POST /api/v1/images events with one file and description, made once as multipart: the returned
 * function gives an event for a title (titles are unique), with the deployed stage's key.
 */
export async function uploadEvents(description: string, file: FileSpec): Promise<(title: string) => APIGatewayProxyEventV2> {
  const { body, contentType } = await multipart([
    ['title', 'TITLE'],
    ['description', description],
    ['file', file],
  ]);
  return (title) =>
    httpEvent({
      method: 'POST',
      path: '/api/v1/images/',
      route: 'POST /api/v1/images',
      headers: { 'content-type': contentType, authorization: `Bearer ${BENCH_API_KEY}` },
      body: Buffer.from(body.toString('latin1').replace('TITLE', title), 'latin1'),
    });
}

/** What a client declares of a file before it sends it straight to the store (POST /api/v1/uploads). */
export interface UploadRequest {
  title: string;
  description: string;
  filename: string;
  size: number;
  content_type: string;
  sha256?: string;
}

/** POST /api/v1/uploads with this declaration, with the deployed stage's key. */
export const createUploadEvent = (request: UploadRequest): APIGatewayProxyEventV2 =>
  httpEvent({
    method: 'POST',
    path: '/api/v1/uploads',
    route: 'POST /api/v1/uploads',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` },
    body: JSON.stringify(request),
  });

/** POST /api/v1/uploads/{id}/complete, with the deployed stage's key. */
export const completeUploadEvent = (id: string): APIGatewayProxyEventV2 =>
  httpEvent({
    method: 'POST',
    path: `/api/v1/uploads/${id}/complete`,
    route: 'POST /api/v1/uploads/{id}/complete',
    pathParameters: { id },
    headers: { authorization: `Bearer ${BENCH_API_KEY}` },
  });
