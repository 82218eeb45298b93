import { and, eq, isNull } from 'drizzle-orm';
import { db, isoTimestamp, withDb } from '../db';
import type { BackfillReport } from '../images/backfill';
import { invalidateImage } from '../images/cache';
import { detectImageType } from '../images/inspect';
import { keyOfUrl } from '../keys';
import { describeError, log } from '../log';
import { images } from '../schema';
import { readObject } from '../storage';
import { photoFacts, processImage } from './process';

/**
 * Makes the variants of images that have none and are still pending (stored before processing
 * existed, or whose event was lost), as the processing function would. Failed ones are left: their
 * files cannot be decoded.
 */
export async function backfillVariants(batch = 100): Promise<BackfillReport> {
  const report: BackfillReport = { filled: 0, failed: [] };
  const tried = new Set<string>();
  for (;;) {
    const rows = await withDb(() =>
      db()
        .select({ id: images.id, fileUrl: images.fileUrl })
        .from(images)
        .where(and(isNull(images.variants), eq(images.processing, 'pending')))
        .orderBy(images.id)
        .limit(batch + tried.size),
    );
    const todo = rows.filter((row) => !tried.has(row.id));
    if (todo.length === 0) return report;
    for (const row of todo) {
      tried.add(row.id);
      try {
        const outcome = await processImage(keyOfUrl(row.fileUrl));
        if (outcome === 'processed') report.filled++;
        else report.failed.push({ id: row.id, reason: outcome === 'failed' ? 'the file cannot be decoded' : 'its file is gone' });
      } catch (err) {
        report.failed.push({ id: row.id, reason: err instanceof Error ? err.message : String(err) });
        log.warn('image not processed', { id: row.id, ...describeError(err) });
      }
    }
  }
}

/**
 * Reads when and how each photo was taken (taken_at, camera, exposure) from its original, as the
 * processing does, for ready images processed before it read them (exif_read_at null). Rows read are
 * not read again, so a run can be repeated or interrupted; a row whose object is missing is reported
 * and left. Like the other backfills it writes no event and leaves updated_at: the image's cached
 * entry is dropped instead, so that the next read shows the facts.
 */
export async function backfillPhotoFacts(batch = 100): Promise<BackfillReport> {
  const report: BackfillReport = { filled: 0, failed: [] };
  const failed = new Set<string>();
  const unread = and(eq(images.processing, 'ready'), isNull(images.exifReadAt));
  for (;;) {
    const rows = await withDb(() =>
      db()
        .select({ id: images.id, fileUrl: images.fileUrl, contentType: images.contentType })
        .from(images)
        .where(unread)
        .orderBy(images.id)
        .limit(batch + failed.size),
    );
    const todo = rows.filter((row) => !failed.has(row.id));
    if (todo.length === 0) return report;
    for (const row of todo) {
      const key = keyOfUrl(row.fileUrl);
      try {
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
        report.filled++;
      } catch (err) {
        failed.add(row.id);
        const reason = err instanceof Error ? err.message : String(err);
        report.failed.push({ id: row.id, reason });
        log.warn('photo facts not backfilled', { id: row.id, key, ...describeError(err) });
      }
    }
  }
}
