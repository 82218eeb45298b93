import { desc, eq, sql } from 'drizzle-orm';
import { afterWrite, cacheImage, readCachedImage } from './cache';
import { warmRedis } from './redis';
import { db, dbErrorCode, isDbUnavailable } from './db';
import { ConflictError, HttpError, NotFoundError, ServiceUnavailableError } from './errors';
import { encodeCursor, type Cursor } from './cursor';
import { once } from './once';
import { images } from './schema';
import type { Image } from './resource-schemas';
import type { ImagePatch } from './validation';

export type { Image };

export interface ImagePage {
  items: Image[];
  next: string | undefined;
}

/** Exact to the microsecond, always in UTC with six fractional digits. */
const isoTimestamp = (column: typeof images.createdAt | typeof images.updatedAt) =>
  sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')`;

/** The columns of the image resource, timestamps exact to the microsecond. */
export const imageColumns = {
  id: images.id,
  title: images.title,
  description: images.description,
  filename: images.filename,
  file_url: images.fileUrl,
  created_at: isoTimestamp(images.createdAt),
  updated_at: isoTimestamp(images.updatedAt),
};

const TITLE_TAKEN = 'images_title_key';

/** Runs database work, turning an unreachable database into ServiceUnavailableError (503). */
export async function withDb<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof HttpError) throw err;
    if (dbErrorCode(err) === '23505' && isTitleConflict(err)) {
      throw new ConflictError('An image with this title already exists.');
    }
    if (isDbUnavailable(err)) throw new ServiceUnavailableError('database', { cause: err });
    throw err;
  }
}

function isTitleConflict(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if ((e as { constraint_name?: unknown }).constraint_name === TITLE_TAKEN) return true;
  }
  return false;
}

/**
 * The read queries, built once per container (Drizzle then only binds the values). They become
 * server-side prepared statements only when DB_PREPARE allows it: postgres.js's client setting wins
 * over Drizzle's per-query one.
 */
const queries = once(() => {
  const newestFirst = [desc(images.createdAt), desc(images.id)];
  return {
    byId: db().select(imageColumns).from(images).where(eq(images.id, sql.placeholder('id'))).prepare('image_by_id'),
    firstPage: db()
      .select(imageColumns)
      .from(images)
      .orderBy(...newestFirst)
      .limit(sql.placeholder('limit'))
      .prepare('images_first_page'),
    pageAfter: db()
      .select(imageColumns)
      .from(images)
      .where(
        sql`(${images.createdAt}, ${images.id}) < (${sql.placeholder('createdAt')}::timestamptz, ${sql.placeholder('id')}::uuid)`,
      )
      .orderBy(...newestFirst)
      .limit(sql.placeholder('limit'))
      .prepare('images_page_after'),
  };
});

/** The image with this id from the database; throws NotFoundError (404). */
export async function getImage(id: string): Promise<Image> {
  const [row] = await withDb(() => queries().byId.execute({ id }));
  if (!row) throw notFound(id);
  return row;
}

/**
 * The image's JSON, from the cache when it is there (HIT) or from the database, then cached (MISS).
 * When Redis fails the database answers and nothing is cached. Throws NotFoundError (404).
 */
export async function readImage(id: string): Promise<{ json: string; cache: 'HIT' | 'MISS' }> {
  const cached = await readCachedImage(id);
  if (typeof cached === 'string') return { json: cached, cache: 'HIT' };
  const image = await getImage(id);
  const json = JSON.stringify(image);
  // undefined: Redis just failed or timed out; do not spend a second timeout on the fill.
  if (cached === null) await cacheImage(image, json);
  return { json, cache: 'MISS' };
}

/** A page of images, newest first, and the cursor of the next page when more remain. */
export async function listImages(limit: number, after?: Cursor): Promise<ImagePage> {
  // One row more than asked tells whether another page follows.
  const rows = await withDb(() =>
    after
      ? queries().pageAfter.execute({ createdAt: after.createdAt, id: after.id, limit: limit + 1 })
      : queries().firstPage.execute({ limit: limit + 1 }),
  );
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  const next = rows.length > limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : undefined;
  return { items, next };
}

/**
 * Changes title and/or description; updated_at moves forward on every update, strictly, even for
 * two updates in one microsecond. Throws NotFoundError (404) or ConflictError (409, title taken).
 */
export async function updateImage(id: string, patch: ImagePatch): Promise<Image> {
  warmRedis();
  const [row] = await withDb(() =>
    db()
      .update(images)
      .set({
        ...(patch.title !== undefined ? { title: patch.title } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        updatedAt: sql`greatest(now(), ${images.updatedAt} + interval '1 microsecond')`,
      })
      .where(eq(images.id, id))
      .returning(imageColumns),
  );
  if (!row) throw notFound(id);
  await afterWrite('image_updated', row, row.updated_at);
  return row;
}

/** The 404 for an id. */
export const notFound = (id: string) => new NotFoundError(`No image with id ${id}.`);
