import { eq } from 'drizzle-orm';
import { db, withDb } from '../db';
import { warmRedis } from '../redis';
import { images } from '../schema';
import { announceChange } from './announce';
import { imageNotFound } from './errors';
import { searchColumns } from './fold';
import { present } from './present';
import type { Image } from './resource';
import { bumpedUpdatedAt, imageColumns, imageConflicts } from './rows';

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
          ...searchColumns(patch),
          updatedAt: bumpedUpdatedAt,
        })
        .where(eq(images.id, id))
        .returning(imageColumns),
    imageConflicts,
  );
  if (!row) throw imageNotFound(id);
  // `image_updated` was written in the update's own transaction (the outbox): delivered now.
  await announceChange(row.id, row.updated_at);
  return present(row);
}
