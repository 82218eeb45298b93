import type { output, ZodError, ZodType } from 'zod';
import { boolean, NEVER, number, object, strictObject, string, unknown, enum as zEnum } from 'zod';
import { type FieldError, ValidationError } from '../errors';
import { isRealDay } from '../formats';
import { hasWord } from '../images/fold';
import { SORTS } from '../images/list-options';
import { ACCEPTED_TYPES_TEXT, DECLARABLE_TYPES } from '../images/types';
import { DESCRIPTION_MAX, FILENAME_MAX, TITLE_MAX } from '../schema';
import type { FilePart } from './multipart';

/** Length in Unicode code points, the way Postgres VARCHAR(n) counts. */
export const codePoints = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

export const required = (what: string) => ({
  error: (issue: { input: unknown }) => (issue.input === undefined ? 'is required' : `must be ${what}`),
});

/**
 * What a text field may hold, as the document states it (JSON Schema, ECMA-262 with the `u` flag):
 * no NUL (Postgres refuses it), no lone surrogate (not Unicode), no U+FFFD (what a decoder puts in
 * place of bytes that were not UTF-8: the client did not send that character).
 */
export const STORABLE_TEXT = '^[^\\u0000\\uD800-\\uDFFF\\uFFFD]*$';
/** The same, for a title: at least one character that is not white space. */
export const STORABLE_TITLE = '^(?=[\\s\\S]*\\S)[^\\u0000\\uD800-\\uDFFF\\uFFFD]*$';

/**
 * A text field Postgres can store as it is: well-formed Unicode, no NUL, at most `max` code points.
 * JSON Schema's maxLength counts code points too, so the documented limit is the enforced one.
 */
export const text = (max: number) =>
  string(required('a string'))
    .refine((s) => s.isWellFormed(), 'must be valid Unicode text')
    .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters')
    .refine((s) => !s.includes('\ufffd'), 'must not contain U+FFFD, the mark of bytes that were not UTF-8')
    .refine((s) => codePoints(s) <= max, `must be at most ${max} characters`);

/** A title of 1 to `max` code points, not blank, storable (text). */
export const title = (max: number, example: string, unique = 'unique; ') =>
  text(max)
    .refine((s) => s.length > 0, 'must not be empty')
    .refine((s) => s.length === 0 || s.trim().length > 0, 'must not be blank')
    .meta({
      minLength: 1,
      maxLength: max,
      pattern: STORABLE_TITLE,
      description: `1 to ${max} characters (code points), not blank, ${unique}no NUL, lone surrogate or U+FFFD`,
      examples: [example],
    });

/** A description of 0 to `max` code points, storable (text). */
export const description = (max: number, example: string) =>
  text(max).meta({
    maxLength: max,
    pattern: STORABLE_TEXT,
    description: `0 to ${max} characters (code points); an empty string is a value; no NUL, lone surrogate or U+FFFD`,
    examples: [example],
  });

export const titleSchema = title(TITLE_MAX, 'My title');
export const descriptionSchema = description(DESCRIPTION_MAX, 'Short desc');

const isFilePart = (v: unknown): v is FilePart =>
  typeof v === 'object' && v !== null && Buffer.isBuffer((v as { content?: unknown }).content);

/** Exactly one non-empty file part. */
export const filePartSchema = unknown()
  .transform((value, ctx): FilePart => {
    const fail = (message: string) => {
      ctx.addIssue({ code: 'custom', message });
      return NEVER;
    };
    if (value === undefined) return fail('is required');
    if (Array.isArray(value)) return fail('must be a single file');
    if (!isFilePart(value)) return fail('must be a file part (with a filename), not a text field');
    if (value.content.byteLength === 0) return fail('must not be empty');
    return value;
  })
  .meta({
    type: 'string',
    format: 'binary',
    contentMediaType: 'application/octet-stream',
    description: `A ${ACCEPTED_TYPES_TEXT} image, judged by its bytes; at most MAX_UPLOAD_BYTES (4 MiB by default; larger files: POST /api/v1/uploads)`,
  });

/** The parts of a multipart upload: title, description and file, nothing else. */
export const uploadSchema = strictObject({
  title: titleSchema,
  description: descriptionSchema,
  file: filePartSchema,
}).meta({ id: 'ImageUpload', description: 'The multipart/form-data parts of an upload' });

