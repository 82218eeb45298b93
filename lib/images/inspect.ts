import { fileTypeFromBuffer } from 'file-type';
import { imageSize } from 'image-size';
import { uploadConfig } from '../config';
import { FILENAME_MAX } from '../schema';
import { notAnImage, tooManyPixels, unreadableImage } from './errors';
import { ACCEPTED_TYPES, type ImageType } from './types';

// Checked at import: a bad limit fails the cold start.
uploadConfig();

/** The image type of `bytes` from their signature; throws UnsupportedMediaTypeError (415) otherwise. */
export async function detectImageType(bytes: Uint8Array): Promise<ImageType> {
  const found = await fileTypeFromBuffer(bytes);
  const type = found ? ACCEPTED_TYPES[found.mime] : undefined;
  if (!type) throw notAnImage();
  return { ext: type.ext, mime: type.mime };
}

/**
 * The image's type from its signature (415 otherwise) and its dimensions from its header: a header
 * that cannot be read is a corrupt file, and more than MAX_IMAGE_PIXELS is a decompression bomb
 * (both 422). The pixels themselves are not decoded: a file cut off after its header is stored as sent.
 */
export async function inspectImage(bytes: Uint8Array): Promise<ImageType & { width: number; height: number }> {
  const type = await detectImageType(bytes);
  let size: { width?: number; height?: number };
  try {
    size = imageSize(bytes);
  } catch {
    size = {};
  }
  const { width = 0, height = 0 } = size;
  if (width <= 0 || height <= 0) throw unreadableImage();
  const limit = uploadConfig().MAX_IMAGE_PIXELS;
  if (width * height > limit) throw tooManyPixels(width, height, limit);
  return { ...type, width, height };
}

const BIDI_CONTROLS = /[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** The client's file name cut to its last path segment, without control characters, at most FILENAME_MAX characters. */
export function cleanFilename(raw: string | undefined, type: ImageType): string {
  const lastSegment = (raw ?? '').split(/[/\\]/).pop() ?? '';
  const cleaned = lastSegment.replace(/\p{Cc}/gu, '').replace(BIDI_CONTROLS, '').trim();
  const cut = Array.from(cleaned).slice(0, FILENAME_MAX).join('');
  return cut === '' || cut === '.' || cut === '..' ? `upload.${type.ext}` : cut;
}
