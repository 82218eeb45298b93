/**
 * ORIGINALS_PUBLIC=false: only the variants are public. file_url is then a presigned GET of the
 * original, made per response and valid for ORIGINAL_URL_EXPIRES_SECONDS, and the OpenAPI document
 * says so. (The template's side, CloudFront reading only variants/*, is in deploy-config.test.ts.)
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeJpeg } from '../../support/images';
import { apiWith } from '../helpers/api';
import { checkAgainst } from '../helpers/contract';
import { resetState, sha256 } from '../helpers/state';

type Api = Awaited<ReturnType<typeof apiWith>>;
type Image = { id: string; file_url: string };

let api: Api;
let restoreContract: () => void;

beforeAll(async () => {
  api = await apiWith({ ORIGINALS_PUBLIC: 'false', ORIGINAL_URL_EXPIRES_SECONDS: '120' });
  // The document as this configuration generates it (the same fresh modules apiWith loaded).
  const { openApiDocument } = await import('../../lib/http/openapi');
  restoreContract = checkAgainst(openApiDocument());
});
afterAll(() => {
  restoreContract();
  vi.resetModules();
});
beforeEach(resetState);

/** The query of a presigned URL, and its path. */
const presigned = (url: string) => {
  const u = new URL(url);
  return { path: u.pathname, expires: u.searchParams.get('X-Amz-Expires'), signed: u.searchParams.has('X-Amz-Signature') };
};

describe('private originals', () => {
  it('hands out a presigned GET of the original in every answer, and it fetches the bytes', async () => {
    const bytes = makeJpeg(40, 30);
    const created = (await api.upload({ title: 'private', file: { bytes, filename: 'p.jpg' } })).json as Image;
    const key = `images/${created.id}.jpg`;
    expect(presigned(created.file_url)).toEqual({ path: `/${process.env.S3_BUCKET}/${key}`, expires: '120', signed: true });
    for (const res of [await api.get(created.id), await api.get(created.id), await api.list()]) {
      const image = (Array.isArray(res.json) ? res.json[0] : res.json) as Image;
      expect(presigned(image.file_url)).toMatchObject({ path: `/${process.env.S3_BUCKET}/${key}`, signed: true });
    }
    const fetched = await fetch(created.file_url);
    expect(sha256(Buffer.from(await fetched.arrayBuffer()))).toBe(sha256(bytes));
  });

  it('signs a cache HIT anew: a cached answer never carries a link older than the answer', async () => {
    const created = (await api.upload({ title: 'cached private' })).json as Image;
    const miss = await api.get(created.id);
    expect(miss.headers['x-cache']).toBe('MISS');
    // Presigned URLs carry their signing time to the second (X-Amz-Date).
    await new Promise((r) => setTimeout(r, 1100));
    const hit = await api.get(created.id);
    expect(hit.headers['x-cache']).toBe('HIT');
    const dateOf = (image: Image) => new URL(image.file_url).searchParams.get('X-Amz-Date');
    expect(dateOf(hit.json as Image)).not.toBe(dateOf(miss.json as Image));
    expect({ ...(hit.json as Image), file_url: '' }).toEqual({ ...(miss.json as Image), file_url: '' });
    const fetched = await fetch((hit.json as Image).file_url);
    expect(fetched.status).toBe(200);
    await fetched.arrayBuffer();
  });

  it('documents file_url as a presigned GET, longer than the stored 128 characters', async () => {
    const { openApiDocument } = await import('../../lib/http/openapi');
    const doc = openApiDocument() as { components: { schemas: { Image: { properties: { file_url: Record<string, unknown> } } } } };
    const fileUrl = doc.components.schemas.Image.properties.file_url;
    expect(fileUrl.maxLength).toBeUndefined();
    expect(fileUrl.description).toMatch(/presigned GET of the original, made for this response, valid for 120 s/);
  });
});
