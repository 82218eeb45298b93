import { ConflictError, NotFoundError, UnsupportedMediaTypeError, ValidationError } from '../errors';
import { ACCEPTED_TYPES_TEXT } from './types';

/** No image with this id (404). */
export const imageNotFound = (id: string) => new NotFoundError(`No image with id ${id}.`);

/** The title belongs to another image (409). */
export const titleTaken = () => new ConflictError('An image with this title already exists.');

/** Ids that name no image (422), each at its place in the request's list: nothing was changed. */
export const unknownImages = (ids: string[], all: string[], field = 'image_ids') =>
  new ValidationError(
    ids.map((id) => ({ field: `${field}.${all.indexOf(id)}`, message: `names no image (${id})` })),
    'Some of the images do not exist; nothing was changed.',
  );

/** The bytes are not an accepted image, whatever the client declared (415). */
export const notAnImage = () => new UnsupportedMediaTypeError(`The file is not a ${ACCEPTED_TYPES_TEXT} image.`);

/** A direct upload declares a type that is not an accepted image type (415). */
export const notAnAcceptedType = () =>
  new UnsupportedMediaTypeError(`content_type must be an accepted image type: ${ACCEPTED_TYPES_TEXT}.`);

/** The image's header, which holds its dimensions, cannot be read (422). */
export class UnreadableImageError extends ValidationError {
  override name = 'UnreadableImageError';
  constructor() {
    super([{ field: 'file', message: 'is not a readable image: its header is cut off or corrupt' }]);
  }
}

/** A decoder would allocate more pixels than MAX_IMAGE_PIXELS for the image: a decompression bomb's shape (422). */
export class TooManyPixelsError extends ValidationError {
  override name = 'TooManyPixelsError';
  constructor(width: number, height: number, limit: number) {
    super(
      [
        {
          field: 'file',
          message: `decodes to ${width}×${height} pixels (its largest canvas, before any crop); at most ${limit} pixels are accepted`,
        },
      ],
      `The image decodes to ${width}×${height} pixels, more than the ${limit} accepted: the limit counts the largest canvas a decoder allocates, before any crop or rotation.`,
    );
  }
}
