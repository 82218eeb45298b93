import { and, eq, ne, type SQL, sql } from 'drizzle-orm';
import { db, isoTimestamp, type Tx, withDb } from '../db';
import { UnsupportedMediaTypeError } from '../errors';
import { invalidateImage } from '../images/cache';
import { detectImageType } from '../images/inspect';
import { describeError, log } from '../log';
import { relayImage } from '../outbox/relay';
import { guardObjects } from '../outbox/removals';
import { images, type Variants } from '../schema';
import { objectSize, publicUrl, putImmutable, readObject } from '../storage';
import { type VariantName, variantKey, variantKeys } from './keys';
import { makeVariants, UndecodableImageError } from './make';

/** The object is there but its row is not yet: the upload's transaction has not committed. Retry later. */
export class RowNotYetCommittedError extends Error {
  override name = 'RowNotYetCommittedError';
}

export type ProcessOutcome = 'processed' | 'failed' | 'skipped';

/** The image was deleted while its copies were made. */
class ImageGoneError extends Error {
  override name = 'ImageGoneError';
}

const bumped = sql`greatest(now(), ${images.updatedAt} + interval '1 microsecond')`;

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
async function record(
  id: string,
  set: { processing: 'ready' | 'failed'; variants?: Variants },
  open: SQL,
  steps: { first?: (tx: Tx) => Promise<unknown>; stored?: (tx: Tx) => Promise<unknown> } = {},
): Promise<Recorded> {
  const outcome = await withDb(() =>
    db().transaction(async (tx): Promise<'settled' | { updatedAt: string }> => {
      await steps.first?.(tx);
      const [updated] = await tx
        .update(images)
        .set({ ...set, updatedAt: bumped })
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
  await Promise.all([invalidateImage(id, outcome.updatedAt), relayImage(id)]);
  return 'recorded';
}

/**
 * Makes the displayable copies of the original stored at `key` (`images/<id>.<ext>`), as the S3
 * ObjectCreated event asks: thumb and display WebP under `variants/<id>/`, then the row's variants and
 * `processing: ready` and the event `image_processed`. An image no decoder reads ends `failed`, with
 * `image_processing_failed`. Safe to repeat (S3 delivers at least once): a ready image is skipped.
 * Throws — so that Lambda retries, then dead-letters — for a transient failure (S3, the database) and
 * RowNotYetCommittedError for an object whose row has not committed yet. No copy outlives its row:
 * copies made for an image deleted meanwhile are deleted again.
 */
export async function processImage(key: string): Promise<ProcessOutcome> {
  const id = /^images\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.[a-z0-9]+$/.exec(key)?.[1];
  if (!id) {
    log.warn('not an image key; nothing to process', { key });
    return 'skipped';
  }
  const [row] = await withDb(() =>
    db().select({ processing: images.processing, contentType: images.contentType }).from(images).where(eq(images.id, id)),
  );
  if (!row) {
    if ((await objectSize(key)) !== undefined) throw new RowNotYetCommittedError(`no row yet for ${key}`);
    return 'skipped'; // deleted, or its upload rolled back
  }
  if (row.processing === 'ready') return 'skipped';
  const original = await readObject(key);
  if (!original) return 'skipped';

  let made: Awaited<ReturnType<typeof makeVariants>>;
  try {
    const mime = row.contentType ?? (await detectImageType(original)).mime;
    made = await makeVariants(original, mime);
  } catch (err) {
    if (!(err instanceof UndecodableImageError) && !(err instanceof UnsupportedMediaTypeError)) throw err;
    log.warn('image could not be processed', { id, key, ...describeError(err) });
    // Only a pending image turns failed: one another run made ready (or failed) stays as it is.
    try {
      return (await record(id, { processing: 'failed' }, eq(images.processing, 'pending'))) === 'recorded' ? 'failed' : 'skipped';
    } catch (failed) {
      if (failed instanceof ImageGoneError) return 'skipped';
      throw failed;
    }
  }
  const variants: Variants = {
    thumb: { url: publicUrl(variantKey(id, 'thumb')), width: made.thumb.width, height: made.thumb.height },
    display: { url: publicUrl(variantKey(id, 'display')), width: made.display.width, height: made.display.height },
  };
  try {
    // The copies never outlive their row, and a row never loses its copies: stored under guard, in
    // the transaction that records them, after it has released every removal job for their keys (a
    // run that failed earlier may have left one, due later). Of two runs at once, the second finds
    // the row ready and stores nothing; its release stands, as the copies are the first run's.
    const recorded = await guardObjects(variantKeys(id), (release) =>
      record(id, { processing: 'ready', variants }, ne(images.processing, 'ready'), {
        first: release,
        stored: () =>
          Promise.all(
            (Object.keys(made) as VariantName[]).map((name) => putImmutable(variantKey(id, name), made[name].bytes, 'image/webp')),
          ),
      }),
    );
    return recorded === 'recorded' ? 'processed' : 'skipped';
  } catch (err) {
    // Deleted meanwhile: the transaction rolled back, so the deletion's own removal jobs stand.
    if (err instanceof ImageGoneError) return 'skipped';
    throw err;
  }
}
