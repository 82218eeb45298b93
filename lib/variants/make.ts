import { crc32, deflateSync } from 'node:zlib';
import type { Sharp } from 'sharp';
import sharp from 'sharp';

import { uploadConfig } from '../config';
import { TooManyPixelsError, UnreadableImageError } from '../images/errors';
import { checkPixels } from '../images/inspect';
import { VARIANT_SIDES, type VariantName } from '../keys';

/** The decoders refuse more pixels than an upload may have (MAX_IMAGE_PIXELS): no image bomb is decoded. */
const maxPixels = () => uploadConfig().MAX_IMAGE_PIXELS;

/**
 * The only libvips loaders left in this process: those of the accepted types, from memory. Every
 * other (librsvg's SVG, libtiff, PDF, ImageMagick, JPEG 2000, JPEG XL, FITS, OpenEXR, PPM, CSV,
 * matrix, Analyze, Radiance, VIPS, raw camera files, OpenSlide, and UltraHDR, whose JPEGs jpegload
 * reads) is blocked, so a file that lies about its type reaches none of them; libvips then skips a
 * blocked loader when it sniffs a file's format.
 */
const LOADERS = [
  'VipsForeignLoadJpegBuffer',
  'VipsForeignLoadPngBuffer',
  'VipsForeignLoadWebpBuffer',
  'VipsForeignLoadNsgifBuffer',
  'VipsForeignLoadHeifBuffer',
];
sharp.block({ operation: ['VipsForeignLoad'] });
sharp.unblock({ operation: LOADERS });

/** A copy as made: WebP bytes and the size they display at. */
export interface MadeVariant {
  bytes: Buffer;
  width: number;
  height: number;
}

/** The image cannot be decoded: a corrupt or truncated file, an unsupported coding. No retry cures it. */
export class UndecodableImageError extends Error {
  override name = 'UndecodableImageError';
}

interface HeifImage {
  is_primary(): boolean;
  get_width(): number;
  get_height(): number;
  display(
    target: { data: Uint8ClampedArray; width: number; height: number },
    done: (result: { data: Uint8ClampedArray } | null) => void,
  ): void;
  free(): void;
}
/**
 * The parts of libheif-js used: its HeifDecoder, and libheif's C functions as the WASM module exports
 * them (libheif-wasm/libheif.d.ts), which take and return addresses in the module's memory. The heap
 * views are replaced when that memory grows, so they are read afresh after every call.
 */
interface LibHeif {
  HeifDecoder: new () => { decode(bytes: Uint8Array): HeifImage[]; decoder: { delete(): void } };
  HEAPU8: Uint8Array;
  HEAP32: Int32Array;
  HEAPU32: Uint32Array;
  _malloc(size: number): number;
  _free(pointer: number): void;
  _heif_get_global_security_limits(): number;
  _heif_context_alloc(): number;
  _heif_context_free(context: number): void;
  _heif_context_read_from_memory_without_copy(error: number, context: number, data: number, size: number, options: number): void;
  _heif_context_get_primary_image_handle(error: number, context: number, handleOut: number): void;
  _heif_image_handle_release(handle: number): void;
  _heif_image_handle_get_raw_color_profile_size(handle: number): number;
  _heif_image_handle_get_raw_color_profile(error: number, handle: number, data: number): void;
  _heif_image_handle_get_nclx_color_profile(error: number, handle: number, nclxOut: number): void;
  _heif_nclx_color_profile_free(nclx: number): void;
}

let libheif: LibHeif | undefined;

/**
 * libheif's own pixel limit (heif_security_limits.max_image_size_pixels, 32768² by default) lowered to
 * MAX_IMAGE_PIXELS, behind the header check: every context this module instance makes afterwards
 * copies the global limits, and libheif checks a grid's canvas, each tile and each coded image
 * against it before allocating them. The struct's version 1 fields never move: a uint8 version, then
 * the uint64 limit at offset 8.
 */
