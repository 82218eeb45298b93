/**
 * The displayed size of an image from its first bytes, checked against files whose displayed size
 * a real decoder (libheif, sharp) confirmed: tests/fixtures/images/README.md. And the largest canvas
 * a decoder would allocate for it, checked against image bombs built from real encoder output.
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { CorruptHeaderError, displayedSize, largestCanvas } from '../../lib/images/dimensions';
import {
  AVIF,
  type Coded,
  clap,
  codedTile,
  gifOutgrowingItsScreen,
  gigapixelHeic,
  gridOf,
  identityOf,
  irot,
  ispe,
  megapixelAvif,
  singleOf,
} from '../helpers/image-bombs';
import { runsWith } from '../helpers/tools';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/images/${name}`, import.meta.url));

const DISPLAYED: [string, number, number][] = [
  ['plain.png', 400, 300],
  ['plain.jpg', 400, 300],
  ['exif1.jpg', 400, 300],
  ['exif2.jpg', 400, 300],
  ['exif3.jpg', 400, 300],
  ['exif4.jpg', 400, 300],
  ['exif5.jpg', 300, 400],
  ['exif6.jpg', 300, 400],
  ['exif7.jpg', 300, 400],
  ['exif8.jpg', 300, 400],
  ['exif6-be.jpg', 300, 400],
  ['exif6-ifd32.jpg', 300, 400],
  ['exif6-big.jpg', 300, 400],
  ['plain.heic', 400, 300],
  ['thumb.heic', 400, 300],
  ['exif6.heic', 400, 300],
  ['irot90.heic', 300, 400],
  ['irot180.heic', 400, 300],
  ['irot270-imir.heic', 300, 400],
  ['imir.heic', 400, 300],
  ['grid.heic', 400, 300],
  ['grid-irot90.heic', 300, 400],
  ['clap.heic', 300, 200],
  ['clap-irot90.heic', 200, 300],
  ['primary2.heic', 400, 300],
  ['plain.avif', 400, 300],
  ['exif6.avif', 400, 300],
  ['irot90.avif', 300, 400],
];

describe('displayedSize', () => {
  it.each(DISPLAYED)('%s displays as %i×%i', (name, width, height) => {
    expect(displayedSize(fixture(name))).toMatchObject({ width, height });
  });

  it.each(DISPLAYED.map(([name]) => name))('%s cut short anywhere says "read more" or the right size, never a wrong one', (name) => {
    const bytes = fixture(name);
    const whole = displayedSize(bytes);
    for (let n = 0; n < Math.min(bytes.length, 4096); n++) {
      // A copy: a view would let a reader see past its end into the rest of the file.
      const size = displayedSize(new Uint8Array(bytes.subarray(0, n)));
      if (size !== undefined) expect(size).toEqual(whole);
    }
  });

  it('reads the EXIF orientation even behind a 60 KB segment, from the first 64 KiB', () => {
    const bytes = fixture('exif6-big.jpg');
    expect(displayedSize(bytes.subarray(0, 64 * 1024))).toMatchObject({ width: 300, height: 400 });
  });

  it('calls a HEIF whose boxes lie about their length corrupt, not readable later', () => {
    const bytes = Buffer.from(fixture('irot90.heic'));
    // The ipco box claims fewer bytes than its own header.
    const at = bytes.indexOf('ipco', 0, 'latin1') - 4;
    bytes.writeUInt32BE(4, at);
    expect(() => displayedSize(bytes)).toThrow(CorruptHeaderError);
  });
});

/** Every prefix of `bytes` (up to `upTo`) says "read more" or exactly what the whole file says, never another size. */
function expectNoWrongPrefix(bytes: Buffer, read: (b: Uint8Array) => unknown, upTo = 4096) {
  const whole = read(bytes);
  for (let n = 0; n < Math.min(bytes.length, upTo); n++) {
    const prefix = read(new Uint8Array(bytes.subarray(0, n)));
    if (prefix !== undefined) expect(prefix).toEqual(whole);
  }
}

