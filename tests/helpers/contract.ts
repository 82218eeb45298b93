/**
 * Checks a response against the OpenAPI document: the status must be documented for the operation,
 * the body must match the documented schema of its content type, and the headers the document names
 * (Location, Link, X-Cache) must be there when required and match their schemas. A response the
 * document does not describe is an error.
 */

import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { openApiDocument } from '../../lib/http/openapi';

type JsonSchema = Record<string, unknown>;
interface MediaType {
  schema?: JsonSchema;
}
interface Header {
  required?: boolean;
  schema?: JsonSchema;
}
interface Response {
  headers?: Record<string, Header>;
  content?: Record<string, MediaType>;
}
type Operation = { operationId: string; responses: Record<string, Response> };

type Document = { paths: Record<string, Record<string, Operation>> };

let document = openApiDocument() as Document;
let ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
ajv.addSchema({ ...openApiDocument(), $id: 'openapi.json' });

/**
 * Checks responses against `doc` from now on: the document as a service configured otherwise
 * generates it (e.g. ORIGINALS_PUBLIC=false). Returns a function that goes back to the default one.
 */
export function checkAgainst(doc: Record<string, unknown>): () => void {
  const saved = { document, ajv };
  const use = (d: Document, a: Ajv2020) => {
    document = d;
    ajv = a;
    validators.clear();
  };
  const fresh = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  fresh.addSchema({ ...doc, $id: 'openapi.json' });
  use(doc as Document, fresh);
  return () => use(saved.document, saved.ajv);
}

/** Headers the document speaks of; any other header is not part of the contract. */
const CONTRACT_HEADERS = ['location', 'link', 'x-cache'];

/** The document's path for an API Gateway route (`POST /api/v1/images` → `/api/v1/images/`). */
function documentPath(routePath: string): string {
  return routePath in document.paths ? routePath : `${routePath.replace(/\/+$/, '')}/`;
}

const validators = new Map<string, ReturnType<Ajv2020['compile']>>();
function validate(schema: JsonSchema, value: unknown): string | undefined {
  const key = JSON.stringify(schema);
  let check = validators.get(key);
  if (!check) {
    // Refs inside the operation point into the document registered above.
    const rebased = JSON.parse(key.replaceAll('"#/components/', '"openapi.json#/components/')) as JsonSchema;
    check = ajv.compile(rebased);
    validators.set(key, check);
  }
  return check(value) ? undefined : ajv.errorsText(check.errors);
}

const seen = new Set<string>();

/**
 * Notes that the suite produced `status` for an operation, once per worker, in the run's record
 * folder (tests/contract-coverage.test.ts reads them all at the end).
 */
function record(operationId: string, status: number): void {
  const entry = `${operationId} ${status}`;
  const folder = process.env.CONTRACT_RECORD_DIR;
  if (seen.has(entry) || !folder) return;
  seen.add(entry);
  appendFileSync(join(folder, `${process.pid}.txt`), `${entry}\n`);
}

/** Throws when the response is not one the document describes for `METHOD /path`. */
export function assertDocumented(route: string, reply: { status: number; headers: Record<string, string>; text: string }): void {
  const [method = '', routePath = ''] = route.split(' ');
  const where = `${route} → ${reply.status}`;
  const operation = document.paths[documentPath(routePath)]?.[method.toLowerCase()];
  if (!operation) throw new Error(`${where}: the document has no operation ${route}`);
  const response = operation.responses[String(reply.status)];
  if (!response) throw new Error(`${where}: status ${reply.status} is not documented`);
  record(operation.operationId, reply.status);

  for (const name of CONTRACT_HEADERS) {
    const documented = Object.entries(response.headers ?? {}).find(([h]) => h.toLowerCase() === name)?.[1];
    const value = reply.headers[name];
    if (value !== undefined && !documented) throw new Error(`${where}: header ${name} is not documented`);
    if (documented?.required && value === undefined) throw new Error(`${where}: required header ${name} is missing`);
    if (value !== undefined && documented?.schema) {
      const problem = validate(documented.schema, value);
      if (problem) throw new Error(`${where}: header ${name}: ${problem}`);
    }
  }

  if (!response.content) {
    if (reply.text !== '') throw new Error(`${where}: a body where the document says there is none`);
    return;
  }
  const type = (reply.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
  const media = response.content[type];
  if (!media) throw new Error(`${where}: content type ${type || '(none)'} is not documented`);
  if (media.schema && /json$/.test(type)) {
    const problem = validate(media.schema, JSON.parse(reply.text));
    if (problem) throw new Error(`${where}: body does not match the document: ${problem}\n${reply.text}`);
  }
}

/** Whether `value` is valid against a schema of the document (refs resolved within it). */
export function conforms(schema: JsonSchema, value: unknown): boolean {
  return validate(schema, value) === undefined;
}

/** The document's schema of a named component (`Image`, `ImagePatch`, …). */
export function componentSchema(name: string): JsonSchema {
  return { $ref: `#/components/schemas/${name}` };
}

/** The document's schema of a parameter of `METHOD /path` (path-level parameters included). */
export function parameterSchema(route: string, name: string): JsonSchema {
  const [method = '', routePath = ''] = route.split(' ');
  const item = document.paths[documentPath(routePath)] as Record<string, unknown> | undefined;
  const operation = item?.[method.toLowerCase()] as { parameters?: { name: string; schema: JsonSchema }[] } | undefined;
  const parameters = [
    ...((item?.parameters as { name: string; schema: JsonSchema }[] | undefined) ?? []),
    ...(operation?.parameters ?? []),
  ];
  const found = parameters.find((p) => p.name === name);
  if (!found) throw new Error(`${route} has no parameter ${name}`);
  return found.schema;
}

/**
 * Whether a query or path value is what the document allows: a string parameter as it is; an
 * integer one when the text is an integer as JSON writes it, then checked as that number.
 */
export function parameterConforms(route: string, name: string, raw: string): boolean {
  const schema = parameterSchema(route, name);
  if (schema.type === 'integer') return /^-?(0|[1-9][0-9]*)$/.test(raw) && conforms(schema, Number(raw));
  return conforms(schema, raw);
}
