import { and, eq, type SQL } from 'drizzle-orm';
import { db, isoTimestamp, type Tx, withDb } from '../db';
import { announceChange } from '../images/announce';
import { bumpedUpdatedAt } from '../images/rows';
import { type Camera, type Exposure, images, type Variants } from '../schema';

/** What the processing records of the file's EXIF (process.ts's photoFacts). */
export interface PhotoFactColumns {
  takenAt: string | null;
  takenLocal: string | null;
  camera: Camera | null;
  exposure: Exposure | null;
  exifReadAt: SQL;
}

// How processing's outcome reaches the row, apart from the processing itself (sharp, libheif): the
// consumer of failed processing events (functions/images-process-failed.ts) records through here
// without carrying the image libraries in its zip.

export type ProcessOutcome = 'processed' | 'failed' | 'skipped';

/** The image was deleted while its copies were made. */
export class ImageGoneError extends Error {
  override name = 'ImageGoneError';
}

/** What recording an outcome came to: the row took it, or another run had settled it already. */
type Recorded = 'recorded' | 'settled';

/**
 * Sets the outcome on the row if it is still open to it (`open`), moving updated_at (so the cache
 * fence covers it); the trigger writes the event (image_processed or image_processing_failed) in
 * the same transaction. In that transaction `steps.first` runs before the row is touched and
 * `steps.stored` once it is locked and updated (the copies are stored there). Then the cache entry
 * goes and the event is delivered. A row another run settled meanwhile is left as it is (no second
 * event, updated_at unmoved). Throws ImageGoneError, rolling all of it back, when the row is gone.
 */
export async function record(
  id: string,
  set: { processing: 'ready' | 'failed'; variants?: Variants } & Partial<PhotoFactColumns>,
  open: SQL,
  steps: { first?: (tx: Tx) => Promise<unknown>; stored?: (tx: Tx) => Promise<unknown> } = {},
): Promise<Recorded> {
  const outcome = await withDb(() =>
    db().transaction(async (tx): Promise<'settled' | { updatedAt: string }> => {
      await steps.first?.(tx);
      const [updated] = await tx
        .update(images)
        .set({ ...set, updatedAt: bumpedUpdatedAt })
        .where(and(eq(images.id, id), open))
        .returning({ updatedAt: isoTimestamp(images.updatedAt) });
      if (!updated) {
        const [still] = await tx.select({ id: images.id }).from(images).where(eq(images.id, id));
        if (!still) throw new ImageGoneError(id);
        return 'settled';
      }
      await steps.stored?.(tx);
      return updated;
    }),
  );
  if (outcome === 'settled') return outcome;
  await announceChange(id, outcome.updatedAt);
  return 'recorded';
}

/**
 * Records that the image could not be processed: `processing: failed` and image_processing_failed,
 * only on a pending image (one another run made ready, or already failed, stays as it is). Says
 * what it came to: 'failed', or 'skipped' for a settled or deleted image.
 */
export async function recordFailure(id: string): Promise<ProcessOutcome> {
  try {
    return (await record(id, { processing: 'failed' }, eq(images.processing, 'pending'))) === 'recorded' ? 'failed' : 'skipped';
  } catch (err) {
    if (err instanceof ImageGoneError) return 'skipped';
    throw err;
  }
}
