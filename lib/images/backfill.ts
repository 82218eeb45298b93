import { and, eq, isNull, or } from 'drizzle-orm';
import { db, withDb } from '../db';
import { describeError, log } from '../log';
import { images } from '../schema';
import { hashObject, keyOfUrl, objectSize, readObjectStart } from '../storage';
import { processImage } from '../variants/process';
import { inspectImage } from './inspect';

/** What a backfill run did: rows filled, rows whose object is missing or unreadable (left as they are). */
export interface BackfillReport {
  filled: number;
  failed: { id: string; reason: string }[];
}

/**
 * Fills what the file is (content_type, size, width, height, sha256) for images stored before those
 * columns existed, from their objects: HEAD, the first bytes, a streamed hash. Rows already filled
 * are not touched, so a run can be repeated or interrupted. `npm run db:backfill`.
 */
export async function backfillFileFacts(batch = 100): Promise<BackfillReport> {
  const report: BackfillReport = { filled: 0, failed: [] };
  const failed = new Set<string>();
  for (;;) {
    const rows = await withDb(() =>
      db()
        .select({ id: images.id, fileUrl: images.fileUrl })
        .from(images)
        .where(or(isNull(images.sha256), isNull(images.width), isNull(images.contentType)))
        .orderBy(images.id)
        .limit(batch + failed.size),
    );
    const todo = rows.filter((row) => !failed.has(row.id));
    if (todo.length === 0) return report;
    for (const row of todo) {
      const key = keyOfUrl(row.fileUrl);
      try {
        const size = await objectSize(key);
        if (size === undefined) throw new Error(`no object at ${key}`);
        const type = await inspectImage(await readObjectStart(key, Math.min(size, 8 * 1024 * 1024)));
        const { sha256 } = await hashObject(key);
        await withDb(() =>
          db()
            .update(images)
            .set({ contentType: type.mime, size, width: type.width, height: type.height, sha256 })
            .where(eq(images.id, row.id)),
        );
        report.filled++;
      } catch (err) {
        failed.add(row.id);
        const reason = err instanceof Error ? err.message : String(err);
        report.failed.push({ id: row.id, reason });
        log.warn('image not backfilled', { id: row.id, key, ...describeError(err) });
      }
    }
  }
}

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
