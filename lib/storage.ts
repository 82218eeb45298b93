import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { storageConfig } from './config';
import { ServiceUnavailableError } from './errors';
import { presignObjectGet } from './presign';

// Checked at import: a bad bucket or base URL fails the cold start, not the first upload.
storageConfig();

let client: S3Client | undefined;

/** The container's one S3 client, created on first use and reused across invocations. */
function s3(): S3Client {
  if (!client) {
    const c = storageConfig();
    client = new S3Client({
      region: c.S3_REGION ?? c.AWS_REGION,
      ...(c.S3_ENDPOINT ? { endpoint: c.S3_ENDPOINT } : {}),
      forcePathStyle: c.S3_FORCE_PATH_STYLE,
      maxAttempts: c.S3_MAX_ATTEMPTS,
      // Emulators (s3rver, MinIO) reject the CRC32 checksums newer SDKs send by default.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: c.S3_TIMEOUT_MS, requestTimeout: c.S3_TIMEOUT_MS },
    });
  }
  return client;
}

/** The public URL of an object: the configured base (checked to fit 128 characters) and the key. */
export function publicUrl(key: string): string {
  return `${storageConfig().FILES_BASE_URL}/${key}`;
}

/** Stores bytes under `key`; throws ServiceUnavailableError when S3 cannot be reached or fails. */
export async function putObject(key: string, body: Uint8Array, contentType: string, downloadName: string): Promise<void> {
  await put(key, body, contentType, { ContentDisposition: contentDisposition(downloadName) });
}

/** True when S3 answered that the object (or the range of it) is not there. */
const isMissing = (err: unknown): boolean =>
  err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 404 || err.name === 'NotFound' || err.name === 'NoSuchKey');

/** Runs an S3 call; any failure of S3 itself is ServiceUnavailableError (503). */
async function storage<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new ServiceUnavailableError('object storage', { cause: err });
  }
}

/**
 * The object at a key is no longer the version a read began with (its ETag): replaced, or gone.
 * Thrown by the reads and the copy that are given that ETag.
 */
export class ObjectChangedError extends Error {
  override name = 'ObjectChangedError';
  constructor(key: string) {
    super(`the object at ${key} is no longer the version first read`);
  }
}

/** True when S3 refused a conditional request (If-Match, x-amz-copy-source-if-match): the object changed. */
const isPreconditionFailed = (err: unknown): boolean =>
  err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 412 || err.name === 'PreconditionFailed');

/** ETags compared as S3 compares them: without their double quotes. */
const sameEtag = (a: string | undefined, b: string): boolean => a !== undefined && a.replaceAll('"', '') === b.replaceAll('"', '');

/**
 * Runs an S3 call on the version `etag` of the object at `key` (none: whatever is there): S3's
 * refusal of the condition, or the object gone, is ObjectChangedError; any other failure is
 * ServiceUnavailableError (503).
 */
async function onVersion<T>(key: string, etag: string | undefined, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ObjectChangedError) throw err;
    if (etag !== undefined && (isPreconditionFailed(err) || isMissing(err))) throw new ObjectChangedError(key);
    throw new ServiceUnavailableError('object storage', { cause: err });
  }
}

/**
 * Throws ObjectChangedError unless S3 reported the version asked for. S3 itself refuses a
 * condition that fails (412); emulators may ignore the condition (s3rver 3 does), so what the
 * answer says it is must be checked as well.
 */
function expectVersion(key: string, etag: string | undefined, reported: string | undefined): void {
  if (etag !== undefined && !sameEtag(reported, etag)) throw new ObjectChangedError(key);
}

/** A SHA-256 checksum of a whole object as S3 reports it: the digest's 32 bytes in base64 (a multipart upload's composite ends in `-<parts>`). */
const WHOLE_SHA256 = /^[A-Za-z0-9+/]{43}=$/;

/** What HeadObject tells of an object: its size, its ETag (the version) and, when the store reports one, the SHA-256 of its bytes (hex). */
export interface ObjectHead {
  size: number;
  etag: string;
  /** Only a checksum of the whole object (never a multipart upload's composite), and only from a store that keeps one. */
  sha256: string | undefined;
}

