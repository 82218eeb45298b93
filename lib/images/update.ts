import { eq, sql } from 'drizzle-orm';
import { db, withDb } from '../db';
import { relayImage } from '../outbox/relay';
import { warmRedis } from '../redis';
import { images } from '../schema';
import { invalidateImage } from './cache';
import { imageNotFound } from './errors';
import { present } from './present';
import type { Image } from './resource';
import { imageColumns, imageConflicts } from './rows';

/** What an update may change. */
export interface ImageChanges {
  title?: string | undefined;
  description?: string | undefined;
}

/**
 * Changes title and/or description; updated_at moves forward on every update, strictly, even for
 * two updates in one microsecond. Throws NotFoundError (404) or ConflictError (409, title taken).
 */
export async function updateImage(id: string, patch: ImageChanges): Promise<Image> {
  warmRedis();
  const [row] = await withDb(
    () =>
      db()
        .update(images)
        .set({
          ...(patch.title !== undefined ? { title: patch.title } : {}),
          ...(patch.description !== undefined ? { description: patch.description } : {}),
          updatedAt: sql`greatest(now(), ${images.updatedAt} + interval '1 microsecond')`,
        })
        .where(eq(images.id, id))
        .returning(imageColumns),
    imageConflicts,
  );
  if (!row) throw imageNotFound(id);
  // `image_updated` was written in the update's own transaction (the outbox): delivered now.
  await Promise.all([invalidateImage(row.id, row.updated_at), relayImage(row.id)]);
  return present(row);
}