function limitPixels(lib: LibHeif): LibHeif {
  const limits = lib._heif_get_global_security_limits();
  if (!limits || (lib.HEAPU8[limits] ?? 0) < 1) throw new Error('libheif: no security limits to set');
  new DataView(lib.HEAPU8.buffer).setBigUint64(limits + 8, BigInt(maxPixels()), true);
  return lib;
}

/** H.273 colour primaries 12: SMPTE EG 432-1, Display P3 (D65), as an iPhone's or a Mac's. */
const PRIMARIES_DISPLAY_P3 = 12;
/** H.273 transfer characteristics taken as sRGB's curve: unspecified (2), sRGB (13), and BT.709's family (1, 6, 14, 15). */
const TRANSFER_SRGB_LIKE = new Set([1, 2, 6, 13, 14, 15]);

let displayP3: Promise<Buffer> | undefined;
/** libvips's built-in Display P3 ICC profile (480 bytes), as sharp attaches it. */
function displayP3Profile(): Promise<Buffer> {
  displayP3 ??= sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } })
    .withIccProfile('p3')
    .png()
    .toBuffer()
    .then(async (png) => {
      const { icc } = await sharp(png).metadata();
      if (!icc) throw new Error('libvips attached no Display P3 profile');
      return icc;
    });
  return displayP3;
}

/**
 * The colour space of a HEIF's primary image as an ICC profile, undefined when it is sRGB or unknown.
 * An ICC profile (colr prof or rICC) is returned as stored, if it is an RGB one. An nclx box (H.273
 * code points) naming Display P3 primaries with an sRGB-like transfer gives the Display P3 profile;
 * BT.709 or unspecified primaries are sRGB's. Others (BT.2020, DCI-P3, PQ or HLG transfer) have no
 * profile here and are left as they decode (libheif has applied the nclx matrix either way). Only the
 * container is parsed, from a copy of the file in WASM memory; nothing is decoded.
 */
async function heifColourProfile(lib: LibHeif, bytes: Uint8Array): Promise<Buffer | undefined> {
  const error = lib._malloc(16); // struct heif_error (code, subcode, message) and one out-pointer
  const out = error + 12;
  const data = lib._malloc(bytes.length);
  const context = lib._heif_context_alloc();
  let handle = 0;
  const failed = () => lib.HEAP32[error >> 2] !== 0;
  try {
    if (!error || !data || !context) throw new Error('libheif: out of memory');
    lib.HEAPU8.set(bytes, data);
    lib._heif_context_read_from_memory_without_copy(error, context, data, bytes.length, 0);
    if (failed()) return undefined; // the decoder says why
    lib._heif_context_get_primary_image_handle(error, context, out);
    if (failed()) return undefined;
    handle = lib.HEAPU32[out >> 2] ?? 0;
    const size = lib._heif_image_handle_get_raw_color_profile_size(handle);
    if (size > 0) {
      const icc = lib._malloc(size);
      try {
        lib._heif_image_handle_get_raw_color_profile(error, handle, icc);
        if (failed()) return undefined;
        const profile = Buffer.from(lib.HEAPU8.subarray(icc, icc + size)); // a copy
        // Data colour space (bytes 16-19): a grey or CMYK profile does not describe RGBA pixels.
        return profile.length >= 128 && profile.toString('latin1', 16, 20) === 'RGB ' ? profile : undefined;
      } finally {
        lib._free(icc);
      }
    }
    lib._heif_image_handle_get_nclx_color_profile(error, handle, out);
    if (failed()) return undefined; // heif_error_Color_profile_does_not_exist: no colour box at all
    // struct heif_color_profile_nclx: uint8 version, then enums primaries (offset 4), transfer (8), matrix (12), ...
    const nclx = lib.HEAPU32[out >> 2] ?? 0;
    const primaries = lib.HEAP32[(nclx + 4) >> 2];
    const transfer = lib.HEAP32[(nclx + 8) >> 2] ?? 0;
    lib._heif_nclx_color_profile_free(nclx);
    return primaries === PRIMARIES_DISPLAY_P3 && TRANSFER_SRGB_LIKE.has(transfer) ? await displayP3Profile() : undefined;
  } finally {
    if (handle) lib._heif_image_handle_release(handle);
    if (context) lib._heif_context_free(context);
    lib._free(data);
    lib._free(error);
  }
}

