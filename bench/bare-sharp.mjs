// The baseline of the processing bench (bench/sections/processing.ts), forked by it: what
// lib/variants/make.ts does to an image, with the libraries alone — the file read from disk, then
// sharp (after libheif's WASM decode for a HEIC) — in a process of its own, as the function runs in
// its own. Says it is ready, then answers each message { path, heic, sides } with the time of the
// work, the process's CPU time meanwhile, each copy's SHA-256 and size (for the section to check
// that the function made the same bytes) and the process's maxRSS.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';

// make.ts's options, restated: the section fails the run unless both make byte-identical copies.
const INPUT = { pages: 1, failOn: 'error', limitInputPixels: 100_000_000 };
const WEBP = { quality: 82, effort: 4 };

let libheif;

/** The primary image's RGBA pixels, rotated and mirrored as stored, as make.ts decodes a HEIC. */
async function decodeHeic(bytes) {
  libheif ??= (await import('libheif-js/wasm-bundle.js')).default;
  const decoder = new libheif.HeifDecoder();
  const images = decoder.decode(bytes);
  try {
    const image = images.find((i) => i.is_primary()) ?? images[0];
    const width = image.get_width();
    const height = image.get_height();
    const data = await new Promise((resolve, reject) =>
      image.display({ data: new Uint8ClampedArray(width * height * 4), width, height }, (result) =>
        result ? resolve(result.data) : reject(new Error('the HEIF image could not be decoded')),
      ),
    );
    return { data, width, height };
  } finally {
    for (const image of images) image.free();
    decoder.decoder.delete();
  }
}

async function makeCopies(path, heic, sides) {
  const bytes = await readFile(path);
  let upright;
  if (heic) {
    const { data, width, height } = await decodeHeic(bytes);
    upright = sharp(data, { raw: { width, height, channels: 4 } });
  } else {
    upright = sharp(bytes, INPUT).autoOrient();
  }
  const make = (side) =>
    upright.clone().resize(side, side, { fit: 'inside', withoutEnlargement: true }).webp(WEBP).toBuffer({ resolveWithObject: true });
  const names = Object.keys(sides);
  const made = await Promise.all(names.map((name) => make(sides[name])));
  return Object.fromEntries(names.map((name, i) => [name, made[i]]));
}

process.send({ ready: true });
process.on('disconnect', () => process.exit(0));
process.on('message', async ({ path, heic, sides }) => {
  try {
    const cpu = process.cpuUsage();
    const t = performance.now();
    const copies = await makeCopies(path, heic, sides);
    const ms = performance.now() - t;
    const { user, system } = process.cpuUsage(cpu);
    const variants = Object.fromEntries(
      Object.entries(copies).map(([name, { data, info }]) => [
        name,
        { sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length, width: info.width, height: info.height },
      ]),
    );
    process.send({ ms, cpuMs: (user + system) / 1000, variants, maxRss: process.resourceUsage().maxRSS * 1024 });
  } catch (err) {
    process.send({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
});
