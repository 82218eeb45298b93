import { index, pgTable } from 'drizzle-orm/pg-core';

/** Column widths, in characters (code points, as Postgres counts VARCHAR(n)): the one source of each. */
export const TITLE_MAX = 32;
export const DESCRIPTION_MAX = 32;
export const FILENAME_MAX = 128;
export const FILE_URL_MAX = 128;
/** The unique constraint that makes a title taken. */
export const TITLE_UNIQUE = 'images_title_key';

/**
 * The images table, exactly as the seed's first migration; the list index came in the second.
 * Columns come from the builder callback and the call is pure, so a bundle that imports only the
 * widths above leaves Drizzle out.
 */
export const images = /* @__PURE__ */ pgTable(
  'images',
  (t) => ({
    id: t.uuid('id').primaryKey(),
    title: t.varchar('title', { length: TITLE_MAX }).notNull().unique(TITLE_UNIQUE),
    description: t.varchar('description', { length: DESCRIPTION_MAX }).notNull(),
    filename: t.varchar('filename', { length: FILENAME_MAX }).notNull(),
    createdAt: t.timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    updatedAt: t.timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    fileUrl: t.varchar('file_url', { length: FILE_URL_MAX }).notNull(),
  }),
  // Keyset pagination walks (created_at, id) newest first: a backward scan of this index. (Not
  // `DESC NULLS LAST`, which is what drizzle's .desc() writes and ORDER BY … DESC cannot use.)
  (t) => [index('images_created_at_id_idx').on(t.createdAt, t.id)],
);