/**
 * What the object at `key` is (HeadObject, with the checksum mode on), or undefined when there is
 * none. Throws ServiceUnavailableError when S3 fails.
 */
export async function objectHead(key: string): Promise<ObjectHead | undefined> {
  try {
    const head = await s3().send(new HeadObjectCommand({ Bucket: storageConfig().S3_BUCKET, Key: key, ChecksumMode: 'ENABLED' }));
    const whole = head.ChecksumType !== 'COMPOSITE' && WHOLE_SHA256.test(head.ChecksumSHA256 ?? '');
    return {
      size: head.ContentLength ?? 0,
      etag: head.ETag ?? '',
      sha256: whole ? Buffer.from(head.ChecksumSHA256 ?? '', 'base64').toString('hex') : undefined,
    };
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw new ServiceUnavailableError('object storage', { cause: err });
  }
}

/** The object's size in bytes, or undefined when there is no object at `key` (HeadObject). */
export async function objectSize(key: string): Promise<number | undefined> {
  return (await objectHead(key))?.size;
}

/** The whole object at `key`, or undefined when there is none. */
export async function readObject(key: string): Promise<Buffer | undefined> {
  try {
    const out = await s3().send(new GetObjectCommand({ Bucket: storageConfig().S3_BUCKET, Key: key }));
    return Buffer.from((await out.Body?.transformToByteArray()) ?? new Uint8Array());
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw new ServiceUnavailableError('object storage', { cause: err });
  }
}

/** Stores a derived file that never changes under its key (a variant): cached for a year by browsers and CloudFront. */
export async function putImmutable(key: string, body: Uint8Array, contentType: string): Promise<void> {
  await put(key, body, contentType, { CacheControl: 'public, max-age=31536000, immutable' });
}

/** PutObject of `body` with its type, length and the headers given. */
async function put(
  key: string,
  body: Uint8Array,
  contentType: string,
  headers: Pick<PutObjectCommandInput, 'ContentDisposition' | 'CacheControl'>,
): Promise<void> {
  await storage(() =>
    s3().send(
      new PutObjectCommand({
        Bucket: storageConfig().S3_BUCKET,
        Key: key,
        Body: body,
        ContentType: contentType,
        ContentLength: body.byteLength,
        ...headers,
      }),
    ),
  );
}

/**
 * The first `length` bytes of the object at `key` (fewer if it is shorter): one ranged GetObject.
 * Given an ETag, of that version only, else ObjectChangedError.
 */
export async function readObjectStart(key: string, length: number, etag?: string): Promise<Buffer> {
  return onVersion(key, etag, async () => {
    const out = await s3().send(
      new GetObjectCommand({ Bucket: storageConfig().S3_BUCKET, Key: key, Range: `bytes=0-${length - 1}`, IfMatch: etag }),
    );
    expectVersion(key, etag, out.ETag);
    return Buffer.from((await out.Body?.transformToByteArray()) ?? new Uint8Array());
  });
}

/**
 * The SHA-256 (hex) of the object at `key`, read as a stream: never whole in memory. Given an
 * ETag, of that version only, else ObjectChangedError. A body cut short is a failure of S3 (503).
 */
export async function hashObject(key: string, etag?: string): Promise<{ sha256: string }> {
  return onVersion(key, etag, async () => {
    const out = await s3().send(new GetObjectCommand({ Bucket: storageConfig().S3_BUCKET, Key: key, IfMatch: etag }));
    expectVersion(key, etag, out.ETag);
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of out.Body as Readable) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).byteLength;
    }
    if (out.ContentLength !== undefined && size !== out.ContentLength) {
      throw new Error(`read ${size} of the ${out.ContentLength} bytes of ${key}`);
    }
    return { sha256: hash.digest('hex') };
  });
}

/**
 * Copies `from` to `to` in the bucket with a new Content-Type and Content-Disposition (server side).
 * Given the source's ETag, copies that version only, else ObjectChangedError (and what an emulator
 * ignoring the condition copied anyway is the caller's to remove).
 */
