import { and, eq, gt, sql } from 'drizzle-orm';
import { uploadConfig } from '../config';
import { db, withDb } from '../db';
import { ConflictError, PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../errors';
import { announceUpload } from '../images/announce';
import { UnreadableImageError } from '../images/errors';
import { searchColumns } from '../images/fold';
import { inspectImage } from '../images/inspect';
import { present } from '../images/present';
import type { Image } from '../images/resource';
import { imageColumns, imageConflicts, preparedReads } from '../images/rows';
import { originalKey, pendingKey } from '../keys';
import { guardObjects } from '../outbox/removals';
import { warmRedis } from '../redis';
import { images, uploads } from '../schema';
import { copyObject, hashObject, ObjectChangedError, objectHead, publicUrl, readObjectStart } from '../storage';
import { checksumMismatch, directUploadTooLarge, fileChanged, notUploadedYet, sizeMismatch, uploadNotFound } from './errors';
import { discardPending, discardUpload } from './pending';

// Checked at import: bad upload limits fail the cold start.
uploadConfig();

/** How much of the file's start is read to judge its type and dimensions, in growing steps. */
const HEADER_READS = [64 * 1024, 1024 * 1024, 8 * 1024 * 1024];

/** The image with this id, if a completion already made it. */
async function existingImage(id: string): Promise<Image | undefined> {
  const [row] = await withDb(() => preparedReads().byId.execute({ id }));
  return row && present(row);
}

/** Type and dimensions from the first bytes of that version of the object: one ranged GET, more only for a huge header. */
async function inspectStored(key: string, size: number, etag: string) {
  for (const [i, length] of HEADER_READS.entries()) {
    const head = await readObjectStart(key, Math.min(length, size), etag);
    try {
      return await inspectImage(head);
    } catch (err) {
      const more = length < size && i < HEADER_READS.length - 1;
      if (!(err instanceof UnreadableImageError) || !more) throw err;
    }
  }
  throw new UnreadableImageError();
}

interface Pending {
  title: string;
  description: string;
  filename: string;
  size: number;
  /** The SHA-256 the client declared (hex), or null. */
  sha256: string | null;
  expired: boolean;
}

/** A refusal of the file itself (413, 415, 422): no retry makes it acceptable, only another file. */
const refusesTheFile = (err: unknown): boolean =>
  err instanceof PayloadTooLargeError || err instanceof UnsupportedMediaTypeError || err instanceof ValidationError;

/**
 * What the stored object is, verified, with its ETag: the one version of it that every read was of
 * (a presigned POST can be used again until it expires, so the object may be replaced at any time).
 * Its SHA-256 is the one the store reports for that version when it equals the declaration (S3
 * computed it from the bytes it received, and refused them had they not matched): then only the
 * header is read. Otherwise the object is read whole and hashed. Throws the refusal, and deletes the
 * object, when the file is not acceptable; fileChanged (409) when it was replaced or removed
 * meanwhile, and ServiceUnavailableError (503) when S3 fails, both keeping the file: the newer one
 * may be fine, and a fault of S3 says nothing about it.
 */
async function verify(id: string, pending: Pending) {
  const key = pendingKey(id);
  const head = await objectHead(key);
  if (head === undefined) throw notUploadedYet();
  const { size, etag, sha256: reported } = head;
  try {
    const limit = uploadConfig().MAX_DIRECT_UPLOAD_BYTES;
    if (size > limit) throw directUploadTooLarge(limit);
    if (size !== pending.size) throw sizeMismatch(pending.size, size);
    const declared = pending.sha256 ?? undefined;
    if (declared !== undefined && reported !== undefined && reported !== declared) throw checksumMismatch(declared, reported);
    const type = await inspectStored(key, size, etag);
    const sha256 = declared !== undefined && reported === declared ? reported : (await hashObject(key, etag)).sha256;
    if (declared !== undefined && sha256 !== declared) throw checksumMismatch(declared, sha256);
    return { ...type, size, sha256, etag };
  } catch (err) {
    if (err instanceof ObjectChangedError) throw fileChanged();
    if (refusesTheFile(err)) await discardPending(id);
    throw err;
  }
}

/**
 * Completes a direct upload. The stored object is verified by the server itself — its size against
 * the declaration and the limit, its type and dimensions from its first bytes (the rules of a
 * multipart upload), its SHA-256 (the store's checksum of it when that is the declared one, else
 * over the whole object, streamed) against any declaration — because no store can be trusted to have
 * enforced the signed policy (s3rver enforces none of it). Then the image row is inserted and
 * the pending row deleted in a transaction that commits only after the object is copied to
 * `images/<id>.<ext>` with its detected type; the pending object is deleted after the commit.
 *
 * Every read and the copy are of the one version of the object the first HEAD found (its ETag): the
 * signed POST can be used again until it expires, and the row must describe the bytes stored.
 *
 * Idempotent: once done, the same image with `created: false`; of two at once, one makes the image.
 * Throws NotFoundError (404: unknown or expired), ConflictError (409: not uploaded yet, the file
 * changed during the checks, or the title taken meanwhile), PayloadTooLargeError (413),
 * ValidationError (422: size, SHA-256, header, pixels), UnsupportedMediaTypeError (415),
 * ServiceUnavailableError (503). Every refusal of the file deletes the pending object; a changed
 * file or a failure of S3 or the database keeps the upload as it was; a taken title, which no new
 * file can cure, discards the upload altogether.
 */
export async function completeUpload(id: string): Promise<{ image: Image; created: boolean }> {
  warmRedis();
  const done = await existingImage(id);
  if (done) return { image: done, created: false };
  const [pending] = await withDb(() =>
    db()
      .select({
        title: uploads.title,
        description: uploads.description,
        filename: uploads.filename,
        size: uploads.size,
        sha256: uploads.sha256,
        expired: sql<boolean>`${uploads.expiresAt} <= now()`,
      })
      .from(uploads)
      .where(eq(uploads.id, id)),
  );
  if (!pending) throw uploadNotFound(id);
  if (pending.expired) {
    await discardUpload(id);
    throw uploadNotFound(id);
  }

  let file: Awaited<ReturnType<typeof verify>>;
  try {
    file = await verify(id, pending);
  } catch (err) {
    // A concurrent completion may have finished meanwhile (and removed the pending object).
    const image = await existingImage(id);
    if (image) return { image, created: false };
    throw err;
  }

  const key = originalKey(id, file.ext);
  let image: Image | undefined;
  try {
    image = await guardObjects([key], (release) =>
      withDb(
        () =>
          db().transaction(async (tx) => {
            // Whatever this transaction commits, the copy is its own or the first completion's: the
            // guard goes with it (a guard left behind would later remove a committed image's file).
            await release(tx);
            // Claims the upload: a second completion waits here, then finds it gone. One that expired
            // during the checks is not claimed (the sweep may be deleting its file): 404, as before them.
            const [claimed] = await tx
              .delete(uploads)
              .where(and(eq(uploads.id, id), gt(uploads.expiresAt, sql`now()`)))
              .returning({ id: uploads.id });
            if (!claimed) return undefined;
            const [row] = await tx
              .insert(images)
              .values({
                id,
                title: pending.title,
                description: pending.description,
                filename: pending.filename,
                fileUrl: publicUrl(key),
                contentType: file.mime,
                size: file.size,
                width: file.width,
                height: file.height,
                sha256: file.sha256,
                ...searchColumns(pending),
              })
              .returning(imageColumns);
            // The version checked, or ObjectChangedError: the transaction rolls back, and the guard
            // removes whatever an emulator ignoring the condition copied all the same.
            await copyObject(pendingKey(id), key, file.mime, pending.filename, file.etag);
            return row;
          }),
        imageConflicts,
      ),
    );
  } catch (err) {
    // Replaced since the checks: the upload stays as it was, its new file for the next complete.
    if (err instanceof ObjectChangedError) throw fileChanged();
    // The title taken meanwhile, which no new file can cure.
    if (err instanceof ConflictError) await discardUpload(id);
    throw err;
  }
  if (!image) {
    const made = await existingImage(id);
    if (made) return { image: made, created: false };
    // Not claimed and not made: the upload expired, or was discarded meanwhile.
    await discardUpload(id);
    throw uploadNotFound(id);
  }
  await discardPending(id);
  await announceUpload(image.id);
  return { image: await present(image), created: true };
}
