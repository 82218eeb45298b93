import { eq, sql } from 'drizzle-orm';
import { db, isoTimestamp, withDb } from '../db';
import { UnsupportedMediaTypeError } from '../errors';
import { invalidateImage } from '../images/cache';
import { publishEvent, type ImageEventName } from '../images/events';
import { detectImageType } from '../images/inspect';
import { describeError, log } from '../log';
import { images, type Variants } from '../schema';
import { deleteObjects, objectSize, publicUrl, putImmutable, readObject } from '../storage';
import { variantKey, variantKeys, type VariantName } from './keys';
import { makeVariants, UndecodableImageError } from './make';


/** The object is there but its row is not yet: the upload's transaction has not committed. Retry later. */
export class RowNotYetCommittedError extends Error {
  override name = 'RowNotYetCommittedError';
}

export type ProcessOutcome = 'processed' | 'failed' | 'skipped';

/** Sets the outcome on the row (moving updated_at, so the cache fence covers it) and says it after the commit. */
async function record(id: string, set: { processing: 'ready' | 'failed'; variants?: Variants }, event: ImageEventName) {
  const [row] = await withDb(() =>
    db()
      .update(images)
      .set({ ...set, updatedAt: sql`greatest(now(), ${images.updatedAt} + interval '1 microsecond')` })
      .where(eq(images.id, id))
      .returning({ title: images.title, updatedAt: isoTimestamp(images.updatedAt) }),
  );
  if (!row) return false;
  await Promise.all([invalidateImage(id, row.updatedAt), publishEvent(event, { id, title: row.title })]);
  return true;
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

  let variants: Variants;
  try {
    const mime = row.contentType ?? (await detectImageType(original)).mime;
    const made = await makeVariants(original, mime);
    await Promise.all(Object.entries(made).map(([name, v]) => putImmutable(variantKey(id, name as VariantName), v.bytes, 'image/webp')));
    variants = {
      thumb: { url: publicUrl(variantKey(id, 'thumb')), width: made.thumb.width, height: made.thumb.height },
      display: { url: publicUrl(variantKey(id, 'display')), width: made.display.width, height: made.display.height },
    };
  } catch (err) {
    if (!(err instanceof UndecodableImageError) && !(err instanceof UnsupportedMediaTypeError)) throw err;
    log.warn('image could not be processed', { id, key, ...describeError(err) });
    await record(id, { processing: 'failed' }, 'image_processing_failed');
    return 'failed';
  }
  if (!(await record(id, { processing: 'ready', variants }, 'image_processed'))) {
    // Deleted while its copies were made: they go too.
    await deleteObjects(variantKeys(id));
    return 'skipped';
  }
  return 'processed';
}
