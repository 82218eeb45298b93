import { z } from 'zod';
import { ValidationError, type FieldError } from './errors';

/** Length in Unicode code points, the way Postgres VARCHAR(n) counts. */
export const codePoints = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

const required = (what: string) => ({
  error: (issue: { input: unknown }) => (issue.input === undefined ? 'is required' : `must be ${what}`),
});

/** A text field Postgres can store as it is: well-formed Unicode, no NUL, at most `max` code points. */
const text = (max: number) =>
  z
    .string(required('a string'))
    .refine((s) => s.isWellFormed(), 'must be valid Unicode text')
    .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters')
    .refine((s) => codePoints(s) <= max, `must be at most ${max} characters`);

export const titleSchema = text(32)
  .refine((s) => s.length > 0, 'must not be empty')
  .refine((s) => s.length === 0 || s.trim().length > 0, 'must not be blank');
export const descriptionSchema = text(32);

/** A file part as @middy/http-multipart-body-parser gives it. */
export interface FilePart {
  filename: string | undefined;
  mimetype: string | undefined;
  content: Buffer;
}

const isFilePart = (v: unknown): v is FilePart =>
  typeof v === 'object' && v !== null && Buffer.isBuffer((v as { content?: unknown }).content);

/** Exactly one non-empty file part. */
export const filePartSchema = z.unknown().transform((value, ctx): FilePart => {
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  if (value === undefined) return fail('is required');
  if (Array.isArray(value)) return fail('must be a single file');
  if (!isFilePart(value)) return fail('must be a file part (with a filename), not a text field');
  if (value.content.byteLength === 0) return fail('must not be empty');
  return value;
});

/** The parts of a multipart upload: title, description and file, nothing else. */
export const uploadSchema = z.strictObject({
  title: titleSchema,
  description: descriptionSchema,
  file: filePartSchema,
});

/** The JSON body of PATCH: title and/or description, nothing else. */
export const imagePatchSchema = z
  .strictObject(
    { title: titleSchema.optional(), description: descriptionSchema.optional() },
    { error: 'must be a JSON object' },
  )
  .refine((p) => p.title !== undefined || p.description !== undefined, {
    message: 'at least one of title and description is required',
  });
export type ImagePatch = z.infer<typeof imagePatchSchema>;

/** An image id in a path: a UUID, compared in its canonical lower-case form. */
export const imageIdParamsSchema = z.object({
  id: z
    .string(required('a UUID'))
    .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a UUID')
    .transform((s) => s.toLowerCase()),
});

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

/** The list endpoint's query: `limit` (1–100, default 50) and an opaque `cursor`. */
export const listQuerySchema = z.object({
  limit: z
    .string()
    .regex(/^\d{1,3}$/, `must be a whole number from 1 to ${MAX_PAGE_SIZE}`)
    .transform(Number)
    .pipe(z.number().min(1, `must be at least 1`).max(MAX_PAGE_SIZE, `must be at most ${MAX_PAGE_SIZE}`))
    .default(DEFAULT_PAGE_SIZE),
  cursor: z.string().min(1, 'must not be empty').max(200, 'is not a valid cursor').optional(),
});

/** The 422 field list for a zod error; unknown keys get one entry each. */
export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.flatMap((issue): FieldError[] => {
    const at = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: at ? `${at}.${key}` : key, message: 'is not an allowed field' }));
    }
    return [{ field: at || 'body', message: issue.message }];
  });
}

/** Validates `value` against `schema`; throws ValidationError (422) listing every bad field. */
export function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(fieldErrors(result.error));
  return result.data;
}
