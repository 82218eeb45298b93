/**
 * Direct uploads against a store that reports checksums (moto_server), in a process of its own: the
 * app reads its configuration at import, and the bench's own process is configured for s3rver, which
 * reports none. bench/sections/checksum.ts runs it twice with the environment that points the app at
 * moto (MOTO_URL): `bytes` puts a counting proxy between the app and moto and says how many bytes
 * each completion read from the store; `time` talks to moto directly and times the paths, alternating
 * run by run. Prints one line of JSON.
 *
 * moto records no checksum from a presigned POST's fields (S3 does), but it records the SHA-256 of a
 * PutObject sent with `ChecksumAlgorithm: 'SHA256'` and reports it on HeadObject: so the client's
 * checksummed POST is stood for by that PutObject, to the key the upload was signed for.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, request as forward } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CopyObjectCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import postgres from 'postgres';
import type { UploadFile } from './app';
import { MIB, paddedJpeg, photoJpeg } from './files';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: bench/sections/checksum.ts runs this`);
  return value;
};
const MOTO = env('MOTO_URL');
const BUCKET = env('S3_BUCKET');
const mode = env('BENCH_CHECKSUM_MODE');

/** Every GET the app sent through the proxy: the key, ranged or not, and the bytes of the body it got back. */
const reads: { key: string; ranged: boolean; bytes: number }[] = [];

/** A proxy in front of moto that counts the bytes of each GET's answer. */
async function countingProxy(): Promise<{ url: string; close: () => void }> {
  const target = new URL(MOTO);
  const server = createServer((req, res) => {
    const upstream = forward(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        let bytes = 0;
        answer.on('data', (chunk: Buffer) => {
          bytes += chunk.byteLength;
        });
        answer.on('end', () => {
          if (req.method === 'GET') reads.push({ key: decodeURIComponent(req.url ?? ''), ranged: req.headers.range !== undefined, bytes });
        });
        answer.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

const proxy = mode === 'bytes' ? await countingProxy() : undefined;
process.env.S3_ENDPOINT = proxy?.url ?? MOTO;
const { uploadClient } = await import('./app');
const { keyOfUrl } = await import('../lib/keys');
const uploads = await uploadClient();
const sql = postgres(env('DATABASE_URL'), { max: 1, onnotice: () => {} });
const s3 = new S3Client({
  region: env('AWS_REGION'),
  endpoint: MOTO,
  forcePathStyle: true,
  credentials: { accessKeyId: env('AWS_ACCESS_KEY_ID'), secretAccessKey: env('AWS_SECRET_ACCESS_KEY') },
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});

const files: { name: string; file: UploadFile; runs: number }[] = [
  {
    name: `12 MP JPEG (4000×3000, ${(photoJpeg().byteLength / MIB).toFixed(1)} MiB)`,
    file: { bytes: photoJpeg(), filename: 'IMG_0042.jpg', contentType: 'image/jpeg' },
    runs: Number(env('BENCH_CHECKSUM_PHOTO_RUNS')),
  },
  {
    name: '50 MiB file (a JPEG padded after its end)',
    file: { bytes: paddedJpeg(50 * MIB), filename: 'large.jpg', contentType: 'image/jpeg' },
    runs: Number(env('BENCH_CHECKSUM_LARGE_RUNS')),
  },
];

const title = (arm: string) => `${arm} ${randomUUID()}`.slice(0, 32);
const put = (key: string, file: UploadFile, checksum?: string) =>
  s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: key,
      Body: file.bytes,
      ContentType: file.contentType,
      ...(checksum ? { ChecksumAlgorithm: 'SHA256', ChecksumSHA256: checksum } : {}),
    }),
  );

/** A direct upload declaring the file's SHA-256; the store told to keep the checksum (as S3 does for the POST) or not. Its steps' times. */
async function direct(file: UploadFile, sha256: string, storeKeepsChecksum: boolean) {
  // Untimed: the same bytes may be in the gallery already (the direct section's uploads of them).
  await sql`delete from images where sha256 = ${sha256}`;
  const t0 = performance.now();
  const signed = await uploads.sign(title('direct'), file, sha256);
  const t1 = performance.now();
  await put(`uploads/${signed.id}`, file, storeKeepsChecksum ? Buffer.from(sha256, 'hex').toString('base64') : undefined);
  const t2 = performance.now();
  const image = JSON.parse((await uploads.complete(signed.id)).body ?? '{}') as { file_url?: string; sha256?: string };
  const t3 = performance.now();
  if (image.sha256 !== sha256) throw new Error(`the completed image's sha256 is ${image.sha256}, the file's ${sha256}`);
  // Untimed: the next run's declaration must find no duplicate, and moto keeps objects in memory.
  await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: keyOfUrl(new URL(image.file_url ?? '').pathname) }));
  await sql`delete from images where sha256 = ${sha256}`;
  return { total: t3 - t0, create: t1 - t0, store: t2 - t1, complete: t3 - t2 };
}

