/** An accepted image type, judged from the bytes: the key's extension and the Content-Type stored. */
export interface ImageType {
  ext: string;
  mime: string;
}

/**
 * The accepted types by the MIME type file-type detects, with the name messages use. A Map, not an
 * object: a lookup by a client's string must never find an inherited key (`__proto__`, `constructor`).
 */
export const ACCEPTED_TYPES: ReadonlyMap<string, ImageType & { name: string }> = new Map([
  ['image/jpeg', { ext: 'jpg', mime: 'image/jpeg', name: 'JPEG' }],
  ['image/png', { ext: 'png', mime: 'image/png', name: 'PNG' }],
  ['image/apng', { ext: 'png', mime: 'image/apng', name: 'PNG' }],
  ['image/webp', { ext: 'webp', mime: 'image/webp', name: 'WebP' }],
  ['image/gif', { ext: 'gif', mime: 'image/gif', name: 'GIF' }],
  ['image/avif', { ext: 'avif', mime: 'image/avif', name: 'AVIF' }],
  ['image/heic', { ext: 'heic', mime: 'image/heic', name: 'HEIC' }],
  ['image/heif', { ext: 'heif', mime: 'image/heif', name: 'HEIF' }],
]);

/** The Content-Types a client may declare for a direct upload: the accepted types' own. */
export const DECLARABLE_TYPES = [...ACCEPTED_TYPES.keys()];

const names = [...new Set([...ACCEPTED_TYPES.values()].map((t) => t.name))];
/** "JPEG, PNG, WebP, GIF, AVIF, HEIC or HEIF". */
export const ACCEPTED_TYPES_TEXT = `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;

/** The accepted type a client declared, by its MIME type; undefined when it is not one. */
export function declaredType(mime: string): ImageType | undefined {
  const type = ACCEPTED_TYPES.get(mime.toLowerCase());
  return type ? { ext: type.ext, mime: type.mime } : undefined;
}
