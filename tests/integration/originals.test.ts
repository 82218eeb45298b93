/**
 * Originals carry their EXIF, GPS included: by default (ORIGINALS_PUBLIC unset) only the variants
 * are public and file_url is a presigned GET of the original, made per response and valid for
 * ORIGINAL_URL_EXPIRES_SECONDS; the OpenAPI document says so. With ORIGINALS_PUBLIC=true file_url is
 * the public URL — except for an image whose processing failed, which is never handed out publicly.
 * (The template's side, CloudFront reading only variants/*, is in deploy-config.test.ts.)
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeJpeg } from '../../support/images';
import { apiWith } from '../helpers/api';
import { checkAgainst } from '../helpers/contract';
import { resetState, sha256, sql } from '../helpers/state';

type Api = Awaited<ReturnType<typeof apiWith>>;
type Image = { id: string; file_url: string };

beforeEach(resetState);

/** The query of a presigned URL, and its path. */
const presigned = (url: string) => {
  const u = new URL(url);
  return { path: u.pathname, expires: u.searchParams.get('X-Amz-Expires'), signed: u.searchParams.has('X-Amz-Signature') };
};

/** Handlers and the document as `env` configures them, for the tests of a describe block. */
function configured(env: Record<string, string | undefined>): { api: () => Api } {
  let api: Api;
  let restoreContract: () => void;
  beforeAll(async () => {
    api = await apiWith(env);
    // The document as this configuration generates it (the same fresh modules apiWith loaded).
    const { openApiDocument } = await import('../../lib/http/openapi');
    restoreContract = checkAgainst(openApiDocument());
  });
  afterAll(() => {
    restoreContract();
    vi.resetModules();
  });
  return { api: () => api };
}

describe('private originals (the default)', () => {
  const { api } = configured({ ORIGINALS_PUBLIC: undefined, ORIGINAL_URL_EXPIRES_SECONDS: '120' });

  it('hands out a presigned GET of the original in every answer, and it fetches the bytes', async () => {
    const bytes = makeJpeg(40, 30);
    const created = (await api().upload({ title: 'private', file: { bytes, filename: 'p.jpg' } })).json as Image;
    const key = `images/${created.id}.jpg`;
    expect(presigned(created.file_url)).toEqual({ path: `/${process.env.S3_BUCKET}/${key}`, expires: '120', signed: true });
    for (const res of [await api().get(created.id), await api().get(created.id), await api().list()]) {
      const image = (Array.isArray(res.json) ? res.json[0] : res.json) as Image;
      expect(presigned(image.file_url)).toMatchObject({ path: `/${process.env.S3_BUCKET}/${key}`, signed: true });
    }
    const fetched = await fetch(created.file_url);
    expect(sha256(Buffer.from(await fetched.arrayBuffer()))).toBe(sha256(bytes));
  });

  it('signs a cache HIT anew: a cached answer never carries a link older than the answer', async () => {
    const created = (await api().upload({ title: 'cached private' })).json as Image;
    const miss = await api().get(created.id);
    expect(miss.headers['x-cache']).toBe('MISS');
    // Presigned URLs carry their signing time to the second (X-Amz-Date).
    await new Promise((r) => setTimeout(r, 1100));
    const hit = await api().get(created.id);
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

describe('public originals (ORIGINALS_PUBLIC=true)', () => {
  const { api } = configured({ ORIGINALS_PUBLIC: 'true' });

  it('hands out the public URL of an image that decoded, and a presigned GET of one whose processing failed', async () => {
    const good = (await api().upload({ title: 'public' })).json as Image;
    const bad = (await api().upload({ title: 'failed' })).json as Image;
    expect(good.file_url).toBe(`${process.env.FILES_BASE_URL}/images/${good.id}.jpg`);
    // As the processing records a file no decoder reads.
    await sql`update images set processing = 'failed' where id = ${bad.id}`;
    for (const res of [await api().get(bad.id), await api().get(bad.id), await api().list()]) {
      const images = (Array.isArray(res.json) ? res.json : [res.json]) as Image[];
      const failed = images.find((i) => i.id === bad.id);
      expect(presigned(failed?.file_url ?? '')).toMatchObject({ path: `/${process.env.S3_BUCKET}/images/${bad.id}.jpg`, signed: true });
      const fine = images.find((i) => i.id === good.id);
      if (fine) expect(fine.file_url).toBe(`${process.env.FILES_BASE_URL}/images/${good.id}.jpg`);
    }
    expect((await api().get(bad.id)).headers['x-cache']).toBe('HIT');
  });
});
