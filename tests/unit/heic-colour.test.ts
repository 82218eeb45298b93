/**
 * The copies are sRGB whatever colour space the original is in: a Display P3 HEIC (an ICC profile in
 * a `colr prof` box, as an iPhone writes, or only an `nclx` box naming P3 primaries) is converted, not
 * read as if it were sRGB; so are a P3 JPEG and 16-bit originals with a profile, which libvips decodes.
 * Real files throughout: heif-enc (libheif-examples, as the upload tests) codes the HEICs, sharp the rest.
 *
 * The expected sRGB values are sharp's own (LCMS) conversion of the same 8-bit P3 PNG. Pure P3 primaries
 * clip to sRGB's, so red, green and blue come out nearly as they went in either way; the mid colours are
 * where reading P3 numbers as sRGB shows, by 16 to 40 levels.
 */

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeVariants } from '../../lib/variants/make';
import { build, extract, ispe, pixi } from '../fixtures/images/make/heifbuild.mjs';
import { runsWith } from '../helpers/tools';

const run = promisify(execFile);

type RGB = [number, number, number];
/** The patches, left to right, as numbers in the source's colour space. */
const PATCHES: RGB[] = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [200, 120, 60],
  [100, 150, 200],
  [40, 200, 120],
  [255, 255, 255],
  [128, 128, 128],
];
/** Patches whose P3 numbers read as sRGB are visibly off: where the defect shows. */
const TELLING = [3, 4, 5];
const SIDE = 64;
const WIDTH = SIDE * PATCHES.length; // 512: the thumb (400) is resized, the display is not
const HEIGHT = SIDE;

/** The patches as raw RGB (8 or 16 bits a sample); alpha 255, or the given value on the last patch. */
function patches(bits: 8 | 16, lastAlpha?: number) {
  const channels = lastAlpha === undefined ? 3 : 4;
  const data = bits === 8 ? new Uint8Array(WIDTH * HEIGHT * channels) : new Uint16Array(WIDTH * HEIGHT * channels);
  const scale = bits === 8 ? 1 : 257;
  for (let y = 0; y < HEIGHT; y++)
    for (let x = 0; x < WIDTH; x++) {
      const p = Math.floor(x / SIDE);
      const c = PATCHES[p] ?? [0, 0, 0];
      const i = (y * WIDTH + x) * channels;
      for (let k = 0; k < 3; k++) data[i + k] = (c[k] ?? 0) * scale;
      if (channels === 4) data[i + 3] = (p === PATCHES.length - 1 ? (lastAlpha ?? 255) : 255) * scale;
    }
  return sharp(data, { raw: { width: WIDTH, height: HEIGHT, channels } });
}

/** A PNG with the ICC profile in an iCCP chunk and its pixels untouched (sharp can only convert to a profile). */
function withIccp(png: Buffer, icc: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from('icc\0\0', 'latin1'), deflateSync(icc)]);
  const chunk = Buffer.alloc(12 + body.length);
  chunk.writeUInt32BE(body.length, 0);
  chunk.write('iCCP', 4, 'latin1');
  body.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + body.length)), 8 + body.length);
  const ihdrEnd = 8 + 8 + 13 + 4; // signature, IHDR
  return Buffer.concat([png.subarray(0, ihdrEnd), chunk, png.subarray(ihdrEnd)]);
}

/** A `colr` box of type nclx (ISO/IEC 23008-12): primaries, transfer, matrix, full range. */
function colrNclx(primaries: number, transfer: number, matrix: number): Buffer {
  const b = Buffer.alloc(19);
  b.writeUInt32BE(19, 0);
  b.write('colrnclx', 4, 'latin1');
  b.writeUInt16BE(primaries, 12);
  b.writeUInt16BE(transfer, 14);
  b.writeUInt16BE(matrix, 16);
  b[18] = 0x80;
  return b;
}

/** An ICC profile like `icc` but with its red and blue primaries swapped: a colour space only its bytes can tell. */
function swapRedBlue(icc: Buffer): Buffer {
  const out = Buffer.from(icc);
  const tags = out.readUInt32BE(128);
  const at = (sig: string) => {
    for (let t = 0; t < tags; t++) if (out.toString('latin1', 132 + t * 12, 136 + t * 12) === sig) return 132 + t * 12;
    throw new Error(`no ${sig} tag`);
  };
  const r = at('rXYZ');
  const b = at('bXYZ');
  const rEntry = Buffer.from(out.subarray(r + 4, r + 12));
  out.copy(out, r + 4, b + 4, b + 12);
  rEntry.copy(out, b + 4);
  out.fill(0, 84, 100); // the profile ID (an MD5 of the old bytes)
  return out;
}

