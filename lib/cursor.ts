import { ValidationError } from './errors';

/** The position after the last image of a page: its exact created_at (microseconds) and its id. */
export interface Cursor {
  createdAt: string;
  id: string;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Encodes a cursor as an opaque URL-safe token. */
export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(`${cursor.createdAt}|${cursor.id}`, 'utf8').toString('base64url');
}

/** Decodes a token made by encodeCursor; throws ValidationError (422) for anything else. */
export function decodeCursor(token: string): Cursor {
  const invalid = () => new ValidationError([{ field: 'cursor', message: 'is not a valid cursor' }]);
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw invalid();
  const [createdAt, id, ...rest] = Buffer.from(token, 'base64url').toString('utf8').split('|');
  if (rest.length > 0 || !createdAt || !id || !TIMESTAMP.test(createdAt) || !UUID.test(id)) throw invalid();
  if (Number.isNaN(Date.parse(createdAt))) throw invalid();
  return { createdAt, id };
}
