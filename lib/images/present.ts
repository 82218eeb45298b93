import { storageConfig } from '../config';
import type { Image } from './resource';

/**
 * The image as a client gets it. With ORIGINALS_PUBLIC=false only the variants are public, so
 * file_url becomes a presigned GET of the original, made now and valid for
 * ORIGINAL_URL_EXPIRES_SECONDS (the cache holds images as stored: each answer presents its own). The S3 client is
 * loaded only then: a function that only reads rows does not evaluate it otherwise.
 */
export async function present<T extends Pick<Image, 'file_url'>>(image: T): Promise<T> {
  const c = storageConfig();
  if (c.ORIGINALS_PUBLIC) return image;
  const { keyOfUrl, presignGet } = await import('../storage');
  return { ...image, file_url: await presignGet(keyOfUrl(image.file_url), c.ORIGINAL_URL_EXPIRES_SECONDS) };
}
