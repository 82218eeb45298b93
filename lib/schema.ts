import { sql } from 'drizzle-orm';
import { index, pgTable, primaryKey } from 'drizzle-orm/pg-core';

/** Column widths, in characters (code points, as Postgres counts VARCHAR(n)): the one source of each. */
export const TITLE_MAX = 32;
export const DESCRIPTION_MAX = 32;
export const FILENAME_MAX = 128;
export const FILE_URL_MAX = 128;
export const CONTENT_TYPE_MAX = 32;
/** An album's title and a share's: longer than an image's, a name people give a collection. */
export const ALBUM_TITLE_MAX = 64;
export const ALBUM_DESCRIPTION_MAX = 1024;
/** RFC 3339 with sub-seconds and an offset: `2025-07-14T18:03:11.123456+02:00`. */
export const TAKEN_AT_MAX = 40;
/** A share's token: 128 random bits, base64url (22 characters), with room to grow. */
export const SHARE_TOKEN_LENGTH = 43;
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

/** What the processing read of the camera from the file's EXIF; a member is null when the file says nothing of it. */
export interface Camera {
  make: string | null;
  model: string | null;
  lens: string | null;
}
/** The exposure as the file records it: seconds, millimetres, ISO. */
export interface Exposure {
  f_number: number | null;
  exposure_time: number | null;
  iso: number | null;
  focal_length: number | null;
}

/** The unique constraint that makes a title taken. */
export const TITLE_UNIQUE = 'images_title_key';
/** The unique constraint that makes an album's title taken. */
export const ALBUM_TITLE_UNIQUE = 'albums_title_key';

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
    /** When the photo was taken, as the API answers it: RFC 3339 with the recorded offset, or the local time without one. */
    takenAt: t.varchar('taken_at', { length: TAKEN_AT_MAX }),
    /** The same moment's recorded wall-clock time: what sort=taken and the date filters use. */
    takenLocal: t.timestamp('taken_local', { mode: 'string' }),
    /** taken_local, or -infinity for a photo that says nothing: sorted newest first, those come last. */
    takenSort: t
      .timestamp('taken_sort', { mode: 'string' })
      .notNull()
      .generatedAlwaysAs(sql`coalesce(taken_local, '-infinity'::timestamp)`),
    camera: t.jsonb('camera').$type<Camera>(),
    exposure: t.jsonb('exposure').$type<Exposure>(),
    /** When the processing read the file's EXIF into taken_at, camera and exposure (null: not yet). */
    exifReadAt: t.timestamp('exif_read_at', { withTimezone: true, mode: 'string' }),
    /**
     * Title and description folded for search (lower case, accents and other marks removed:
     * lib/images/search.ts), kept by the code that writes them, so that matching depends on neither
     * the database's locale nor an extension. Two columns, so that a PATCH of one refolds only it.
     */
    searchTitle: t.text('search_title').notNull().default(''),
    searchDescription: t.text('search_description').notNull().default(''),
  }),
  // Keyset pagination walks (created_at, id) newest first: a backward scan of this index. (Not
  // `DESC NULLS LAST`, which is what drizzle's .desc() writes and ORDER BY … DESC cannot use.)
  (t) => [
    index('images_created_at_id_idx').on(t.createdAt, t.id),
    // sort=taken and the date filters.
    index('images_taken_sort_idx').on(t.takenSort, t.createdAt, t.id),
    // q: every word a prefix of a word of the title or description.
    index('images_search_idx').using('gin', sql`to_tsvector('simple', ${t.searchTitle} || ' ' || ${t.searchDescription})`),
    // Duplicates: an upload declaring a SHA-256 finds the image that has it.
    index('images_sha256_idx').on(t.sha256),
  ],
);

/**
 * Albums: a title of their own (unique), a description, the cover the owner chose (null: the newest
 * image), and how many images they hold (kept by a trigger on album_images, so it is true in the
 * transaction that changes it).
 */
export const albums = /* @__PURE__ */ pgTable(
  'albums',
  (t) => ({
    id: t.uuid('id').primaryKey(),
    title: t.varchar('title', { length: ALBUM_TITLE_MAX }).notNull().unique(ALBUM_TITLE_UNIQUE),
    description: t.varchar('description', { length: ALBUM_DESCRIPTION_MAX }).notNull().default(''),
    coverImageId: t.uuid('cover_image_id').references(() => images.id, { onDelete: 'set null' }),
    imageCount: t.integer('image_count').notNull().default(0),
    createdAt: t.timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    updatedAt: t.timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  }),
  (t) => [index('albums_created_at_id_idx').on(t.createdAt, t.id)],
);

/**
 * Which images an album holds. The image's created_at and taken_sort are copied in (a trigger keeps
 * taken_sort), so that an album's pages, in either order, are a range of one index.
 */
