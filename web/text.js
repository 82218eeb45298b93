// Pure helpers of the gallery page: titles, types, sizes, dates, the Link header. No DOM here, so
// that the unit tests import this module as it is served.

/** The longest title the API accepts, in code points (Postgres VARCHAR(32)). */
export const TITLE_MAX = 32;

/** How many numbered titles ("Name (2)" … "Name (20)") are tried before the 409 is shown. */
export const MAX_TITLE_NUMBER = 20;

/** Length in Unicode code points, as the API counts. */
export const codePoints = (text) => [...text].length;

/** The first `max` code points of `text`. */
const cut = (text, max) => [...text].slice(0, max).join('');

/** A file's default title: its name without the extension, control characters removed, cut to 32 code points. */
export function defaultTitle(filename) {
  const name = filename.split(/[\\/]/).pop() ?? '';
  const dot = name.lastIndexOf('.');
  const base = (dot > 0 ? name.slice(0, dot) : name).replace(/[\p{Cc}\ufffd]/gu, '').trim();
  return cut(base, TITLE_MAX).trim() || 'Photo';
}

/** The n-th numbered form of a title, "Base (n)", the base cut so that the whole stays within 32 code points. */
export function numberedTitle(base, n) {
  const suffix = ` (${n})`;
  return `${cut(base, TITLE_MAX - codePoints(suffix)).trimEnd()}${suffix}`;
}

/** The image types the API accepts, by file extension. */
const TYPES_BY_EXTENSION = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  jpe: 'image/jpeg',
  jfif: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
  heic: 'image/heic',
  heif: 'image/heif',
  hif: 'image/heif',
};

/**
 * The Content-Type to declare for a file: the browser's, or, when it reports none (HEIC on most
 * platforms), the one its extension names. The server judges the bytes anyway.
 */
export function declaredType(file) {
  if (file.type) return file.type;
  const ext = file.name.includes('.') ? file.name.split('.').pop().toLowerCase() : '';
  return TYPES_BY_EXTENSION[ext] ?? 'application/octet-stream';
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
