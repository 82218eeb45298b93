import { createHash, randomUUID } from 'node:crypto';
import { db, withDb } from '../db';
import { originalKey } from '../keys';
import { guardObjects } from '../outbox/removals';
import { warmRedis } from '../redis';
import { images } from '../schema';
import { publicUrl, putObject } from '../storage';
import { announceUpload } from './announce';
import { searchColumns } from './fold';
import { present } from './present';
import type { Image } from './resource';
import { imageColumns, imageConflicts } from './rows';
import type { ImageType } from './types';

export interface NewImage {
  title: string;
  description: string;
  filename: string;
  bytes: Uint8Array;
  type: ImageType;
  /** As displayed: after the EXIF orientation or the HEIF rotation. */
  width: number;
  height: number;
}

/**
 * Stores the file and its row together: the row is inserted in a transaction that commits only after
 * the object is written, so a taken title (409) or a down database (503) never touches S3, and a
 * failed S3 write (503) leaves no row. Should the commit itself fail, the object is removed again —
 * at once, or by its removal job (guardObjects). The event `image_uploaded` is written in the same
 * transaction (the outbox) and delivered right after it.
 */
export async function createImage(input: NewImage): Promise<Image> {
  const id = randomUUID();
  const key = originalKey(id, input.type.ext);
  warmRedis();
  const image = await guardObjects([key], (release) =>
    withDb(
      () =>
        db().transaction(async (tx) => {
          const [row] = await tx
            .insert(images)
            .values({
              id,
              title: input.title,
              description: input.description,
              filename: input.filename,
              fileUrl: publicUrl(key),
              contentType: input.type.mime,
              size: input.bytes.byteLength,
              width: input.width,
              height: input.height,
              sha256: createHash('sha256').update(input.bytes).digest('hex'),
              ...searchColumns(input),
            })
            .returning(imageColumns);
          if (!row) throw new Error('INSERT returned no row');
          await release(tx);
          await putObject(key, input.bytes, input.type.mime, input.filename);
          return row;
        }),
      imageConflicts,
    ),
  );
  await announceUpload(image.id);
  return present(image);
}
