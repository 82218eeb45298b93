import { imageSize } from 'image-size';

// Sizes from an image's leading bytes only (nothing decoded): as a viewer displays it, and the
// largest canvas a decoder allocates for it. image-size alone is not enough: it reports a JPEG's
// stored size whatever its EXIF orientation, and for HEIF/AVIF it ignores the rotation (irot), takes
// the largest `ispe` rather than the primary item's, misreads the clean aperture (clap) and knows
// nothing of a grid's canvas; for a GIF it reports the logical screen, which the first frame may
// outgrow.

/** An image's size as displayed, and as stored. */
export interface DisplayedSize {
  width: number;
  height: number;
  storedWidth: number;
  storedHeight: number;
}

/** A pixel buffer's width and height. */
export interface Canvas {
  width: number;
  height: number;
}

/** ISOBMFF brands of still images in a HEIF container (HEIC, HEIF, AVIF). */
const HEIF_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1', 'mif2', 'avif', 'avis', 'miaf']);

/** Thrown for a header that is complete but wrong: no amount of further bytes will make it readable. */
export class CorruptHeaderError extends Error {
  override name = 'CorruptHeaderError';
}

/** What a header says: the displayed size, and the largest canvas a decoder allocates. */
interface Header {
  displayed: DisplayedSize;
  largest: Canvas;
}

/**
 * The displayed size of the image whose file starts with `bytes`. JPEG: EXIF Orientation 5–8 swaps
 * width and height. HEIF/HEIC/AVIF: the primary item's `ispe`, cut by `clap`, swapped by an odd `irot`
 * (`imir` keeps the size; an EXIF orientation inside a HEIF is ignored, as the format requires).
 * GIF: the logical screen, grown to hold the first frame (as libnsgif and browsers do). PNG, WebP:
 * image-size. Undefined when the bytes end before the size is known (read more, ask again) or the
 * format is not one of these; throws CorruptHeaderError for a header no read can cure.
 */
export function displayedSize(bytes: Uint8Array): DisplayedSize | undefined {
  return readHeader(bytes)?.displayed;
}

/**
 * The largest pixel buffer any decoder the service uses (libheif, libvips) would allocate for the
 * image whose file starts with `bytes`, from its header alone: what an image bomb cannot hide. JPEG:
 * the frame header. PNG (an APNG's frames too, which must fit it): IHDR. WebP: the canvas (libwebp
 * refuses a frame outside it). GIF: the screen grown by the first frame. HEIF/AVIF: the largest of
 * every image item's `ispe` (before any crop or rotation: the primary, tiles, alpha and other
 * auxiliary images, thumbnails), every grid's and overlay's canvas from its data, and a grid's tiles
 * all together when they overhang its canvas; a coded image without `ispe`, or a grid whose tiles do
 * not tile its canvas, is corrupt. Undefined and throws as displayedSize does.
 */
export function largestCanvas(bytes: Uint8Array): Canvas | undefined {
  return readHeader(bytes)?.largest;
}

function readHeader(bytes: Uint8Array): Header | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return jpegHeader(b);
    if (b.length >= 12 && b.toString('latin1', 4, 8) === 'ftyp') return heifHeader(b);
    if (b.length >= 6 && (b.toString('latin1', 0, 6) === 'GIF87a' || b.toString('latin1', 0, 6) === 'GIF89a')) return gifHeader(b);
  } catch (err) {
    // A field that points outside the bytes: a box or segment that lies about its length.
    if (err instanceof RangeError) throw new CorruptHeaderError('a header field points outside the file', { cause: err });
    throw err;
  }
  try {
    // A copy with its own ArrayBuffer: image-size reads past the end of a view into its buffer.
    const { width, height, type } = imageSize(new Uint8Array(bytes.subarray(0, 64 * 1024)));
    if (type !== 'png' && type !== 'webp') return undefined; // no decoder of the service's reads it
    return width > 0 && height > 0 ? same(width, height) : undefined;
  } catch {
    return undefined;
  }
}

/** A header whose displayed size, stored size and largest canvas are all width × height. */
const same = (width: number, height: number): Header => ({
  displayed: { width, height, storedWidth: width, storedHeight: height },
  largest: { width, height },
});

