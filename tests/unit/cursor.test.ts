import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors';
import { decodeCursor, encodeCursor } from '../../lib/images/cursor';

describe('cursor', () => {
  const cursor = { createdAt: '2026-11-26T18:00:00.123456+00:00', id: '7b0d2c3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e' };

  it('round-trips the exact timestamp (microseconds) and id', () => {
    const token = encodeCursor(cursor);
    expect(token).toMatch(/^[\w-]+$/);
    expect(decodeCursor(token)).toEqual(cursor);
  });

  it.each([
    ['not base64url', 'a+b/c='],
    ['no separator', Buffer.from('2026-11-26T18:00:00.123456+00:00').toString('base64url')],
    ['a millisecond timestamp', Buffer.from(`2026-11-26T18:00:00.123Z|${cursor.id}`).toString('base64url')],
    ['a bad id', Buffer.from(`${cursor.createdAt}|1'; drop table images; --`).toString('base64url')],
    ['an extra part', Buffer.from(`${cursor.createdAt}|${cursor.id}|x`).toString('base64url')],
    ['an impossible date', Buffer.from(`2026-13-45T18:00:00.123456+00:00|${cursor.id}`).toString('base64url')],
  ])('refuses %s with a 422', (_, token) => {
    expect(() => decodeCursor(token)).toThrow(ValidationError);
  });
});
