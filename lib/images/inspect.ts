import { fileTypeFromBuffer } from 'file-type';
import { uploadConfig } from '../config';
import { CorruptHeaderError, type DisplayedSize, displayedSize } from './dimensions';
import { notAnImage, tooManyPixels, UnreadableImageError } from './errors';
import { ACCEPTED_TYPES, type ImageType } from './types';

// Checked at import: a bad limit fails the cold start.
uploadConfig();

/** The image type of `bytes` from their signature; throws UnsupportedMediaTypeError (415) otherwise. */
export async function detectImageType(bytes: Uint8Array): Promise<ImageType> {
  const found = await fileTypeFromBuffer(bytes);
  const type = found ? ACCEPTED_TYPES.get(found.mime) : undefined;
  if (!type) throw notAnImage();
  return { ext: type.ext, mime: type.mime };
}

/**
 * The image's type from its signature (415 otherwise) and its size as displayed (after the EXIF
 * orientation or the HEIF rotation) from its header: a header that cannot be read from these bytes
 * is an UnreadableImageError, and more than MAX_IMAGE_PIXELS is a decompression bomb (both 422). The
 * pixels themselves are not decoded: a file cut off after its header is stored as sent.
 */
export async function inspectImage(bytes: Uint8Array): Promise<ImageType & { width: number; height: number }> {
  const type = await detectImageType(bytes);
  let size: DisplayedSize | undefined;
  try {
    size = displayedSize(bytes);
  } catch (err) {
    if (!(err instanceof CorruptHeaderError)) throw err;
  }
  // A zero side (a JPEG that leaves its height to a DNL marker, a HEIF clean aperture under a
  // pixel) is no size a client can lay out: unreadable here.
  if (!size || size.width < 1 || size.height < 1) throw new UnreadableImageError();
  const limit = uploadConfig().MAX_IMAGE_PIXELS;
  if (size.width * size.height > limit) throw tooManyPixels(size.storedWidth, size.storedHeight, limit);
  return { ...type, width: size.width, height: size.height };
}
