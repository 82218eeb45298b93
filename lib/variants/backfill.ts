import { and, eq, isNull } from 'drizzle-orm';
import { db, isoTimestamp, withDb } from '../db';
import { type BackfillReport, backfillEach } from '../images/backfill';
import { invalidateImage } from '../images/cache';
import { detectImageType } from '../images/inspect';
import { images } from '../schema';
import { readObject } from '../storage';
import { photoFacts, processImage } from './process';

/**
 * Makes the variants of images that have none and are still pending (stored before processing
 * existed, or whose event was lost), as the processing function would. Failed ones are left: their
 * files cannot be decoded.
 */
export function backfillVariants(batch = 100): Promise<BackfillReport> {
  return backfillEach(
    batch,
    'variants',
    (limit) =>
      withDb(() =>
        db()
          .select({ id: images.id, fileUrl: images.fileUrl })
          .from(images)
          .where(and(isNull(images.variants), eq(images.processing, 'pending')))
          .orderBy(images.id)
          .limit(limit),
      ),
    async (_row, key) => {
      const outcome = await processImage(key);
      if (outcome !== 'processed') throw new Error(outcome === 'failed' ? 'the file cannot be decoded' : 'its file is gone');
    },
  );
}

/**
 * Reads when and how each photo was taken (taken_at, camera, exposure) from its original, as the
 * processing does, for ready images processed before it read them (exif_read_at null). Rows read are
 * not read again, so a run can be repeated or interrupted; a row whose object is missing is reported
 * and left. Like the other backfills it writes no event and leaves updated_at: the image's cached
 * entry is dropped instead, so that the next read shows the facts.
 */
export function backfillPhotoFacts(batch = 100): Promise<BackfillReport> {
  const unread = and(eq(images.processing, 'ready'), isNull(images.exifReadAt));
  return backfillEach(
    batch,
    'photo facts',
    (limit) =>
      withDb(() =>
        db()
          .select({ id: images.id, fileUrl: images.fileUrl, contentType: images.contentType })
          .from(images)
          .where(unread)
          .orderBy(images.id)
          .limit(limit),
      ),
    async (row, key) => {
      const original = await readObject(key);
      if (!original) throw new Error(`no object at ${key}`);
      const facts = await photoFacts(original, row.contentType ?? (await detectImageType(original)).mime);
      // Only while still unread: the processing of a file uploaded again under this id read it itself.
      const [read] = await withDb(() =>
        db()
          .update(images)
          .set(facts)
          .where(and(eq(images.id, row.id), unread))
          .returning({ updatedAt: isoTimestamp(images.updatedAt) }),
      );
      if (read) await invalidateImage(row.id, read.updatedAt);
    },
  );
}
