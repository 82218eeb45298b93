import { eq, sql } from 'drizzle-orm';
import { db, withDb } from '../db';
import { describeError, log } from '../log';
import { uploads } from '../schema';
import { deleteObject } from '../storage';

/** Where a pending upload's file is stored until it is completed. */
export const pendingKey = (id: string): string => `uploads/${id}`;

/** Deletes a pending object (a refused file, a finished upload); a failure is logged, S3's lifecycle rule is the backstop. */
export async function discardPending(id: string): Promise<void> {
  try {
    await deleteObject(pendingKey(id));
  } catch (err) {
    log.warn('pending upload object not deleted; the uploads/ lifecycle rule will expire it', { id, ...describeError(err) });
  }
}

/**
 * Removes a pending upload entirely: its row, then its object. The row goes first: once it is gone
 * no completion can claim the upload, so deleting the object cannot pull it from under a copy (a
 * completion that claimed the row first holds it until it commits, and its copy is then done). An
 * object S3 does not delete now is only a file without its row under uploads/, which completes
 * nothing and which the bucket's lifecycle rule expires; a failure of S3 is therefore logged, not
 * thrown, and does not change the caller's answer. Throws ServiceUnavailableError when the database fails.
 */
export async function discardUpload(id: string): Promise<void> {
  await withDb(() => db().delete(uploads).where(eq(uploads.id, id)));
  await discardPending(id);
}

/**
 * Discards expired pending uploads, at most `batch` a run, and says how many: on AWS a scheduled
 * function runs it, locally `npm start`. An upload whose row cannot be deleted now stays for the
 * next run; an object S3 does not delete is left to the uploads/ lifecycle rule.
 */
export async function sweepExpiredUploads(batch = 500): Promise<number> {
  const expired = await withDb(() => db().select({ id: uploads.id }).from(uploads).where(sql`${uploads.expiresAt} <= now()`).limit(batch));
  let swept = 0;
  for (const { id } of expired) {
    try {
      await discardUpload(id);
      swept++;
    } catch (err) {
      log.warn('expired upload not swept; next run', { id, ...describeError(err) });
    }
  }
  return swept;
}
