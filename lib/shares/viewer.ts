import { and, eq, sql } from 'drizzle-orm';
import { db, isoTimestamp, withDb } from '../db';
import { type ImagePage, type ListRequest, listStored } from '../images/list';
import { present } from '../images/present';
import type { Image } from '../images/resource';
import { imageColumns } from '../images/rows';
import { albumImages, albums, images, shareImages, shares } from '../schema';
import { forgiveAttempt, takeAttempt } from './attempts';
import { SHARE_VERSION, type ShareRecord, shareCache } from './cache';
import { linkExpired, linkNotFound, locked, notInShare, wrongPassword } from './errors';
import type { Shared } from './resource';
import { ACCESS_HOURS, accessToken, isAccessTo, tokenDigest, verifyPassword } from './secrets';

/** An image as a viewer of a share gets it. */
export type SharedImage = Omit<Image, 'sha256' | 'file_url'> & { file_url: string | null };

/**
 * The share behind a link, for a viewer: from the cache, else from the database and then cached,
 * never past its expiry (a revocation fences the cache off: the next request reads the database and
 * finds nothing). Throws NotFoundError (404: unknown or revoked) or GoneError (410: expired).
 */
export async function openLink(token: string): Promise<ShareRecord> {
  const key = tokenDigest(token);
  const cached = await shareCache.read(key);
  let share: ShareRecord;
  if (typeof cached === 'string') {
    share = JSON.parse(cached) as ShareRecord;
  } else {
    const [row] = await withDb(() =>
      db()
        .select({
          id: shares.id,
          albumId: shares.albumId,
          title: shares.title,
          description: shares.description,
          expiresAt: sql<string | null>`case when ${shares.expiresAt} is null then null else ${isoTimestamp(shares.expiresAt)} end`,
          passwordHash: shares.passwordHash,
          allowOriginals: shares.allowOriginals,
        })
        .from(shares)
        .where(eq(shares.token, token)),
    );
    if (!row) throw linkNotFound();
    share = row;
    const left = share.expiresAt === null ? undefined : Math.floor((Date.parse(share.expiresAt) - Date.now()) / 1000);
    // undefined: Redis just failed or timed out; do not spend a second timeout on the fill.
    if (cached === null && (left === undefined || left > 0)) await shareCache.fill(key, JSON.stringify(share), SHARE_VERSION, left);
  }
  if (share.expiresAt !== null && Date.parse(share.expiresAt) <= Date.now()) throw linkExpired();
  return share;
}

/**
 * Lets a viewer in: an open share always, a protected one with an access token to it
 * (`Authorization: Bearer`, from unlock). Throws UnauthorizedError (401) otherwise.
 */
export function admit(share: ShareRecord, authorization: string | undefined): void {
  if (share.passwordHash === null) return;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  if (!bearer || !isAccessTo(share.id, bearer)) throw locked();
}

/** What a viewer sees of the share: its title, description, expiry, and how many images it shows now. */
export async function sharedSummary(share: ShareRecord): Promise<Shared> {
  const [row] = await withDb(() =>
    share.albumId === null
      ? db().select({ count: shares.imageCount }).from(shares).where(eq(shares.id, share.id))
      : db().select({ count: albums.imageCount }).from(albums).where(eq(albums.id, share.albumId)),
  );
  if (!row) throw linkNotFound(); // revoked, or its album deleted, a moment ago
  return {
    title: share.title,
    description: share.description,
    expires_at: share.expiresAt,
    image_count: row.count,
    allow_originals: share.allowOriginals,
  };
}

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

/**
 * Unlocks a protected share: with its password, an access token to it for ACCESS_HOURS. Every attempt
 * is counted (per share and per client address) before the password is checked; the right one is
 * then taken back. Throws UnauthorizedError (401: wrong), TooManyRequestsError (429) or
 * ServiceUnavailableError (503: no Redis to count with).
 */
export async function unlock(share: ShareRecord, password: string, client: string): Promise<{ access_token: string; expires_at: string }> {
  if (share.passwordHash === null) return accessFor(share); // open: nothing to unlock, nothing to count
  const attempt = await takeAttempt(share.id, client);
  if (!(await verifyPassword(password, share.passwordHash))) throw wrongPassword();
  await forgiveAttempt(share.id, client, attempt);
  return accessFor(share);
}

/** An access token to the share for ACCESS_HOURS, or until the share itself expires if that is sooner. */
function accessFor(share: ShareRecord): { access_token: string; expires_at: string } {
  const hours = Math.floor(Date.now() / 1000) + ACCESS_HOURS * 3600;
  const until = share.expiresAt === null ? hours : Math.min(hours, Math.floor(Date.parse(share.expiresAt) / 1000));
  return { access_token: accessToken(share.id, until), expires_at: `${new Date(until * 1000).toISOString().slice(0, -5)}.000000+00:00` };
}
