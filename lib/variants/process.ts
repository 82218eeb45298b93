import { eq, ne, sql } from 'drizzle-orm';
import { db, withDb } from '../db';
import { UnsupportedMediaTypeError } from '../errors';
import { detectImageType } from '../images/inspect';
import { imageIdOfKey, type VariantName, variantKey, variantKeys } from '../keys';
import { describeError, log } from '../log';
import { guardObjects } from '../outbox/removals';
import { images, type Variants } from '../schema';
import { objectSize, publicUrl, putImmutable, readObject } from '../storage';
import { readPhotoFacts } from './exif';
import { makeVariants, UndecodableImageError } from './make';
import { ImageGoneError, type ProcessOutcome, record, recordFailure } from './record';

/** The object is there but its row is not yet: the upload's transaction has not committed. Retry later. */
export class RowNotYetCommittedError extends Error {
  override name = 'RowNotYetCommittedError';
}

/** What the file's EXIF says of when and how it was taken, as the row stores it (never GPS; never thrown). */
export async function photoFacts(original: Uint8Array, mime: string) {
  const facts = await readPhotoFacts(original, mime);
  return {
    takenAt: facts.taken_at,
    takenLocal: facts.taken_local,
    camera: facts.camera,
    exposure: facts.exposure,
    exifReadAt: sql`now()`,
  };
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
  const id = imageIdOfKey(key);
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
  let mime: string;
  try {
    mime = row.contentType ?? (await detectImageType(original)).mime;
    made = await makeVariants(original, mime);
  } catch (err) {
    if (!(err instanceof UndecodableImageError) && !(err instanceof UnsupportedMediaTypeError)) throw err;
    log.warn('image could not be processed', { id, key, ...describeError(err) });
    return recordFailure(id);
  }
  const facts = await photoFacts(original, mime);
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
      record(id, { processing: 'ready', variants, ...facts }, ne(images.processing, 'ready'), {
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