/** The mean colour of the middle 9×9 pixels of each patch, in an image of the patches at any size. */
async function patchColours(bytes: Buffer): Promise<{ colours: RGB[]; alpha: number[] }> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  const scale = info.width / WIDTH;
  return PATCHES.reduce(
    (out, _, p) => {
      const cx = Math.floor((p + 0.5) * SIDE * scale);
      const cy = Math.floor(info.height / 2);
      const sum = [0, 0, 0, 0];
      for (let y = cy - 4; y <= cy + 4; y++)
        for (let x = cx - 4; x <= cx + 4; x++)
          for (let k = 0; k < info.channels; k++) sum[k] = (sum[k] ?? 0) + (data[(y * info.width + x) * info.channels + k] ?? 0);
      out.colours.push([0, 1, 2].map((k) => Math.round((sum[k] ?? 0) / 81)) as RGB);
      out.alpha.push(info.channels === 4 ? Math.round((sum[3] ?? 0) / 81) : 255);
      return out;
    },
    { colours: [] as RGB[], alpha: [] as number[] },
  );
}

const distance = (a: RGB, b: RGB) => Math.max(...a.map((v, k) => Math.abs(v - (b[k] ?? 0))));

/**
 * Both copies of `bytes`: WebP without ICC profile, EXIF or XMP, each patch within `tolerance` of `expected`;
 * the telling patches at least 10 levels from the numbers read as sRGB when `expected` is not those.
 */
async function expectCopies(bytes: Buffer, mime: string, expected: RGB[], tolerance = 6) {
  const made = await makeVariants(bytes, mime);
  expect([made.thumb.width, made.thumb.height, made.display.width, made.display.height]).toEqual([400, 50, WIDTH, HEIGHT]);
  for (const variant of [made.thumb, made.display]) {
    const meta = await sharp(variant.bytes).metadata();
    expect({ format: meta.format, icc: meta.icc, exif: meta.exif, xmp: meta.xmp }).toEqual({
      format: 'webp',
      icc: undefined,
      exif: undefined,
      xmp: undefined,
    });
    const { colours } = await patchColours(variant.bytes);
    const off = colours.map((c, p) => ({ patch: p, got: c, want: expected[p] })).filter((x) => distance(x.got, x.want as RGB) > tolerance);
    expect(off, `patches off by more than ${tolerance}`).toEqual([]);
    if (expected !== PATCHES) for (const p of TELLING) expect(distance(colours[p] as RGB, PATCHES[p] as RGB)).toBeGreaterThanOrEqual(10);
  }
  return made;
}

let dir = '';
let p3: Buffer; // libvips's built-in Display P3 profile
let p3Png: Buffer; // the patches' numbers, tagged P3
let reference: RGB[]; // what they are in sRGB, by sharp's own conversion
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'heic-colour-'));
  const tagged = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } })
    .withIccProfile('p3')
    .png()
    .toBuffer();
  p3 = (await sharp(tagged).metadata()).icc ?? Buffer.alloc(0);
  expect(p3.toString('latin1', 36, 40)).toBe('acsp');
  p3Png = withIccp(await patches(8).png().toBuffer(), p3);
  reference = (await patchColours(await sharp(p3Png).png().toBuffer())).colours;
  // The premise: read as sRGB, the telling patches' P3 numbers are well off what they mean.
  for (const p of TELLING) expect(distance(PATCHES[p] as RGB, reference[p] as RGB)).toBeGreaterThanOrEqual(15);
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** heif-enc's HEIC of a PNG (its iCCP becomes a `colr prof` box); 4:4:4, quality 90. */
async function heifEnc(name: string, png: Buffer): Promise<Buffer> {
  await writeFile(join(dir, `${name}.png`), png);
  await run('heif-enc', ['-q', '90', '-p', 'chroma=444', join(dir, `${name}.png`), '-o', join(dir, `${name}.heic`)]);
  return readFile(join(dir, `${name}.heic`));
}

