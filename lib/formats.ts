// Formats of values the database writes and the API reads back (ids, timestamps, days), shared by
// every layer that checks a client's copy of one: cursors, object keys, query parameters.

/** A UUID as the database writes it. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A created_at as the API writes it: UTC, microseconds. */
export const CREATED = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}\+00:00$/;

/** True for a moment Postgres can hold as written: a real calendar date (year 1 on), a real time of day. */
export function isRealMoment(match: RegExpExecArray | null): boolean {
  const [, year, month, day, hour, minute, second] = (match ?? []).map(Number);
  if (year === undefined || month === undefined || day === undefined) return false;
  if (hour === undefined || minute === undefined || second === undefined) return false;
  // Day 0 of the next month is the last day of this one (proleptic Gregorian, as Postgres counts).
  const date = new Date(0);
  date.setUTCFullYear(year, month, 0);
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= date.getUTCDate() && hour <= 23 && minute <= 59 && second <= 59;
}

/** A calendar day (`YYYY-MM-DD`) that exists. */
export const isRealDay = (day: string): boolean =>
  isRealMoment(/^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(`${day}T00:00:00`));