/** The JSON body of PATCH: title and/or description, nothing else. */
export const imagePatchSchema = strictObject(
  { title: titleSchema.optional(), description: descriptionSchema.optional() },
  { error: 'must be a JSON object' },
)
  .refine((p) => p.title !== undefined || p.description !== undefined, {
    message: 'at least one of title and description is required',
  })
  .meta({
    id: 'ImagePatch',
    minProperties: 1,
    description: 'The fields to change: title and/or description',
    examples: [{ title: 'New title', description: 'New desc' }],
  });

/** An id in a path: a UUID in its hyphenated form, either case, compared in lower case. */
export const uuidParam = (description: string) =>
  string(required('a UUID'))
    .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be a UUID')
    .transform((s) => s.toLowerCase())
    .meta({ format: 'uuid', description, examples: ['530918e4-2d9a-49a7-931e-fb5e18228cc1'] });

export const imageIdParamsSchema = object({ id: uuidParam('The image id') });
export const uploadIdParamsSchema = object({ id: uuidParam("The upload's id, which becomes the image's") });

/**
 * The JSON body of POST /api/v1/uploads: the image's title and description, and what the client
 * declares of the file it will send. `size` above MAX_DIRECT_UPLOAD_BYTES is a 413 and a
 * `content_type` outside the accepted types a 415 (the handler's), not a 422.
 */
export const uploadRequestSchema = strictObject(
  {
    title: titleSchema,
    description: descriptionSchema,
    filename: string(required('a string'))
      .refine((s) => s.isWellFormed(), 'must be valid Unicode text')
      .refine((s) => s.length > 0, 'must not be empty')
      .refine((s) => codePoints(s) <= 1024, 'must be at most 1024 characters')
      .meta({
        minLength: 1,
        maxLength: 1024,
        pattern: '^[^\\uD800-\\uDFFF]*$',
        description: `The file's name on the client; kept cut to its last path segment, without control characters, at most ${FILENAME_MAX} characters`,
        examples: ['IMG_0042.HEIC'],
      }),
    size: number({ error: 'must be a whole number of bytes' })
      .int('must be a whole number of bytes')
      .min(1, 'must be at least 1 byte')
      .meta({ description: 'The exact size of the file in bytes: the signed POST accepts no other' }),
    content_type: string(required('a string')).meta({
      enum: DECLARABLE_TYPES,
      description: `The file's type, in any case: ${ACCEPTED_TYPES_TEXT} (any other is a 415)`,
    }),
    sha256: string({ error: 'must be a SHA-256 in hex: 64 characters 0-9 and a-f' })
      .regex(/^[0-9a-fA-F]{64}$/, 'must be a SHA-256 in hex: 64 characters 0-9 and a-f')
      .transform((s) => s.toLowerCase())
      .optional()
      .meta({
        pattern: '^[0-9a-fA-F]{64}$',
        description:
          "The file's SHA-256 in hex (either case). An image with the same SHA-256 is a 409 naming it (unless allow_duplicate); " +
          'the signed POST then carries it as the checksum of the upload (the store refuses other bytes), and complete refuses a stored file with another SHA-256 (422)',
        examples: ['9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
      }),
    allow_duplicate: boolean({ error: 'must be true or false' })
      .default(false)
      .meta({ description: 'true: sign the upload even when an image has the declared sha256 (no effect without sha256)' }),
  },
  { error: 'must be a JSON object' },
).meta({
  id: 'UploadRequest',
  description: 'A direct upload: the image fields and what the file will be',
  examples: [
    {
      title: 'Harbour at dusk',
      description: 'From the pier',
      filename: 'IMG_0042.HEIC',
      size: 2483117,
      content_type: 'image/heic',
      sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    },
  ],
});

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

const WHOLE_NUMBER = `must be a whole number from 1 to ${MAX_PAGE_SIZE}`;
const JSON_INTEGER = /^-?(0|[1-9][0-9]*)$/;

/** `limit` (1–100, default 50), as JSON writes an integer: no sign, leading zero, space, fraction, exponent or hex. */
export const limitParam = string({ error: WHOLE_NUMBER })
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined) return DEFAULT_PAGE_SIZE;
    const n = JSON_INTEGER.test(raw) ? Number(raw) : Number.NaN;
    const problem = Number.isNaN(n)
      ? WHOLE_NUMBER
      : n < 1
        ? 'must be at least 1'
        : n > MAX_PAGE_SIZE
          ? `must be at most ${MAX_PAGE_SIZE}`
          : undefined;
    if (problem === undefined) return n;
    ctx.addIssue({ code: 'custom', message: problem });
    return NEVER;
  })
  .meta({
    type: 'integer',
    minimum: 1,
    maximum: MAX_PAGE_SIZE,
    default: DEFAULT_PAGE_SIZE,
    description: 'How many a page holds, in plain digits (no sign, leading zero, fraction or exponent)',
  });