export async function copyObject(from: string, to: string, contentType: string, downloadName: string, etag?: string): Promise<void> {
  const bucket = storageConfig().S3_BUCKET;
  await onVersion(from, etag, async () => {
    const out = await s3().send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: to,
        CopySource: `${bucket}/${from.split('/').map(encodeURIComponent).join('/')}`,
        CopySourceIfMatch: etag,
        MetadataDirective: 'REPLACE',
        ContentType: contentType,
        ContentDisposition: contentDisposition(downloadName),
      }),
    );
    // The copy's ETag is its bytes' MD5, as is the source's: the bucket encrypts with SSE-S3
    // (serverless.yml, AES256), under which a single-part object's ETag (a presigned POST makes one)
    // and a single-request copy's are the MD5 of their bytes. Equal exactly when the bytes copied are
    // the version checked. (Not so under SSE-KMS, which this template does not use.)
    expectVersion(from, etag, out.CopyObjectResult?.ETag);
  });
}

/**
 * A presigned POST (the only single-request upload whose size S3 itself limits) for exactly `size`
 * bytes of `contentType` at `key`, valid for `expiresSeconds`. The client POSTs `fields`, then `file`.
 * Given a SHA-256 (hex), the fields and the signed policy carry it as the upload's checksum: S3 then
 * refuses any other bytes, and reports the checksum on HeadObject. Throws ServiceUnavailableError
 * when the credentials cannot be had.
 */
export async function presignUpload(
  key: string,
  size: number,
  contentType: string,
  expiresSeconds: number,
  sha256?: string,
): Promise<{ url: string; fields: Record<string, string> }> {
  const checksum: Record<string, string> =
    sha256 === undefined
      ? {}
      : { 'x-amz-checksum-algorithm': 'SHA256', 'x-amz-checksum-sha256': Buffer.from(sha256, 'hex').toString('base64') };
  return storage(() =>
    createPresignedPost(s3(), {
      Bucket: storageConfig().S3_BUCKET,
      Key: key,
      Conditions: [
        ['content-length-range', size, size],
        ['eq', '$Content-Type', contentType],
        ...Object.entries(checksum).map(([name, value]): ['eq', string, string] => ['eq', `$${name}`, value]),
      ],
      Fields: { 'Content-Type': contentType, ...checksum },
      Expires: expiresSeconds,
    }),
  );
}

/** A presigned GET of the object at `key`, valid for `seconds`: how a private original is handed out (lib/presign.ts). */
export async function presignGet(key: string, seconds: number): Promise<string> {
  return presignObjectGet(key, seconds);
}

/** Deletes the object at `key` (absent is fine; `signal` gives up); throws ServiceUnavailableError when S3 fails. */
export async function deleteObject(key: string, signal?: AbortSignal): Promise<void> {
  try {
    await s3().send(new DeleteObjectCommand({ Bucket: storageConfig().S3_BUCKET, Key: key }), signal ? { abortSignal: signal } : {});
  } catch (err) {
    throw new ServiceUnavailableError('object storage', { cause: err });
  }
}

/** DeleteObjects takes at most this many keys a call. */
const DELETE_BATCH = 1000;

/**
 * Deletes the objects at `keys` (absent ones are fine), a thousand a call; the keys S3 did not
 * delete, with why. Throws ServiceUnavailableError when S3 cannot be reached.
 */
export async function deleteObjects(keys: string[]): Promise<{ key: string; reason: string }[]> {
  const failed: { key: string; reason: string }[] = [];
  for (let i = 0; i < keys.length; i += DELETE_BATCH) {
    const Objects = keys.slice(i, i + DELETE_BATCH).map((Key) => ({ Key }));
    const out = await storage(() =>
      s3().send(new DeleteObjectsCommand({ Bucket: storageConfig().S3_BUCKET, Delete: { Objects, Quiet: true } })),
    );
    for (const e of out.Errors ?? []) failed.push({ key: e.Key ?? '', reason: `${e.Code ?? 'Error'}: ${e.Message ?? ''}` });
  }
  return failed;
}

/** `inline` with the client's name, ASCII fallback plus RFC 5987 UTF-8 form, never a header injection. */
export function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const utf8 = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `inline; filename="${ascii}"; filename*=UTF-8''${utf8}`;
}
