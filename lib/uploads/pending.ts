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

/** Removes a pending upload entirely: its object, then its row (so a failed delete is tried again). */
export async function discardUpload(id: string): Promise<void> {
  await deleteObject(pendingKey(id));
  await withDb(() => db().delete(uploads).where(eq(uploads.id, id)));
}

/**
 * Discards expired pending uploads, at most `batch` a run, and says how many: on AWS a scheduled
 * function runs it, locally `npm start`. An upload whose object cannot be deleted now stays for the
 * next run.
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