/**
 * `png` with `icc` in an iCCP chunk right after its header, its pixels untouched: libvips converts
 * from a PNG's embedded profile, and PNG's loader is one this process keeps.
 */
function withIccProfile(png: Buffer, icc: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from('icc\0\0', 'latin1'), deflateSync(icc)]); // name, compression method 0
  const chunk = Buffer.alloc(12 + body.length);
  chunk.writeUInt32BE(body.length, 0);
  chunk.write('iCCP', 4, 'latin1');
  body.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + body.length)), 8 + body.length);
  const afterHeader = 8 + 8 + 13 + 4; // signature, IHDR (length, type, data, CRC)
  return Buffer.concat([png.subarray(0, afterHeader), chunk, png.subarray(afterHeader)]);
}

/**
 * Resized RGBA pixels whose values are in `profile`, as an image sharp converts to sRGB: sharp cannot
 * be told the profile of raw pixels (lovell/sharp#1324), but converts a file's embedded profile. So
 * the resized pixels are written as an uncompressed PNG that carries it. Done after resizing (the sRGB
 * and Display P3 curves are the same, so resizing the values as they are is no worse than for sRGB),
 * the conversion and the two copies cost the copy's size (at most 2048 × 2048 × 4 bytes, transient),
 * never the full-size image's.
 */
async function convertedFrom(profile: Buffer, resized: Sharp): Promise<Sharp> {
  const png = await resized.png({ compressionLevel: 0, adaptiveFiltering: false }).toBuffer();
  return sharp(withIccProfile(png, profile));
}

/** The decoded image, upright; with the ICC profile its pixel values are in when sharp cannot see it. */
interface Source {
  image: Sharp;
  profile?: Buffer | undefined;
}

/**
 * A HEIC's primary image, decoded by libheif's WASM build (libheif-js, LGPL-3.0): sharp's prebuilt
 * libvips reads HEIF but cannot decode HEVC (patents). Loaded only when a HEIC arrives. Its rotation,
 * mirror and grid are applied (heic-decode would take the first image, not the primary). The RGBA
 * pixels go to sharp raw, which takes them as sRGB; their own colour space, if the file names
 * another, comes with them as an ICC profile (heifColourProfile), for each copy to be converted from
 * once resized (convertedFrom).
 */
async function decodeHeic(bytes: Uint8Array): Promise<Source> {
  // External to the bundle (serverless.yml): loaded from the zip's node_modules, and only for a HEIC.
  libheif ??= limitPixels(((await import('libheif-js/wasm-bundle.js')) as { default: LibHeif }).default);
  // Before decoding, and freed by then: the two never hold WASM memory at once.
  const profile = await heifColourProfile(libheif, bytes);
  const decoder = new libheif.HeifDecoder();
  const images = decoder.decode(bytes);
  try {
    const image = images.find((i) => i.is_primary()) ?? images[0];
    if (!image) throw new UndecodableImageError('no image in the HEIF file');
    const width = image.get_width();
    const height = image.get_height();
    // Checked at upload from the header; checked again before the pixels are decoded (a backfill
    // reads rows older than any check).
    if (width * height > maxPixels()) throw new UndecodableImageError(`${width}×${height} is more than MAX_IMAGE_PIXELS`);
    const data = await new Promise<Uint8ClampedArray>((resolve, reject) =>
      image.display({ data: new Uint8ClampedArray(width * height * 4), width, height }, (result) =>
        result ? resolve(result.data) : reject(new UndecodableImageError('the HEIF image could not be decoded')),
      ),
    );
    return { image: sharp(data, { raw: { width, height, channels: 4 } }), profile };
  } finally {
    for (const image of images) image.free();
    decoder.decoder.delete();
  }
}

