/**
 * `npm run bench`: every figure is a ratio of two things measured side by side in this one run (the
 * machine is shared and noisy): package sizes, cold starts against an empty handler, warm paths
 * against the raw operations they must do, a list page at 100,000 rows against 1,000, and the peak
 * memory of an upload at the size limit. Needs Postgres at 127.0.0.1:5432 and Redis at :6379.
 *
 *   BENCH_ITERATIONS=1000 BENCH_COLD_RUNS=7 npm run bench
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createClient } from '@redis/client';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { runMigrations } from '../scripts/migrate';
import { startS3Emulator } from '../scripts/local-services';
import { makeJpeg } from '../support/images';
import { startUpstashFixture } from '../support/upstash-fixture';
import { hasCommand, startAwsStandIn } from '../support/aws-stand-in';
import { httpEvent, lambdaContext, multipart } from '../support/lambda-events';
import { alternate, median, ms, percentile, ratio, time } from './stats';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 1000);
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 7);
/** BENCH_SECTIONS=cold,warm,scale,memory runs only those (package sizes always). */
const SECTIONS = new Set((process.env.BENCH_SECTIONS ?? 'cold,warm,scale,memory').split(','));
const want = (section: string) => SECTIONS.has(section);
const ADMIN_URL = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = 'redis://127.0.0.1:6379';
const root = process.cwd();
// Asynchronous: the S3 emulator runs in this process and must keep answering meanwhile.
const runNode = (file: string, args: string[], cwd: string, extraEnv: Record<string, string> = {}) =>
  promisify(execFile)(file, args, { cwd, env: { ...process.env, ...extraEnv }, encoding: 'utf8', maxBuffer: 1 << 24 });
const work = mkdtempSync(join(tmpdir(), 'gallery-bench-'));
const lines: string[] = [];
const say = (line = '') => {
  lines.push(line);
  console.log(line);
};

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;

