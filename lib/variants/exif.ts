import { Exifr } from 'exifr/src/core.mjs';
import 'exifr/src/file-parsers/tiff.mjs';
import 'exifr/src/segment-parsers/tiff-exif.mjs';
import sharp from 'sharp';
import type { Camera, Exposure } from '../schema';

// The EXIF block is taken out of its container by sharp, which reads the file's headers only
// (libvips for JPEG, PNG and WebP, libheif for HEIC and AVIF; so a PNG's eXIf chunk after the image
// data is not seen), and exifr decodes just the TIFF structure in it, from its core and TIFF plugins
// (about 20 KB bundled, its full build 74 KB). exifr's own container parsers are not used: none reads
// WebP, its HEIF parser loops for ever on a box of length 0 after `ftyp`, and its PNG parser inflates
// any iCCP chunk whatever it is asked for.

/** What a photo's EXIF says about when it was taken and with what. GPS is never read. */
export interface PhotoFacts {
  /** The API's taken_at: RFC 3339 with offset, or local date-time without zone; null when unknown. */
  taken_at: string | null;
  /** The same moment's wall-clock local time, `YYYY-MM-DDTHH:MM:SS[.ffffff]`, for sorting and date filters; null when unknown. */
  taken_local: string | null;
  /** Null when none of its members is known. */
  camera: Camera | null;
  /** Null when none of its members is known. */
  exposure: Exposure | null;
}

/** The tags read, by number: exifr is loaded without its dictionaries of names. */
const TAG = {
  Make: 0x010f,
  Model: 0x0110,
  ExposureTime: 0x829a,
  FNumber: 0x829d,
  /** ISOSpeedRatings, called PhotographicSensitivity since EXIF 2.3. */
  ISO: 0x8827,
  StandardOutputSensitivity: 0x8831,
  RecommendedExposureIndex: 0x8832,
  ISOSpeed: 0x8833,
  DateTimeOriginal: 0x9003,
  OffsetTimeOriginal: 0x9011,
  FocalLength: 0x920a,
  SubSecTimeOriginal: 0x9291,
  LensModel: 0xa434,
} as const;

/**
 * Only the tags above, from IFD0 and the Exif IFD (exifr stops reading each IFD once it has them);
 * no GPS, interoperability or thumbnail IFD, maker note or user comment. Values as recorded: a date
 * stays the string it is (exifr would make it a Date in the process's time zone), a number a number.
 */
const EXIFR_OPTIONS = {
  ifd0: { pick: [TAG.Make, TAG.Model] },
  exif: {
    pick: [
      TAG.ExposureTime,
      TAG.FNumber,
      TAG.ISO,
      TAG.StandardOutputSensitivity,
      TAG.RecommendedExposureIndex,
      TAG.ISOSpeed,
      TAG.DateTimeOriginal,
      TAG.OffsetTimeOriginal,
      TAG.FocalLength,
      TAG.SubSecTimeOriginal,
      TAG.LensModel,
    ],
  },
  gps: false,
  interop: false,
  ifd1: false,
  makerNote: false,
  userComment: false,
  xmp: false,
  icc: false,
  iptc: false,
  jfif: false,
  ihdr: false,
  translateKeys: false,
  translateValues: false,
  reviveValues: false,
};

/** The longest camera string kept, in code points. */
const MAX_TEXT = 64;

/**
 * The values taken as possible, beyond which a number is junk: f/0.5 is the limit of a lens in air;
 * a day is longer than any exposure a camera records; the highest ISO of any camera is a few million.
 */
const RANGE = {
  f_number: [0.5, 1000],
  exposure_time: [1e-6, 86_400],
  iso: [1, 10_000_000],
  focal_length: [0.1, 10_000],
} as const;

/** "Exif\0\0": the header before the TIFF structure in a JPEG's APP1 segment and a HEIF's Exif item. */
const EXIF_HEADER = Buffer.from('Exif\0\0', 'latin1');

const noFacts = (): PhotoFacts => ({ taken_at: null, taken_local: null, camera: null, exposure: null });

/**
 * When a photo was taken, and its camera and exposure, from the EXIF of its file (`mime` the type
 * detected). Never throws: a file without EXIF, a GIF, an unreadable or corrupt EXIF block gives all
 * nulls; a value that is missing, malformed or impossible gives null for what depends on it.
 */
export async function readPhotoFacts(bytes: Uint8Array, mime: string): Promise<PhotoFacts> {
  try {
    const tags = await readTags(bytes, mime);
    return tags ? factsOf(tags) : noFacts();
  } catch {
    return noFacts();
  }
}

/** The tags picked, by number; undefined when the file has no EXIF block. Throws for an unreadable one. */
async function readTags(bytes: Uint8Array, mime: string): Promise<Record<string, unknown> | undefined> {
  if (mime.toLowerCase() === 'image/gif') return undefined; // GIF has no place for EXIF
  // The bytes are not copied; nothing is decoded, so no pixel limit applies.
  const { exif } = await sharp(bytes, { failOn: 'none', limitInputPixels: false }).metadata();
  const tiff = exif && tiffOf(exif);
  if (!tiff) return undefined;
  const exifr = new Exifr(EXIFR_OPTIONS);
  await exifr.read(tiff);
  return exifr.parse();
}

