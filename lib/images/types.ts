/** An accepted image type, judged from the bytes: the key's extension and the Content-Type stored. */
export interface ImageType {
  ext: string;
  mime: string;
}

/** The accepted types by the MIME type file-type detects, with the name messages use. */
export const ACCEPTED_TYPES: Readonly<Record<string, ImageType & { name: string }>> = {
  'image/jpeg': { ext: 'jpg', mime: 'image/jpeg', name: 'JPEG' },
  'image/png': { ext: 'png', mime: 'image/png', name: 'PNG' },
  'image/apng': { ext: 'png', mime: 'image/apng', name: 'PNG' },
  'image/webp': { ext: 'webp', mime: 'image/webp', name: 'WebP' },
  'image/gif': { ext: 'gif', mime: 'image/gif', name: 'GIF' },
  'image/avif': { ext: 'avif', mime: 'image/avif', name: 'AVIF' },
  'image/heic': { ext: 'heic', mime: 'image/heic', name: 'HEIC' },
  'image/heif': { ext: 'heif', mime: 'image/heif', name: 'HEIF' },
};

/** The Content-Types a client may declare for a direct upload: the accepted types' own. */
export const DECLARABLE_TYPES = Object.keys(ACCEPTED_TYPES);

const names = [...new Set(Object.values(ACCEPTED_TYPES).map((t) => t.name))];
/** "JPEG, PNG, WebP, GIF, AVIF, HEIC or HEIF". */
export const ACCEPTED_TYPES_TEXT = `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;

/** The accepted type a client declared, by its MIME type; undefined when it is not one. */
export function declaredType(mime: string): ImageType | undefined {
  const type = ACCEPTED_TYPES[mime.toLowerCase()];
  return type ? { ext: type.ext, mime: type.mime } : undefined;
}