/**
 * The decoded image, upright, ready to resize; HEIC through libheif, the rest through libvips, which
 * converts an embedded ICC profile to sRGB itself.
 */
async function source(bytes: Uint8Array, mime: string): Promise<Source> {
  if (mime === 'image/heic' || mime === 'image/heif') {
    try {
      return await decodeHeic(bytes);
    } catch (err) {
      // An HEIF that is not HEVC-coded (AV1 inside, say) libvips itself can read.
      if (!(err instanceof UndecodableImageError)) throw err;
    }
  }
  // The first frame of an animation; rotated by its EXIF orientation.
  const image = sharp(bytes, { pages: 1, failOn: 'error', limitInputPixels: maxPixels() }).autoOrient();
  // A 16-bit RGB image's profile (16-bit PNG, 10-bit AVIF) sharp converts to P3, not sRGB, and then
  // only narrows to 8 bits: converted once more at the end, from that P3 to sRGB, and not attached.
  const { space, hasProfile } = await image.metadata();
  return { image: hasProfile && space === 'rgb16' ? image.withIccProfile('srgb', { attach: false }) : image };
}

/**
 * The thumb (longest side 400) and display (2048) copies of an image, as WebP: never upscaled,
 * upright, with no ICC profile, EXIF, XMP or GPS (sharp writes no metadata unless asked), and in sRGB,
 * converted from the colour space the image names: its embedded ICC profile (read by libvips, or for
 * a HEIC by libheif), or a HEIC's nclx box naming Display P3 primaries. An image naming none is taken
 * as sRGB; so is one whose nclx box names another space (BT.2020, PQ, HLG), and an AVIF's or a
 * non-HEVC HEIF's nclx box, which libvips does not read. Throws UndecodableImageError for bytes no
 * decoder reads, and, before decoding anything, for an image the upload's pixel rule refuses
 * (checkPixels: a header that cannot be read, a canvas above MAX_IMAGE_PIXELS).
 */
export async function makeVariants(bytes: Uint8Array, mime: string): Promise<Record<VariantName, MadeVariant>> {
  try {
    // The upload's pixel rule, before any decoder sees the bytes: a row older than the rule (a
    // backfill), or stored by another path, is no way around it. libheif's heap never shrinks.
    checkPixels(bytes);
  } catch (err) {
    if (err instanceof TooManyPixelsError) throw new UndecodableImageError(`the image ${err.errors?.[0]?.message ?? err.message}`);
    if (err instanceof UnreadableImageError) throw new UndecodableImageError('the image header cannot be read', { cause: err });
    throw err;
  }
  try {
    const { image, profile } = await source(bytes, mime);
    const make = async (side: number): Promise<MadeVariant> => {
      const resized = image.clone().resize(side, side, { fit: 'inside', withoutEnlargement: true });
      const { data, info } = await (profile ? await convertedFrom(profile, resized) : resized)
        .webp({ quality: 82, effort: 4 })
        .toBuffer({ resolveWithObject: true });
      return { bytes: data, width: info.width, height: info.height };
    };
    const [thumb, display] = await Promise.all([make(VARIANT_SIDES.thumb), make(VARIANT_SIDES.display)]);
    return { thumb, display };
  } catch (err) {
    if (err instanceof UndecodableImageError) throw err;
    // Nothing here but decoding and encoding in memory: what sharp refuses, it cannot read
    // (corrupt, truncated, an unsupported coding). A retry would fail the same way.
    throw new UndecodableImageError((err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'undecodable', { cause: err });
  }
}
