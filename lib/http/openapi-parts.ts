import type { ZodType } from 'zod';
import { array, number, strictObject, string, toJSONSchema, uuid } from 'zod';
import { toProblem, UnauthorizedError } from '../errors';

// The pieces every part of the OpenAPI document is built from (lib/http/openapi.ts puts it together).

export type JsonSchema = Record<string, unknown>;

/** An error as every endpoint answers it: application/problem+json (RFC 9457). */
export const problemSchema = strictObject({
  type: string().meta({ examples: ['about:blank'] }),
  title: string().meta({ examples: ['Not Found'] }),
  status: number().int().min(400).max(599),
  detail: string(),
  errors: array(strictObject({ field: string(), message: string() }))
    .optional()
    .meta({ description: 'On a 422: every field that is wrong, and why' }),
  duplicate_of: uuid()
    .optional()
    .meta({ description: 'On the 409 of a duplicate (POST /api/v1/uploads): the id of the image that has the declared SHA-256' }),
}).meta({ id: 'Problem' });

/** A zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect), without its `$schema` and `id`. */
export function jsonSchema(schema: ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _, id: __, ...rest } = toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' });
  return rest;
}

/** The property `name` of an object schema as a parameter's schema and description. */
export function pick(objectSchema: JsonSchema, name: string): { schema: JsonSchema; description?: string } {
  const properties = objectSchema.properties as Record<string, JsonSchema>;
  const { description, examples, ...schema } = properties[name] ?? {};
  return {
    schema,
    ...(typeof description === 'string' ? { description } : {}),
    ...(Array.isArray(examples) ? { example: examples[0] } : {}),
  };
}

/** A reference to a named component schema. */
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** A problem+json response whose example is what the service answers for `error`. */
export function problem(description: string, error: unknown) {
  return {
    description,
    content: { 'application/problem+json': { schema: ref('Problem'), example: toProblem(error).body } },
  };
}

/** A JSON response of a named schema (or an array of it). */
export const jsonResponse = (
  description: string,
  schema: string,
  options: { array?: boolean; headers?: Record<string, unknown> } = {},
) => ({
  description,
  ...(options.headers ? { headers: options.headers } : {}),
  content: { 'application/json': { schema: options.array ? { type: 'array', items: ref(schema) } : ref(schema) } },
});

/** The Link header of a page whose list goes on. */
export const LINK_HEADER = {
  Link: {
    description: 'The next page, while more remain: `<…?…&cursor=…>; rel="next"`',
    required: false,
    schema: { type: 'string', pattern: '^<[^>]+>; rel="next"$' },
  },
};

/** A path parameter from a zod object schema's property. */
export const pathParameter = (schema: ZodType, name: string) => ({
  name,
  in: 'path',
  required: true,
  ...pick(jsonSchema(schema, 'input'), name),
});

/** Query parameters from a zod object schema's properties. */
export const queryParameters = (schema: ZodType, names: string[]) => {
  const object = jsonSchema(schema, 'input');
  return names.map((name) => ({ name, in: 'query', required: false, ...pick(object, name) }));
};

/** Needs the owner's key when keys are configured (and, for reads, the gallery is private); `{}` says none may do. */
export const KEYED = [{}, { bearerKey: [] }, { apiKeyHeader: [] }];

/** The 401 of a read (images, albums): only a private gallery, the default once keys are configured, asks for the key. */
export const privateRead = () =>
  problem(
    'The gallery is private (owner keys are configured, GALLERY_ACCESS is not public) and the request carries none of them',
    new UnauthorizedError(),
  );
