import { describe, expect, it } from 'vitest';
import { IMAGE_EXAMPLE } from '../../lib/images/resource';
import { assertDocumented } from '../helpers/contract';

const image = IMAGE_EXAMPLE;
const json = { 'content-type': 'application/json' };

describe('the contract check', () => {
  it('accepts a response the document describes', () => {
    expect(() =>
      assertDocumented('GET /api/v1/images/{id}', { status: 200, headers: { ...json, 'x-cache': 'HIT' }, text: JSON.stringify(image) }),
    ).not.toThrow();
    expect(() => assertDocumented('DELETE /api/v1/images/{id}', { status: 204, headers: {}, text: '' })).not.toThrow();
  });

  it.each([
    ['an undocumented status', 'GET /api/v1/images/{id}', 418, { ...json, 'x-cache': 'HIT' }, image, /status 418 is not documented/],
    ['a missing X-Cache', 'GET /api/v1/images/{id}', 200, json, image, /required header x-cache is missing/],
    ['a wrong X-Cache', 'GET /api/v1/images/{id}', 200, { ...json, 'x-cache': 'MAYBE' }, image, /header x-cache/],
    ['a missing Location', 'POST /api/v1/images', 201, json, image, /required header location is missing/],
    [
      'an undocumented header',
      'PATCH /api/v1/images/{id}',
      200,
      { ...json, link: '</x>; rel="next"' },
      image,
      /header link is not documented/,
    ],
    ['an extra property', 'PATCH /api/v1/images/{id}', 200, json, { ...image, secret: 1 }, /must NOT have additional properties/],
    ['a millisecond timestamp', 'PATCH /api/v1/images/{id}', 200, json, { ...image, created_at: '2026-11-26T18:34:11.098Z' }, /created_at/],
    [
      'a problem as plain JSON',
      'GET /api/v1/images/{id}',
      404,
      json,
      { type: 'about:blank', title: 'Not Found', status: 404, detail: 'x' },
      /content type application\/json is not documented/,
    ],
    ['an unknown operation', 'PUT /api/v1/images/{id}', 200, json, image, /no operation/],
  ])('rejects %s', (_, route, status, headers, body, message) => {
    expect(() => assertDocumented(route, { status, headers, text: JSON.stringify(body) })).toThrow(message);
  });
});
