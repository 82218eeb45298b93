import type { Sharp } from 'sharp';
import sharp from 'sharp';

import { VARIANT_SIDES, type VariantName } from './keys';

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
interface LibHeif {
  HeifDecoder: new () => { decode(bytes: Uint8Array): HeifImage[]; decoder: { delete(): void } };
}

let libheif: LibHeif | undefined;

/**
 * HEIC's pixels as RGBA. sharp's prebuilt libvips reads HEIF but cannot decode HEVC (patents), so
 * libheif's WASM build (libheif-js, LGPL-3.0) decodes it, loaded only when a HEIC arrives. The primary
 * image is taken (heic-decode would take the first), with its rotation, mirror and grid applied.
 */
async function decodeHeic(bytes: Uint8Array): Promise<{ data: Uint8ClampedArray; width: number; height: number }> {
  // External to the bundle (serverless.yml): loaded from the zip's node_modules, and only for a HEIC.
  libheif ??= ((await import('libheif-js/wasm-bundle.js')) as { default: LibHeif }).default;
  const decoder = new libheif.HeifDecoder();
  const images = decoder.decode(bytes);
  try {
    const image = images.find((i) => i.is_primary()) ?? images[0];
    if (!image) throw new UndecodableImageError('no image in the HEIF file');
    const width = image.get_width();
    const height = image.get_height();
    const data = await new Promise<Uint8ClampedArray>((resolve, reject) =>
      image.display({ data: new Uint8ClampedArray(width * height * 4), width, height }, (result) =>
        result ? resolve(result.data) : reject(new UndecodableImageError('the HEIF image could not be decoded')),
      ),
    );
    return { data, width, height };
  } finally {
    for (const image of images) image.free();
    decoder.decoder.delete();
  }
}

/** The decoded image, upright, ready to resize; HEIC through libheif, the rest through libvips. */
async function source(bytes: Uint8Array, mime: string): Promise<Sharp> {
  if (mime === 'image/heic' || mime === 'image/heif') {
    try {
      const { data, width, height } = await decodeHeic(bytes);
      return sharp(data, { raw: { width, height, channels: 4 } });
    } catch (err) {
      // An HEIF that is not HEVC-coded (AV1 inside, say) libvips itself can read.
      if (!(err instanceof UndecodableImageError)) throw err;
    }
  }
  // The first frame of an animation; rotated by its EXIF orientation.
  return sharp(bytes, { pages: 1, failOn: 'error', limitInputPixels: 100_000_000 }).autoOrient();
}

/**
 * The thumb (longest side 400) and display (2048) copies of an image, as WebP: never upscaled,
 * upright, converted to sRGB with no ICC profile, EXIF, XMP or GPS (sharp writes no metadata unless
 * asked). Throws UndecodableImageError for bytes no decoder reads.
 */
export async function makeVariants(bytes: Uint8Array, mime: string): Promise<Record<VariantName, MadeVariant>> {
  try {
    const upright = await source(bytes, mime);
    const make = async (side: number): Promise<MadeVariant> => {
      const { data, info } = await upright
        .clone()
        .resize(side, side, { fit: 'inside', withoutEnlargement: true })
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
