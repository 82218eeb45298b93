import { originalsConfig } from '../config';
import { keyOfUrl } from '../keys';
import type { Image } from './resource';

// Checked at import: a bad ORIGINALS_PUBLIC fails the cold start, not the first answer.
originalsConfig();

/**
 * Whether an image's stored file_url is what a client gets: only when originals are public
 * (ORIGINALS_PUBLIC=true) and the file decoded as an image. A file no decoder read is never handed
 * out as a public link, whatever it turns out to be.
 */
export const isPublicOriginal = (image: Pick<Image, 'processing'>): boolean =>
  originalsConfig().ORIGINALS_PUBLIC && image.processing !== 'failed';

let presigner: Promise<typeof import('../presign')> | undefined;

/**
 * The image as a client gets it: file_url is a presigned GET of the original, made now and valid for
 * ORIGINAL_URL_EXPIRES_SECONDS, unless the original is public (isPublicOriginal). The cache holds
 * images as stored, so each answer presents its own. Signing needs no S3 client (lib/presign.ts), and
 * is loaded only then.
 */
export async function present<T extends Pick<Image, 'file_url' | 'processing'>>(image: T): Promise<T> {
  if (isPublicOriginal(image)) return image;
  // One import for the container, not one per image of a page (each import() is a round through the loader).
  presigner ??= import('../presign');
  const { presignObjectGet } = await presigner;
  return { ...image, file_url: presignObjectGet(keyOfUrl(image.file_url), originalsConfig().ORIGINAL_URL_EXPIRES_SECONDS) };
}
