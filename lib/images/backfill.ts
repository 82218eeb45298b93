import { eq, gt, isNull, or } from 'drizzle-orm';
import { db, sqlClient, withDb } from '../db';
import { keyOfUrl } from '../keys';
import { describeError, log } from '../log';
import { images } from '../schema';
import { hashObject, objectSize, readObjectStart } from '../storage';
import { fold } from './fold';
import { inspectImage } from './inspect';

/** What a backfill run did: rows filled, rows whose object is missing or unreadable (left as they are). */
export interface BackfillReport {
  filled: number;
  failed: { id: string; reason: string }[];
}

/**
 * The loop every per-file backfill runs: `next(limit)` gives rows still to fill (at most `limit`,
 * in a stable order), `fill` fills one from its object. A row that fails is reported once, logged
 * with `what`, and skipped by the next rounds (the limit grows by the failures, so they never
 * crowd out the rest); the run ends when no unfailed row is left.
 */
export async function backfillEach<R extends { id: string; fileUrl: string }>(
  batch: number,
  what: string,
  next: (limit: number) => Promise<R[]>,
  fill: (row: R, key: string) => Promise<void>,
): Promise<BackfillReport> {
  const report: BackfillReport = { filled: 0, failed: [] };
  const failed = new Set<string>();
  for (;;) {
    const todo = (await next(batch + failed.size)).filter((row) => !failed.has(row.id));
    if (todo.length === 0) return report;
    for (const row of todo) {
      const key = keyOfUrl(row.fileUrl);
      try {
        await fill(row, key);
        report.filled++;
      } catch (err) {
        failed.add(row.id);
        report.failed.push({ id: row.id, reason: err instanceof Error ? err.message : String(err) });
        log.warn(`${what} not backfilled`, { id: row.id, key, ...describeError(err) });
      }
    }
  }
}

/**
 * Fills what the file is (content_type, size, width, height, sha256) for images stored before those
 * columns existed, from their objects: HEAD, the first bytes, a streamed hash. Rows already filled
 * are not touched, so a run can be repeated or interrupted. `npm run db:backfill`.
 */
export function backfillFileFacts(batch = 100): Promise<BackfillReport> {
  return backfillEach(
    batch,
    'image',
    (limit) =>
      withDb(() =>
        db()
          .select({ id: images.id, fileUrl: images.fileUrl })
          .from(images)
          .where(or(isNull(images.sha256), isNull(images.width), isNull(images.contentType)))
          .orderBy(images.id)
          .limit(limit),
      ),
    async (row, key) => {
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
    },
  );
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
