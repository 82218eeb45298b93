import { and, eq, gt, sql } from 'drizzle-orm';
import { uploadConfig } from '../config';
import { db, withDb } from '../db';
import { ConflictError, PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../errors';
import { UnreadableImageError } from '../images/errors';
import { inspectImage } from '../images/inspect';
import { present } from '../images/present';
import type { Image } from '../images/resource';
import { imageColumns, imageConflicts, preparedReads } from '../images/rows';
import { relayImage } from '../outbox/relay';
import { guardObjects } from '../outbox/removals';
import { warmRedis } from '../redis';
import { images, uploads } from '../schema';
import { copyObject, hashObject, objectSize, publicUrl, readObjectStart } from '../storage';
import { directUploadTooLarge, notUploadedYet, sizeMismatch, uploadNotFound } from './errors';
import { discardPending, discardUpload, pendingKey } from './pending';

// Checked at import: bad upload limits fail the cold start.
uploadConfig();

/** How much of the file's start is read to judge its type and dimensions, in growing steps. */
const HEADER_READS = [64 * 1024, 1024 * 1024, 8 * 1024 * 1024];

/** The image with this id, if a completion already made it. */
async function existingImage(id: string): Promise<Image | undefined> {
  const [row] = await withDb(() => preparedReads().byId.execute({ id }));
  return row && present(row);
}

/** Type and dimensions from the object's first bytes: one ranged GET, more only for a huge header. */
async function inspectStored(key: string, size: number) {
  for (const [i, length] of HEADER_READS.entries()) {
    const head = await readObjectStart(key, Math.min(length, size));
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
  expired: boolean;
}

/** A refusal of the file itself (413, 415, 422): no retry makes it acceptable, only another file. */
const refusesTheFile = (err: unknown): boolean =>
  err instanceof PayloadTooLargeError || err instanceof UnsupportedMediaTypeError || err instanceof ValidationError;

/**
 * What the stored object is, verified. Throws the refusal, and deletes the object, when the file is
 * not acceptable; ServiceUnavailableError (503) when S3 fails, keeping the file: a fault of S3 says
 * nothing about it.
 */
async function verify(id: string, pending: Pending) {
  const key = pendingKey(id);
  const size = await objectSize(key);
  if (size === undefined) throw notUploadedYet();
  try {
    const limit = uploadConfig().MAX_DIRECT_UPLOAD_BYTES;
    if (size > limit) throw directUploadTooLarge(limit);
    if (size !== pending.size) throw sizeMismatch(pending.size, size);
    const type = await inspectStored(key, size);
    const { sha256, size: read } = await hashObject(key);
    // Replaced between the HEAD and the read: judge what is there now, the next time.
    if (read !== size) throw sizeMismatch(pending.size, read);
    return { ...type, size, sha256 };
  } catch (err) {
    if (refusesTheFile(err)) await discardPending(id);
    throw err;
  }
}

/**
 * Completes a direct upload. The stored object is verified by the server itself — its size against
 * the declaration and the limit, its type and dimensions from its first bytes (the rules of a
 * multipart upload), its SHA-256 over the whole object, streamed — because no store can be trusted
 * to have enforced the signed policy (s3rver enforces none of it). Then the image row is inserted and
 * the pending row deleted in a transaction that commits only after the object is copied to
 * `images/<id>.<ext>` with its detected type; the pending object is deleted after the commit.
 *
 * Idempotent: once done, the same image with `created: false`; of two at once, one makes the image.
 * Throws NotFoundError (404: unknown or expired), ConflictError (409: not uploaded yet, or the title
 * taken meanwhile), PayloadTooLargeError (413), ValidationError (422: size, header, pixels),
 * UnsupportedMediaTypeError (415), ServiceUnavailableError (503). Every refusal of the file deletes
 * the pending object; a failure of S3 or the database keeps the upload as it was; a taken title,
 * which no new file can cure, discards the upload altogether.
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

  const key = `images/${id}.${file.ext}`;
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
              })
              .returning(imageColumns);
            await copyObject(pendingKey(id), key, file.mime, pending.filename);
            return row;
          }),
        imageConflicts,
      ),
    );
  } catch (err) {
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
  await relayImage(image.id);
  return { image: await present(image), created: true };
}
