import { index, pgTable, timestamp, uuid, varchar } from 'drizzle-orm/pg-core';

/** The images table, exactly as the seed's first migration; the list index came in the second. */
export const images = pgTable(
  'images',
  {
    id: uuid('id').primaryKey(),
    title: varchar('title', { length: 32 }).notNull().unique('images_title_key'),
    description: varchar('description', { length: 32 }).notNull(),
    filename: varchar('filename', { length: 128 }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    fileUrl: varchar('file_url', { length: 128 }).notNull(),
  },
  // Keyset pagination walks (created_at, id) newest first: a backward scan of this index. (Not
  // `DESC NULLS LAST`, which is what drizzle's .desc() writes and ORDER BY … DESC cannot use.)
  (t) => [index('images_created_at_id_idx').on(t.createdAt, t.id)],
);
