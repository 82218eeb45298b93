import { eq } from 'drizzle-orm';
import { db, withDb } from '../db';
import { removalJobs, removeNow } from '../outbox/removals';
import { warmRedis } from '../redis';
import { fileRemovals, images } from '../schema';
import { keyOfUrl } from '../storage';
import { variantKeys } from '../variants/keys';
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
