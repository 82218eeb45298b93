import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { storageConfig } from './config';
import { ServiceUnavailableError } from './errors';

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

/** The object key of a file_url this service made (`.../images/<id>.<ext>`). */
export function keyOfUrl(fileUrl: string): string {
  return fileUrl.slice(fileUrl.lastIndexOf('/images/') + 1);
}

/** Stores bytes under `key`; throws ServiceUnavailableError when S3 cannot be reached or fails. */
export async function putObject(
  key: string,
  body: Uint8Array,
  contentType: string,
  downloadName: string,
): Promise<void> {
  try {
    await s3().send(
      new PutObjectCommand({
        Bucket: storageConfig().S3_BUCKET,
        Key: key,
        Body: body,
        ContentType: contentType,
        ContentLength: body.byteLength,
        ContentDisposition: contentDisposition(downloadName),
      }),
    );
  } catch (err) {
    throw new ServiceUnavailableError('object storage', { cause: err });
  }
}

/** Deletes the object at `key` (absent is fine); throws ServiceUnavailableError when S3 fails. */
export async function deleteObject(key: string): Promise<void> {
  try {
    await s3().send(new DeleteObjectCommand({ Bucket: storageConfig().S3_BUCKET, Key: key }));
  } catch (err) {
    throw new ServiceUnavailableError('object storage', { cause: err });
  }
}

/** `inline` with the client's name, ASCII fallback plus RFC 5987 UTF-8 form, never a header injection. */
export function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const utf8 = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `inline; filename="${ascii}"; filename*=UTF-8''${utf8}`;
}
