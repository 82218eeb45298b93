import { eq, inArray, lte, sql } from 'drizzle-orm';
import { db, withDb } from '../db';
import { pendingKey } from '../keys';
import { describeError, log } from '../log';
import { uploads } from '../schema';
import { deleteObject, deleteObjects } from '../storage';

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

/** How long a sweep may run: well inside the uploadsSweep function's timeout. */
export const SWEEP_BUDGET_MS = 45_000;

/** What a sweep did: the uploads it discarded, and whether it ran out of time with more left. */
export interface SweepReport {
  swept: number;
  more: boolean;
}

/**
 * Discards expired pending uploads until none is left or `budgetMs` is spent, `batch` at a time: the
 * rows go in one statement (locked SKIP LOCKED, so sweeps running at once share the work and never
 * take an upload a completion holds), then their objects in one DeleteObjects call. An object S3 does
 * not delete now is left to the uploads/ lifecycle rule, as discardUpload leaves it. On AWS a
 * scheduled function runs it, locally `npm start`. Throws ServiceUnavailableError when the database fails.
 */
export async function sweepExpiredUploads(options: { budgetMs?: number; batch?: number } = {}): Promise<SweepReport> {
  const { budgetMs = SWEEP_BUDGET_MS, batch = 1000 } = options;
  const deadline = Date.now() + budgetMs;
  let swept = 0;
  while (Date.now() < deadline) {
    const gone = await withDb(() =>
      db()
        .delete(uploads)
        .where(
          inArray(
            uploads.id,
            db()
              .select({ id: uploads.id })
              .from(uploads)
              .where(lte(uploads.expiresAt, sql`now()`))
              .limit(batch)
              .for('update', { skipLocked: true }),
          ),
        )
        .returning({ id: uploads.id }),
    );
    swept += gone.length;
    if (gone.length > 0) {
      try {
        const failed = await deleteObjects(gone.map(({ id }) => pendingKey(id)));
        if (failed.length > 0) log.warn('expired upload objects not deleted; the uploads/ lifecycle rule will expire them', { failed });
      } catch (err) {
        log.warn('expired upload objects not deleted; the uploads/ lifecycle rule will expire them', describeError(err));
      }
    }
    if (gone.length < batch) return { swept, more: false };
  }
  return { swept, more: true };
}
