/**
 * `npm run load`: drives the running service (npm start) over HTTP on loopback with a mix of
 * uploads, gets, lists, patches and deletes at a chosen concurrency, bounded in count and time; then
 * checks the invariants and prints throughput and latency percentiles. Exits 1 if an invariant fails.
 *
 *   LOAD_URL=http://127.0.0.1:3000 LOAD_CONCURRENCY=8 LOAD_REQUESTS=1000 LOAD_SECONDS=60 npm run load
 *
 * The bucket is listed directly (S3_ENDPOINT, S3_BUCKET; npm start's emulator by default) to check
 * that every object has its row.
 */

import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { ListObjectsCommand, S3Client } from '@aws-sdk/client-s3';
import { keyOfUrl, ORIGINALS_PREFIX } from '../lib/keys';
import { makeJpeg } from '../support/images';
import { percentile } from './stats';

if (existsSync('.env')) process.loadEnvFile('.env');
const env = process.env;
const base = new URL(env.LOAD_URL ?? 'http://127.0.0.1:3000');
const concurrency = Number(env.LOAD_CONCURRENCY ?? 8);
const maxRequests = Number(env.LOAD_REQUESTS ?? 1000);
const maxSeconds = Number(env.LOAD_SECONDS ?? 60);
const apiKey = env.LOAD_API_KEY ?? env.API_KEYS?.split(',')[0]?.trim();

// This generates load: only ever against this machine.
if (!['127.0.0.1', 'localhost', '[::1]'].includes(base.hostname) && !/^127\./.test(base.hostname)) {
  console.error(`refusing to load ${base.host}: loopback only`);
  process.exit(2);
}

type Op = 'upload' | 'get' | 'list' | 'patch' | 'delete';
const MIX: [Op, number][] = [
  ['upload', 25],
  ['get', 35],
  ['list', 15],
  ['patch', 15],
  ['delete', 10],
];
const run = randomUUID().slice(0, 8);
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const images = [makeJpeg(32, 24), makeJpeg(320, 240), makeJpeg(640, 480, 95)];

interface Live {
  id: string;
  fileUrl: string;
  hash: string;
}
const live = new Map<string, Live>();
const deleted = new Map<string, Live>();
const latencies = new Map<Op, number[]>(MIX.map(([op]) => [op, []]));
const statuses = new Map<string, number>();
const failures: string[] = [];
let sent = 0;
let counter = 0;

const auth: Record<string, string> = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
const api = (path: string) => new URL(path, base).toString();

function pick(): Op {
  let roll = Math.random() * 100;
  for (const [op, weight] of MIX) {
    roll -= weight;
    if (roll < 0) return op;
  }
  return 'get';
}
const anyLive = (): Live | undefined => {
  const all = [...live.values()];
  return all[Math.floor(Math.random() * all.length)];
};

async function upload(): Promise<Response> {
  const bytes = images[counter % images.length] ?? makeJpeg(32, 24);
  const form = new FormData();
  form.append('title', `load ${run} ${counter++}`);
  form.append('description', 'load test');
  form.append('file', new Blob([bytes], { type: 'image/jpeg' }), 'load.jpg');
  const res = await fetch(api('/api/v1/images/'), { method: 'POST', body: form, headers: auth });
  if (res.status === 201) {
    const image = (await res.json()) as { id: string; file_url: string };
    live.set(image.id, { id: image.id, fileUrl: image.file_url, hash: sha256(bytes) });
  } else await res.arrayBuffer();
  return res;
}

/** One request of kind `op` on `target` (an image uploaded earlier and not yet deleted). */
async function onImage(op: 'get' | 'patch' | 'delete', target: Live): Promise<Response> {
  let res: Response;
  switch (op) {
    case 'get':
      res = await fetch(api(`/api/v1/images/${target.id}`));
      break;
    case 'patch':
      res = await fetch(api(`/api/v1/images/${target.id}`), {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify({ description: `patched ${counter++}` }),
      });
      break;
    case 'delete':
      live.delete(target.id);
      res = await fetch(api(`/api/v1/images/${target.id}`), { method: 'DELETE', headers: auth });
      if (res.status === 204) deleted.set(target.id, target);
      else live.set(target.id, target);
      break;
  }
  await res.arrayBuffer();
  return res;
}