function jpegHeader(b: Buffer): Header | undefined {
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
      return {
        displayed: { width: swap ? height : width, height: swap ? width : height, storedWidth: width, storedHeight: height },
        largest: { width, height },
      };
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

/**
 * A GIF's logical screen, grown to hold its first frame: libnsgif (libvips's GIF decoder) allocates
 * that canvas, and browsers display it. Later frames are clipped to it.
 */
function gifHeader(b: Buffer): Header | undefined {
  if (b.length < 13) return undefined;
  const screenWidth = b.readUInt16LE(6);
  const screenHeight = b.readUInt16LE(8);
  const flags = b[10] ?? 0;
  let p = 13 + (flags & 0x80 ? 3 * 2 ** ((flags & 7) + 1) : 0); // the global colour table
  for (;;) {
    if (p >= b.length) return undefined;
    const block = b[p];
    if (block === 0x2c) {
      if (p + 9 > b.length) return undefined;
      const width = Math.max(screenWidth, b.readUInt16LE(p + 1) + b.readUInt16LE(p + 5));
      const height = Math.max(screenHeight, b.readUInt16LE(p + 3) + b.readUInt16LE(p + 7));
      return width > 0 && height > 0 ? same(width, height) : undefined;
    }
    if (block !== 0x21) throw new CorruptHeaderError(block === 0x3b ? 'GIF without an image' : 'GIF block of an unknown kind');
    p += 2; // introducer and label, then data sub-blocks up to an empty one
    for (;;) {
      if (p >= b.length) return undefined;
      const length = b[p] ?? 0;
      p += 1 + length;
      if (length === 0) break;
    }
  }
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

/** Reads the fields of one box in order, never past its end: a count that lies cannot run on. */
class Fields {
  constructor(
    private readonly b: Buffer,
    public at: number,
    private readonly end: number,
  ) {}

  private take(n: number): number {
    const at = this.at;
    if (at + n > this.end) throw new CorruptHeaderError('HEIF box shorter than its fields');
    this.at += n;
    return at;
  }

  /** An unsigned big-endian integer of 0, 1, 2, 4 or 8 bytes. */
  uint(n: number): number {
    const at = this.take(n);
    if (n === 0) return 0;
    return n === 8 ? Number(this.b.readBigUInt64BE(at)) : this.b.readUIntBE(at, n);
  }

  type(): string {
    return this.b.toString('latin1', this.take(4), this.at);
  }

  /** A NUL-terminated string (its end too, if a writer left the NUL out). */
  text(): string {
    const nul = this.b.indexOf(0, this.at);
    const stop = nul < 0 || nul >= this.end ? this.end : nul;
    const value = this.b.toString('utf8', this.at, stop);
    this.at = Math.min(stop + 1, this.end);
    return value;
  }
}

/** Item types libheif decodes as coded pixels, whose size only `ispe` gives before decoding. */
const CODED_TYPES = new Set(['hvc1', 'av01', 'avc1', 'vvc1', 'lhv1', 'jpeg', 'j2k1', 'unci', 'mski', 'tili']);

interface Item {
  type: string;
  contentType: string;
}

interface Location {
  method: number;
  base: number;
  extents: { offset: number; length: number }[];
}

function heifHeader(b: Buffer): Header | undefined {
  const top = boxes(b, 0, b.length).list;
  const ftyp = top[0];
  if (ftyp?.type !== 'ftyp' || ftyp.end > b.length) return undefined;
  const brands = [b.toString('latin1', ftyp.body, ftyp.body + 4)];
  for (let o = ftyp.body + 8; o + 4 <= ftyp.end; o += 4) brands.push(b.toString('latin1', o, o + 4));
  if (!brands.some((brand) => HEIF_BRANDS.has(brand))) return undefined; // an MP4 video, say
  const meta = top.find((box) => box.type === 'meta');
  if (!meta || meta.end > b.length) return undefined; // read more: meta normally follows ftyp
  const children = boxes(b, meta.body + 4, meta.end).list; // meta is a FullBox
  const child = (type: string) => children.find((box) => box.type === type);
  const pitm = child('pitm');
  const iprp = child('iprp');
  if (!pitm || !iprp) throw new CorruptHeaderError('HEIF without pitm or iprp');
  const primary = b[pitm.body] === 0 ? b.readUInt16BE(pitm.body + 4) : b.readUInt32BE(pitm.body + 4);
  const properties = boxes(b, iprp.body, iprp.end).list;
  const ipco = properties.find((box) => box.type === 'ipco');
  if (!ipco) throw new CorruptHeaderError('HEIF without ipco');
  const props = boxes(b, ipco.body, ipco.end).list; // property i (1-based) is props[i - 1]
  const associated = associations(b, properties, props);
  const items = itemInfo(b, child('iinf'));
  const refs = derivations(b, child('iref'));
  const locations = itemLocations(b, child('iloc'));
  const idat = child('idat');

  const ispeOf = (id: number): Canvas | undefined => {
    const ispe = associated.get(id)?.find((prop) => prop.type === 'ispe');
    return ispe && { width: b.readUInt32BE(ispe.body + 4), height: b.readUInt32BE(ispe.body + 8) };
  };

  // --- as displayed: the primary item's ispe, cut by clap, turned by irot
  let clap: [number, number] | undefined;
  let rotation = 0;
  for (const prop of associated.get(primary) ?? []) {
    const d = prop.body;
    if (prop.type === 'irot') rotation = ((b[d] ?? 0) & 3) * 90;
    else if (prop.type === 'clap') {
      const [wN, wD, hN, hD] = [b.readUInt32BE(d), b.readUInt32BE(d + 4), b.readUInt32BE(d + 8), b.readUInt32BE(d + 12)];
      if (wD && hD) clap = [Math.floor(wN / wD), Math.floor(hN / hD)];
    }
  }
  const primaryIspe = ispeOf(primary);
  if (!primaryIspe) throw new CorruptHeaderError('HEIF primary item without a size');
  const [width, height] = clap ?? [primaryIspe.width, primaryIspe.height];
  const swap = rotation === 90 || rotation === 270;
  const displayed = { width: swap ? height : width, height: swap ? width : height, storedWidth: width, storedHeight: height };

  // --- the largest canvas: every item, as a decoder may be asked for any (libvips takes a page by number)
  let largest: Canvas = primaryIspe;
  const consider = (canvas: Canvas) => {
    if (canvas.width * canvas.height > largest.width * largest.height) largest = canvas;
  };
  for (const [id, item] of items) {
    const ispe = ispeOf(id);
    if (ispe) consider(ispe);
    const coded = CODED_TYPES.has(item.type) || (item.type === 'mime' && item.contentType === 'image/jpeg');
    if (coded && !ispe) throw new CorruptHeaderError(`HEIF ${item.type} image without a size (ispe)`);
    if (item.type !== 'grid' && item.type !== 'iovl') continue;
    const data = itemData(b, locations.get(id), idat, 20);
    if (!data) return undefined; // read more: the derivation's data is further on
    const canvas = derivedCanvas(data, item.type);
    consider(canvas);
    if (item.type === 'grid') consider(gridTiles(data, canvas, refs.get(id) ?? [], ispeOf));
  }
  return { displayed, largest };
}

/** The properties associated with each item (ipma), in order. */
function associations(b: Buffer, properties: Box[], props: Box[]): Map<number, Box[]> {
  const associated = new Map<number, Box[]>();
  for (const ipma of properties.filter((box) => box.type === 'ipma')) {
    const f = new Fields(b, ipma.body, ipma.end);
    const version = f.uint(1);
    const wide = (f.uint(3) & 1) === 1;
    const count = f.uint(4);
    for (let i = 0; i < count; i++) {
      const id = f.uint(version < 1 ? 2 : 4);
      const list = associated.get(id) ?? [];
      associated.set(id, list);
      const n = f.uint(1);
      for (let j = 0; j < n; j++) {
        const index = wide ? f.uint(2) & 0x7fff : f.uint(1) & 0x7f;
        if (index === 0) continue;
        const prop = props[index - 1];
        if (!prop) throw new CorruptHeaderError('HEIF association past the property list');
        list.push(prop);
      }
    }
  }
  return associated;
}

/** Each item's type (iinf), and a `mime` item's content type. */
function itemInfo(b: Buffer, iinf: Box | undefined): Map<number, Item> {
  if (!iinf) throw new CorruptHeaderError('HEIF without iinf');
  const f = new Fields(b, iinf.body, iinf.end);
  const version = f.uint(1);
  f.uint(3);
  f.uint(version === 0 ? 2 : 4); // the entry count: the boxes that follow are the entries
  const items = new Map<number, Item>();
  for (const infe of boxes(b, f.at, iinf.end).list) {
    if (infe.type !== 'infe') continue;
    const e = new Fields(b, infe.body, infe.end);
    const v = e.uint(1);
    e.uint(3);
    if (v < 2) continue; // versions 0 and 1 have no item type: not images
    const id = e.uint(v === 2 ? 2 : 4);
    e.uint(2); // protection index
    const type = e.type();
    e.text(); // name
    items.set(id, { type, contentType: type === 'mime' ? e.text() : '' });
  }
  return items;
}

/** The items each item is derived from (iref `dimg`): a grid's tiles, an overlay's layers. */
function derivations(b: Buffer, iref: Box | undefined): Map<number, number[]> {
  const from = new Map<number, number[]>();
  if (!iref) return from;
  const wide = b[iref.body] === 1;
  for (const ref of boxes(b, iref.body + 4, iref.end).list) {
    if (ref.type !== 'dimg') continue;
    const f = new Fields(b, ref.body, ref.end);
    const id = f.uint(wide ? 4 : 2);
    const count = f.uint(2);
    const to = from.get(id) ?? [];
    for (let i = 0; i < count; i++) to.push(f.uint(wide ? 4 : 2));
    from.set(id, to);
  }
  return from;
}

/** Where each item's data is (iloc). */
function itemLocations(b: Buffer, iloc: Box | undefined): Map<number, Location> {
  const locations = new Map<number, Location>();
  if (!iloc) return locations;
  const f = new Fields(b, iloc.body, iloc.end);
  const version = f.uint(1);
  f.uint(3);
  const sizes = f.uint(2);
  const [offsetSize, lengthSize, baseSize] = [sizes >> 12, (sizes >> 8) & 15, (sizes >> 4) & 15];
  const indexSize = version >= 1 ? sizes & 15 : 0;
  const count = f.uint(version < 2 ? 2 : 4);
  for (let i = 0; i < count; i++) {
    const id = f.uint(version < 2 ? 2 : 4);
    const method = version >= 1 ? f.uint(2) & 15 : 0;
    if (f.uint(2) !== 0) throw new CorruptHeaderError('HEIF item data in another file');
    const base = f.uint(baseSize);
    const extents = [];
    for (let n = f.uint(2); n > 0; n--) {
      f.uint(indexSize);
      extents.push({ offset: f.uint(offsetSize), length: f.uint(lengthSize) });
    }
    locations.set(id, { method, base, extents });
  }
  return locations;
}

/**
 * The first `want` bytes of an item's data (fewer if it is shorter), in the file (construction method
 * 0) or in idat (1); undefined when they lie past the bytes there are.
 */
function itemData(b: Buffer, location: Location | undefined, idat: Box | undefined, want: number): Buffer | undefined {
  if (!location) throw new CorruptHeaderError('HEIF derived image without data');
  if (location.method > 1) throw new CorruptHeaderError('HEIF item data by reference to another item');
  if (location.method === 1 && !idat) throw new CorruptHeaderError('HEIF item data in idat without an idat');
  const [origin, end] = location.method === 1 && idat ? [idat.body, idat.end] : [0, Number.POSITIVE_INFINITY];
  const parts: Buffer[] = [];
  let have = 0;
  for (const { offset, length } of location.extents) {
    if (have >= want) break;
    const start = origin + location.base + offset;
    const stop = Math.min(length === 0 ? end : start + length, end, start + want - have);
    if (stop > b.length) return undefined;
    if (start > stop) throw new CorruptHeaderError('HEIF item data outside its box');
    parts.push(b.subarray(start, stop));
    have += stop - start;
  }
  return Buffer.concat(parts);
}

/** The canvas of a grid (ImageGrid) or an overlay (ImageOverlay), from the item's data. */
function derivedCanvas(data: Buffer, type: string): Canvas {
  const f = new Fields(data, 0, data.length);
  f.uint(1); // version
  const wide = (f.uint(1) & 1) === 1;
  if (type === 'grid')
    f.uint(2); // rows and columns, minus one each
  else f.uint(8); // the canvas fill colour
  return { width: f.uint(wide ? 4 : 2), height: f.uint(wide ? 4 : 2) };
}

/**
 * The pixels a grid's tiles decode to when they overhang its canvas (each is decoded whole, then
 * cut): all its tiles, side by side. A grid whose tiles do not tile its canvas — another number of
 * tiles than rows × columns, tiles of different sizes, a row or column of them wholly outside it — is
 * corrupt: only such a grid could make its decoder do far more work than its canvas.
 */
function gridTiles(data: Buffer, canvas: Canvas, tiles: number[], ispeOf: (id: number) => Canvas | undefined): Canvas {
  const rows = (data[2] ?? 0) + 1;
  const columns = (data[3] ?? 0) + 1;
  if (tiles.length !== rows * columns) throw new CorruptHeaderError(`HEIF grid of ${rows}×${columns} with ${tiles.length} tiles`);
  const sizes = tiles.map((id) => ispeOf(id));
  const first = sizes[0];
  if (!first || sizes.some((s) => s?.width !== first.width || s.height !== first.height)) {
    throw new CorruptHeaderError('HEIF grid whose tiles are not all of one size');
  }
  const spans = (n: number, tile: number, side: number) => (n - 1) * tile < side && side <= n * tile;
  if (!spans(columns, first.width, canvas.width) || !spans(rows, first.height, canvas.height)) {
    throw new CorruptHeaderError('HEIF grid whose tiles do not tile its canvas');
  }
  const overhang = first.width > canvas.width || first.height > canvas.height;
  return overhang ? { width: columns * first.width, height: rows * first.height } : canvas;
}
