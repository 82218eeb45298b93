import { createHash, randomUUID } from 'node:crypto';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { UploadClient, UploadFile } from '../app';
import { AGAINST_RAW, type BenchContext, BUCKET, type Table } from '../context';
import { type Served, watchEmulator } from '../emulator';
import { MIB, paddedJpeg, photoJpeg } from '../files';
import { median, ms, percentile, ratio } from '../stats';

const GOAL = 1.5;
/** Below this many runs a p99 is only the slowest run: not shown. */
const P99_RUNS = 100;

/** The S3 requests a completion makes, in order: what the issue says the server's own work is. */
const COMPLETE_CALLS = ['head', 'range', 'get', 'copy', 'delete'];

/** The breakdown's rows: a step's key and its label. */
const STEPS: [key: string, label: string][] = [
  ['create', 'direct: POST /api/v1/uploads (sign, pending row)'],
  ['store', "direct: the client's POST of the file to the store"],
  ['store.s3rver', '  of which s3rver serving the POST'],
  ['store.client', "  of which the client: Node's fetch (FormData, undici)"],
  ['complete', 'direct: POST …/complete'],
  ['head', '  of which s3rver: HEAD'],
  ['range', '  s3rver: ranged GET of the first 64 KiB (type, dimensions)'],
  ['get', '  s3rver: GET of the whole object, read for the SHA-256'],
  ['copy', '  s3rver: CopyObject to images/'],
  ['delete', '  s3rver: DELETE of the pending object'],
  ['rest', '  the rest: the function (SDK, hashing, Postgres, Redis)'],
  ['put', 'raw: S3 PutObject of the bytes'],
  ['put.s3rver', '  of which s3rver serving the PUT'],
  ['put.client', '  of which the client: the AWS SDK (node:http)'],
  ['insert', 'raw: INSERT of the row'],
];

/** Each run's time for a whole path, and for each step of the paths (STEPS' keys). */
interface Timings {
  direct: number[];
  raw: number[];
  steps: Map<string, number[]>;
}

/**
 * Direct uploads: a 12 MP JPEG and a 50 MiB file, each sent the direct way — signed by
 * the app's handler, POSTed by the client to the store (the bench's s3rver), completed by the app's
 * handler — alternating run by run with what the same bytes need without the service: one PutObject
 * and one INSERT. The emulator's side of every S3 request is timed as it serves it (node:http's
 * diagnostics channels), which splits the completion into its S3 calls and the function's own work.
 */
export async function directUploads(ctx: BenchContext): Promise<Table[]> {
  const uploads = await ctx.uploads();
  const photo: UploadFile = { bytes: photoJpeg(), filename: 'IMG_0042.jpg', contentType: 'image/jpeg' };
  const large: UploadFile = { bytes: paddedJpeg(50 * MIB), filename: 'large.jpg', contentType: 'image/jpeg' };
  const files = [
    { name: `12 MP JPEG (4000×3000, ${(photo.bytes.byteLength / MIB).toFixed(1)} MiB)`, file: photo, runs: ctx.options.iterations },
    { name: '50 MiB file (a JPEG padded after its end)', file: large, runs: ctx.options.largeIterations },
  ];
  const measured: { name: string; runs: number; timings: Timings }[] = [];
  for (const { name, file, runs } of files) measured.push({ name, runs, timings: await measure(ctx, uploads, file, runs) });

  const p99 = (values: number[], runs: number) => (runs >= P99_RUNS ? ms(percentile(values, 99)) : '—');
  const comparison: Table = {
    title:
      "Direct uploads: create + the client's POST to the store + complete, in-process handlers and s3rver, alternating run by run with the raw operations",
    note: `p99 only from ${P99_RUNS} runs (below that it is the slowest run).`,
    columns: [['file', 'left'], ['runs', 'right'], ['direct upload p50', 'right'], ['p99', 'right'], ...AGAINST_RAW],
    rows: measured.map(({ name, runs, timings: { direct, raw } }) => {
      const r50 = median(direct) / median(raw);
      return [
        name,
        String(runs),
        ms(median(direct)),
        p99(direct, runs),
        'S3 PutObject + INSERT',
        ms(median(raw)),
        p99(raw, runs),
        `${r50.toFixed(2)}x`,
        runs >= P99_RUNS ? ratio(percentile(direct, 99), percentile(raw, 99)) : '—',
        `≤ ${GOAL}x ${r50 <= GOAL ? '(met)' : '(NOT met)'}`,
      ];
    }),
  };
  const breakdown: Table = {
    title: 'Direct uploads: where the time goes (p50 of each step over the same runs)',
    note:
      "s3rver's share is each request from its arrival to the last byte of its response handed to the socket; " +
      'the rest of a completion is, run by run, its time less its five S3 requests.',
    columns: [['step', 'left'], ...measured.map(({ name }): [string, 'right'] => [name, 'right'])],
    rows: STEPS.map(([key, label]) => [label, ...measured.map(({ timings }) => ms(median(timings.steps.get(key) ?? [])))]),
  };
  return [comparison, breakdown];
}

