import { createHash } from 'node:crypto';
import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { db, withDb } from '../db';
import { ValidationError } from '../errors';
import { CREATED, isRealMoment, UUID } from '../formats';
import { albumImages, images, shareImages } from '../schema';
import { fold } from './fold';
import { type Sort, TAKEN } from './list-options';
import { present } from './present';
import type { Image } from './resource';
import { imageColumns, preparedReads } from './rows';
import { matchesWords } from './search';

/** Which images a list is drawn from: all, an album's (as it changes), or a share's own set. */
export type Scope = { kind: 'all' } | { kind: 'album'; id: string } | { kind: 'share'; id: string };

/** What a page of a list asks for: its order, its filters and where it starts. */
export interface ListRequest {
  scope: Scope;
  sort: Sort;
  limit: number;
  /** Words every image must match, each a prefix (search.ts). */
  q?: string | undefined;
  /** Taken on or after this day, on or before that one (`YYYY-MM-DD`, the local date the photo records). */
  takenFrom?: string | undefined;
  takenTo?: string | undefined;
  /** The opaque token of the previous page's Link. */
  cursor?: string | undefined;
}

export interface ImagePage<T = Image> {
  items: T[];
  /** The cursor of the next page, while more remain. */
  next: string | undefined;
}

/** Where a page ends: the sort keys of its last image, as exact text (microseconds kept). */
interface Position {
  takenSort?: string;
  createdAt: string;
  id: string;
}

/**
 * What a cursor is bound to: the scope, the order and the filters, digested. A cursor made for other
 * ones would start a page at a position of another list.
 */
function fingerprint(request: ListRequest): string {
  const { scope, sort, q, takenFrom, takenTo } = request;
  const scopeId = scope.kind === 'all' ? '' : `${scope.kind}:${scope.id}`;
  return createHash('sha256')
    .update(JSON.stringify([scopeId, sort, q === undefined ? null : fold(q), takenFrom ?? null, takenTo ?? null]))
    .digest('base64url')
    .slice(0, 11);
}

const invalidCursor = () => new ValidationError([{ field: 'cursor', message: 'is not a valid cursor' }]);
const otherList = () =>
  new ValidationError([
    {
      field: 'cursor',
      message: 'was made for another list: keep the sort and filters of the page it came from, or start again without it',
    },
  ]);

/** Encodes the position after `last` for this request as an opaque URL-safe token. */
export function encodeCursor(request: ListRequest, last: Position): string {
  const parts = [request.sort === 'taken' ? 't' : 'c', fingerprint(request), ...(request.sort === 'taken' ? [last.takenSort ?? ''] : [])];
  return Buffer.from([...parts, last.createdAt, last.id].join('|'), 'utf8').toString('base64url');
}

/**
 * The position a token made by encodeCursor stands for; throws ValidationError (422) for anything else,
 * and for a cursor of another list (other scope, sort or filters).
 */
export function decodeCursor(request: ListRequest, token: string): Position {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw invalidCursor();
  const parts = Buffer.from(token, 'base64url').toString('utf8').split('|');
  // The first form, `<created_at>|<id>`: a page of all images, newest uploaded first, unfiltered.
  if (parts.length === 2) parts.unshift('c', fingerprint({ scope: { kind: 'all' }, sort: 'created', limit: 0 }));
  const [kind, digest, ...rest] = parts;
  const sort: Sort | undefined = kind === 't' ? 'taken' : kind === 'c' ? 'created' : undefined;
  if (sort === undefined || digest === undefined || rest.length !== (sort === 'taken' ? 3 : 2)) throw invalidCursor();
  const [createdAt = '', id = ''] = rest.slice(-2);
  const takenSort = sort === 'taken' ? (rest[0] ?? '') : undefined;
  if (!UUID.test(id) || !isRealMoment(CREATED.exec(createdAt))) throw invalidCursor();
  if (takenSort !== undefined && takenSort !== '-infinity' && !isRealMoment(TAKEN.exec(takenSort))) throw invalidCursor();
  if (sort !== request.sort || digest !== fingerprint(request)) throw otherList();
  return { createdAt, id, ...(takenSort !== undefined ? { takenSort } : {}) };
}

/** The columns a scope's pages are walked by: the images' own, or the copies its membership table keeps (one index each way). */
function keysOf(scope: Scope): { takenSort: PgColumn | SQL; createdAt: PgColumn; id: PgColumn; where?: SQL } {
  if (scope.kind === 'album') {
    return {
      takenSort: albumImages.imageTakenSort,
      createdAt: albumImages.imageCreatedAt,
      id: albumImages.imageId,
      where: eq(albumImages.albumId, scope.id),
    };
  }
  if (scope.kind === 'share') {
    return {
      takenSort: shareImages.imageTakenSort,
      createdAt: shareImages.imageCreatedAt,
      id: shareImages.imageId,
      where: eq(shareImages.shareId, scope.id),
    };
  }
  return { takenSort: images.takenSort, createdAt: images.createdAt, id: images.id };
}

