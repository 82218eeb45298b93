import { and, eq } from 'drizzle-orm';
import { db, withDb } from '../db';
import { type ImagePage, type ListRequest, listStored } from '../images/list';
import { present } from '../images/present';
import type { Image } from '../images/resource';
import { imageColumns } from '../images/rows';
import { albumImages, images, shareImages } from '../schema';
import type { ShareRecord } from './cache';
import { notInShare } from './errors';

// A share's images as its viewers get them; apart from viewer.ts, so that the functions which never
// show an image (the summary, unlock) load neither the list engine nor the presigner behind present().

/** An image as a viewer of a share gets it. */
export type SharedImage = Omit<Image, 'sha256' | 'file_url'> & { file_url: string | null };

/** An image as the share shows it: never its sha256, its original only if the share allows originals. */
async function asShared(image: Image, share: ShareRecord): Promise<SharedImage> {
  const { sha256: _, ...rest } = share.allowOriginals ? await present(image) : image;
  return { ...rest, file_url: share.allowOriginals ? rest.file_url : null };
}

/** The scope a share's lists are drawn from: its album as it is now, or its own set. */
const scopeOf = (share: ShareRecord): ListRequest['scope'] =>
  share.albumId === null ? { kind: 'share', id: share.id } : { kind: 'album', id: share.albumId };

/** A page of the share's images, as the owner's list pages (order, filters, cursor), each as a viewer gets it. */
export async function sharedImages(share: ShareRecord, request: Omit<ListRequest, 'scope'>): Promise<ImagePage<SharedImage>> {
  const page = await listStored({ ...request, scope: scopeOf(share) });
  return { items: await Promise.all(page.items.map((image) => asShared(image, share))), next: page.next };
}

/** One image of the share; throws NotFoundError (404) for an image not in it (or not at all). */
export async function sharedImage(share: ShareRecord, imageId: string): Promise<SharedImage> {
  const [row] = await withDb(() =>
    share.albumId === null
      ? db()
          .select(imageColumns)
          .from(shareImages)
          .innerJoin(images, eq(images.id, shareImages.imageId))
          .where(and(eq(shareImages.shareId, share.id), eq(shareImages.imageId, imageId)))
      : db()
          .select(imageColumns)
          .from(albumImages)
          .innerJoin(images, eq(images.id, albumImages.imageId))
          .where(and(eq(albumImages.albumId, share.albumId), eq(albumImages.imageId, imageId))),
  );
  if (!row) throw notInShare(imageId);
  return asShared(row, share);
}
