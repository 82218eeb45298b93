import { imageSize } from 'image-size';

// Width and height as a viewer displays an image, from its leading bytes only (nothing decoded).
// image-size alone is not enough: it reports a JPEG's stored size whatever its EXIF orientation, and
// for HEIF/AVIF it ignores the rotation (irot), takes the largest `ispe` rather than the primary
// item's and misreads the clean aperture (clap).

/** An image's size as displayed, and as stored. */
export interface DisplayedSize {
  width: number;
  height: number;
  storedWidth: number;
  storedHeight: number;
}

/** ISOBMFF brands of still images in a HEIF container (HEIC, HEIF, AVIF). */
const HEIF_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1', 'mif2', 'avif', 'avis', 'miaf']);

/** Thrown for a header that is complete but wrong: no amount of further bytes will make it readable. */
export class CorruptHeaderError extends Error {
  override name = 'CorruptHeaderError';
}

/**
 * The displayed size of the image whose file starts with `bytes`. JPEG: EXIF Orientation 5–8 swaps
 * width and height. HEIF/HEIC/AVIF: the primary item's `ispe`, cut by `clap`, swapped by an odd `irot`
 * (`imir` keeps the size; an EXIF orientation inside a HEIF is ignored, as the format requires).
 * Others: image-size. Undefined when the bytes end before the size is known (read more, ask again)
 * or the format is not one of these; throws CorruptHeaderError for a header no read can cure.
 */
export function displayedSize(bytes: Uint8Array): DisplayedSize | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return jpegSize(b);
    if (b.length >= 12 && b.toString('latin1', 4, 8) === 'ftyp') return heifSize(b);
  } catch (err) {
    // A field that points outside the bytes: a box or segment that lies about its length.
    if (err instanceof RangeError) throw new CorruptHeaderError('a header field points outside the file', { cause: err });
    throw err;
  }
  try {
    // A copy with its own ArrayBuffer: image-size reads past the end of a view into its buffer.
    const { width, height } = imageSize(new Uint8Array(bytes.subarray(0, 64 * 1024)));
    return width > 0 && height > 0 ? { width, height, storedWidth: width, storedHeight: height } : undefined;
  } catch {
    return undefined;
  }
}

function jpegSize(b: Buffer): DisplayedSize | undefined {
  let orientation: number | undefined;
  let p = 2;
  while (p + 4 <= b.length) {
    if (b[p] !== 0xff) throw new CorruptHeaderError('JPEG segment without a marker');
    const marker = b[p + 1] ?? 0;
    if (marker === 0xff) {
      p++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      p += 2; // markers without a length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) throw new CorruptHeaderError('JPEG data before any frame header');
    const length = b.readUInt16BE(p + 2);
    const segment = b.subarray(p + 4, Math.min(p + 2 + length, b.length));
    if (marker === 0xe1 && orientation === undefined && segment.length >= 6 && segment.toString('latin1', 0, 6) === 'Exif\0\0') {
      orientation = exifOrientation(segment.subarray(6));
    }
    // SOF0–SOF15, but DHT (C4), JPG (C8) and DAC (CC) are not frame headers.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (segment.length < 5) return undefined;
      const height = segment.readUInt16BE(1);
      const width = segment.readUInt16BE(3);
      const swap = orientation !== undefined && orientation >= 5;
      return { width: swap ? height : width, height: swap ? width : height, storedWidth: width, storedHeight: height };
    }
    p += 2 + length;
  }
  return undefined;
}

/** The Orientation tag (0x0112) of IFD0 in a TIFF structure (EXIF), at the offset its header names. */
function exifOrientation(t: Buffer): number | undefined {
  if (t.length < 8) return undefined;
  const order = t.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return undefined;
  const le = order === 'II';
  const u16 = (o: number) => (le ? t.readUInt16LE(o) : t.readUInt16BE(o));
  const u32 = (o: number) => (le ? t.readUInt32LE(o) : t.readUInt32BE(o));
  if (u16(2) !== 42) return undefined;
  const ifd = u32(4);
  if (ifd + 2 > t.length) return undefined;
  const entries = u16(ifd);
  for (let i = 0; i < entries; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > t.length) return undefined;
    if (u16(e) === 0x0112) {
      const type = u16(e + 2);
      const value = type === 3 ? u16(e + 8) : type === 4 ? u32(e + 8) : 0; // SHORT (LONG tolerated)
      return value >= 1 && value <= 8 ? value : undefined;
    }
  }
  return undefined;
}

