import { ConflictError, ConflictWithError, NotFoundError, PayloadTooLargeError, ValidationError } from '../errors';

/** No pending upload with this id: never created, expired, or refused and discarded (404). */
export const uploadNotFound = (id: string) =>
  new NotFoundError(`No pending upload with id ${id}: it was never created, or it has expired.`);

/** Complete was called before the file reached the store (409). */
export const notUploadedYet = () =>
  new ConflictError('The file has not been uploaded yet: POST it to upload.url with every upload.fields entry, then complete.');

/** The stored file is not the size the client declared (422). */
export const sizeMismatch = (declared: number, actual: number) =>
  new ValidationError([{ field: 'size', message: `was declared as ${declared} bytes, but the uploaded file has ${actual}` }]);

/** The stored file's SHA-256 is not the one the client declared (422). */
export const checksumMismatch = (declared: string, actual: string) =>
  new ValidationError([{ field: 'sha256', message: `was declared as ${declared}, but the uploaded file's SHA-256 is ${actual}` }]);

/**
 * An image with the declared SHA-256 exists (409): `duplicate_of` names it and a Link with the
 * relation `duplicate` (RFC 6249: byte for byte the same) points to it at `href`.
 */
export const duplicateImage = (id: string, href: string) =>
  new ConflictWithError(
    `This file is already in the gallery as image ${id}. To upload it again all the same, sign the upload with "allow_duplicate": true.`,
    { duplicate_of: id },
    { href, rel: 'duplicate' },
  );

/** Above MAX_DIRECT_UPLOAD_BYTES (413). */
export const directUploadTooLarge = (limit: number) => new PayloadTooLargeError(limit);

/**
 * The stored file was replaced (the signed POST used again) or removed while complete was checking
 * it, so what was checked is not what would be stored (409). The newer file may be fine: it is kept,
 * and the next complete checks it.
 */
export const fileChanged = () => new ConflictError('The file changed while it was being checked; complete the upload again.');
