import { ValidationError } from '../errors';

/** The position after the last image of a page: its exact created_at (microseconds) and its id. */
export interface Cursor {
  createdAt: string;
  id: string;
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}\+00:00$/;

/** True for a moment Postgres can hold as written: a real calendar date (year 1 on), a real time of day. */
function isRealMoment(timestamp: string): boolean {
  const [, year, month, day, hour, minute, second] = (TIMESTAMP.exec(timestamp) ?? []).map(Number);
  if (year === undefined || month === undefined || day === undefined) return false;
  if (hour === undefined || minute === undefined || second === undefined) return false;
  // Day 0 of the next month is the last day of this one (proleptic Gregorian, as Postgres counts).
  const date = new Date(0);
  date.setUTCFullYear(year, month, 0);
  const daysInMonth = date.getUTCDate();
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && hour <= 23 && minute <= 59 && second <= 59;
}
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
  if (rest.length > 0 || !createdAt || !id || !isRealMoment(createdAt) || !UUID.test(id)) throw invalid();
  return { createdAt, id };
}
