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

/**
 * The image as a client gets it: file_url is a presigned GET of the original, made now and valid for
 * ORIGINAL_URL_EXPIRES_SECONDS, unless the original is public (isPublicOriginal). The cache holds
 * images as stored, so each answer presents its own. The S3 client is loaded only then: a function
 * that only reads rows does not evaluate it otherwise.
 */
export async function present<T extends Pick<Image, 'file_url' | 'processing'>>(image: T): Promise<T> {
  if (isPublicOriginal(image)) return image;
  const { presignGet } = await import('../storage');
  return { ...image, file_url: await presignGet(keyOfUrl(image.file_url), originalsConfig().ORIGINAL_URL_EXPIRES_SECONDS) };
}