describe('largestCanvas', () => {
  it.each([
    ...DISPLAYED.filter(
      ([name]) => !name.includes('irot90') && !name.includes('270') && !/exif[5-8]/.test(name) && !name.startsWith('clap'),
    ),
    ['irot90.heic', 400, 300],
    ['irot270-imir.heic', 400, 300],
    ['grid-irot90.heic', 400, 300],
    ['irot90.avif', 400, 300],
    ['clap.heic', 400, 300],
    ['clap-irot90.heic', 400, 300],
    ['exif6.jpg', 400, 300],
    ['anim.gif', 120, 80],
  ] as [string, number, number][])('%s: %i×%i, as stored, before any crop or rotation', (name, width, height) => {
    expect(largestCanvas(fixture(name))).toEqual({ width, height });
  });

  it.each(['grid.heic', 'clap.heic', 'thumb.heic', 'primary2.heic', 'anim.gif'])(
    '%s cut short anywhere: "read more" or the whole answer',
    (name) => {
      expectNoWrongPrefix(fixture(name), largestCanvas);
    },
  );

  describe('a HEIF/AVIF grid: its whole canvas, not the crop it displays', () => {
    let av1: Coded;
    let avif: Buffer;
    beforeAll(async () => {
      av1 = await codedTile(AVIF, 2048);
      avif = await megapixelAvif();
    });

    it('the 268 MP AVIF (16384² canvas, clap 400×300, 3 KB): 16384 × 16384', () => {
      expect(avif.length).toBeLessThan(5_000);
      expect(displayedSize(avif)).toMatchObject({ width: 400, height: 300 });
      expect(largestCanvas(avif)).toEqual({ width: 16384, height: 16384 });
    });

    it.runIf(runsWith('HEIC files (dimensions.test.ts)', 'heif-enc'))(
      'the 1-gigapixel HEIC (32768² canvas, clap 400×300, 14 KB): 32768 × 32768',
      async () => {
        const heic = await gigapixelHeic();
        expect(heic.length).toBeLessThan(20_000);
        expect(displayedSize(heic)).toMatchObject({ width: 400, height: 300 });
        expect(largestCanvas(heic)).toEqual({ width: 32768, height: 32768 });
      },
    );

    it('a grid whose ispe claims 400×300 while its data says 16384²: the data, which decoders allocate', () => {
      const lying = gridOf(AVIF, av1, 2048, { rows: 8, columns: 8, canvas: [16384, 16384], claims: [400, 300] });
      expect(displayedSize(lying)).toMatchObject({ width: 400, height: 300 });
      expect(largestCanvas(lying)).toEqual({ width: 16384, height: 16384 });
    });

    it('a grid turned by irot: its canvas as stored', () => {
      const turned = gridOf(AVIF, av1, 2048, { rows: 2, columns: 3, canvas: [6000, 4000], extra: [irot(1)] });
      expect(displayedSize(turned)).toMatchObject({ width: 4000, height: 6000 });
      expect(largestCanvas(turned)).toEqual({ width: 6000, height: 4000 });
    });

    it('tiles that overhang a small canvas: all the tiles, each decoded whole', () => {
      const overhang = gridOf(AVIF, av1, 2048, { rows: 1, columns: 1, canvas: [400, 300], tileClaims: [8192, 8192] });
      expect(largestCanvas(overhang)).toEqual({ width: 8192, height: 8192 });
    });

    it('a grid with a column of tiles wholly outside its canvas, or another number of tiles than rows × columns: corrupt', () => {
      const outside = gridOf(AVIF, av1, 2048, { rows: 2, columns: 4, canvas: [4096, 4096] });
      expect(() => largestCanvas(outside)).toThrow(CorruptHeaderError);
      const missing = gridOf(AVIF, av1, 2048, { rows: 2, columns: 2, canvas: [4096, 4096], tiles: 3 });
      expect(() => largestCanvas(missing)).toThrow(CorruptHeaderError);
    });

    it('a primary derived (iden) from a larger coded item: the coded item, which is what is decoded', () => {
      const derived = identityOf(AVIF, av1, 2048, [400, 300], [clap(400, 300)]);
      expect(displayedSize(derived)).toMatchObject({ width: 400, height: 300 });
      expect(largestCanvas(derived)).toEqual({ width: 2048, height: 2048 });
    });

    it('a coded image with no ispe, whose size only decoding would tell: corrupt', () => {
      const sizeless = singleOf(AVIF, av1, []);
      expect(() => largestCanvas(sizeless)).toThrow(CorruptHeaderError);
      expect(largestCanvas(singleOf(AVIF, av1, [ispe(2048, 2048)]))).toEqual({ width: 2048, height: 2048 });
    });

    it('the bombs cut short anywhere: "read more" or the whole answer', () => {
      expectNoWrongPrefix(avif, largestCanvas, avif.length);
      expectNoWrongPrefix(avif, displayedSize, avif.length);
    });
  });

  describe('a GIF: its screen, grown by its first frame', () => {
    it('a first frame of 3000×2000 behind a screen of 100×100: 3000 × 2000, as libnsgif allocates and shows it', async () => {
      const gif = await gifOutgrowingItsScreen(3000, 2000, 100, 100);
      expect((await sharp(gif).metadata()).width).toBe(3000);
      expect(largestCanvas(gif)).toEqual({ width: 3000, height: 2000 });
      expect(displayedSize(gif)).toMatchObject({ width: 3000, height: 2000 });
      expectNoWrongPrefix(gif, largestCanvas);
    });

    it('a later frame larger than the screen: the screen (decoders clip it)', async () => {
      const first = await sharp({ create: { width: 100, height: 80, channels: 3, background: '#c33' } })
        .gif()
        .toBuffer();
      const big = await gifOutgrowingItsScreen(3000, 3000, 3000, 3000);
      const imageBlock = big.indexOf(0x2c, 13 + 3 * 2 ** (((big[10] ?? 0) & 7) + 1));
      const two = Buffer.concat([first.subarray(0, -1), big.subarray(imageBlock)]);
      expect((await sharp(two, { pages: -1 }).metadata()).pages).toBe(2);
      expect(largestCanvas(two)).toEqual({ width: 100, height: 80 });
    });
  });
});
