import { ConflictError, NotFoundError, ValidationError } from '../errors';

/** No album with this id (404). */
export const albumNotFound = (id: string) => new NotFoundError(`No album with id ${id}.`);

/** The title belongs to another album (409). */
export const albumTitleTaken = () => new ConflictError('An album with this title already exists.');

/** A cover must be one of the album's images (422). */
export const coverNotInAlbum = () => new ValidationError([{ field: 'cover_image_id', message: 'must be an image in the album' }]);
