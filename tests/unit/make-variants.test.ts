/**
 * The decoders never take more pixels than an upload may have (MAX_IMAGE_PIXELS): a backfill reads
 * rows stored before any check, and an image bomb must end as undecodable, not as a container out of
 * memory. And libvips keeps no loader the service does not need.
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { codedTile, gigapixelHeic, gridOf, HEIC, megapixelAvif } from '../helpers/image-bombs';
import { runsWith } from '../helpers/tools';

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

/** libheif-js's WASM module, the one instance make.ts loads: its heap grows for what it decodes, and never shrinks. */
const libheif = async () => ((await import('libheif-js/wasm-bundle.js')) as { default: LibHeifJs }).default;
interface LibHeifJs {
  HEAPU8: Uint8Array;
  HeifDecoder: new () => {
    decode(bytes: Uint8Array): { get_width(): number; get_height(): number; display(target: unknown, done: (r: unknown) => void): void }[];
  };
}

describe('makeVariants refuses an image bomb before any decoder sees it', () => {
  it('the 268 MP AVIF that displays as 400×300: undecodable, by the pixel rule', async () => {
    const { makeVariants, UndecodableImageError } = await withLimit(50_000_000);
    const made = makeVariants(await megapixelAvif(), 'image/avif');
    await expect(made).rejects.toBeInstanceOf(UndecodableImageError);
    await expect(made).rejects.toThrow(
      'the image decodes to 16384×16384 pixels (its largest canvas, before any crop); at most 50000000 pixels are accepted',
    );
  });

  it.runIf(runsWith('HEIC files (make-variants.test.ts)', 'heif-enc'))(
    "the 1-gigapixel HEIC: undecodable, and libheif's heap did not grow",
    async () => {
      const { makeVariants } = await withLimit(50_000_000);
      await makeVariants(fixture('plain.heic'), 'image/heic'); // libheif loaded, its heap as a small HEIC leaves it
      const heap = (await libheif()).HEAPU8.length;
      await expect(makeVariants(await gigapixelHeic(), 'image/heic')).rejects.toThrow(/decodes to 32768×32768 pixels/);
      expect((await libheif()).HEAPU8.length).toBe(heap);
    },
  );

  it.runIf(runsWith('HEIC files (make-variants.test.ts)', 'heif-enc'))(
    'behind it, libheif itself refuses a canvas above MAX_IMAGE_PIXELS once make.ts has loaded it',
    async () => {
      const { makeVariants } = await withLimit(50_000_000);
      await makeVariants(fixture('plain.heic'), 'image/heic');
      const lib = await libheif();
      const heap = lib.HEAPU8.length;
      const bomb = gridOf(HEIC, await codedTile(HEIC, 2048), 2048, { rows: 8, columns: 8, canvas: [16384, 16384] });
      const [image] = new lib.HeifDecoder().decode(bomb);
      if (!image) throw new Error('libheif read no image');
      const width = image.get_width();
      const height = image.get_height();
      expect([width, height]).toEqual([16384, 16384]);
      const decoded = await new Promise((resolve) => image.display({ data: new Uint8ClampedArray(0), width, height }, resolve));
      expect(decoded).toBeNull();
      expect(lib.HEAPU8.length).toBe(heap);
    },
  );
});

describe('the libvips loaders of the types the service never accepts are blocked', () => {
  const svg = Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="400" height="300">' +
      '<rect width="400" height="300" fill="#36c"/><image xlink:href="file:///etc/hostname" width="400" height="300"/></svg>',
  );

  it.each([
    ['an SVG (librsvg) that would load a local file', 'svg', () => Promise.resolve(svg)],
    [
      'a TIFF (libtiff)',
      'tiff',
      () =>
        sharp({ create: { width: 40, height: 30, channels: 3, background: '#36c' } })
          .tiff()
          .toBuffer(),
    ],
  ])(
    '%s: this libvips has the loader, yet refuses the file once the processing is loaded; the image is undecodable',
    async (_, format, make) => {
      const bytes = await make();
      expect(sharp.format[format as 'svg' | 'tiff'].input.buffer).toBe(true);
      const { makeVariants, UndecodableImageError } = await withLimit(50_000_000);
      await expect(sharp(bytes).metadata()).rejects.toThrow('Input buffer contains unsupported image format');
      await expect(makeVariants(bytes, 'image/png')).rejects.toBeInstanceOf(UndecodableImageError);
    },
  );

  it('keeps the loaders of the accepted types', async () => {
    await withLimit(50_000_000);
    const webp = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#36c' } })
      .webp()
      .toBuffer();
    const formats = await Promise.all(
      [fixture('plain.jpg'), fixture('plain.png'), fixture('anim.gif'), fixture('plain.avif'), fixture('plain.heic'), webp].map(
        async (bytes) => (await sharp(bytes).metadata()).format,
      ),
    );
    expect(formats).toEqual(['jpeg', 'png', 'gif', 'heif', 'heif', 'webp']);
  });
});
