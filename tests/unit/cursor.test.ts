import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors';
import { decodeCursor, encodeCursor, type ListRequest } from '../../lib/images/list';

const all: ListRequest = { scope: { kind: 'all' }, sort: 'created', limit: 50 };
const taken: ListRequest = { ...all, sort: 'taken' };
const position = { createdAt: '2026-11-26T18:00:00.123456+00:00', id: '7b0d2c3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e' };

describe('cursor', () => {
  it('round-trips the exact timestamps (microseconds) and id, of either order', () => {
    const token = encodeCursor(all, position);
    expect(token).toMatch(/^[\w-]+$/);
    expect(decodeCursor(all, token)).toEqual(position);
    for (const takenSort of ['2025-07-14T18:03:11.500000', '-infinity']) {
      expect(decodeCursor(taken, encodeCursor(taken, { ...position, takenSort }))).toEqual({ ...position, takenSort });
    }
  });

  it('is bound to its list: another order, scope, search or date range is a 422 that says so', () => {
    const token = encodeCursor({ ...all, q: 'Café' }, position);
    // The same words, folded alike, are the same list.
    expect(decodeCursor({ ...all, q: 'cafe' }, token)).toEqual(position);
    for (const other of [
      all,
      { ...all, q: 'tea' },
      { ...taken, q: 'cafe' },
      { ...all, q: 'cafe', takenFrom: '2025-01-01' },
      { ...all, q: 'cafe', scope: { kind: 'album', id: position.id } } as ListRequest,
    ]) {
      let refusal: unknown;
      try {
        decodeCursor(other, token);
      } catch (err) {
        refusal = err;
      }
      expect(refusal).toBeInstanceOf(ValidationError);
      expect((refusal as ValidationError).errors?.[0]?.message).toMatch(/^was made for another list/);
    }
  });

  const raw = (text: string) => Buffer.from(text).toString('base64url');
  it.each([
    ['not base64url', 'a+b/c='],
    ['no separator', raw('2026-11-26T18:00:00.123456+00:00')],
    ['an unknown order', raw(`x|abc|${position.createdAt}|${position.id}`)],
    ['a millisecond timestamp', raw(`c|abc|2026-11-26T18:00:00.123Z|${position.id}`)],
    ['a bad id', raw(`c|abc|${position.createdAt}|1'; drop table images; --`)],
    ['an extra part', raw(`c|abc|${position.createdAt}|${position.id}|x`)],
    ['an impossible date', raw(`c|abc|2026-13-45T18:00:00.123456+00:00|${position.id}`)],
    ['an impossible taken time', raw(`t|abc|2025-02-30T25:00:00|${position.createdAt}|${position.id}`)],
  ])('refuses %s with a 422', (_, token) => {
    expect(() => decodeCursor(all, token)).toThrow(ValidationError);
    expect(() => decodeCursor(taken, token)).toThrow(ValidationError);
  });
});
