import { and, eq, gt, isNull, or } from 'drizzle-orm';
import { db, isoTimestamp, sqlClient, withDb } from '../db';
import { keyOfUrl } from '../keys';
import { describeError, log } from '../log';
import { images } from '../schema';
import { hashObject, objectSize, readObject, readObjectStart } from '../storage';
import { photoFacts, processImage } from '../variants/process';
import { invalidateImage } from './cache';
import { fold } from './fold';
import { detectImageType, inspectImage } from './inspect';

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

/**
 * Folds every image's title and description into its search columns as the service folds them now
 * (lib/images/fold.ts): rows stored before search existed, or folded by an older rule. Walks the
 * table by id, `batch` rows at a time, and writes only the rows whose folding differs, so a run can
 * be repeated or interrupted; a row whose title or description changed meanwhile is left to that
 * change, which folded it itself. Returns how many rows it wrote.
 */
export async function backfillSearchText(batch = 500): Promise<number> {
  let changed = 0;
  let after: string | undefined;
  for (;;) {
    const rows = await withDb(() =>
      db()
        .select({
          id: images.id,
          title: images.title,
          description: images.description,
          searchTitle: images.searchTitle,
          searchDescription: images.searchDescription,
        })
        .from(images)
        .where(after === undefined ? undefined : gt(images.id, after))
        .orderBy(images.id)
        .limit(batch),
    );
    const last = rows.at(-1);
    if (!last) return changed;
    after = last.id;
    const stale = rows
      .map((row) => ({ ...row, folded: { title: fold(row.title), description: fold(row.description) } }))
      .filter((row) => row.folded.title !== row.searchTitle || row.folded.description !== row.searchDescription);
    if (stale.length === 0) continue;
    const sql = sqlClient();
    const column = (pick: (row: (typeof stale)[number]) => string) => sql.array(stale.map(pick));
    const written = await withDb(
      () => sql`
        update images set search_title = v.search_title, search_description = v.search_description
        from unnest(${column((r) => r.id)}::uuid[], ${column((r) => r.title)}::text[], ${column((r) => r.description)}::text[],
          ${column((r) => r.folded.title)}::text[], ${column((r) => r.folded.description)}::text[])
          as v(id, title, description, search_title, search_description)
        where images.id = v.id and images.title = v.title and images.description = v.description
        returning images.id`,
    );
    changed += written.length;
  }
}
