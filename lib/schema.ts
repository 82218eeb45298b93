import { sql } from 'drizzle-orm';
import { index, pgTable } from 'drizzle-orm/pg-core';

/** Column widths, in characters (code points, as Postgres counts VARCHAR(n)): the one source of each. */
export const TITLE_MAX = 32;
export const DESCRIPTION_MAX = 32;
export const FILENAME_MAX = 128;
export const FILE_URL_MAX = 128;
export const CONTENT_TYPE_MAX = 32;
/** Where an image's displayable copies stand: made by the processing function after the upload. */
export const PROCESSING_STATES = ['pending', 'ready', 'failed'] as const;
export type ProcessingState = (typeof PROCESSING_STATES)[number];

/** A displayable copy of an image, as stored in the row: where it is and its size. */
export interface Variant {
  url: string;
  width: number;
  height: number;
}
export interface Variants {
  thumb: Variant;
  display: Variant;
}

/** The unique constraint that makes a title taken. */
export const TITLE_UNIQUE = 'images_title_key';

// Columns come from the builder callbacks and the calls are pure, so a bundle that imports only the
// widths above leaves Drizzle out.

/**
 * The images table: the seed's seven columns exactly as its first migration made them, then what the
 * file is (null only for rows older than those columns, until `npm run db:backfill` fills them).
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
    contentType: t.varchar('content_type', { length: CONTENT_TYPE_MAX }),
    size: t.bigint('size', { mode: 'number' }),
    width: t.integer('width'),
    height: t.integer('height'),
    sha256: t.char('sha256', { length: 64 }),
    variants: t.jsonb('variants').$type<Variants>(),
    processing: t.varchar('processing', { length: 16, enum: PROCESSING_STATES }).notNull().default('pending'),
  }),
  // Keyset pagination walks (created_at, id) newest first: a backward scan of this index. (Not
  // `DESC NULLS LAST`, which is what drizzle's .desc() writes and ORDER BY … DESC cannot use.)
  (t) => [index('images_created_at_id_idx').on(t.createdAt, t.id)],
);

/**
 * Direct uploads signed and not yet completed: what the client declared, and until when the signed
 * POST is valid. The image's id is the upload's. Swept when expired.
 */
export const uploads = /* @__PURE__ */ pgTable(
  'uploads',
  (t) => ({
    id: t.uuid('id').primaryKey(),
    title: t.varchar('title', { length: TITLE_MAX }).notNull(),
    description: t.varchar('description', { length: DESCRIPTION_MAX }).notNull(),
    filename: t.varchar('filename', { length: FILENAME_MAX }).notNull(),
    size: t.bigint('size', { mode: 'number' }).notNull(),
    contentType: t.varchar('content_type', { length: CONTENT_TYPE_MAX }).notNull(),
    createdAt: t.timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    expiresAt: t.timestamp('expires_at', { withTimezone: true, mode: 'string' }).notNull(),
  }),
  (t) => [index('uploads_expires_at_idx').on(t.expiresAt)],
);

/**
 * Every change's event, written in the change's own transaction and relayed to Redis after it
 * commits (lib/events/relay.ts): at least once on the stream, in commit order per image. Published
 * rows are pruned after OUTBOX_RETENTION_HOURS.
 */
export const outbox = /* @__PURE__ */ pgTable(
  'outbox',
  (t) => ({
    id: t.bigserial('id', { mode: 'number' }).primaryKey(),
    imageId: t.uuid('image_id').notNull(),
    event: t.varchar('event', { length: 32 }).notNull(),
    title: t.varchar('title', { length: TITLE_MAX }).notNull(),
    createdAt: t.timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    publishedAt: t.timestamp('published_at', { withTimezone: true, mode: 'string' }),
  }),
  (t) => [
    // What the relay looks for: the unpublished events, oldest first, and an image's own.
    index('outbox_unpublished_idx').on(t.id).where(sql`published_at is null`),
    index('outbox_image_idx').on(t.imageId, t.id).where(sql`published_at is null`),
    // What the prune deletes: delivered events past their retention.
    index('outbox_published_idx').on(t.publishedAt).where(sql`published_at is not null`),
  ],
);

/**
 * Objects to delete, retried until S3 confirms: a deleted image's original and variants, and an
 * upload's object whose row may never commit (then removed only after `not_before`, once no
 * transaction can still be writing it).
 */
export const fileRemovals = /* @__PURE__ */ pgTable(
  'file_removals',
  (t) => ({
    id: t.bigserial('id', { mode: 'number' }).primaryKey(),
    key: t.varchar('key', { length: FILE_URL_MAX }).notNull(),
    notBefore: t.timestamp('not_before', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    attempts: t.integer('attempts').notNull().default(0),
    lastError: t.text('last_error'),
    createdAt: t.timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  }),
  (t) => [
    index('file_removals_due_idx').on(t.notBefore),
    // A committing transaction releases every job for the keys it stores (guardObjects).
    index('file_removals_key_idx').on(t.key),
  ],
);