/**
 * The TIFF structure of an EXIF block (sharp gives a JPEG's and a HEIF's with the "Exif\0\0" header, a
 * PNG's and a WebP's as stored), in a copy of its own (a few KB): exifr bounds a value by the memory
 * under its view, not by the view, so whatever memory sharp's Buffer sits in, a value that runs past
 * the block fails instead of reading on.
 */
function tiffOf(exif: Buffer): Uint8Array | undefined {
  const tiff = exif.subarray(0, EXIF_HEADER.length).equals(EXIF_HEADER) ? exif.subarray(EXIF_HEADER.length) : exif;
  const order = tiff.toString('latin1', 0, 4);
  return order === 'II*\0' || order === 'MM\0*' ? new Uint8Array(tiff) : undefined;
}

function factsOf(tags: Record<string, unknown>): PhotoFacts {
  const local = localDateTime(tags[TAG.DateTimeOriginal], tags[TAG.SubSecTimeOriginal]);
  const offset = utcOffset(tags[TAG.OffsetTimeOriginal]);
  const camera: Camera = { make: text(tags[TAG.Make]), model: text(tags[TAG.Model]), lens: text(tags[TAG.LensModel]) };
  const exposure: Exposure = {
    f_number: measure(tags[TAG.FNumber], RANGE.f_number),
    exposure_time: measure(tags[TAG.ExposureTime], RANGE.exposure_time),
    iso: iso(tags),
    focal_length: measure(tags[TAG.FocalLength], RANGE.focal_length),
  };
  return {
    taken_at: local !== null && offset !== null ? local + offset : local,
    taken_local: local,
    camera: Object.values(camera).some((v) => v !== null) ? camera : null,
    exposure: Object.values(exposure).some((v) => v !== null) ? exposure : null,
  };
}

const DATE_TIME = /^(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/**
 * `YYYY-MM-DDTHH:MM:SS[.ffffff]` from DateTimeOriginal ("YYYY:MM:DD HH:MM:SS", a date that exists)
 * and SubSecTimeOriginal (digits, kept as recorded up to microseconds); null for any other date. No
 * Date is made: the wall-clock time stays as recorded whatever the process's time zone.
 */
function localDateTime(dateTime: unknown, subSeconds: unknown): string | null {
  if (typeof dateTime !== 'string') return null;
  const match = DATE_TIME.exec(dateTime);
  if (!match) return null;
  const part = (i: number) => Number(match[i]);
  const [year, month, day] = [part(1), part(2), part(3)];
  const valid = year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
  if (!valid || part(4) > 23 || part(5) > 59 || part(6) > 59) return null;
  const fraction = typeof subSeconds === 'string' && /^\d+$/.test(subSeconds) ? `.${subSeconds.slice(0, 6)}` : '';
  return dateTime.replace(DATE_TIME, '$1-$2-$3T$4:$5:$6') + fraction;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** OffsetTimeOriginal as RFC 3339 writes it: "±HH:MM" within ±14:00, or "Z"; null for anything else. */
function utcOffset(value: unknown): string | null {
  if (value === 'Z') return value;
  if (typeof value !== 'string') return null;
  const match = /^[+-](\d{2}):(\d{2})$/.exec(value);
  if (!match) return null;
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  return minutes <= 59 && hours * 60 + minutes <= 14 * 60 ? value : null;
}

/** A string tag without control characters (NUL included), trimmed, at most MAX_TEXT code points; null when empty. */
function text(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const clean = value
    .toWellFormed()
    .replace(/\p{Cc}/gu, '')
    .trim();
  const cut = Array.from(clean).slice(0, MAX_TEXT).join('').trimEnd();
  return cut === '' ? null : cut;
}

/** A number within its range (so neither zero, negative, infinite nor NaN, as from a zero denominator); null otherwise. */
function inRange(value: unknown, [min, max]: readonly [number, number]): number | null {
  return typeof value === 'number' && value >= min && value <= max ? value : null;
}

/** A measure to 6 significant digits: a rational such as 1/3 s has no short decimal; 28/10 stays 2.8. */
function measure(value: unknown, range: readonly [number, number]): number | null {
  const n = inRange(value, range);
  return n === null ? null : Number(n.toPrecision(6));
}

/**
 * The ISO speed, a whole number. ISOSpeedRatings may list several values, of which the first applies;
 * 65535 there stands for "65535 or more", the value itself then being in one of the sensitivity tags
 * (EXIF 2.3, PhotographicSensitivity), as cameras that go past ISO 65535 record it.
 */
function iso(tags: Record<string, unknown>): number | null {
  const recorded = tags[TAG.ISO];
  const first = recorded instanceof Uint16Array || Array.isArray(recorded) ? recorded[0] : recorded;
  const rounded = (value: unknown) => {
    const n = inRange(value, RANGE.iso);
    return n === null ? null : Math.round(n);
  };
  if (first === 65535) {
    for (const tag of [TAG.ISOSpeed, TAG.RecommendedExposureIndex, TAG.StandardOutputSensitivity]) {
      const value = rounded(tags[tag]);
      if (value !== null && value >= 65535) return value;
    }
  }
  return rounded(first);
}