/** The same coded picture as heif-enc's `${name}.heic`, with these colour properties instead of its own. */
function rebuilt(name: string, colr: Buffer[]): Buffer {
  const coded = extract(join(dir, `${name}.heic`));
  if (!coded) throw new Error(`no coded image in ${name}.heic`);
  return build({
    dimg: undefined,
    primary: 1,
    props: [coded.cfg, ispe(WIDTH, HEIGHT), pixi(), ...colr],
    items: [{ id: 1, type: 'hvc1', data: coded.data, props: [{ i: 1, e: 1 }, { i: 2 }, { i: 3 }, ...colr.map((_, k) => ({ i: 4 + k }))] }],
  });
}

describe.runIf(runsWith('HEIC copies in sRGB (heic-colour.test.ts)', 'heif-enc'))('HEIC (libheif-js) copies are in sRGB', () => {
  it('converts a Display P3 HEIC (ICC profile, as an iPhone writes) to sRGB, no profile kept', async () => {
    const heic = await heifEnc('p3', p3Png);
    expect((await sharp(heic).metadata()).icc?.equals(p3)).toBe(true); // the colr prof box holds it
    await expectCopies(heic, 'image/heic', reference);
  });

  it('converts by the profile the file carries, not by assuming P3', async () => {
    const swapped = swapRedBlue(p3);
    const png = withIccp(await patches(8).png().toBuffer(), swapped);
    const expected = (await patchColours(await sharp(png).png().toBuffer())).colours;
    expect(expected[0]?.[2]).toBeGreaterThan(200); // its "red" is blue
    await expectCopies(await heifEnc('swapped', png), 'image/heic', expected);
  });

  it('converts a HEIC whose only colour information is an nclx box naming P3 primaries', async () => {
    await heifEnc('plain', await patches(8).png().toBuffer());
    // Display P3 primaries (12), sRGB transfer (13), BT.601 matrix (6, what heif-enc coded with).
    await expectCopies(rebuilt('plain', [colrNclx(12, 13, 6)]), 'image/heic', reference);
  });

  it('keeps the colours of an sRGB HEIC: no colour box, an nclx box for BT.709, or an sRGB ICC profile', async () => {
    const plain = await heifEnc('plain', await patches(8).png().toBuffer());
    await expectCopies(plain, 'image/heic', PATCHES);
    await expectCopies(rebuilt('plain', [colrNclx(1, 13, 6)]), 'image/heic', PATCHES);
    const srgbTagged = await sharp(await patches(8).png().toBuffer())
      .withIccProfile('srgb')
      .png()
      .toBuffer();
    await expectCopies(await heifEnc('srgb', srgbTagged), 'image/heic', PATCHES);
  });

  it('converts a P3 HEIC with an alpha channel and keeps its transparency', async () => {
    const png = withIccp(await patches(8, 128).png().toBuffer(), p3);
    const made = await expectCopies(await heifEnc('alpha', png), 'image/heic', reference);
    for (const variant of [made.thumb, made.display]) {
      const { alpha } = await patchColours(variant.bytes);
      expect(alpha.slice(0, -1).every((a) => a === 255)).toBe(true);
      expect(Math.abs((alpha.at(-1) ?? 0) - 128)).toBeLessThanOrEqual(4);
    }
  });
});

describe('libvips copies are in sRGB', () => {
  it('converts a Display P3 JPEG', async () => {
    const jpeg = await sharp(p3Png).keepIccProfile().jpeg({ quality: 95 }).toBuffer();
    expect((await sharp(jpeg).metadata()).icc?.equals(p3)).toBe(true);
    await expectCopies(jpeg, 'image/jpeg', reference);
  });

  it('converts a 16-bit PNG and a 10-bit AVIF with a P3 profile (sharp takes those to P3, not sRGB)', async () => {
    const png16 = withIccp(await patches(16).toColourspace('rgb16').png().toBuffer(), p3);
    expect(await sharp(png16).metadata()).toMatchObject({ depth: 'ushort', space: 'rgb16', hasProfile: true });
    await expectCopies(png16, 'image/png', reference);
    const avif10 = await sharp(png16).keepIccProfile().avif({ bitdepth: 10, quality: 90, chromaSubsampling: '4:4:4' }).toBuffer();
    expect(await sharp(avif10).metadata()).toMatchObject({ space: 'rgb16', hasProfile: true });
    await expectCopies(avif10, 'image/avif', reference);
  });

  it('keeps the colours of a 16-bit PNG without a profile', async () => {
    await expectCopies(await patches(16).toColourspace('rgb16').png().toBuffer(), 'image/png', PATCHES);
  });
});
