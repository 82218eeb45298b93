/**
 * The gallery page's pure parts: its CSP's upload origin against the SDK's, the limits it reads from
 * the service's OpenAPI document, and the page's title, type, date, camera and Link helpers.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { beforeAll, describe, expect, it } from 'vitest';
import { uploadConfig } from '../../lib/config';
import { openApiDocument } from '../../lib/http/openapi';
import { PASSWORD_MAX, PASSWORD_MIN } from '../../lib/http/share-requests';
import { contentSecurityPolicy, type PolicySources, uploadOrigin } from '../../lib/http/web';
import { DECLARABLE_TYPES } from '../../lib/images/types';
import { ALBUM_DESCRIPTION_MAX, ALBUM_TITLE_MAX, DESCRIPTION_MAX, TITLE_MAX } from '../../lib/schema';
import { acceptAttribute, acceptedNames, limits, readLimits } from '../../web/limits.js';
import {
  codePoints,
  declaredType,
  defaultTitle,
  formatBytes,
  formatCamera,
  formatExposure,
  formatTaken,
  monthOf,
  nextLink,
  numberedTitle,
  processingOf,
} from '../../web/text.js';

// The page reads its limits from the document the service serves at /openapi.json; here, the same
// document as the service builds it.
beforeAll(() => {
  readLimits(JSON.parse(JSON.stringify(openApiDocument())));
});

const base: PolicySources = {
  FILES_BASE_URL: 'https://d111111abcdef8.cloudfront.net',
  S3_BUCKET: 'photo-gallery-prod-123456789012',
  S3_FORCE_PATH_STYLE: false,
  AWS_REGION: 'eu-central-1',
};

describe('the upload origin in the CSP', () => {
  it.each<[string, Partial<PolicySources>]>([
    ['AWS, virtual-hosted', {}],
    ['AWS us-east-1', { AWS_REGION: 'us-east-1' }],
    ['S3_REGION over AWS_REGION', { S3_REGION: 'eu-west-3' }],
    ['AWS China', { AWS_REGION: 'cn-north-1' }],
    ['AWS, path style', { S3_FORCE_PATH_STYLE: true }],
    ['AWS, a bucket name with dots', { S3_BUCKET: 'photos.example.com' }],
    ['the local emulator (npm start)', { S3_ENDPOINT: 'http://127.0.0.1:4569', S3_FORCE_PATH_STYLE: true, S3_BUCKET: 'photo-gallery' }],
    ['an emulator on an IP, virtual-hosted asked', { S3_ENDPOINT: 'http://127.0.0.1:4569', S3_BUCKET: 'photo-gallery' }],
    ['MinIO by name, virtual-hosted', { S3_ENDPOINT: 'https://minio.example:9000/', S3_BUCKET: 'photo-gallery' }],
    ['MinIO by name, path style', { S3_ENDPOINT: 'https://minio.example:9000', S3_FORCE_PATH_STYLE: true, S3_BUCKET: 'photo-gallery' }],
  ])('is the origin of the url createPresignedPost gives: %s', async (_, over) => {
    const c = { ...base, ...over };
    const client = new S3Client({
      region: c.S3_REGION ?? c.AWS_REGION,
      forcePathStyle: c.S3_FORCE_PATH_STYLE,
      ...(c.S3_ENDPOINT ? { endpoint: c.S3_ENDPOINT } : {}),
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'example' },
    });
    const { url } = await createPresignedPost(client, { Bucket: c.S3_BUCKET, Key: 'uploads/x', Expires: 60 });
    expect(uploadOrigin(c)).toBe(new URL(url).origin);
  });

  it('allows only the page itself, the files and the upload origin; no inline script or style', () => {
    expect(contentSecurityPolicy(base)).toBe(
      "default-src 'none'; script-src 'self'; worker-src 'self'; style-src 'self'; " +
        "img-src 'self' https://d111111abcdef8.cloudfront.net data: blob:; " +
        "connect-src 'self' https://photo-gallery-prod-123456789012.s3.eu-central-1.amazonaws.com; " +
        "form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
    );
  });

  it('allows images from the bucket too when originals are private (presigned GETs from its origin)', () => {
    expect(contentSecurityPolicy({ ...base, ORIGINALS_PUBLIC: false })).toContain(
      "img-src 'self' https://d111111abcdef8.cloudfront.net https://photo-gallery-prod-123456789012.s3.eu-central-1.amazonaws.com data: blob:",
    );
  });
});

describe("the service's limits, as the page reads them from /openapi.json", () => {
  it('are the numbers the API enforces', () => {
    expect({ ...limits, types: undefined, extensions: undefined }).toEqual({
      titleMax: TITLE_MAX,
      descriptionMax: DESCRIPTION_MAX,
      albumTitleMax: ALBUM_TITLE_MAX,
      albumDescriptionMax: ALBUM_DESCRIPTION_MAX,
      shareTitleMax: ALBUM_TITLE_MAX,
      shareDescriptionMax: ALBUM_DESCRIPTION_MAX,
      passwordMin: PASSWORD_MIN,
      passwordMax: PASSWORD_MAX,
      uploadMax: uploadConfig().MAX_DIRECT_UPLOAD_BYTES,
      types: undefined,
      extensions: undefined,
    });
  });

  it('are the types the API accepts, by name and by extension', () => {
    expect([...limits.types.keys()]).toEqual(DECLARABLE_TYPES);
    expect(acceptedNames()).toBe('JPEG, PNG, WebP, GIF, AVIF, HEIC or HEIF');
    expect(acceptAttribute().split(',')).toEqual(
      expect.arrayContaining(['image/jpeg', 'image/heic', '.jpg', '.jpeg', '.heic', '.heif', '.hif', '.avif']),
    );
  });

  it('fail loudly when the document lacks one', () => {
    expect(() => readLimits({ components: { schemas: {} } })).toThrow(/no maxLength for UploadRequest.title/);
    readLimits(JSON.parse(JSON.stringify(openApiDocument())));
  });
});

describe("the page's titles", () => {
  it('defaults to the file name without its extension, at most 32 code points', () => {
    expect(defaultTitle('IMG_0042.HEIC')).toBe('IMG_0042');
    expect(defaultTitle('holiday.2026.jpg')).toBe('holiday.2026');
    expect(defaultTitle('.jpg')).toBe('.jpg');
    expect(defaultTitle('  .  ')).toBe('Photo');
    expect(defaultTitle('\u0001.png')).toBe('Photo');
    expect(defaultTitle('C:\\photos\\cat.png')).toBe('cat');
    expect(defaultTitle(`${'é'.repeat(40)}.jpg`)).toBe('é'.repeat(32));
    expect(codePoints(defaultTitle(`${'😀'.repeat(40)}.jpg`))).toBe(32);
  });

  it('numbers a taken title, cutting the base so that the whole stays within 32 code points', () => {
    expect(numberedTitle('Harbour', 2)).toBe('Harbour (2)');
    expect(numberedTitle('x'.repeat(32), 2)).toBe(`${'x'.repeat(28)} (2)`);
    expect(numberedTitle('x'.repeat(32), 10)).toBe(`${'x'.repeat(27)} (10)`);
    expect(numberedTitle(`${'a'.repeat(27)} bcdef`, 3)).toBe(`${'a'.repeat(27)} (3)`);
    const emoji = numberedTitle('😀'.repeat(32), 2);
    expect([codePoints(emoji), emoji.isWellFormed()]).toEqual([32, true]);
  });
});

describe("the page's other helpers", () => {
  it('declares the browser type, or the extension’s when the browser reports none (HEIC)', () => {
    expect(declaredType({ name: 'a.heic', type: '' })).toBe('image/heic');
    expect(declaredType({ name: 'a.HEIF', type: '' })).toBe('image/heif');
    expect(declaredType({ name: 'a.jpg', type: 'image/jpeg' })).toBe('image/jpeg');
    expect(declaredType({ name: 'notes', type: '' })).toBe('application/octet-stream');
    expect(declaredType({ name: 'a.txt', type: 'text/plain' })).toBe('text/plain');
  });

  it('finds no type in an inherited name: x.constructor, x.__proto__, x.toString', () => {
    for (const name of ['x.constructor', 'x.__proto__', 'x.toString', 'x.hasOwnProperty']) {
      expect(declaredType({ name, type: '' })).toBe('application/octet-stream');
    }
  });

  it('writes the date a photo was taken as its camera recorded it, and groups by month', () => {
    const taken = formatTaken('2025-07-14T18:03:11+02:00');
    expect(taken).toContain('2025');
    expect(taken).toMatch(/6:03|18:03/);
    expect(taken).toContain('(UTC+02:00)');
    expect(formatTaken('2025-07-14T18:03:11')).not.toContain('UTC');
    expect(formatTaken('2025-07-14T18:03:11', false)).not.toMatch(/6:03|18:03/);
    expect(formatTaken(null)).toBe('');
    // Taken just before midnight west of Greenwich: still that day's month, wherever the reader is.
    expect(monthOf({ taken_at: '2025-07-31T23:30:00-08:00' }, 'taken').key).toBe('2025-6');
    expect(monthOf({ taken_at: '2025-08-01T00:30:00' }, 'taken').label).toMatch(/August|2025/);
    expect(monthOf({ taken_at: null, created_at: '2026-01-01T00:00:00Z' }, 'taken')).toEqual({ key: 'unknown', label: 'Unknown date' });
    const created = new Date('2026-03-15T12:00:00Z');
    expect(monthOf({ created_at: created.toISOString() }, 'created').key).toBe(`${created.getFullYear()}-${created.getMonth()}`);
  });

  it('writes camera and exposure as photographers read them', () => {
    // Each part on one line: a no-break space inside it.
    const exposure = (e: object) => formatExposure(e).replaceAll('\u00a0', '_');
    expect(exposure({ f_number: 1.78, exposure_time: 0.004, iso: 80, focal_length: 26 })).toBe('f/1.8 · 1/250_s · ISO_80 · 26_mm');
    expect(exposure({ f_number: 8, exposure_time: 1 / 120, iso: null, focal_length: 6.86 })).toBe('f/8 · 1/120_s · 6.9_mm');
    expect(exposure({ f_number: null, exposure_time: 2.5, iso: 100, focal_length: null })).toBe('2.5_s · ISO_100');
    expect(formatExposure(null)).toBe('');
    expect(formatCamera({ make: 'Apple', model: 'iPhone 15 Pro', lens: null })).toBe('Apple iPhone 15 Pro');
    expect(formatCamera({ make: 'Canon', model: 'Canon EOS R5', lens: null })).toBe('Canon EOS R5');
    expect(formatCamera({ make: 'FUJIFILM', model: null, lens: null })).toBe('FUJIFILM');
    expect(formatCamera(null)).toBe('');
  });

  it('follows rel="next" of a Link header', () => {
    expect(nextLink('</api/v1/images/?limit=24&cursor=abc>; rel="next"')).toBe('/api/v1/images/?limit=24&cursor=abc');
    expect(nextLink('</a>; rel="prev", </b>; rel="next"')).toBe('/b');
    expect(nextLink(null)).toBeNull();
    expect(nextLink('</a>; rel="prev"')).toBeNull();
  });

  it('formats sizes and reads the processing state (no field: pending)', () => {
    expect([formatBytes(512), formatBytes(2_483_117), formatBytes(31_457_280)]).toEqual(['512 bytes', '2.5 MB', '31 MB']);
    const variants = { thumb: { url: 't', width: 1, height: 1 }, display: { url: 'd', width: 1, height: 1 } };
    expect(processingOf({})).toBe('pending');
    expect(processingOf({ processing: 'ready', variants })).toBe('ready');
    expect(processingOf({ processing: 'ready', variants: null })).toBe('pending');
    expect(processingOf({ processing: 'failed', variants: null })).toBe('failed');
  });
});