async function once(op: Op): Promise<void> {
  const target = anyLive();
  // An operation on an image when none is live yet uploads one instead.
  const effective: Op = op !== 'upload' && op !== 'list' && !target ? 'upload' : op;
  const started = performance.now();
  let res: Response;
  if (effective === 'upload') res = await upload();
  else if (effective === 'list') {
    res = await fetch(api('/api/v1/images/?limit=20'));
    await res.arrayBuffer();
  } else if (target) res = await onImage(effective, target);
  else return;
  latencies.get(effective)?.push(performance.now() - started);
  const key = `${effective} ${res.status}`;
  statuses.set(key, (statuses.get(key) ?? 0) + 1);
  if (res.status >= 500) failures.push(`${key}`);
}

const deadline = Date.now() + maxSeconds * 1000;
const startedAt = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (sent < maxRequests && Date.now() < deadline) {
      sent++;
      await once(pick()).catch((err: unknown) => failures.push(`request failed: ${(err as Error).message}`));
    }
  }),
);
const elapsed = (performance.now() - startedAt) / 1000;

// Invariants.
const problems: string[] = [...new Set(failures)].map((f) => `5xx or failure: ${f}`);
for (const image of live.values()) {
  const res = await fetch(api(`/api/v1/images/${image.id}`));
  if (res.status !== 200) problems.push(`uploaded ${image.id} answers ${res.status}`);
  await res.arrayBuffer();
  const file = await fetch(image.fileUrl);
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (file.status !== 200 || sha256(bytes) !== image.hash) problems.push(`file of ${image.id}: ${file.status}, bytes differ`);
}
for (const image of deleted.values()) {
  const res = await fetch(api(`/api/v1/images/${image.id}`));
  if (res.status !== 404) problems.push(`deleted ${image.id} answers ${res.status}`);
  await res.arrayBuffer();
  const file = await fetch(image.fileUrl);
  await file.arrayBuffer();
  if (file.status !== 404) problems.push(`file of deleted ${image.id} answers ${file.status}`);
}

// Every row has its object and every object its row: the whole table (through the API) against the bucket.
const rowKeys = new Set<string>();
for (let next: string | undefined = '/api/v1/images/?limit=100'; next; ) {
  const res: Response = await fetch(api(next));
  const page = (await res.json()) as { file_url: string }[];
  // A private original's file_url is presigned: the key is the path, without the signature's query.
  for (const image of page) rowKeys.add(keyOfUrl(image.file_url.split('?')[0] ?? ''));
  next = /<([^>]+)>; rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
}
const s3 = new S3Client({
  region: 'us-east-1',
  endpoint: env.S3_ENDPOINT || 'http://127.0.0.1:4569',
  forcePathStyle: true,
  credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID || 'S3RVER', secretAccessKey: env.AWS_SECRET_ACCESS_KEY || 'S3RVER' },
});
// ListObjects (v1, paged by marker: the last key seen): s3rver's v2 continuation tokens use a cipher
// OpenSSL 3 refuses, so a v2 listing past 1000 keys fails there with an InternalError.
const objectKeys = new Set<string>();
for (let marker: string | undefined, more = true; more; ) {
  const out = await s3.send(new ListObjectsCommand({ Bucket: env.S3_BUCKET || 'photo-gallery', Prefix: ORIGINALS_PREFIX, Marker: marker }));
  for (const o of out.Contents ?? []) if (o.Key) objectKeys.add(o.Key);
  marker = out.Contents?.at(-1)?.Key;
  more = Boolean(out.IsTruncated && marker);
}
for (const key of rowKeys) if (!objectKeys.has(key)) problems.push(`row without object: ${key}`);
for (const key of objectKeys) if (!rowKeys.has(key)) problems.push(`object without row: ${key}`);

// Report.
const all = [...latencies.values()].flat();
console.log(`load: ${sent} requests in ${elapsed.toFixed(1)} s at concurrency ${concurrency} → ${(sent / elapsed).toFixed(1)} req/s`);
console.log('op       count    p50 ms    p95 ms    p99 ms');
for (const [op, values] of [...latencies, ['all', all] as [string, number[]]]) {
  console.log(
    `${op.padEnd(8)} ${String(values.length).padStart(5)} ${percentile(values, 50).toFixed(1).padStart(9)} ${percentile(values, 95).toFixed(1).padStart(9)} ${percentile(values, 99).toFixed(1).padStart(9)}`,
  );
}
console.log(
  `statuses: ${[...statuses]
    .sort()
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ')}`,
);
console.log(
  `invariants: ${live.size} live images readable with their bytes, ${deleted.size} deleted gone, ${rowKeys.size} rows = ${objectKeys.size} objects`,
);
if (problems.length > 0) {
  console.error(`FAILED (${problems.length}):\n${problems.slice(0, 20).join('\n')}`);
  process.exit(1);
}
console.log('invariants hold: no 5xx, every row has its object and every object its row');
