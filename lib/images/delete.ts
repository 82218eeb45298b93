import { eq, inArray } from 'drizzle-orm';
import { db, type Tx, withDb } from '../db';
import { keyOfUrl, variantKeys } from '../keys';
import { removalJobs, removeNow } from '../outbox/removals';
import { warmRedis } from '../redis';
import { albumImages, albums, fileRemovals, images, shareImages, shares } from '../schema';
import { announceChange } from './announce';
import { imageNotFound } from './errors';

/**
 * Deletes the image: one transaction removes the row, writes `image_deleted` (the outbox) and a
 * removal job for each of its files — the original and its variants, made or not — and commits;
 * then the files are removed at once (within FILE_REMOVAL_BUDGET_MS), or by the relay, which retries
 * until S3 confirms. So S3 being down delays the files' removal, never the answer, and never leaves a
 * row without its file. Throws NotFoundError (404).
 */
export async function deleteImage(id: string): Promise<void> {
  warmRedis();
  const jobs = await withDb(() =>
    db().transaction(async (tx) => {
      await lockForDeletion(tx, id);
      const [row] = await tx.delete(images).where(eq(images.id, id)).returning({ id: images.id, fileUrl: images.fileUrl });
      if (!row) throw imageNotFound(id);
      return tx
        .insert(fileRemovals)
        .values(removalJobs([keyOfUrl(row.fileUrl), ...variantKeys(row.id)]))
        .returning({ id: fileRemovals.id });
    }),
  );
  await Promise.all([announceChange(id, undefined), removeNow(jobs.map((j) => j.id))]);
}

/**
 * Locks the image, then the albums and the shares it is in, in the order every writer of albums and
 * shares takes them (images, then the album or share, then its membership rows). Deleting the image
 * removes its memberships and moves those albums' and shares' counts; without these locks first it
 * would hold a membership row while waiting for its album, as a writer of that album (a removal, the
 * album's deletion) holds the album while waiting for that row: a deadlock. Once the image is locked
 * no membership of it can begin (adding one locks the image), so the albums and shares read are all.
 */
async function lockForDeletion(tx: Tx, id: string): Promise<void> {
  const [image] = await tx.select({ id: images.id }).from(images).where(eq(images.id, id)).for('update');
  if (!image) return;
  const inAlbums = tx.select({ id: albumImages.albumId }).from(albumImages).where(eq(albumImages.imageId, id));
  await tx.select({ id: albums.id }).from(albums).where(inArray(albums.id, inAlbums)).orderBy(albums.id).for('update');
  const inShares = tx.select({ id: shareImages.shareId }).from(shareImages).where(eq(shareImages.imageId, id));
  await tx.select({ id: shares.id }).from(shares).where(inArray(shares.id, inShares)).orderBy(shares.id).for('update');
}
