import { desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { db, isoTimestamp, type Tx } from '../db';
import { albums, shareImages, shares } from '../schema';
import type { Share } from './resource';

/** A share's link, on this service: its read-only gallery. */
export const shareUrl = (token: string): string => `/s/${token}`;

/** The owner's view of shares: an album's count is the album's now, a set's its own. */
function shareQuery(on: Tx | ReturnType<typeof db>) {
  return on
    .select({
      id: shares.id,
      token: shares.token,
      album_id: shares.albumId,
      title: shares.title,
      description: shares.description,
      expires_at: sql<string | null>`case when ${shares.expiresAt} is null then null else ${isoTimestamp(shares.expiresAt)} end`,
      has_password: sql<boolean>`${shares.passwordHash} is not null`,
      allow_originals: shares.allowOriginals,
      image_count: sql<number>`coalesce(${albums.imageCount}, ${shares.imageCount})`,
      created_at: isoTimestamp(shares.createdAt),
    })
    .from(shares)
    .leftJoin(albums, eq(albums.id, shares.albumId));
}

/** Shares as their owner sees them, with the images of each set (one more query for the page). */
async function withImages(
  rows: Awaited<ReturnType<ReturnType<typeof shareQuery>['where']>>,
  on: Tx | ReturnType<typeof db>,
): Promise<Share[]> {
  const sets = rows.filter((r) => r.album_id === null).map((r) => r.id);
  const members =
    sets.length === 0
      ? []
      : await on
          .select({ shareId: shareImages.shareId, imageId: shareImages.imageId })
          .from(shareImages)
          .where(inArray(shareImages.shareId, sets))
          .orderBy(desc(shareImages.imageCreatedAt), desc(shareImages.imageId));
  return rows.map((row) => ({
    id: row.id,
    url: shareUrl(row.token),
    token: row.token,
    album_id: row.album_id,
    image_ids: row.album_id === null ? members.filter((m) => m.shareId === row.id).map((m) => m.imageId) : null,
    title: row.title,
    description: row.description,
    expires_at: row.expires_at,
    has_password: row.has_password,
    allow_originals: row.allow_originals,
    image_count: Number(row.image_count),
    created_at: row.created_at,
  }));
}

/** The share with this id, as its owner sees it (in `on`, a transaction's view if given), or undefined. */
export async function shareById(id: string, on: Tx | ReturnType<typeof db> = db()): Promise<Share | undefined> {
  const [share] = await withImages(await shareQuery(on).where(eq(shares.id, id)), on);
  return share;
}

/** A page of shares, newest first, from `after` on, one more than `limit`. */
export async function sharePage(limit: number, after?: { createdAt: string; id: string }): Promise<Share[]> {
  const where: SQL | undefined = after
    ? sql`(${shares.createdAt}, ${shares.id}) < (${after.createdAt}::timestamptz, ${after.id}::uuid)`
    : undefined;
  const rows = await shareQuery(db())
    .where(where)
    .orderBy(desc(shares.createdAt), desc(shares.id))
    .limit(limit + 1);
  return withImages(rows, db());
}
