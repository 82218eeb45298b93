/**
 * The decoders never take more pixels than an upload may have (MAX_IMAGE_PIXELS): a backfill reads
 * rows stored before any check, and an image bomb must end as undecodable, not as a container out of
 * memory.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/images/${name}`, import.meta.url));
const saved = process.env.MAX_IMAGE_PIXELS;

/** makeVariants as a function configured with this pixel limit would load it. */
async function withLimit(pixels: number) {
  vi.resetModules();
  process.env.MAX_IMAGE_PIXELS = String(pixels);
  return import('../../lib/variants/make');
}

afterEach(() => {
  if (saved === undefined) delete process.env.MAX_IMAGE_PIXELS;
  else process.env.MAX_IMAGE_PIXELS = saved;
  vi.resetModules();
});

describe('makeVariants under MAX_IMAGE_PIXELS', () => {
  it.each([
    ['plain.jpg', 'image/jpeg'],
    ['plain.png', 'image/png'],
    ['plain.heic', 'image/heic'],
  ])('refuses %s above the limit as undecodable, and makes its copies within it', async (name, mime) => {
    const bytes = fixture(name);
    const small = await withLimit(100);
    await expect(small.makeVariants(bytes, mime)).rejects.toBeInstanceOf(small.UndecodableImageError);
    const roomy = await withLimit(50_000_000);
    const made = await roomy.makeVariants(bytes, mime);
    expect(made.thumb.width).toBeGreaterThan(0);
  });
});
