import { ValidationError } from './errors';
import { CREATED, isRealMoment, UUID } from './formats';

/** Where a page of newest-first rows ends: the last row's exact created_at (microseconds) and id. */
export interface Keyset {
  createdAt: string;
  id: string;
}

/** The opaque, URL-safe cursor of a position in a newest-first list (albums, shares). */
export const encodeKeyset = (at: Keyset): string => Buffer.from(`${at.createdAt}|${at.id}`, 'utf8').toString('base64url');

/** The position a token made by encodeKeyset stands for; throws ValidationError (422) for anything else. */
export function decodeKeyset(token: string): Keyset {
  const invalid = () => new ValidationError([{ field: 'cursor', message: 'is not a valid cursor' }]);
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw invalid();
  const [createdAt = '', id = '', ...rest] = Buffer.from(token, 'base64url').toString('utf8').split('|');
  if (rest.length > 0 || !UUID.test(id) || !isRealMoment(CREATED.exec(createdAt))) throw invalid();
  return { createdAt, id };
}
