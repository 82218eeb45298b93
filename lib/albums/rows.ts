import { desc, eq, type SQL, sql } from 'drizzle-orm';
import { type Database, db, isoTimestamp, type Tx } from '../db';
import type { HttpError } from '../errors';
import { ALBUM_TITLE_UNIQUE, albumImages, albums, images, type Variants } from '../schema';
import { albumTitleTaken } from './errors';
import type { Album } from './resource';

/** The unique constraints of albums and the 409 each means, for withDb. */
export const albumConflicts: Record<string, () => HttpError> = { [ALBUM_TITLE_UNIQUE]: albumTitleTaken };

/**
 * The album's cover: the image its owner chose while it is still in the album, else its newest
 * uploaded image; two lookups of album_images' own indexes.
 */
const coverId = sql<string | null>`coalesce(
  (select ${albumImages.imageId} from ${albumImages} where ${albumImages.albumId} = ${albums.id} and ${albumImages.imageId} = ${albums.coverImageId}),
  (select ai.image_id from album_images ai where ai.album_id = ${albums.id} order by ai.image_created_at desc, ai.image_id desc limit 1))`;

const cover = (on: Database | Tx) =>
  on.select({ id: images.id, variants: images.variants }).from(images).where(sql`${images.id} = ${coverId}`).as('cover');

/** The columns of the album resource (the cover's, joined laterally), timestamps exact to the microsecond. */
function albumQuery(on: Database | Tx) {
  const c = cover(on);
  return on
    .select({
      id: albums.id,
      title: albums.title,
      description: albums.description,
      image_count: albums.imageCount,
      cover_id: c.id,
      cover_variants: c.variants,
      created_at: isoTimestamp(albums.createdAt),
      updated_at: isoTimestamp(albums.updatedAt),
    })
    .from(albums)
    .leftJoinLateral(c, sql`true`);
}

type AlbumRow = { cover_id: string | null; cover_variants: Variants | null } & Omit<Album, 'cover'>;

/** An album row as the resource: the cover with its thumbnail, or null. */
const toAlbum = ({ cover_id, cover_variants, ...album }: AlbumRow): Album => ({
  id: album.id,
  title: album.title,
  description: album.description,
  image_count: album.image_count,
  cover: cover_id === null ? null : { image_id: cover_id, thumb: cover_variants?.thumb ?? null },
  created_at: album.created_at,
  updated_at: album.updated_at,
});

/** The album with this id as it is now (in `on`, a transaction's view if given), or undefined. */
export async function albumById(id: string, on: Database | Tx = db()): Promise<Album | undefined> {
  const [row] = await albumQuery(on).where(eq(albums.id, id));
  return row && toAlbum(row as AlbumRow);
}

/** A page of albums, newest first, from `after` on (its exact created_at and id), one more than `limit`. */
export async function albumPage(limit: number, after?: { createdAt: string; id: string }): Promise<Album[]> {
  const where: SQL | undefined = after
    ? sql`(${albums.createdAt}, ${albums.id}) < (${after.createdAt}::timestamptz, ${after.id}::uuid)`
    : undefined;
  const rows = await albumQuery(db())
    .where(where)
    .orderBy(desc(albums.createdAt), desc(albums.id))
    .limit(limit + 1);
  return rows.map((row) => toAlbum(row as AlbumRow));
}
