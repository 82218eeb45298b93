import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterCreate, afterWrite } from './cache';
import { db } from './db';
import { imageColumns, notFound, withDb, type Image } from './images';
import { describeError, log } from './log';
import { warmRedis } from './redis';
import { images } from './schema';
import { deleteObject, keyOfUrl, publicUrl, putObject } from './storage';
import type { ImageType } from './upload';

// The writes that touch the file as well as the row; only the upload and delete functions bundle
// the S3 client (lib/images.ts, the rest, does not import it).

export interface NewImage {
  title: string;
  description: string;
  filename: string;
  bytes: Uint8Array;
  type: ImageType;
}

/**
 * Stores the file and its row together: the row is inserted in a transaction that commits only after
 * the object is written, so a taken title (409) or a down database (503) never touches S3, and a
 * failed S3 write (503) leaves no row. Should the commit itself fail, the object is removed again.
 */
export async function createImage(input: NewImage): Promise<Image> {
  const id = randomUUID();
  const key = `images/${id}.${input.type.ext}`;
  warmRedis();
  let stored = false;
  let image: Image;
  try {
    image = await withDb(() =>
      db().transaction(async (tx) => {
        const [row] = await tx
          .insert(images)
          .values({
            id,
            title: input.title,
            description: input.description,
            filename: input.filename,
            fileUrl: publicUrl(key),
          })
          .returning(imageColumns);
        if (!row) throw new Error('INSERT returned no row');
        await putObject(key, input.bytes, input.type.mime, input.filename);
        stored = true;
        return row;
      }),
    );
  } catch (err) {
    if (stored) await removeOrphan(key, err);
    throw err;
  }
  await afterCreate(image);
  return image;
}

async function removeOrphan(key: string, cause: unknown): Promise<void> {
  try {
    await deleteObject(key);
    log.warn('upload rolled back after its object was stored; object removed', { key, ...describeError(cause) });
  } catch (err) {
    log.error('orphaned object: the row was not committed and the object could not be removed', {
      key,
      ...describeError(err),
    });
  }
}

/**
 * Deletes the row and its object together: the row's deletion commits only after S3 confirmed the
 * object's, so an S3 failure (503) leaves both in place. Throws NotFoundError (404).
 */
export async function deleteImage(id: string): Promise<void> {
  warmRedis();
  const deleted = await withDb(() =>
    db().transaction(async (tx) => {
      const [row] = await tx
        .delete(images)
        .where(eq(images.id, id))
        .returning({ id: images.id, title: images.title, fileUrl: images.fileUrl });
      if (!row) throw notFound(id);
      await deleteObject(keyOfUrl(row.fileUrl));
      return { id: row.id, title: row.title };
    }),
  );
  await afterWrite('image_deleted', deleted, undefined);
}
