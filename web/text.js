// Pure helpers of the gallery pages: titles, types, sizes, dates, camera facts, the Link header. No
// DOM here, so that the unit tests import this module as it is served. The service's limits come
// from limits.js (its OpenAPI document), loaded before any of these needs them.
import { limits } from './limits.js';

/** How many numbered titles ("Name (2)" … "Name (20)") are tried before the 409 is shown. */
export const MAX_TITLE_NUMBER = 20;

/** Length in Unicode code points, as the API counts. */
export const codePoints = (text) => [...text].length;

/** The first `max` code points of `text`. */
const cut = (text, max) => [...text].slice(0, max).join('');

/** A file's default title: its name without the extension, control characters removed, cut to the API's title limit. */
export function defaultTitle(filename) {
  const name = filename.split(/[\\/]/).pop() ?? '';
  const dot = name.lastIndexOf('.');
  const base = (dot > 0 ? name.slice(0, dot) : name).replace(/[\p{Cc}\ufffd]/gu, '').trim();
  return cut(base, limits.titleMax).trim() || 'Photo';
}

/** The n-th numbered form of a title, "Base (n)", the base cut so that the whole stays within the title limit. */
export function numberedTitle(base, n) {
  const suffix = ` (${n})`;
  return `${cut(base, limits.titleMax - codePoints(suffix)).trimEnd()}${suffix}`;
}

/**
 * The Content-Type to declare for a file: the browser's, or, when it reports none (HEIC on most
 * platforms), the accepted type its extension names (a Map: no name finds an inherited key). The
 * server judges the bytes anyway.
 */
export function declaredType(file) {
  if (file.type) return file.type;
  const ext = file.name.includes('.') ? file.name.split('.').pop().toLowerCase() : '';
  return limits.extensions.get(ext) ?? 'application/octet-stream';
}

/** Types every current browser can show (HEIC/HEIF only Safari): the others need the display variant. */
const BROWSER_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif']);

/** Whether a browser can show a file of this type itself. */
export const browserCanShow = (type) => BROWSER_TYPES.has(type);

/** "2.4 MB", "830 KB", "512 bytes". */
export function formatBytes(n) {
  if (typeof n !== 'number') return '—';
  if (n < 1000) return `${n} bytes`;
  const [value, unit] = n < 1e6 ? [n / 1e3, 'KB'] : n < 1e9 ? [n / 1e6, 'MB'] : [n / 1e9, 'GB'];
  return `${value.toLocaleString('en', { maximumFractionDigits: value < 10 ? 1 : 0 })} ${unit}`;
}

/** A limit as the service states it: "100 MiB" when it is a whole number of MiB, else as formatBytes. */
export const formatLimit = (n) => (n >= 1048576 && n % 1048576 === 0 ? `${n / 1048576} MiB` : formatBytes(n));

/** A date as the reader's locale writes it, with the time. */
export function formatDate(iso, options = { dateStyle: 'medium', timeStyle: 'short' }) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : new Intl.DateTimeFormat(undefined, options).format(date);
}

/** The `rel="next"` target of a Link header, or null. */
export function nextLink(header) {
  for (const part of (header ?? '').split(',')) {
    const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (match && /(^|;)\s*rel="?next"?\s*(;|$)/i.test(match[2])) return match[1];
  }
  return null;
}

/** Where an image stands: 'ready' with variants, 'failed', else 'pending' (also an API that predates variants). */
export function processingOf(image) {
  if (image.processing === 'ready' && image.variants?.thumb && image.variants?.display) return 'ready';
  if (image.processing === 'failed') return 'failed';
  return 'pending';
}

/** "1 photo", "3 photos". */
export const photos = (n) => `${n.toLocaleString()} ${n === 1 ? 'photo' : 'photos'}`;

/** The date and time a `taken_at` records, as its parts: the clock of the place it was taken, and the offset if recorded. */
const TAKEN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * A `taken_at` as its camera's clock read it (not moved into the reader's time zone: a sunset at 20:00
 * in Lisbon stays 20:00), with the offset when the file records one: "Jul 14, 2025, 6:03 PM
 * (UTC+02:00)"; the day alone ("Jul 14, 2025") without `withTime`.
 */
export function formatTaken(takenAt, withTime = true) {
  const m = TAKEN.exec(takenAt ?? '');
  if (!m) return '';
  const [, y, mo, d, h, mi, s, zone] = m;
  const wall = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
  const options = withTime ? { dateStyle: 'medium', timeStyle: 'short' } : { dateStyle: 'medium' };
  const text = new Intl.DateTimeFormat(undefined, { ...options, timeZone: 'UTC' }).format(wall);
  return zone && withTime ? `${text} (UTC${zone === 'Z' ? '' : zone})` : text;
}

/**
 * The month a photo is grouped under: by upload, its created_at's month where the reader is; by the
 * day it was taken, the month its camera recorded; photos with no recorded date under "Unknown date".
 */
export function monthOf(image, sort) {
  let year;
  let month;
  if (sort === 'taken') {
    const m = TAKEN.exec(image.taken_at ?? '');
    if (!m) return { key: 'unknown', label: 'Unknown date' };
    [year, month] = [+m[1], +m[2] - 1];
  } else {
    const date = new Date(image.created_at);
    [year, month] = [date.getFullYear(), date.getMonth()];
  }
  const label = new Intl.DateTimeFormat(undefined, { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(Date.UTC(year, month, 1));
  return { key: `${year}-${month}`, label };
}

/** "Apple iPhone 15 Pro"; the make once when the model repeats it ("Canon EOS R5"). */
export function formatCamera(camera) {
  const make = camera?.make?.trim() ?? '';
  const model = camera?.model?.trim() ?? '';
  if (model.toLowerCase().startsWith(make.toLowerCase())) return model;
  return [make, model].filter(Boolean).join(' ');
}

const decimal = (n, digits = 1) => n.toLocaleString('en', { maximumFractionDigits: digits });

/** An exposure as photographers write it: "f/1.8 · 1/250 s · ISO 80 · 26 mm"; only what is recorded, each part kept on one line. */
export function formatExposure(exposure) {
  if (!exposure) return '';
  const { f_number: f, exposure_time: t, iso, focal_length: focal } = exposure;
  return [
    f && `f/${decimal(f)}`,
    t && (t >= 0.3 ? `${decimal(t)}\u00a0s` : `1/${Math.round(1 / t)}\u00a0s`),
    iso && `ISO\u00a0${iso}`,
    focal && `${decimal(focal)}\u00a0mm`,
  ]
    .filter(Boolean)
    .join(' · ');
}