/** taken_sort as exact text for a cursor (`-infinity` for a photo that says nothing). */
const takenSortText = sql<string>`case when ${images.takenSort} = '-infinity' then '-infinity' else to_char(${images.takenSort}, 'YYYY-MM-DD"T"HH24:MI:SS.US') end`;

/** The query of a page: the request's scope, filters and order, from `after` on, one row more than asked. */
function pageQuery(request: ListRequest, after: Position | undefined) {
  const keys = keysOf(request.scope);
  const conditions: (SQL | undefined)[] = [keys.where];
  if (request.q !== undefined) conditions.push(matchesWords(request.q));
  if (request.takenFrom !== undefined || request.takenTo !== undefined) {
    // A photo that says nothing has no day: never in a date range.
    conditions.push(sql`${keys.takenSort} > '-infinity'::timestamp`);
    if (request.takenFrom !== undefined) conditions.push(sql`${keys.takenSort} >= ${request.takenFrom}::date::timestamp`);
    if (request.takenTo !== undefined) conditions.push(sql`${keys.takenSort} < (${request.takenTo}::date + 1)::timestamp`);
  }
  if (after) {
    conditions.push(
      request.sort === 'taken'
        ? sql`(${keys.takenSort}, ${keys.createdAt}, ${keys.id}) < (${after.takenSort}::timestamp, ${after.createdAt}::timestamptz, ${after.id}::uuid)`
        : sql`(${keys.createdAt}, ${keys.id}) < (${after.createdAt}::timestamptz, ${after.id}::uuid)`,
    );
  }
  const order =
    request.sort === 'taken' ? [desc(keys.takenSort), desc(keys.createdAt), desc(keys.id)] : [desc(keys.createdAt), desc(keys.id)];
  const columns = { ...imageColumns, taken_sort_text: takenSortText };
  const where = and(...conditions);
  const { scope } = request;
  const query =
    scope.kind === 'album'
      ? db().select(columns).from(albumImages).innerJoin(images, eq(images.id, albumImages.imageId))
      : scope.kind === 'share'
        ? db().select(columns).from(shareImages).innerJoin(images, eq(images.id, shareImages.imageId))
        : db().select(columns).from(images);
  return query
    .where(where)
    .orderBy(...order)
    .limit(request.limit + 1);
}

/** All images, newest uploaded first, unfiltered: the gallery's first view, the one most asked for. */
const isPlain = (r: ListRequest): boolean =>
  r.scope.kind === 'all' && r.sort === 'created' && r.q === undefined && r.takenFrom === undefined && r.takenTo === undefined;

/** A plain page through the statements prepared once per container (Drizzle only binds the values). */
async function plainPage(limit: number, after: Position | undefined) {
  const rows = await (after
    ? preparedReads().pageAfter.execute({ createdAt: after.createdAt, id: after.id, limit })
    : preparedReads().firstPage.execute({ limit }));
  return rows.map((row) => ({ ...row, taken_sort_text: '' }));
}

/** The SQL of a page, as it runs (for EXPLAIN in the tests and the bench). */
export const pageSql = (request: ListRequest, after?: Position) => pageQuery(request, after).toSQL();

/**
 * A page of images in the request's scope, order and filters, and the cursor of the next page when
 * more remain; each image stored as it is (file_url not presented). Throws ValidationError (422) for
 * a cursor that is not one, or one made for another list.
 */
export async function listStored(request: ListRequest): Promise<ImagePage> {
  const after = request.cursor === undefined ? undefined : decodeCursor(request, request.cursor);
  const rows = await withDb(() => (isPlain(request) ? plainPage(request.limit + 1, after) : pageQuery(request, after)));
  const page = rows.slice(0, request.limit);
  const last = page.at(-1);
  const next =
    rows.length > request.limit && last
      ? encodeCursor(request, { takenSort: last.taken_sort_text, createdAt: last.created_at, id: last.id })
      : undefined;
  return { items: page.map(({ taken_sort_text: _, ...image }) => image), next };
}

/** A page of images as a client gets it (each file_url presented). */
export async function listImages(request: ListRequest): Promise<ImagePage> {
  const page = await listStored(request);
  return { items: await Promise.all(page.items.map(present)), next: page.next };
}
