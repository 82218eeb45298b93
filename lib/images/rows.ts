import { desc, eq, sql } from 'drizzle-orm';
import { db, isoTimestamp } from '../db';
import type { HttpError } from '../errors';
import { once } from '../once';
import { images, TITLE_UNIQUE } from '../schema';
import { titleTaken } from './errors';

/**
 * updated_at for a write that moves it: now, and strictly after its value before, so versions
 * compare exactly (the cache fence relies on it) even when two writes fall in one microsecond.
 */
export const bumpedUpdatedAt = sql`greatest(now(), ${images.updatedAt} + interval '1 microsecond')`;

/** The columns of the image resource, timestamps exact to the microsecond. */
export const imageColumns = {
  id: images.id,
  title: images.title,
  description: images.description,
  filename: images.filename,
  file_url: images.fileUrl,
  created_at: isoTimestamp(images.createdAt),
  updated_at: isoTimestamp(images.updatedAt),
  content_type: images.contentType,
  size: images.size,
  width: images.width,
  height: images.height,
  sha256: images.sha256,
  variants: images.variants,
  processing: images.processing,
  taken_at: images.takenAt,
  camera: images.camera,
  exposure: images.exposure,
};

/** The unique constraints of the table and the 409 each means, for withDb. */
export const imageConflicts: Record<string, () => HttpError> = { [TITLE_UNIQUE]: titleTaken };

const newestFirst = [desc(images.createdAt), desc(images.id)];

/** The read queries as Drizzle builds them, placeholders unbound (EXPLAINed by the tests as they are). */
export const readQueries = once(() => ({
  byId: db()
    .select(imageColumns)
    .from(images)
    .where(eq(images.id, sql.placeholder('id'))),
  firstPage: db()
    .select(imageColumns)
    .from(images)
    .orderBy(...newestFirst)
    .limit(sql.placeholder('limit')),
  pageAfter: db()
    .select(imageColumns)
    .from(images)
    .where(sql`(${images.createdAt}, ${images.id}) < (${sql.placeholder('createdAt')}::timestamptz, ${sql.placeholder('id')}::uuid)`)
    .orderBy(...newestFirst)
    .limit(sql.placeholder('limit')),
}));

/**
 * The read queries, prepared once per container (Drizzle then only binds the values). They become
 * server-side prepared statements only when DB_PREPARE allows it: postgres.js's client setting wins
 * over Drizzle's per-query one.
 */
export const preparedReads = once(() => {
  const q = readQueries();
  return {
    byId: q.byId.prepare('image_by_id'),
    firstPage: q.firstPage.prepare('images_first_page'),
    pageAfter: q.pageAfter.prepare('images_page_after'),
  };
});
