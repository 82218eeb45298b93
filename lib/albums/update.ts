import { and, eq, sql } from 'drizzle-orm';
import { db, withDb } from '../db';
import { relaySubject } from '../outbox/relay';
import { albumImages, albums, images } from '../schema';
import { albumNotFound, coverNotInAlbum } from './errors';
import type { Album } from './resource';
import { albumById, albumConflicts } from './rows';

/** What a PATCH may change: the title, the description, and the cover (null: the newest image). */
export interface AlbumChanges {
  title?: string | undefined;
  description?: string | undefined;
  cover_image_id?: string | null | undefined;
}

/**
 * Changes an album's title, description and cover; updated_at moves forward. A cover must be one of
 * its images, checked in the transaction that sets it. Throws NotFoundError (404), ConflictError
 * (409, title taken) or ValidationError (422, a cover not in the album).
 */
export async function updateAlbum(id: string, patch: AlbumChanges): Promise<Album> {
  const album = await withDb(
    () =>
      db().transaction(async (tx) => {
        const cover = patch.cover_image_id;
        // The chosen image before the album, the order in which its deletion takes them
        // (lib/images/delete.ts): setting the cover locks the image too (its foreign key).
        if (cover) await tx.select({ id: images.id }).from(images).where(eq(images.id, cover)).for('share');
        // Then the album: an image leaving the album waits until the cover is set (or set wins, and its
        // removal then makes the cover fall back to the newest image).
        const [found] = await tx.select({ id: albums.id }).from(albums).where(eq(albums.id, id)).for('update');
        if (!found) throw albumNotFound(id);
        if (cover) {
          const [member] = await tx
            .select({ id: albumImages.imageId })
            .from(albumImages)
            .where(and(eq(albumImages.albumId, id), eq(albumImages.imageId, cover)))
            .for('share');
          if (!member) throw coverNotInAlbum();
        }
        await tx
          .update(albums)
          .set({
            ...(patch.title !== undefined ? { title: patch.title } : {}),
            ...(patch.description !== undefined ? { description: patch.description } : {}),
            ...(cover !== undefined ? { coverImageId: cover } : {}),
            updatedAt: sql`greatest(now(), ${albums.updatedAt} + interval '1 microsecond')`,
          })
          .where(eq(albums.id, id));
        return albumById(id, tx);
      }),
    albumConflicts,
  );
  if (!album) throw albumNotFound(id);
  await relaySubject(id);
  return album;
}
