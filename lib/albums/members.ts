import { and, eq, inArray } from 'drizzle-orm';
import { db, type Tx, withDb } from '../db';
import { unknownImages } from '../images/errors';
import { relaySubject } from '../outbox/relay';
import { albumImages, albums, images } from '../schema';
import { albumNotFound } from './errors';
import type { Album } from './resource';
import { albumById } from './rows';

/** Locks the album for a change of its images (404 when there is none): its writers take turns. */
async function lockAlbum(tx: Tx, id: string): Promise<void> {
  const [found] = await tx.select({ id: albums.id }).from(albums).where(eq(albums.id, id)).for('update');
  if (!found) throw albumNotFound(id);
}

/**
 * Adds images to an album; those already in it stay as they are (idempotent). Every id must name an
 * image: otherwise nothing is added and the 422 lists each unknown one. The images are locked (FOR
 * SHARE) while they are added, so none can be deleted between the check and the insert, and their
 * sort keys copied in are the ones they have; they are locked before the album, the order in which
 * an image's deletion takes them (lib/images/delete.ts). Throws NotFoundError (404), ValidationError (422).
 */
export async function addToAlbum(id: string, imageIds: string[]): Promise<Album> {
  const unique = [...new Set(imageIds)];
  const album = await withDb(() =>
    db().transaction(async (tx) => {
      const found = await tx
        .select({ id: images.id, createdAt: images.createdAt, takenSort: images.takenSort })
        .from(images)
        .where(inArray(images.id, unique))
        .for('share');
      await lockAlbum(tx, id);
      const known = new Set(found.map((i) => i.id));
      const unknown = unique.filter((i) => !known.has(i));
      if (unknown.length > 0) throw unknownImages(unknown, imageIds);
      await tx
        .insert(albumImages)
        .values(found.map((i) => ({ albumId: id, imageId: i.id, imageCreatedAt: i.createdAt, imageTakenSort: i.takenSort })))
        .onConflictDoNothing();
      return albumById(id, tx);
    }),
  );
  if (!album) throw albumNotFound(id);
  await relaySubject(id);
  return album;
}

/** Removes images from an album; ids not in it are ignored. Throws NotFoundError (404). */
export async function removeFromAlbum(id: string, imageIds: string[]): Promise<Album> {
  const album = await withDb(() =>
    db().transaction(async (tx) => {
      await lockAlbum(tx, id);
      await tx.delete(albumImages).where(and(eq(albumImages.albumId, id), inArray(albumImages.imageId, [...new Set(imageIds)])));
      return albumById(id, tx);
    }),
  );
  if (!album) throw albumNotFound(id);
  await relaySubject(id);
  return album;
}