export const albumImages = /* @__PURE__ */ pgTable(
  'album_images',
  (t) => ({
    albumId: t
      .uuid('album_id')
      .notNull()
      .references(() => albums.id, { onDelete: 'cascade' }),
    imageId: t
      .uuid('image_id')
      .notNull()
      .references(() => images.id, { onDelete: 'cascade' }),
    imageCreatedAt: t.timestamp('image_created_at', { withTimezone: true, mode: 'string' }).notNull(),
    imageTakenSort: t.timestamp('image_taken_sort', { mode: 'string' }).notNull(),
    addedAt: t.timestamp('added_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  }),
  (t) => [
    primaryKey({ columns: [t.albumId, t.imageId] }),
    index('album_images_image_idx').on(t.imageId),
    index('album_images_created_idx').on(t.albumId, t.imageCreatedAt, t.imageId),
    index('album_images_taken_idx').on(t.albumId, t.imageTakenSort, t.imageCreatedAt, t.imageId),
  ],
);

/**
 * Share links: a token that is the link, and what it shows — an album (as it changes) or a set of
 * images (share_images) — with its title, description, expiry, password (scrypt) and whether
 * viewers may fetch originals. Revoking deletes the row.
 */
export const shares = /* @__PURE__ */ pgTable(
  'shares',
  (t) => ({
    id: t.uuid('id').primaryKey(),
    token: t.varchar('token', { length: SHARE_TOKEN_LENGTH }).notNull().unique('shares_token_key'),
    albumId: t.uuid('album_id').references(() => albums.id, { onDelete: 'cascade' }),
    title: t.varchar('title', { length: ALBUM_TITLE_MAX }).notNull().default(''),
    description: t.varchar('description', { length: ALBUM_DESCRIPTION_MAX }).notNull().default(''),
    expiresAt: t.timestamp('expires_at', { withTimezone: true, mode: 'string' }),
    passwordHash: t.text('password_hash'),
    allowOriginals: t.boolean('allow_originals').notNull().default(false),
    imageCount: t.integer('image_count').notNull().default(0),
    createdAt: t.timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  }),
  (t) => [index('shares_created_at_id_idx').on(t.createdAt, t.id), index('shares_album_idx').on(t.albumId)],
);

/** The images of a share made of images (not an album), laid out as album_images for the same pages. */
export const shareImages = /* @__PURE__ */ pgTable(
  'share_images',
  (t) => ({
    shareId: t
      .uuid('share_id')
      .notNull()
      .references(() => shares.id, { onDelete: 'cascade' }),
    imageId: t
      .uuid('image_id')
      .notNull()
      .references(() => images.id, { onDelete: 'cascade' }),
    imageCreatedAt: t.timestamp('image_created_at', { withTimezone: true, mode: 'string' }).notNull(),
    imageTakenSort: t.timestamp('image_taken_sort', { mode: 'string' }).notNull(),
  }),
  (t) => [
    primaryKey({ columns: [t.shareId, t.imageId] }),
    index('share_images_image_idx').on(t.imageId),
    index('share_images_created_idx').on(t.shareId, t.imageCreatedAt, t.imageId),
    index('share_images_taken_idx').on(t.shareId, t.imageTakenSort, t.imageCreatedAt, t.imageId),
  ],
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
    /** The SHA-256 (hex, lower case) the client declared, which the stored file must have; null: none declared. */
    sha256: t.char('sha256', { length: 64 }),
    createdAt: t.timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    expiresAt: t.timestamp('expires_at', { withTimezone: true, mode: 'string' }).notNull(),
  }),
  (t) => [index('uploads_expires_at_idx').on(t.expiresAt)],
);

/**
 * Every change's event, written in the change's own transaction and relayed to Redis after it
 * commits (lib/outbox/relay.ts): at least once on the stream, in commit order per subject. Published
 * rows are pruned after OUTBOX_RETENTION_HOURS.
 */
export const outbox = /* @__PURE__ */ pgTable(
  'outbox',
  (t) => ({
    id: t.bigserial('id', { mode: 'number' }).primaryKey(),
    /** What the event is about: an image, an album or a share (their events go out in commit order per subject). */
    subjectId: t.uuid('subject_id').notNull(),
    event: t.varchar('event', { length: 32 }).notNull(),
    title: t.varchar('title', { length: ALBUM_TITLE_MAX }).notNull(),
    /** The event's members beyond event, id and title (an album's image_ids, say). */
    payload: t.jsonb('payload').$type<Record<string, unknown>>(),
    createdAt: t.timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    publishedAt: t.timestamp('published_at', { withTimezone: true, mode: 'string' }),
  }),
  (t) => [
    // What the relay looks for: the unpublished events, oldest first, and an image's own.
    index('outbox_unpublished_idx').on(t.id).where(sql`published_at is null`),
    index('outbox_subject_idx').on(t.subjectId, t.id).where(sql`published_at is null`),
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