// ---------------------------------------------------------------------------------------------
// The services: a throwaway database, an S3 emulator, the machine's Redis.
const dbName = `gallery_bench_${process.pid}`;
const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName}`);
await admin.unsafe(`CREATE DATABASE ${dbName}`);
const dbUrl = new URL(ADMIN_URL);
dbUrl.pathname = `/${dbName}`;
await runMigrations(dbUrl.toString());
const s3 = await startS3Emulator({ port: 0, directory: join(work, 's3'), bucket: 'bench' });
const env = {
  DATABASE_URL: dbUrl.toString(),
  S3_BUCKET: 'bench',
  S3_ENDPOINT: s3.url,
  S3_FORCE_PATH_STYLE: 'true',
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_REGION: 'us-east-1',
  FILES_BASE_URL: `${s3.url}/bench`,
  REDIS_URL,
  LOG_LEVEL: 'error',
};
Object.assign(process.env, env);
// Cold starts run as deployed: Redis is Upstash over REST (this fixture speaks its protocol in
// front of the local Redis; the zips leave node-redis out).
const upstash = await startUpstashFixture(REDIS_URL);
const deployedRedis = { UPSTASH_REDIS_REST_URL: upstash.url, UPSTASH_REDIS_REST_TOKEN: upstash.token };
// Cold starts with the SSM read, as deployed: the secrets in moto's SSM (when moto_server is
// installed), the functions given only their path; moto accepts any credentials, s3rver wants its own.
const BENCH_API_KEY = 'bench-api-key-0123456789abcdef';
const aws = want('cold') && hasCommand('moto_server') ? await startAwsStandIn() : undefined;
const deployedSecrets = aws && {
  ...aws.env,
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  SSM_PARAMETER_PATH: '/photo-gallery/bench',
  DATABASE_URL: '',
  UPSTASH_REDIS_REST_URL: '',
  UPSTASH_REDIS_REST_TOKEN: '',
};
await aws?.putParameters({
  '/photo-gallery/bench/database-url': env.DATABASE_URL,
  '/photo-gallery/bench/api-keys': BENCH_API_KEY,
  '/photo-gallery/bench/upstash-redis-rest-url': upstash.url,
  '/photo-gallery/bench/upstash-redis-rest-token': upstash.token,
});
/** The functions that read secrets at cold start (the others never call loadSecrets). */
const READS_SECRETS = new Set(['imagesCreate', 'imagesDelete', 'imagesGet', 'imagesList', 'imagesUpdate']);
const sql = postgres(env.DATABASE_URL, { max: 1, onnotice: () => {} });
const redis = createClient({ url: REDIS_URL });
await redis.connect();
const s3Client = new S3Client({
  region: 'us-east-1',
  endpoint: s3.url,
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});

async function seed(count: number): Promise<void> {
  await sql`
    insert into images (id, title, description, filename, file_url, created_at, updated_at)
    select gen_random_uuid(), 'seed ' || n || ' ' || ${randomUUID().slice(0, 8)}, 'seeded', 'seed.jpg',
           ${`${s3.url}/bench/images/`} || n || '.jpg',
           now() - n * interval '1 millisecond', now()
    from generate_series(1, ${count}) as n`;
}

try {
  say(`# npm run bench (${new Date().toISOString()}, node ${process.version}, ${ITERATIONS} iterations, ${COLD_RUNS} cold runs)`);

  // -------------------------------------------------------------------------------------------
  // 1. Package sizes.
  execFileSync('npm', ['run', '--silent', 'package'], { stdio: 'ignore' });
  const zips = readdirSync('.serverless').filter((f) => f.endsWith('.zip')).sort();
  say('\n## Packages (npm run package: esbuild, minified, one zip per function)');
  say('| function | zipped | goal < 500 KB |');
  say('| --- | ---: | --- |');
  for (const zip of zips) {
    const size = statSync(join('.serverless', zip)).size;
    say(`| ${zip.replace('.zip', '')} | ${(size / 1024).toFixed(0)} KB | ${size < 500 * 1024 ? 'yes' : 'NO'} |`);
  }

  // -------------------------------------------------------------------------------------------
  // 2. Cold starts: a fresh Node process imports the bundle and serves its first request.
  const bundles = join(work, 'bundles');
  for (const zip of zips) {
    const dir = join(bundles, zip.replace('.zip', ''));
    mkdirSync(dir, { recursive: true });
    execFileSync('unzip', ['-q', '-o', join(root, '.serverless', zip), '-d', dir]);
  }
  const emptyDir = join(bundles, 'empty', 'functions');
  mkdirSync(emptyDir, { recursive: true });
  writeFileSync(join(emptyDir, 'empty.mjs'), 'export const handler = async () => ({ statusCode: 200, body: "{}" });\n');

  const [fixture] = await sql<{ id: string }[]>`
    insert into images (id, title, description, filename, file_url)
    values (gen_random_uuid(), 'cold fixture', '', 'f.jpg', ${`${s3.url}/bench/images/f.jpg`}) returning id`;
  const fixtureId = fixture?.id ?? '';
  const small = await multipart([
    ['title', 'TITLE'],
    ['description', 'cold'],
    ['file', { bytes: makeJpeg(64, 48), filename: 'cold.jpg' }],
  ]);
  const uploadEvent = (title: string, body: Buffer, contentType: string) =>
    httpEvent({
      method: 'POST',
      path: '/api/v1/images/',
      route: 'POST /api/v1/images',
      headers: { 'content-type': contentType, authorization: `Bearer ${BENCH_API_KEY}` },
      body: Buffer.from(body.toString('latin1').replace('TITLE', title), 'latin1'),
    });
  const coldEvents: Record<string, (run: number) => Promise<APIGatewayProxyEventV2>> = {
    empty: async () => httpEvent({ method: 'GET', path: '/', route: 'GET /' }),
    imagesGet: async () =>
      httpEvent({ method: 'GET', path: `/api/v1/images/${fixtureId}`, route: 'GET /api/v1/images/{id}', pathParameters: { id: fixtureId } }),
    imagesList: async () => httpEvent({ method: 'GET', path: '/api/v1/images/', route: 'GET /api/v1/images', query: { limit: '50' } }),
    imagesCreate: async (run) => uploadEvent(`cold ${run} ${randomUUID().slice(0, 8)}`, small.body, small.contentType),
    imagesUpdate: async () =>
      httpEvent({
        method: 'PATCH',
        path: `/api/v1/images/${fixtureId}`,
        route: 'PATCH /api/v1/images/{id}',
        pathParameters: { id: fixtureId },
        headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` },
        body: JSON.stringify({ description: 'cold' }),
      }),
    imagesDelete: async () => {
      const [row] = await sql<{ id: string }[]>`
        insert into images (id, title, description, filename, file_url)
        values (gen_random_uuid(), ${`doomed ${randomUUID()}`.slice(0, 32)}, '', 'f.jpg', ${`${s3.url}/bench/images/gone.jpg`}) returning id`;
      const id = row?.id ?? '';
      return httpEvent({
        method: 'DELETE',
        path: `/api/v1/images/${id}`,
        route: 'DELETE /api/v1/images/{id}',
        pathParameters: { id },
        headers: { authorization: `Bearer ${BENCH_API_KEY}` },
      });
    },
    openapi: async () => httpEvent({ method: 'GET', path: '/openapi.json', route: 'GET /openapi.json' }),
    docs: async () => httpEvent({ method: 'GET', path: '/docs', route: 'GET /docs' }),
  };
  /** One cold start of `name`: a fresh process, the import (with the SSM read, when asked), the first request. */
  const coldOnce = async (name: string, run: number, ssm: boolean) => {
    const dir = join(bundles, name);
    const file = name === 'empty' ? join(dir, 'functions', 'empty.mjs') : join(dir, 'functions', `${readdirSync(join(dir, 'functions'))[0]}`);
    const eventFile = join(work, `event-${name}-${run}-${ssm}.json`);
    writeFileSync(eventFile, JSON.stringify([await coldEvents[name]!(run)]));
    const t = performance.now();
    const out = await runNode(process.execPath, [join(root, 'bench', 'driver.mjs'), file, eventFile, 'cold'], dir, {
      ...deployedRedis,
      ...(ssm ? deployedSecrets : {}),
    });
    const wall = performance.now() - t;
    const result = JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '{}');
    if (!result.status || result.status >= 500) throw new Error(`${name} cold start answered ${result.status}: ${out.stderr}`);
    return { wall, importMs: Number(result.importMs), firstMs: Number(result.firstRequestMs) };
  };
  if (want('cold')) {
    // Round-robin: every function, the empty handler included, once per round, with and without the
    // SSM read, so that a noisy moment of the machine falls on all of them alike.
    const names = ['empty', ...zips.map((z) => z.replace('.zip', ''))];
    type Cold = { wall: number; importMs: number; firstMs: number };
    const runs = new Map<string, Cold[]>();
    const record = (key: string, cold: Cold) => runs.set(key, [...(runs.get(key) ?? []), cold]);
    for (let run = 0; run < COLD_RUNS; run++) {
      for (const name of names) {
        record(name, await coldOnce(name, run, false));
        if (deployedSecrets && READS_SECRETS.has(name)) record(`${name}+ssm`, await coldOnce(name, run, true));
      }
    }
    const of = (key: string) => {
      const r = runs.get(key) ?? [];
      return { wall: median(r.map((x) => x.wall)), importMs: median(r.map((x) => x.importMs)), firstMs: median(r.map((x) => x.firstMs)) };
    };
    const empty = of('empty');
    say(`\n## Cold start: a fresh Node process imports the bundle and serves one request, Redis on Upstash's protocol (median of ${COLD_RUNS}, round-robin)`);
    say(
      deployedSecrets
        ? 'With the SSM read: as deployed, the secrets read at import from SSM (moto_server over loopback), the environment holding only their path.'
        : 'No SSM read measured: moto_server is not installed.',
    );
    say('| function | process start → answer | import | first request | vs empty handler (goal ≤ 3x) | with the SSM read | its import | vs empty handler | the read costs |');
    say('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const name of names) {
      const cold = of(name);
      const ssm = runs.has(`${name}+ssm`) ? of(`${name}+ssm`) : undefined;
      const withSsm = ssm
        ? `${ms(ssm.wall)} | ${ms(ssm.importMs)} | ${ratio(ssm.wall, empty.wall)} | ${ms(ssm.wall - cold.wall)}`
        : 'no read | | | ';
      say(`| ${name === 'empty' ? 'empty handler' : name} | ${ms(cold.wall)} | ${ms(cold.importMs)} | ${ms(cold.firstMs)} | ${ratio(cold.wall, empty.wall)} | ${withSsm} |`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // 3. Warm paths, in-process, beside the raw operations they must do.
  const context = lambdaContext();
  const handlers = {
    get: (await import('../functions/images-get')).handler as Handler,
    list: (await import('../functions/images-list')).handler as Handler,
    create: (await import('../functions/images-create')).handler as Handler,
  };
  const call = async (h: Handler, event: APIGatewayProxyEventV2, expected: number) => {
    const res = (await h(event, context)) as APIGatewayProxyStructuredResultV2;
    if (res.statusCode !== expected) throw new Error(`expected ${expected}, got ${res.statusCode}: ${res.body}`);
    return res;
  };
  await seed(1000);
  const [one] = await sql<{ id: string }[]>`select id from images order by created_at desc limit 1`;
  const id = one?.id ?? '';
  const getEvent = httpEvent({ method: 'GET', path: `/api/v1/images/${id}`, route: 'GET /api/v1/images/{id}', pathParameters: { id } });
  const listEvent = httpEvent({ method: 'GET', path: '/api/v1/images/', route: 'GET /api/v1/images', query: { limit: '50' } });
  // Warm every path once (connections, JIT) before measuring.
  for (let i = 0; i < 50; i++) {
    await call(handlers.get, getEvent, 200);
    await call(handlers.list, listEvent, 200);
    await sql`select 1`;
    await redis.get('warm');
  }

  /** Handler and raw operation alternate, so that both see the same moments of a noisy machine. */
  async function pair(
    name: string,
    handler: () => Promise<unknown>,
    rawName: string,
    raw: () => Promise<unknown>,
    goal: number,
    before: () => Promise<unknown> = async () => {},
  ): Promise<[string, number[], string, number[], number]> {
    const [a, b] = await alternate(ITERATIONS, handler, raw, before);
    return [name, a, rawName, b, goal];
  }

  const rows: [string, number[], string, number[], number][] = [];
  if (want('warm')) {
    await call(handlers.get, getEvent, 200);
    const json = (await redis.get(`image:${id}`)) ?? '';
    rows.push(await pair('GET by id, cache hit', () => call(handlers.get, getEvent, 200), 'one Redis GET', () => redis.get(`image:${id}`), 1.5));
    rows.push(
      await pair(
        'GET by id, cache miss',
        () => call(handlers.get, getEvent, 200),
        'one SELECT by key + one Redis SET',
        async () => {
          await sql`select id, title, description, filename, file_url, created_at, updated_at from images where id = ${id}`;
          await redis.set(`image:${id}`, json, { EX: 60 });
        },
        1.5,
        () => redis.del(`image:${id}`),
      ),
    );
    rows.push(
      await pair(
        'list, a page of 50',
        () => call(handlers.list, listEvent, 200),
        'the raw keyset SELECT',
        () => sql`select id, title, description, filename, file_url, created_at, updated_at from images order by created_at desc, id desc limit 51`,
        1.5,
      ),
    );

    const megabyte = makeJpeg(640, 640, 95);
    const upload = await multipart([
      ['title', 'TITLE'],
      ['description', 'bench'],
      ['file', { bytes: megabyte, filename: 'mb.jpg' }],
    ]);
    let n = 0;
    let next = uploadEvent('first', upload.body, upload.contentType);
    rows.push(
      await pair(
        `upload of a ${(megabyte.length / 1024 / 1024).toFixed(2)} MB JPEG`,
        () => call(handlers.create, next, 201),
        'raw S3 PutObject + INSERT',
        async () => {
          const rawId = randomUUID();
          await s3Client.send(new PutObjectCommand({ Bucket: 'bench', Key: `raw/${rawId}.jpg`, Body: megabyte, ContentType: 'image/jpeg' }));
          await sql`insert into images (id, title, description, filename, file_url)
                    values (${rawId}, ${`raw ${rawId}`.slice(0, 32)}, 'bench', 'mb.jpg', ${`${s3.url}/bench/raw/${rawId}.jpg`})`;
        },
        1.3,
        async () => {
          next = uploadEvent(`u ${n++} ${randomUUID().slice(0, 8)}`, upload.body, upload.contentType);
        },
      ),
    );

    say(`\n## Warm path, in-process, ${ITERATIONS} invocations each, alternating with the raw operations`);
    say('| path | p50 | p99 | raw operations | p50 | p99 | ratio p50 | ratio p99 | goal (p50) |');
    say('| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |');
    for (const [name, handler, rawName, raw, goal] of rows) {
      const r50 = median(handler) / median(raw);
      say(
        `| ${name} | ${ms(median(handler))} | ${ms(percentile(handler, 99))} | ${rawName} | ${ms(median(raw))} | ${ms(percentile(raw, 99))} | ${r50.toFixed(2)}x | ${ratio(percentile(handler, 99), percentile(raw, 99))} | ≤ ${goal}x ${r50 <= goal ? '(met)' : '(NOT met)'} |`,
      );
    }
  }

  // -------------------------------------------------------------------------------------------
  // 4. Scale: the first page and a deep page at 1,000 rows and at 100,000.
  const pageAt = async () => {
    const first = await time(ITERATIONS, () => call(handlers.list, listEvent, 200));
    const [mid] = await sql<{ created_at: string; id: string }[]>`
      select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') as created_at, id
      from images order by created_at desc, id desc offset (select count(*) / 2 from images) limit 1`;
    const cursor = Buffer.from(`${mid?.created_at}|${mid?.id}`).toString('base64url');
    const deepEvent = httpEvent({ method: 'GET', path: '/api/v1/images/', route: 'GET /api/v1/images', query: { limit: '50', cursor } });
    const deep = await time(ITERATIONS, () => call(handlers.list, deepEvent, 200));
    return { first, deep, cursor: mid };
  };
  if (want('scale')) {
  await sql`delete from images`;
  await seed(1000);
  await sql`analyze images`;
  const small1k = await pageAt();
  await seed(99_000);
  await sql`analyze images`;
  const big100k = await pageAt();
  const plan = await sql.unsafe(
    `explain (analyze, costs off, timing off, summary off) select id from images where (created_at, id) < ($1::timestamptz, $2::uuid) order by created_at desc, id desc limit 51`,
    [big100k.cursor?.created_at ?? '', big100k.cursor?.id ?? ''],
  );
  say(`\n## Scale: list pages of 50 at 1,000 rows and at 100,000 rows (${ITERATIONS} each)`);
  say('| page | p50 at 1,000 | p50 at 100,000 | ratio (goal ≤ 1.2x) |');
  say('| --- | ---: | ---: | ---: |');
  say(`| first page | ${ms(median(small1k.first))} | ${ms(median(big100k.first))} | ${ratio(median(big100k.first), median(small1k.first))} |`);
  say(`| a page from the middle (cursor) | ${ms(median(small1k.deep))} | ${ms(median(big100k.deep))} | ${ratio(median(big100k.deep), median(small1k.deep))} |`);
  say('\nEXPLAIN of the keyset query at 100,000 rows:');
  say('```');
  for (const row of plan) say(String(Object.values(row)[0]));
  say('```');
  }

  // -------------------------------------------------------------------------------------------
  // 5. Memory: peak resident set of the bundled upload function at the size limit.
  if (want('memory')) {
  const limit = 4 * 1024 * 1024;
  const jpeg = makeJpeg(64, 48);
  const atLimit = Buffer.concat([jpeg, Buffer.alloc(limit - jpeg.length)]);
  const big = await multipart([
    ['title', 'TITLE'],
    ['description', 'memory'],
    ['file', { bytes: atLimit, filename: 'limit.jpg' }],
  ]);
  const memoryEvents = join(work, 'memory-events.json');
  const createDir = join(bundles, 'imagesCreate');
  const peaks: { above: number; live: number; status: number }[] = [];
  for (let run = 0; run < 3; run++) {
    writeFileSync(
      memoryEvents,
      JSON.stringify([
        // The warm-up is a file at the limit too: the heap has grown to its working size and the
        // code paths are compiled, so what is measured is what each such request costs.
        uploadEvent(`warm ${randomUUID().slice(0, 8)}`, big.body, big.contentType),
        uploadEvent(`limit ${randomUUID().slice(0, 8)}`, big.body, big.contentType),
      ]),
    );
    const out = await runNode(
      process.execPath,
      ['--expose-gc', join(root, 'bench', 'driver.mjs'), join(createDir, 'functions', 'images-create.mjs'), memoryEvents, 'memory'],
      createDir,
      // Large blocks straight from mmap and back to the system when freed, so that memory freed
      // while the event was read is not silently reused and the RSS tracks what the request holds.
      { MALLOC_MMAP_THRESHOLD_: '65536', MALLOC_TRIM_THRESHOLD_: '0', ...deployedRedis },
    );
    const result = JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '{}');
    if (result.status !== 201) throw new Error(`memory run answered ${result.status}: ${out.stderr}`);
    peaks.push({ above: result.peak - result.baseline, live: result.livePeak - result.liveBaseline, status: result.status });
  }
  const above = median(peaks.map((p) => p.above));
  const liveAbove = median(peaks.map((p) => p.live));
  say('\n## Memory: the bundled upload function, warm, handling a file at the 4 MiB limit (median of 3)');
  say('| file | peak RSS above the idle baseline | ratio (goal ≤ 4x) | peak heap + external above baseline | ratio |');
  say('| ---: | ---: | ---: | ---: | ---: |');
  say(
    `| ${(limit / 1024 / 1024).toFixed(0)} MiB | ${(above / 1024 / 1024).toFixed(1)} MiB | ${ratio(above, limit)} | ${(liveAbove / 1024 / 1024).toFixed(1)} MiB | ${ratio(liveAbove, limit)} |`,
  );
  }
} finally {
  await redis.close();
  await upstash.stop();
  await aws?.stop();
  await sql.end();
  await s3.stop();
  await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
  rmSync(work, { recursive: true, force: true });
  writeFileSync(join(root, '.bench-results.md'), `${lines.join('\n')}\n`);
}
process.exit(0);
