import { fileTypeFromBuffer } from 'file-type';
import { imageSize } from 'image-size';
import { uploadConfig } from './config';
import { UnsupportedMediaTypeError, ValidationError } from './errors';

/** An accepted image type, judged from the bytes. */
export interface ImageType {
  ext: string;
  mime: string;
}

const ACCEPTED: Record<string, ImageType> = {
  'image/jpeg': { ext: 'jpg', mime: 'image/jpeg' },
  'image/png': { ext: 'png', mime: 'image/png' },
  'image/apng': { ext: 'png', mime: 'image/apng' },
  'image/webp': { ext: 'webp', mime: 'image/webp' },
  'image/gif': { ext: 'gif', mime: 'image/gif' },
  'image/avif': { ext: 'avif', mime: 'image/avif' },
};

export const ACCEPTED_TYPES_TEXT = 'JPEG, PNG, WebP, GIF or AVIF';

/** The image type of `bytes` from their signature; throws UnsupportedMediaTypeError (415) otherwise. */
export async function detectImageType(bytes: Uint8Array): Promise<ImageType> {
  const found = await fileTypeFromBuffer(bytes);
  const type = found ? ACCEPTED[found.mime] : undefined;
  if (!type) {
    throw new UnsupportedMediaTypeError(`The file is not a ${ACCEPTED_TYPES_TEXT} image.`);
  }
  return type;
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
  if (width <= 0 || height <= 0) {
    throw new ValidationError([{ field: 'file', message: 'is not a readable image: its header is cut off or corrupt' }]);
  }
  const limit = uploadConfig().MAX_IMAGE_PIXELS;
  if (width * height > limit) {
    throw new ValidationError([
      { field: 'file', message: `is ${width}×${height} pixels; at most ${limit} pixels are accepted` },
    ]);
  }
  return { ...type, width, height };
}

const BIDI_CONTROLS = /[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const MAX_FILENAME = 128;

/** The client's file name cut to its last path segment, without control characters, at most 128 characters. */
export function cleanFilename(raw: string | undefined, type: ImageType): string {
  const lastSegment = (raw ?? '').split(/[/\\]/).pop() ?? '';
  const cleaned = lastSegment.replace(/\p{Cc}/gu, '').replace(BIDI_CONTROLS, '').trim();
  const cut = Array.from(cleaned).slice(0, MAX_FILENAME).join('');
  return cut === '' || cut === '.' || cut === '..' ? `upload.${type.ext}` : cut;
}
