import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { startAwsStandIn } from '../../support/aws-stand-in';
import { AGAINST_RAW, type BenchContext, BUCKET, type Table } from '../context';
import { MIB } from '../files';
import { median, ms } from '../stats';

const run = promisify(execFile);

/** Bytes a completion may read when the store vouches for the file's SHA-256. */
const READ_GOAL = MIB;
/** The direct path with the checksum, against the raw PutObject + INSERT, at p50. */
const GOAL = 2;

interface Steps {
  total: number;
}
interface Direct extends Steps {
  create: number;
  store: number;
  complete: number;
}
interface Raw extends Steps {
  put: number;
  insert: number;
  copy: number;
  checksummedPut: number;
}
interface Read {
  bytes: number;
  gets: { ranged: boolean; bytes: number }[];
}
type Counted = { name: string; size: number; withChecksum: Read; withoutChecksum: Read };
type Timed = { name: string; runs: number; checksum: Direct[]; hashed: Direct[]; raw: Raw[] };

const p50 = <T>(runs: T[], step: (run: T) => number) => median(runs.map(step));
const mib = (bytes: number) => `${(bytes / MIB).toFixed(bytes < MIB ? 3 : 1)} MiB`;

/**
 * Declared SHA-256s on a store that reports checksums: moto_server, in place of S3. What
 * a completion reads from the store for each file with the checksum the store keeps and without it,
 * counted by a proxy; and the direct path with the checksum, alternating run by run with the hashed
 * path and with the raw PutObject + INSERT of the same bytes, plus a bare CopyObject of them (the
 * copy to images/ that no direct upload can skip). The app runs in a child process
 * (bench/checksum-store.ts) configured for moto.
 */
