import { deflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';

/** A real baseline JPEG of the given size (noise, so it does not compress to nothing). */
export function makeJpeg(width = 32, height = 24, quality = 90): Buffer {
  const data = Buffer.alloc(width * height * 4);
  let seed = width * 7919 + height;
  for (let i = 0; i < data.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    data[i] = i % 4 === 3 ? 255 : seed >> 16;
  }
  return Buffer.from(jpeg.encode({ data, width, height }, quality).data);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A real RGB PNG of the given size. */
export function makePng(width = 4, height = 3): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let i = 0; i < rows.length; i++) rows[i] = i % (width * 3 + 1) === 0 ? 0 : (i * 37) & 0xff;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A 1×1 GIF89a. */
export const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

/** A PNG whose header claims `width`×`height` but whose data is tiny: a decompression bomb's shape. */
export function pngBomb(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.alloc(1024))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * A real JPEG that looks like a photo: a landscape (sky, sun, three ridges, water) in colours chosen
 * by `seed`, for the gallery page's screenshots and browser tests.
 */
export function makeLandscape(width = 1200, height = 800, seed = 1, quality = 85): Buffer {
  const data = Buffer.alloc(width * height * 4);
  const palettes: number[][][] = [
    [
      [255, 183, 120],
      [250, 120, 110],
      [92, 60, 120],
      [52, 40, 90],
      [28, 24, 60],
      [240, 150, 120],
    ],
    [
      [150, 205, 250],
      [95, 160, 230],
      [70, 120, 110],
      [45, 90, 80],
      [25, 60, 55],
      [120, 180, 220],
    ],
    [
      [255, 230, 170],
      [250, 190, 120],
      [150, 110, 90],
      [105, 75, 70],
      [60, 45, 50],
      [230, 180, 130],
    ],
    [
      [200, 215, 240],
      [160, 175, 220],
      [95, 105, 150],
      [65, 70, 115],
      [35, 40, 75],
      [170, 185, 225],
    ],
  ];
  const [skyTop = [], skyLow = [], r1 = [], r2 = [], r3 = [], water = []] = palettes[seed % palettes.length] ?? [];
  const mix = (a: number[], b: number[], t: number) => a.map((v, i) => v + ((b[i] ?? 0) - v) * t);
  const phase = seed * 1.7;
  const ridge = (x: number, base: number, amp: number, f: number) =>
    height * (base - amp * (Math.sin(x * f + phase) * 0.6 + Math.sin(x * f * 2.3 + phase * 2) * 0.3 + Math.sin(x * f * 5.1 + phase) * 0.1));
  const sunX = width * (0.25 + ((seed * 0.37) % 0.5));
  const sunY = height * 0.32;
  const sunR = Math.min(width, height) * 0.07;
  const horizon = height * 0.78;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x / width;
      let c = mix(skyTop, skyLow, Math.min(1, y / horizon));
      const d = Math.hypot(x - sunX, y - sunY);
      if (d < sunR) c = [255, 246, 220];
      else if (d < sunR * 4) c = mix([255, 240, 200], c, Math.min(1, (d - sunR) / (sunR * 3) + 0.35));
      if (y > ridge(u, 0.55, 0.12, 5)) c = r1;
      if (y > ridge(u, 0.65, 0.08, 8)) c = r2;
      if (y > ridge(u, 0.74, 0.05, 13)) c = r3;
      if (y > horizon) c = mix(water, r3, ((y - horizon) / (height - horizon)) * 0.8);
      const i = (y * width + x) * 4;
      data[i] = c[0] ?? 0;
      data[i + 1] = c[1] ?? 0;
      data[i + 2] = c[2] ?? 0;
      data[i + 3] = 255;
    }
  }
  return Buffer.from(jpeg.encode({ data, width, height }, quality).data);
}
