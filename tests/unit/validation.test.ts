import { describe, expect, it } from 'vitest';
import { codePoints, imagePatchSchema, titleSchema } from '../../lib/http/validation';

describe('codePoints', () => {
  it('counts characters as Postgres VARCHAR does, not UTF-16 units', () => {
    expect(codePoints('😀'.repeat(32))).toBe(32);
    expect('😀'.repeat(32).length).toBe(64);
    expect(codePoints('Жё')).toBe(2);
    expect(codePoints('')).toBe(0);
  });
});

describe('titleSchema', () => {
  it.each(['a', 'My title', '😀'.repeat(32), ' padded ', "'; drop table images; --", '<b>bold</b>'])('accepts %j', (title) => {
    expect(titleSchema.parse(title)).toBe(title);
  });

  it.each([
    ['', 'must not be empty'],
    ['   ', 'must not be blank'],
    ['a'.repeat(33), 'must be at most 32 characters'],
    ['nul\u0000byte', 'must not contain NUL characters'],
    ['lone \ud800 surrogate', 'must be valid Unicode text'],
  ])('refuses %j: %s', (title, message) => {
    const result = titleSchema.safeParse(title);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message)).toContain(message);
  });
});

describe('imagePatchSchema', () => {
  it('needs at least one field and nothing unknown', () => {
    expect(imagePatchSchema.safeParse({}).success).toBe(false);
    expect(imagePatchSchema.safeParse({ title: 'x', id: 'y' }).success).toBe(false);
    expect(imagePatchSchema.parse({ description: '' })).toEqual({ description: '' });
  });
});
