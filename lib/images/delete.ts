import { eq } from 'drizzle-orm';
import { db, withDb } from '../db';
import { warmRedis } from '../redis';
import { images } from '../schema';
import { deleteObjects, keyOfUrl } from '../storage';
import { variantKeys } from '../variants/keys';
import { invalidateImage } from './cache';
import { imageNotFound } from './errors';
import { publishEvent } from './events';

/**
 * Deletes the row and its files together — the original and its variants, made or not — in one S3
 * request: the row's deletion commits only after S3 confirmed the objects', so an S3 failure (503)
 * leaves both in place. Throws NotFoundError (404).
 */
export async function deleteImage(id: string): Promise<void> {
  warmRedis();
  const deleted = await withDb(() =>
    db().transaction(async (tx) => {
      const [row] = await tx
        .delete(images)
        .where(eq(images.id, id))
        .returning({ id: images.id, title: images.title, fileUrl: images.fileUrl });
      if (!row) throw imageNotFound(id);
      await deleteObjects([keyOfUrl(row.fileUrl), ...variantKeys(row.id)]);
      return { id: row.id, title: row.title };
    }),
  );
  // Issued in one tick: both go to Redis in one round trip.
  await Promise.all([invalidateImage(deleted.id, undefined), publishEvent('image_deleted', deleted)]);
}
