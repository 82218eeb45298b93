import { randomUUID } from 'node:crypto';
import { asc, eq, sql } from 'drizzle-orm';
import { uploadConfig } from '../config';
import { db, isoTimestamp, withDb } from '../db';
import { titleTaken } from '../images/errors';
import { pendingKey } from '../keys';
import { images, uploads } from '../schema';
import { presignUpload } from '../storage';
import { directUploadTooLarge, duplicateImage } from './errors';

// Checked at import: bad upload limits fail the cold start.
uploadConfig();

/** What a client declares before it sends a file straight to the store. */
export interface UploadRequest {
  title: string;
  description: string;
  /** Already cleaned to its last path segment. */
  filename: string;
  size: number;
  contentType: string;
  /** The file's SHA-256 in lower-case hex, when the client declared it. */
  sha256?: string | undefined;
  /** Sign even when an image has that SHA-256. */
  allowDuplicate?: boolean | undefined;
}

/** A signed upload: where to POST the file, with which form fields, and until when. */
export interface SignedUpload {
  id: string;
  upload: { method: 'POST'; url: string; fields: Record<string, string> };
  expires_at: string;
}

/**
 * Signs a direct upload: a presigned POST for exactly the declared size and Content-Type (and, when
 * declared, SHA-256) at `uploads/<id>`, and a pending row that remembers the declaration until it
 * expires. Throws PayloadTooLargeError (413) above MAX_DIRECT_UPLOAD_BYTES, ConflictWithError (409)
 * when an image has the declared SHA-256 and duplicates are not allowed (naming the oldest such
 * image, at `imagePath(id)`), and ConflictError (409) when the title is taken now (it is checked
 * again at completion).
 */
export async function createUpload(input: UploadRequest, imagePath: (id: string) => string): Promise<SignedUpload> {
  const { MAX_DIRECT_UPLOAD_BYTES: limit, UPLOAD_URL_EXPIRES_SECONDS: seconds } = uploadConfig();
  if (input.size > limit) throw directUploadTooLarge(limit);
  const id = randomUUID();
  const signed = await presignUpload(pendingKey(id), input.size, input.contentType, seconds, input.sha256);
  const expiresAt = await withDb(async () => {
    if (input.sha256 !== undefined && !input.allowDuplicate) {
      // The oldest: the answer stays the same however many copies were later uploaded on purpose.
      const [same] = await db()
        .select({ id: images.id })
        .from(images)
        .where(eq(images.sha256, input.sha256))
        .orderBy(asc(images.createdAt), asc(images.id))
        .limit(1);
      if (same) throw duplicateImage(same.id, imagePath(same.id));
    }
    const [taken] = await db().select({ id: images.id }).from(images).where(eq(images.title, input.title)).limit(1);
    if (taken) throw titleTaken();
    const [row] = await db()
      .insert(uploads)
      .values({
        id,
        title: input.title,
        description: input.description,
        filename: input.filename,
        size: input.size,
        contentType: input.contentType,
        sha256: input.sha256 ?? null,
        expiresAt: sql`now() + make_interval(secs => ${seconds})`,
      })
      .returning({
        expiresAt: isoTimestamp(uploads.expiresAt),
      });
    if (!row) throw new Error('INSERT returned no row');
    return row.expiresAt;
  });
  return { id, upload: { method: 'POST', ...signed }, expires_at: expiresAt };
}
