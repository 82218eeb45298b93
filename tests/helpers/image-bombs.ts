/**
 * Image bombs built the way an attacker would, from real encoder output: one small tile coded by
 * heif-enc (HEVC) or sharp (AV1), then HEIF boxes written around it (tests/fixtures/images/make/
 * heifbuild.mjs) so that a grid of that one tile, repeated, makes a huge canvas, cut by a clean
 * aperture (clap) to a harmless-looking displayed size. And GIFs whose first frame outgrows their
 * logical screen, from sharp's GIF encoder.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { build, clap, extract, gridData, irot, ispe, pixi } from '../fixtures/images/make/heifbuild.mjs';

const run = promisify(execFile);

export const HEIC = { brand: 'heic', compat: ['mif1', 'heic', 'miaf'], type: 'hvc1' } as const;
export const AVIF = { brand: 'avif', compat: ['avif', 'mif1', 'miaf'], type: 'av01' } as const;
type Kind = typeof HEIC | typeof AVIF;

/** A coded picture (its codec configuration box and data) as an encoder made it. */
export interface Coded {
  cfg: Buffer;
  data: Buffer;
}

/** A flat side × side picture, coded by heif-enc (HEIC) or sharp (AVIF), as one item's box and data. */
export async function codedTile(kind: Kind, side: number): Promise<Coded> {
  const dir = await mkdtemp(join(tmpdir(), 'image-bomb-'));
  try {
    const flat = sharp({ create: { width: side, height: side, channels: 3, background: '#3366cc' } });
    const file = join(dir, `tile.${kind === HEIC ? 'heic' : 'avif'}`);
    if (kind === HEIC) {
      await writeFile(join(dir, 'tile.png'), await flat.png().toBuffer());
      await run('heif-enc', ['-q', '50', join(dir, 'tile.png'), '-o', file]);
    } else {
      await writeFile(file, await flat.avif({ quality: 50 }).toBuffer());
    }
    const coded = extract(file);
    if (!coded) throw new Error(`no coded image in ${file}`);
    return coded;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface GridSpec {
  rows: number;
  columns: number;
  /** The grid's canvas, as its data says. */
  canvas: [number, number];
  /** The size the grid's ispe claims: its canvas unless said otherwise. */
  claims?: [number, number];
  /** The tiles' ispe: the tile's own size unless said otherwise. */
  tileClaims?: [number, number];
  /** Properties of the grid item after its ispe (clap, irot). */
  extra?: Buffer[];
  /** How many tiles the grid names: rows × columns unless said otherwise. */
  tiles?: number;
}

/** A HEIF whose primary item is a grid of `tile` (side × side) repeated, all tiles one copy of its data. */
export function gridOf(kind: Kind, tile: Coded, side: number, spec: GridSpec): Buffer {
  const count = spec.tiles ?? spec.rows * spec.columns;
  const extra = spec.extra ?? [];
  const [tw, th] = spec.tileClaims ?? [side, side];
  const tiles = Array.from({ length: count }, (_, k) => ({
    id: k + 1,
    type: kind.type,
    hidden: true,
    data: tile.data,
    props: [{ i: 1, e: 1 }, { i: 2 }, { i: 3 }],
  }));
  const gridId = count + 1;
  return build({
    brand: kind.brand,
    compat: [...kind.compat],
    primary: gridId,
    dimg: { from: gridId, to: tiles.map((t) => t.id) },
    props: [tile.cfg, ispe(tw, th), pixi(), ispe(...(spec.claims ?? spec.canvas)), ...extra],
    items: [
      ...tiles,
      {
        id: gridId,
        type: 'grid',
        data: gridData(spec.rows, spec.columns, ...spec.canvas),
        props: [{ i: 4 }, ...extra.map((_, k) => ({ i: 5 + k, e: 1 }))],
      },
    ],
  });
}

/**
 * The 1-gigapixel HEIC: a 16×16 grid of one 2048² HEVC tile, a 32768 × 32768 canvas (21 times
 * MAX_IMAGE_PIXELS, exactly libheif's own default limit) cut by clap to 400×300. About 14 KB.
 */
export async function gigapixelHeic(): Promise<Buffer> {
  const tile = await codedTile(HEIC, 2048);
  return gridOf(HEIC, tile, 2048, { rows: 16, columns: 16, canvas: [32768, 32768], extra: [clap(400, 300)] });
}

/**
 * The 268-megapixel AVIF: an 8×8 grid of one 2048² AV1 tile, a 16384 × 16384 canvas (the most
 * libvips lets libheif allocate) cut by clap to 400×300. About 3 KB.
 */
export async function megapixelAvif(): Promise<Buffer> {
  const tile = await codedTile(AVIF, 2048);
  return gridOf(AVIF, tile, 2048, { rows: 8, columns: 8, canvas: [16384, 16384], extra: [clap(400, 300)] });
}

/**
 * A HEIF whose primary item is an `iden` derivation claiming `claims`, of a hidden coded item of
 * side × side: what is decoded is the coded item, whatever the primary says.
 */
export function identityOf(kind: Kind, coded: Coded, side: number, claims: [number, number], extra: Buffer[] = []): Buffer {
  return build({
    brand: kind.brand,
    compat: [...kind.compat],
    primary: 2,
    dimg: { from: 2, to: [1] },
    props: [coded.cfg, ispe(side, side), pixi(), ispe(...claims), ...extra],
    items: [
      { id: 1, type: kind.type, hidden: true, data: coded.data, props: [{ i: 1, e: 1 }, { i: 2 }, { i: 3 }] },
      { id: 2, type: 'iden', data: Buffer.alloc(0), props: [{ i: 4 }, ...extra.map((_, k) => ({ i: 5 + k, e: 1 }))] },
    ],
  });
}

/** A HEIF of one coded item of side × side whose properties are `props` (its ispe among them, or not). */
export function singleOf(kind: Kind, coded: Coded, props: Buffer[]): Buffer {
  return build({
    brand: kind.brand,
    compat: [...kind.compat],
    primary: 1,
    dimg: undefined,
    props: [coded.cfg, pixi(), ...props],
    items: [{ id: 1, type: kind.type, data: coded.data, props: [{ i: 1, e: 1 }, { i: 2 }, ...props.map((_, k) => ({ i: 3 + k }))] }],
  });
}

export { clap, irot, ispe };

/**
 * A GIF of sharp's whose first frame is width × height but whose logical screen claims
 * screenWidth × screenHeight: decoders grow the screen to hold the first frame.
 */
export async function gifOutgrowingItsScreen(width: number, height: number, screenWidth: number, screenHeight: number): Promise<Buffer> {
  const gif = await sharp({ create: { width, height, channels: 3, background: '#3366cc' } })
    .gif()
    .toBuffer();
  gif.writeUInt16LE(screenWidth, 6);
  gif.writeUInt16LE(screenHeight, 8);
  return gif;
}