/** `runs` alternating runs of both paths for one file, after one untimed run of each (connections, JIT). */
async function measure(ctx: BenchContext, uploads: UploadClient, file: UploadFile, runs: number): Promise<Timings> {
  const { keyOfUrl } = await import('../../lib/keys');
  const { sql, s3Client } = ctx;
  const size = file.bytes.byteLength;
  const sha256 = createHash('sha256').update(file.bytes).digest('hex');
  const timings: Timings = { direct: [], raw: [], steps: new Map() };
  const record = (key: string, value: number) => timings.steps.set(key, [...(timings.steps.get(key) ?? []), value]);
  const emulator = watchEmulator(new URL(ctx.filesBaseUrl).host);
  const sum = (served: Served[]) => served.reduce((total, s) => total + s.ms, 0);
  /** Runs one step of a path, records its time, and returns what it gave and the emulator's requests meanwhile. */
  const step = async <T>(key: string, work: () => Promise<T>): Promise<{ out: T; took: number; served: Served[] }> => {
    emulator.take();
    const t = performance.now();
    const out = await work();
    const took = performance.now() - t;
    record(key, took);
    return { out, took, served: emulator.take() };
  };
  // What a run leaves in the bucket is deleted after it, untimed: hundreds of runs of 50 MiB would
  // fill the disk.
  const leftovers: string[] = [];
  const clean = async () => {
    for (const key of leftovers.splice(0)) await s3Client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
  };
  const title = (arm: string) => `${arm} ${randomUUID()}`.slice(0, 32);

  const direct = async () => {
    const t = performance.now();
    const { out: signed } = await step('create', () => uploads.sign(title('direct'), file));
    const stored = await step('store', () => uploads.store(signed, file));
    const completed = await step('complete', () => uploads.complete(signed.id));
    const took = performance.now() - t;
    record('store.s3rver', sum(stored.served));
    record('store.client', stored.took - sum(stored.served));
    const calls = completed.served.map((s) => s.kind);
    if (calls.join() !== COMPLETE_CALLS.join())
      throw new Error(`the completion made the S3 requests ${calls.join(', ')}, not ${COMPLETE_CALLS.join(', ')}`);
    for (const { kind, ms: served } of completed.served) record(kind, served);
    record('rest', completed.took - sum(completed.served));
    const image = JSON.parse(completed.out.body ?? '{}') as { file_url?: string; sha256?: string };
    if (image.sha256 !== sha256) throw new Error(`the completed image's sha256 is ${image.sha256}, the file's ${sha256}`);
    // The path only: with private originals file_url is a presigned GET.
    leftovers.push(keyOfUrl(new URL(image.file_url ?? '').pathname));
    return took;
  };
  const raw = async () => {
    const id = randomUUID();
    const key = `raw/${id}.jpg`;
    const t = performance.now();
    const put = await step('put', () =>
      s3Client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: file.bytes, ContentType: file.contentType })),
    );
    await step(
      'insert',
      () => sql`insert into images (id, title, description, filename, file_url, content_type, size, sha256)
                values (${id}, ${title('raw')}, 'bench', ${file.filename}, ${`${ctx.filesBaseUrl}/${key}`}, ${file.contentType}, ${size}, ${sha256})`,
    );
    const took = performance.now() - t;
    record('put.s3rver', sum(put.served));
    record('put.client', put.took - sum(put.served));
    leftovers.push(key);
    return took;
  };

  try {
    await direct();
    await raw();
    await clean();
    timings.steps.clear();
    for (let i = 0; i < runs; i++) {
      timings.direct.push(await direct());
      await clean();
      timings.raw.push(await raw());
      await clean();
    }
  } finally {
    emulator.stop();
  }
  return timings;
}
