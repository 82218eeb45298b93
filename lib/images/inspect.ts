import { fileTypeFromBuffer } from 'file-type';
import { uploadConfig } from '../config';
import { type Canvas, CorruptHeaderError, type DisplayedSize, displayedSize, largestCanvas } from './dimensions';
import { notAnImage, TooManyPixelsError, UnreadableImageError } from './errors';
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

/** A header read from `bytes`, or undefined when these bytes do not hold it; corrupt counts as unreadable. */
function readable<T>(read: (bytes: Uint8Array) => T | undefined, bytes: Uint8Array): T | undefined {
  try {
    return read(bytes);
  } catch (err) {
    if (!(err instanceof CorruptHeaderError)) throw err;
    return undefined;
  }
}

/**
 * The pixel rule, before any decoding, at both upload paths and in the processing: the largest canvas
 * any decoder would allocate for the image (largestCanvas: a HEIF grid's whole canvas, not its cropped
 * size) must have at most MAX_IMAGE_PIXELS. Returns that canvas. Throws UnreadableImageError (422) when
 * these bytes do not show it, TooManyPixelsError (422) when it is larger.
 */
export function checkPixels(bytes: Uint8Array): Canvas {
  const canvas = readable(largestCanvas, bytes);
  if (!canvas || canvas.width < 1 || canvas.height < 1) throw new UnreadableImageError();
  const limit = uploadConfig().MAX_IMAGE_PIXELS;
  if (canvas.width * canvas.height > limit) throw new TooManyPixelsError(canvas.width, canvas.height, limit);
  return canvas;
}

/**
 * The image's type from its signature (415 otherwise) and its size as displayed (after the EXIF
 * orientation or the HEIF rotation) from its header: a header that cannot be read from these bytes
 * is an UnreadableImageError, and a canvas above MAX_IMAGE_PIXELS a TooManyPixelsError (both 422,
 * checkPixels). The pixels themselves are not decoded: a file cut off after its header is stored as
 * sent.
 */
export async function inspectImage(bytes: Uint8Array): Promise<ImageType & { width: number; height: number }> {
  const type = await detectImageType(bytes);
  const size: DisplayedSize | undefined = readable(displayedSize, bytes);
  // A zero side (a JPEG that leaves its height to a DNL marker, a HEIF clean aperture under a
  // pixel) is no size a client can lay out: unreadable here.
  if (!size || size.width < 1 || size.height < 1) throw new UnreadableImageError();
  checkPixels(bytes);
  return { ...type, width: size.width, height: size.height };
}