interface Box {
  type: string;
  body: number;
  end: number;
}

/** The child boxes of [start, end); `truncated` when one runs past the bytes there are. */
function boxes(b: Buffer, start: number, end: number): { list: Box[]; truncated: boolean } {
  const list: Box[] = [];
  const limit = Math.min(end, b.length);
  let p = start;
  while (p + 8 <= limit) {
    let size = b.readUInt32BE(p);
    let body = p + 8;
    if (size === 1) {
      if (p + 16 > limit) return { list, truncated: true };
      size = Number(b.readBigUInt64BE(p + 8));
      body = p + 16;
    } else if (size === 0) {
      size = limit - p; // to the end: only the last top-level box
    }
    if (size < body - p) throw new CorruptHeaderError('ISOBMFF box smaller than its header');
    const box = { type: b.toString('latin1', p + 4, p + 8), body, end: p + size };
    list.push(box);
    if (box.end > b.length) return { list, truncated: true };
    p += size;
  }
  return { list, truncated: p < end };
}

function heifSize(b: Buffer): DisplayedSize | undefined {
  const top = boxes(b, 0, b.length).list;
  const ftyp = top[0];
  if (ftyp?.type !== 'ftyp' || ftyp.end > b.length) return undefined;
  const brands = [b.toString('latin1', ftyp.body, ftyp.body + 4)];
  for (let o = ftyp.body + 8; o + 4 <= ftyp.end; o += 4) brands.push(b.toString('latin1', o, o + 4));
  if (!brands.some((brand) => HEIF_BRANDS.has(brand))) return undefined; // an MP4 video, say
  const meta = top.find((box) => box.type === 'meta');
  if (!meta || meta.end > b.length) return undefined; // read more: meta normally follows ftyp
  const children = boxes(b, meta.body + 4, meta.end).list; // meta is a FullBox
  const pitm = children.find((box) => box.type === 'pitm');
  const iprp = children.find((box) => box.type === 'iprp');
  if (!pitm || !iprp) throw new CorruptHeaderError('HEIF without pitm or iprp');
  const primary = b[pitm.body] === 0 ? b.readUInt16BE(pitm.body + 4) : b.readUInt32BE(pitm.body + 4);
  const properties = boxes(b, iprp.body, iprp.end).list;
  const ipco = properties.find((box) => box.type === 'ipco');
  if (!ipco) throw new CorruptHeaderError('HEIF without ipco');
  const props = boxes(b, ipco.body, ipco.end).list; // property i (1-based) is props[i - 1]

  let ispe: [number, number] | undefined;
  let clap: [number, number] | undefined;
  let rotation = 0;
  for (const ipma of properties.filter((box) => box.type === 'ipma')) {
    const version = b[ipma.body] ?? 0;
    const wide = (b.readUIntBE(ipma.body + 1, 3) & 1) === 1;
    let q = ipma.body + 4;
    const count = b.readUInt32BE(q);
    q += 4;
    for (let i = 0; i < count; i++) {
      const id = version < 1 ? b.readUInt16BE(q) : b.readUInt32BE(q);
      q += version < 1 ? 2 : 4;
      const associations = b[q++] ?? 0;
      for (let j = 0; j < associations; j++) {
        const index = wide ? b.readUInt16BE(q) & 0x7fff : (b[q] ?? 0) & 0x7f;
        q += wide ? 2 : 1;
        if (id !== primary || index === 0) continue;
        const prop = props[index - 1];
        if (!prop) throw new CorruptHeaderError('HEIF association past the property list');
        const d = prop.body;
        if (prop.type === 'ispe') ispe = [b.readUInt32BE(d + 4), b.readUInt32BE(d + 8)];
        else if (prop.type === 'irot') rotation = ((b[d] ?? 0) & 3) * 90;
        else if (prop.type === 'clap') {
          const [wN, wD, hN, hD] = [b.readUInt32BE(d), b.readUInt32BE(d + 4), b.readUInt32BE(d + 8), b.readUInt32BE(d + 12)];
          if (wD && hD) clap = [Math.floor(wN / wD), Math.floor(hN / hD)];
        }
      }
    }
  }
  if (!ispe) throw new CorruptHeaderError('HEIF primary item without a size');
  const [width, height] = clap ?? ispe;
  const swap = rotation === 90 || rotation === 270;
  return { width: swap ? height : width, height: swap ? width : height, storedWidth: width, storedHeight: height };
}
