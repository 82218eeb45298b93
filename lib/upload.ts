import { fileTypeFromBuffer } from 'file-type';
import { UnsupportedMediaTypeError } from './errors';

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

const BIDI_CONTROLS = /[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const MAX_FILENAME = 128;

/** The client's file name cut to its last path segment, without control characters, at most 128 characters. */
export function cleanFilename(raw: string | undefined, type: ImageType): string {
  const lastSegment = (raw ?? '').split(/[/\\]/).pop() ?? '';
  const cleaned = lastSegment.replace(/\p{Cc}/gu, '').replace(BIDI_CONTROLS, '').trim();
  const cut = Array.from(cleaned).slice(0, MAX_FILENAME).join('');
  return cut === '' || cut === '.' || cut === '..' ? `upload.${type.ext}` : cut;
}
