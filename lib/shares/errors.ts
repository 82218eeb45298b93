import { GoneError, NotFoundError, UnauthorizedError, ValidationError } from '../errors';

/** No share with this id (the owner's 404). */
export const shareNotFound = (id: string) => new NotFoundError(`No share with id ${id}.`);

/** No share behind this link: never made, or revoked (404, the same either way). */
export const linkNotFound = () => new NotFoundError('No share at this link: it was never made, or it was revoked.');

/** The link has expired (410). */
export const linkExpired = () => new GoneError('This link has expired.');

/** A password-protected share not unlocked (401). */
export const locked = () =>
  new UnauthorizedError(
    'This share is protected: unlock it with its password (POST …/unlock), then send the access token as Authorization: Bearer.',
  );

/** The wrong password (401). */
export const wrongPassword = () => new UnauthorizedError("The password is not this share's.");

/** An image that is not in the share (404, as for any image the viewer may not see). */
export const notInShare = (id: string) => new NotFoundError(`No image with id ${id} in this share.`);

/** The album to share does not exist (422: a field of the request, not the resource asked for). */
export const unknownAlbum = () => new ValidationError([{ field: 'album_id', message: 'names no album' }]);