/**
 * The same bytes without the service: one PutObject and one INSERT (timed); then, apart, what the
 * direct path cannot avoid on this store: a CopyObject of them, and a PutObject with their checksum.
 */
async function raw(file: UploadFile, sha256: string) {
  const id = randomUUID();
  const key = `raw/${id}.jpg`;
  const t0 = performance.now();
  await put(key, file);
  const t1 = performance.now();
  await sql`insert into images (id, title, description, filename, file_url, content_type, size, sha256)
            values (${id}, ${title('raw')}, 'bench', ${file.filename}, ${`${MOTO}/${BUCKET}/${key}`}, ${file.contentType}, ${file.bytes.byteLength}, ${sha256})`;
  const t2 = performance.now();
  // What the completion's copy to images/ costs on this store: the floor of the direct path above the raw one.
  await s3.send(
    new CopyObjectCommand({
      Bucket: BUCKET,
      Key: `${key}.copy`,
      CopySource: `${BUCKET}/${key}`,
      MetadataDirective: 'REPLACE',
      ContentType: file.contentType,
    }),
  );
  const t3 = performance.now();
  await put(`${key}.checksummed`, file, Buffer.from(sha256, 'hex').toString('base64'));
  const t4 = performance.now();
  for (const k of [key, `${key}.copy`, `${key}.checksummed`]) await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: k }));
  await sql`delete from images where id = ${id}`;
  return { total: t2 - t0, put: t1 - t0, insert: t2 - t1, copy: t3 - t2, checksummedPut: t4 - t3 };
}

const results = [];
for (const { name, file, runs } of files) {
  const sha256 = createHash('sha256').update(file.bytes).digest('hex');
  if (mode === 'bytes') {
    const counted = async (storeKeepsChecksum: boolean) => {
      reads.length = 0;
      await direct(file, sha256, storeKeepsChecksum);
      return { bytes: reads.reduce((n, r) => n + r.bytes, 0), gets: reads.map((r) => ({ ranged: r.ranged, bytes: r.bytes })) };
    };
    results.push({ name, size: file.bytes.byteLength, withChecksum: await counted(true), withoutChecksum: await counted(false) });
  } else {
    // One untimed run of each (connections, JIT), then alternating runs.
    await direct(file, sha256, true);
    await direct(file, sha256, false);
    await raw(file, sha256);
    const timings = {
      checksum: [] as Awaited<ReturnType<typeof direct>>[],
      hashed: [] as Awaited<ReturnType<typeof direct>>[],
      raw: [] as Awaited<ReturnType<typeof raw>>[],
    };
    for (let i = 0; i < runs; i++) {
      timings.checksum.push(await direct(file, sha256, true));
      timings.raw.push(await raw(file, sha256));
      timings.hashed.push(await direct(file, sha256, false));
    }
    results.push({ name, runs, ...timings });
  }
}
await sql.end();
s3.destroy();
proxy?.close();
process.stdout.write(`${JSON.stringify(results)}\n`);
process.exit(0);
