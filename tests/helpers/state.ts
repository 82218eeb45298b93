import { createHash } from 'node:crypto';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import postgres from 'postgres';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with vitest (tests/helpers/global-setup.ts)`);
  return value;
};

/** A direct connection to the test database, to look behind the API. */
export const sql = postgres(env('DATABASE_URL'), { max: 2, onnotice: () => {} });

const s3 = new S3Client({
  region: 'us-east-1',
  endpoint: env('S3_ENDPOINT'),
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
const Bucket = env('S3_BUCKET');

/**
 * Every key in the test bucket, all pages. ListObjects (v1, paged by marker): s3rver's v2
 * continuation tokens use a cipher OpenSSL 3 refuses, so a v2 listing past 1000 keys fails there.
 */
export async function objectKeys(): Promise<string[]> {
  const keys: string[] = [];
  for (;;) {
    const out = await s3.send(new ListObjectsCommand({ Bucket, Marker: keys.at(-1) }));
    keys.push(...(out.Contents ?? []).map((o) => o.Key ?? ''));
    if (!out.IsTruncated) return keys.sort();
  }
}

/** Stores bytes at `key` in the test bucket, behind the API's back. */
export async function putObject(key: string, bytes: Uint8Array): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket, Key: key, Body: bytes }));
}

/** An object's bytes and Content-Type as stored. */
export async function getObject(key: string): Promise<{ bytes: Buffer; contentType: string | undefined; disposition: string | undefined }> {
  const out = await s3.send(new GetObjectCommand({ Bucket, Key: key }));
  if (!out.Body) throw new Error(`object ${key} came back without a body`);
  return {
    bytes: Buffer.from(await out.Body.transformToByteArray()),
    contentType: out.ContentType,
    disposition: out.ContentDisposition,
  };
}

/** The rows of the images table, by id. */
export async function rowIds(): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`select id from images order by id`;
  return rows.map((r) => r.id);
}

/** Throws unless every row has its object in images/ and every object in images/ its row. */
export async function assertNoOrphans(): Promise<{ rows: string[]; keys: string[] }> {
  const rows = await sql<{ id: string; file_url: string }[]>`select id, file_url from images order by id`;
  // The rule holds for images/: pending direct uploads live under uploads/ until completed or swept.
  const keys = (await objectKeys()).filter((key) => key.startsWith('images/'));
  const expected = rows.map((r) => r.file_url.slice(r.file_url.lastIndexOf('/images/') + 1)).sort();
  if (JSON.stringify(expected) !== JSON.stringify(keys)) {
    throw new Error(`rows and objects differ:\nrows → ${expected.join(', ')}\nobjects → ${keys.join(', ')}`);
  }
  return { rows: rows.map((r) => r.id), keys };
}

/** Empties the table and the bucket. */
export async function resetState(): Promise<void> {
  await sql`truncate images, uploads, outbox, file_removals, albums, album_images, shares, share_images`;
  const keys = await objectKeys();
  // DeleteObjects takes at most 1000 keys a call.
  for (let i = 0; i < keys.length; i += 1000) {
    const Objects = keys.slice(i, i + 1000).map((Key) => ({ Key }));
    await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects } }));
  }
}

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Everything the API could change: every row of both tables as stored, every object's key and content hash. */
export async function snapshot(): Promise<{ rows: unknown[]; uploads: unknown[]; objects: Record<string, string> }> {
  const rows = await sql`select *, created_at::text, updated_at::text from images order by id`;
  const uploads = await sql`select *, created_at::text, expires_at::text from uploads order by id`;
  const objects: Record<string, string> = {};
  for (const key of await objectKeys()) objects[key] = sha256((await getObject(key)).bytes);
  return { rows: [...rows], uploads: [...uploads], objects };
}

/**
 * An image (or a list of them) with file_url cut to its path: a private original's link is signed
 * anew for each answer, so two answers a second apart differ only there.
 */
export function unsigned<T>(value: T): T {
  const strip = (image: unknown) => {
    const fileUrl = (image as { file_url?: unknown }).file_url;
    return typeof fileUrl === 'string' ? { ...(image as object), file_url: fileUrl.split('?')[0] } : image;
  };
  return (Array.isArray(value) ? value.map(strip) : strip(value)) as T;
}