export const cursorParam = string().min(1, 'must not be empty').max(200, 'is not a valid cursor').optional().meta({
  description:
    "Where the page starts: copy it from the previous page's Link header; opaque, and bound to the sort and filters it was made with",
});

/** The most a search may hold: a few words, not a document. */
export const MAX_QUERY_LENGTH = 200;

const dayParam = (what: string) =>
  string()
    // A value that is not YYYY-MM-DD says only that: whether its day exists is not asked.
    .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'must be a date, YYYY-MM-DD', abort: true })
    .refine(isRealDay, 'must be a date that exists')
    .optional()
    .meta({ format: 'date', description: `${what} (inclusive): the local date the photo records; photos that record none are left out` });

/** The filters and order every list of images takes (the owner's and a share's). */
const listFilters = {
  limit: limitParam,
  cursor: cursorParam,
  sort: zEnum(SORTS)
    .default('created')
    .meta({ description: 'created: newest uploaded first; taken: newest taken first, photos without a date last (newest uploaded first)' }),
  // Without a word (empty, spaces, punctuation) there is nothing to look for: no search at all, as an
  // empty search box means. (No pattern in the document for it: Swagger UI checks patterns without
  // Unicode classes, and an empty optional field against them.)
  q: string()
    .refine((s) => s.isWellFormed(), 'must be valid Unicode text')
    .refine((s) => codePoints(s) <= MAX_QUERY_LENGTH, `must be at most ${MAX_QUERY_LENGTH} characters`)
    .optional()
    .transform((s) => (s !== undefined && hasWord(s) ? s : undefined))
    .meta({
      maxLength: MAX_QUERY_LENGTH,
      pattern: '^[^\\uD800-\\uDFFF]*$',
      description:
        'Words to find in the title and description: every word must begin a word of either, case and accents aside ("sun bea" finds "Sunset at the beach", "cafe" finds "Café"); without a letter or a digit, no search',
      examples: ['sun bea'],
    }),
  taken_from: dayParam('Taken on or after this day'),
  taken_to: dayParam('Taken on or before this day'),
};

/** taken_from after taken_to is a range no photo is in: said, not answered with nothing. */
const ordered = (q: { taken_from?: string | undefined; taken_to?: string | undefined }) =>
  q.taken_from === undefined || q.taken_to === undefined || q.taken_from <= q.taken_to;
const RANGE_ORDER = { message: 'must not be after taken_to', path: ['taken_from'] };

/** GET /api/v1/images: a page, its order and filters, and an album to draw from. */
export const listQuerySchema = object({
  ...listFilters,
  album: uuidParam('Only the images of this album').optional(),
}).refine(ordered, RANGE_ORDER);

/** GET /api/v1/shared/{token}/images: the same, within the share. */
export const sharedListQuerySchema = object(listFilters).refine(ordered, RANGE_ORDER);

/** The 422 field list for a zod error; unknown keys get one entry each. */
export function fieldErrors(error: ZodError): FieldError[] {
  return error.issues.flatMap((issue): FieldError[] => {
    const at = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: at ? `${at}.${key}` : key, message: 'is not an allowed field' }));
    }
    return [{ field: at || 'body', message: issue.message }];
  });
}

/** Validates `value` against `schema`; throws ValidationError (422) listing every bad field. */
export function parse<T extends ZodType>(schema: T, value: unknown): output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(fieldErrors(result.error));
  return result.data;
}
