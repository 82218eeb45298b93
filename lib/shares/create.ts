import { randomUUID } from 'node:crypto';
import { eq, inArray } from 'drizzle-orm';
import { db, withDb } from '../db';
import { unknownImages } from '../images/errors';
import { relaySubject } from '../outbox/relay';
import { albums, images, shareImages, shares } from '../schema';
import { unknownAlbum } from './errors';
import type { Share } from './resource';
import { shareById } from './rows';
import { hashPassword, newToken } from './secrets';

/** What a share is of, and how: exactly one of an album and a set of images (the edge checks the rest). */
export interface ShareRequest {
  albumId?: string | undefined;
  imageIds?: string[] | undefined;
  title?: string | undefined;
  description: string;
  /** RFC 3339, in the future (the edge checks it); undefined: never expires. */
  expiresAt?: string | undefined;
  password?: string | undefined;
  allowOriginals: boolean;
}

/**
 * Makes a share link: of an album (which it follows as it changes; its title is the share's unless
 * one is given) or of a set of images (copied in with their sort keys, locked while they are, so none
 * is deleted between the check and the insert). Every unknown id is listed in the 422 and nothing is
 * made. Its event share_created goes out after the commit. Throws ValidationError (422).
 */
export async function createShare(request: ShareRequest): Promise<Share> {
  const id = randomUUID();
  const passwordHash = request.password === undefined ? null : await hashPassword(request.password);
  const share = await withDb(() =>
    db().transaction(async (tx) => {
      let title = request.title ?? '';
      if (request.albumId !== undefined) {
        const [album] = await tx.select({ title: albums.title }).from(albums).where(eq(albums.id, request.albumId)).for('share');
        if (!album) throw unknownAlbum();
        title = request.title ?? album.title;
      }
      const wanted = [...new Set(request.imageIds ?? [])];
      const found =
        wanted.length === 0
          ? []
          : await tx
              .select({ id: images.id, createdAt: images.createdAt, takenSort: images.takenSort })
              .from(images)
              .where(inArray(images.id, wanted))
              .for('share');
      const known = new Set(found.map((i) => i.id));
      const unknown = wanted.filter((i) => !known.has(i));
      if (unknown.length > 0) throw unknownImages(unknown, request.imageIds ?? []);
      await tx.insert(shares).values({
        id,
        token: newToken(),
        albumId: request.albumId ?? null,
        title,
        description: request.description,
        expiresAt: request.expiresAt ?? null,
        passwordHash,
        allowOriginals: request.allowOriginals,
      });
      if (found.length > 0) {
        await tx
          .insert(shareImages)
          .values(found.map((i) => ({ shareId: id, imageId: i.id, imageCreatedAt: i.createdAt, imageTakenSort: i.takenSort })));
      }
      return shareById(id, tx);
    }),
  );
  if (!share) throw new Error('INSERT made no share');
  await relaySubject(id);
  return share;
}
