/** Images written behind the API's back, many at once: lists, albums and indexes at sizes uploads would take minutes to make. */
import { randomUUID } from 'node:crypto';
import { fold } from '../../lib/images/fold';
import { sql } from './state';

export interface ImageRow {
  title: string;
  description?: string;
  /** The recorded local time (`YYYY-MM-DDTHH:MM:SS[.ffffff]`), as the processing stores it; null or absent: the photo says nothing. */
  takenLocal?: string | null;
  /** The API's taken_at; by default the local time without a zone. */
  takenAt?: string | null;
}

/**
 * Inserts images in one statement, so that they share one created_at to the microsecond (a tie a
 * list must page through), with their search text folded as the service folds it. Their ids, in
 * the order given.
 */
export async function insertImages(rows: ImageRow[]): Promise<string[]> {
  const ids = rows.map(() => randomUUID());
  const column = <T>(pick: (row: ImageRow) => T) => rows.map(pick) as never[];
  await sql`
    insert into images (id, title, description, filename, file_url, taken_at, taken_local, search_title, search_description)
    select t.id, t.title, t.description, 'f.jpg', ${process.env.FILES_BASE_URL ?? ''} || '/images/' || t.id || '.jpg',
      t.taken_at, t.taken_local::timestamp, t.search_title, t.search_description
    from unnest(
      ${sql.array(ids as never[])}::uuid[],
      ${sql.array(column((r) => r.title))}::text[],
      ${sql.array(column((r) => r.description ?? ''))}::text[],
      ${sql.array(column((r) => r.takenAt ?? r.takenLocal ?? null))}::text[],
      ${sql.array(column((r) => r.takenLocal ?? null))}::text[],
      ${sql.array(column((r) => fold(r.title)))}::text[],
      ${sql.array(column((r) => fold(r.description ?? '')))}::text[]
    ) as t(id, title, description, taken_at, taken_local, search_title, search_description)`;
  return ids;
}

/** `count` images titled `<prefix> <n>` (n from 1), inserted in one statement (insertImages). */
export const insertMany = (prefix: string, count: number, row: (n: number) => Partial<ImageRow> = () => ({})) =>
  insertImages(Array.from({ length: count }, (_, i) => ({ title: `${prefix} ${i + 1}`, ...row(i + 1) })));
