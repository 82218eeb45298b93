/**
 * What a cold function's first request pays for beyond its import, step by step, each step in a
 * fresh Node process (the order of first uses decides who pays for shared set-up): postgres.js's
 * first connection and query, a statement's first preparation, the first fetch (undici loads then:
 * Upstash's REST client and the SSM read use it), and the AWS SDK's S3 client: its import and its
 * first call. Loopback, no TLS: Postgres over TLS adds a round trip and the handshake's CPU.
 *
 *   npx tsx bench/first-request.ts          (Postgres at 127.0.0.1:5432; S3 on an s3rver it starts)
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startS3Emulator } from '../scripts/local-services';

const RUNS = Number(process.env.BENCH_COLD_RUNS ?? 7);
const DATABASE_URL = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Each step: a module run by a fresh `node`, printing `{ step: ms, … }` as one JSON line. */
const STEPS: Record<string, string> = {
  postgres: `
    const t0 = performance.now();
    const { default: postgres } = await import(${JSON.stringify(import.meta.resolve('postgres'))});
    const t1 = performance.now();
    const sql = postgres(process.env.URL, { max: 1, onnotice: () => {} });
    await sql\`select 1\`;
    const t2 = performance.now();
    await sql\`select 1\`;
    const t3 = performance.now();
    await sql.unsafe('select $1::int + 1 as n', [1], { prepare: true });
    const t4 = performance.now();
    await sql.unsafe('select $1::int + 1 as n', [2], { prepare: true });
    const t5 = performance.now();
    await sql.end();
    console.log(JSON.stringify({ 'import postgres.js': t1 - t0, 'connect + first query': t2 - t1, 'a query, connected': t3 - t2,
      'a new statement, prepared': t4 - t3, 'the same statement again': t5 - t4 }));`,
  fetch: `
    const t0 = performance.now();
    await (await fetch(process.env.HTTP)).text();
    const t1 = performance.now();
    await (await fetch(process.env.HTTP)).text();
    const t2 = performance.now();
    console.log(JSON.stringify({ 'first fetch (undici loads)': t1 - t0, 'second fetch': t2 - t1 }));`,
  s3: `
    const t0 = performance.now();
    const { S3Client, HeadBucketCommand } = await import(${JSON.stringify(import.meta.resolve('@aws-sdk/client-s3'))});
    const t1 = performance.now();
    const s3 = new S3Client({ region: 'us-east-1', endpoint: process.env.S3, forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    await s3.send(new HeadBucketCommand({ Bucket: 'first' }));
    const t2 = performance.now();
    await s3.send(new HeadBucketCommand({ Bucket: 'first' }));
    const t3 = performance.now();
    console.log(JSON.stringify({ 'import the S3 client': t1 - t0, 'its first call': t2 - t1, 'its second call': t3 - t2 }));`,
};

const work = mkdtempSync(join(tmpdir(), 'gallery-first-'));
const http = createServer((_req, res) => res.end('{}'));
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
const address = http.address();
const s3 = await startS3Emulator({ port: 0, directory: join(work, 's3'), bucket: 'first' });
try {
  const env = {
    ...process.env,
    URL: DATABASE_URL,
    HTTP: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`,
    S3: s3.url,
    NODE_NO_WARNINGS: '1',
  };
  const samples = new Map<string, number[]>();
  for (let run = 0; run < RUNS; run++) {
    for (const [name, code] of Object.entries(STEPS)) {
      const file = join(work, `${name}.mjs`);
      writeFileSync(file, code);
      // Asynchronous: the emulator runs in this process and must keep answering.
      const out = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, [file], { env, encoding: 'utf8' }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
      );
      for (const [step, ms] of Object.entries(JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Record<string, number>)) {
        samples.set(step, [...(samples.get(step) ?? []), ms]);
      }
    }
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? 0;
  console.log(`| first-request step (median of ${RUNS} fresh processes) | ms |\n| --- | ---: |`);
  for (const [step, values] of samples) console.log(`| ${step} | ${median(values).toFixed(2)} |`);
} finally {
  http.close();
  await s3.stop();
  rmSync(work, { recursive: true, force: true });
}
