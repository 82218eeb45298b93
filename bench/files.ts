/** The files the bench sends: real JPEGs, as large as the paths being measured need, a HEIC and a large PNG. */

import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import jpeg from 'jpeg-js';
import { makeJpeg } from '../support/images';

export const MIB = 1024 * 1024;

/**
 * Smooth gradients with a grain of ±`grain`: pixels that look like a photo to an encoder (`channels`
 * 4 adds an opaque alpha). The same seed every time, so every run sends the same bytes.
 */
function grainyGradient(width: number, height: number, channels: 3 | 4, grain: number): Buffer {
  const data = Buffer.alloc(width * height * channels);
  let seed = 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels;
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const g = ((seed >> 16) % (2 * grain + 1)) - grain;
      data[i] = 128 + 100 * Math.sin(x / 97 + y / 211) + g;
      data[i + 1] = 128 + 100 * Math.sin(y / 71 - x / 333) + g;
      data[i + 2] = 128 + 100 * Math.sin((x + y) / 150) - g;
      if (channels === 4) data[i + 3] = 255;
    }
  }
  return data;
}

/**
 * A 12 MP photo (4000×3000): smooth gradients with a fine grain, encoded at quality 90, so that it
 * is the few MB a phone's 12 MP JPEG is (noise would make it 10 MB and more).
 */
export function photoJpeg(width = 4000, height = 3000): Buffer {
  return Buffer.from(jpeg.encode({ data: grainyGradient(width, height, 4, 8), width, height }, 90).data);
}

/** A real small JPEG padded with zeros after its end marker to `size` bytes: decoders and the server's checks accept trailing bytes. */
export function paddedJpeg(size: number): Buffer {
  const small = makeJpeg(64, 48);
  return Buffer.concat([small, Buffer.alloc(size - small.length)]);
}

/**
 * A HEIC of `jpeg`'s pixels, as a phone stores a photo (HEVC), made by Debian's `heif-enc`
 * (libheif-examples) at its default quality 50 in `folder`: about 2 MB for a 12 MP photo, and some
 * 10 to 30 seconds of encoding on this machine.
 */
export async function heicOf(jpegBytes: Buffer, folder: string): Promise<Buffer> {
  const source = join(folder, 'heic-source.jpg');
  const out = join(folder, 'heic-output.heic');
  await writeFile(source, jpegBytes);
  await promisify(execFile)('heif-enc', ['-q', '50', '-o', out, source]);
  return readFile(out);
}

/**
 * A large RGB PNG: the photo's smooth gradients with a grain that does not compress away, encoded
 * with PNG's row filters (as image editors save). 6000×4000 gives about 30 MB.
 */
export async function grainyPng(width = 6000, height = 4000): Promise<Buffer> {
  const data = grainyGradient(width, height, 3, 4);
  const { default: sharp } = await import('sharp');
  return sharp(data, { raw: { width, height, channels: 3 } })
    .png({ adaptiveFiltering: true })
    .toBuffer();
}
