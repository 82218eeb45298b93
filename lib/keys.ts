import { UUID } from './formats';

// Every object key in the bucket is built and parsed here, and nowhere else. The prefixes are also
// what serverless.yml names (the processing trigger, the pending uploads' lifecycle rule, the IAM
// grants); tests/unit/keys.test.ts holds the two to the same text.

/** Originals, `images/<id>.<ext>`: a new object under this prefix triggers its processing. */
export const ORIGINALS_PREFIX = 'images/';
/** An image's displayable copies, `variants/<id>/<name>.webp`: never under ORIGINALS_PREFIX, or making them would trigger processing again. */
export const VARIANTS_PREFIX = 'variants/';
/** Direct uploads not completed yet, `uploads/<id>`: a lifecycle rule expires what is left there. */
export const PENDING_PREFIX = 'uploads/';

/** The longest extension of an original, as the accepted types name them (`jpg`, `heic`, `webp`). */
const EXTENSION_MAX = 4;
const EXTENSION = new RegExp(`^[a-z0-9]{1,${EXTENSION_MAX}}$`);

/** The longest key of an original: a UUID, a dot and the longest extension. */
export const MAX_ORIGINAL_KEY_LENGTH = ORIGINALS_PREFIX.length + 36 + 1 + EXTENSION_MAX;

/** The displayable copies of an image: their names, and the longest side of each, in pixels. */
export const VARIANT_SIDES = { thumb: 400, display: 2048 } as const;
export type VariantName = keyof typeof VARIANT_SIDES;
const VARIANT_NAMES = Object.keys(VARIANT_SIDES) as VariantName[];
const isVariantName = (name: string): name is VariantName => (VARIANT_NAMES as string[]).includes(name);

/** What a key of this service names. */
export type ParsedKey =
  | { kind: 'original'; id: string; ext: string }
  | { kind: 'variant'; id: string; name: VariantName }
  | { kind: 'pending'; id: string };

/** The id checked before it goes into a key: a malformed one could name an object outside its prefix. */
function checkedId(id: string): string {
  if (!UUID.test(id)) throw new Error(`not an id an object key can carry: ${JSON.stringify(id)}`);
  return id;
}

/** Where an image's original is stored; throws on an id or extension no key may carry. */
export function originalKey(id: string, ext: string): string {
  if (!EXTENSION.test(ext)) throw new Error(`not an extension an object key can carry: ${JSON.stringify(ext)}`);
  return `${ORIGINALS_PREFIX}${checkedId(id)}.${ext}`;
}

/** Where one displayable copy of an image is stored; throws on an id no key may carry. */
export const variantKey = (id: string, name: VariantName): string => `${VARIANTS_PREFIX}${checkedId(id)}/${name}.webp`;

/** Every variant key of an image (for a deletion: whether they were made yet or not). */
export const variantKeys = (id: string): string[] => VARIANT_NAMES.map((name) => variantKey(id, name));

/** Where a pending direct upload's file is stored until it is completed; throws on an id no key may carry. */
export const pendingKey = (id: string): string => `${PENDING_PREFIX}${checkedId(id)}`;

// The shape of each kind of key; its parts are checked below as the builders check them.
const ORIGINAL = new RegExp(`^${ORIGINALS_PREFIX}([^/.]+)\\.([^/.]+)$`);
const VARIANT = new RegExp(`^${VARIANTS_PREFIX}([^/.]+)/([^/.]+)\\.webp$`);
const PENDING = new RegExp(`^${PENDING_PREFIX}([^/.]+)$`);

/** What `key` names, exactly as one of the builders above would have written it; undefined for any other string. */
export function parseKey(key: string): ParsedKey | undefined {
  const original = ORIGINAL.exec(key);
  if (original?.[1] !== undefined && original[2] !== undefined && UUID.test(original[1]) && EXTENSION.test(original[2])) {
    return { kind: 'original', id: original[1], ext: original[2] };
  }
  const variant = VARIANT.exec(key);
  if (variant?.[1] !== undefined && variant[2] !== undefined && UUID.test(variant[1]) && isVariantName(variant[2])) {
    return { kind: 'variant', id: variant[1], name: variant[2] };
  }
  const pending = PENDING.exec(key);
  if (pending?.[1] !== undefined && UUID.test(pending[1])) return { kind: 'pending', id: pending[1] };
  return undefined;
}

/** The id of the image whose original is stored at `key`, or undefined when `key` is not an original's. */
export function imageIdOfKey(key: string): string | undefined {
  const parsed = parseKey(key);
  return parsed?.kind === 'original' ? parsed.id : undefined;
}

/**
 * The object key in a file_url this service made (`<FILES_BASE_URL>/images/<id>.<ext>`): everything
 * from its last `/images/` on, whatever the base holds before it.
 */
export function keyOfUrl(fileUrl: string): string {
  return fileUrl.slice(fileUrl.lastIndexOf(`/${ORIGINALS_PREFIX}`) + 1);
}