export async function checksumUploads(ctx: BenchContext): Promise<Table[]> {
  const moto = await startAwsStandIn();
  try {
    const store = new S3Client({
      region: 'us-east-1',
      endpoint: moto.url,
      forcePathStyle: true,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    await store.send(new CreateBucketCommand({ Bucket: BUCKET }));
    store.destroy();
    const child = async <T>(mode: 'bytes' | 'time'): Promise<T> => {
      const { stdout } = await run(join(ctx.root, 'node_modules/.bin/tsx'), [join(ctx.root, 'bench/checksum-store.ts')], {
        env: {
          ...process.env,
          MOTO_URL: moto.url,
          S3_BUCKET: BUCKET,
          FILES_BASE_URL: `${moto.url}/${BUCKET}`,
          AWS_ACCESS_KEY_ID: 'testing',
          AWS_SECRET_ACCESS_KEY: 'testing',
          AWS_REGION: 'us-east-1',
          NODE_NO_WARNINGS: '1',
          BENCH_CHECKSUM_MODE: mode,
          BENCH_CHECKSUM_PHOTO_RUNS: String(Math.min(ctx.options.iterations, 100)),
          BENCH_CHECKSUM_LARGE_RUNS: String(ctx.options.largeIterations),
        },
        maxBuffer: 64 * MIB,
      });
      return JSON.parse(stdout.trim().split('\n').at(-1) ?? '[]') as T;
    };
    const counted = await child<Counted[]>('bytes');
    const timed = await child<Timed[]>('time');

    const reads: Table = {
      title: 'Declared SHA-256: what POST …/complete reads from the store (moto_server), counted by a proxy',
      note:
        'With: the store reports the declared SHA-256 on HeadObject (S3 after a checksummed POST; moto after a PutObject with ' +
        'ChecksumAlgorithm SHA256). Without: it reports none (s3rver never does), so the file is read whole and hashed.',
      columns: [
        ['file', 'left'],
        ['with the checksum', 'right'],
        ['its GETs', 'left'],
        ['without', 'right'],
        ['its GETs', 'left'],
        [`goal (with) ≤ ${mib(READ_GOAL)}`, 'left'],
      ],
      rows: counted.map(({ name, withChecksum, withoutChecksum }) => {
        const gets = (r: Read) => r.gets.map((g) => `${g.ranged ? 'ranged' : 'whole'} ${mib(g.bytes)}`).join(', ');
        return [
          name,
          mib(withChecksum.bytes),
          gets(withChecksum),
          mib(withoutChecksum.bytes),
          gets(withoutChecksum),
          withChecksum.bytes <= READ_GOAL ? 'met' : 'NOT met',
        ];
      }),
    };
    const comparison: Table = {
      title:
        "Direct uploads with a declared SHA-256 on moto_server: create + the client's checksummed PUT + complete, alternating run by run with the raw operations",
      note:
        "The client's POST is stood for by a PutObject with ChecksumAlgorithm SHA256 (moto records no checksum from POST fields). " +
        "The client's own hashing (the page's worker) is in neither column. “Hashed”: the same upload when the store keeps no checksum.",
      columns: [
        ['file', 'left'],
        ['runs', 'right'],
        ['direct p50', 'right'],
        ['hashed p50', 'right'],
        ...AGAINST_RAW.slice(0, 2),
        ['ratio p50', 'right'],
        ['hashed ratio', 'right'],
        ['floor', 'right'],
        ['goal (p50)', 'left'],
      ],
      rows: timed.map(({ name, runs, checksum, hashed, raw }) => {
        const direct = p50(checksum, (r) => r.total);
        const bare = p50(raw, (r) => r.total);
        const floor = (p50(raw, (r) => r.checksummedPut) + p50(raw, (r) => r.copy)) / bare;
        return [
          name,
          String(runs),
          ms(direct),
          ms(p50(hashed, (r) => r.total)),
          'S3 PutObject + INSERT',
          ms(bare),
          `${(direct / bare).toFixed(2)}x`,
          `${(p50(hashed, (r) => r.total) / bare).toFixed(2)}x`,
          `${floor.toFixed(2)}x`,
          `≤ ${GOAL}x ${direct / bare <= GOAL ? '(met)' : '(NOT met)'}`,
        ];
      }),
    };
    const breakdown: Table = {
      title: 'Direct uploads with a declared SHA-256 on moto_server: where the time goes (p50 of each step over the same runs)',
      note:
        'The floor: what the direct path cannot avoid on this store, a checksummed PutObject (the store hashes the bytes it takes) and ' +
        "a CopyObject of the same bytes (the completion's copy to images/), against PutObject + INSERT.",
      columns: [['step', 'left'], ...timed.map(({ name }): [string, 'right'] => [name, 'right'])],
      rows: (
        [
          ['direct: POST /api/v1/uploads (sign with sha256, duplicate lookup, pending row)', (t) => p50(t.checksum, (r) => r.create)],
          ["direct: the client's checksummed PUT to the store", (t) => p50(t.checksum, (r) => r.store)],
          ['direct: POST …/complete, the store vouching (HEAD, 64 KiB, copy, delete)', (t) => p50(t.checksum, (r) => r.complete)],
          ['hashed: POST …/complete, no checksum kept (HEAD, 64 KiB, whole GET, copy, delete)', (t) => p50(t.hashed, (r) => r.complete)],
          ['raw: S3 PutObject of the bytes', (t) => p50(t.raw, (r) => r.put)],
          ['raw: INSERT of the row', (t) => p50(t.raw, (r) => r.insert)],
          ['apart: a bare CopyObject of the same bytes', (t) => p50(t.raw, (r) => r.copy)],
          ['apart: a bare PutObject of them with ChecksumAlgorithm SHA256', (t) => p50(t.raw, (r) => r.checksummedPut)],
        ] as [string, (t: Timed) => number][]
      ).map(([label, step]) => [label, ...timed.map((t) => ms(step(t)))]),
    };
    return [reads, comparison, breakdown];
  } finally {
    await moto.stop();
  }
}
