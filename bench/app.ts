/**
 * The app in the bench's own process: its handlers called as API Gateway calls them, warmed up on
 * 1,000 rows before anything is measured, and its own read queries, cursor and cache key, so that
 * the raw operations and the EXPLAIN are exactly what the handlers run; and its domain's upload, which
 * stores the originals the processing function is given. Imported once the services have set the
 * environment (config is read at import).
 */

import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { fillPlaceholders } from 'drizzle-orm';
import type { SignedUpload } from '../lib/uploads/create';
import { httpEvent, lambdaContext } from '../support/lambda-events';
import { completeUploadEvent, createUploadEvent, type Services, seed, type UploadRequest } from './services';

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;

const context = lambdaContext();

/** Invokes a handler as API Gateway does; throws unless it answers `expected`. */
async function call(handler: Handler, event: APIGatewayProxyEventV2, expected: number): Promise<APIGatewayProxyStructuredResultV2> {
  const res = (await handler(event, context)) as APIGatewayProxyStructuredResultV2;
  if (res.statusCode !== expected) throw new Error(`expected ${expected}, got ${res.statusCode}: ${res.body}`);
  return res;
}

/** A query as Drizzle builds it, placeholders unbound (the app's readQueries()). */
interface BuiltQuery {
  toSQL: () => { sql: string; params: unknown[] };
}

/** The SQL of one of the app's queries and its parameters bound as the app binds them, for postgres.js. */
export function boundSql(query: BuiltQuery, values: Record<string, unknown>): { text: string; params: never[] } {
  const { sql, params } = query.toSQL();
  return { text: sql, params: fillPlaceholders(params, values) as never[] };
}

/** The page the bench lists; the list reads one row more, to know whether another page follows. */
export const PAGE_SIZE = 50;

/** GET /api/v1/images/ for a page of PAGE_SIZE, after `cursor` when one is given. */
export const listPageEvent = (cursor?: string): APIGatewayProxyEventV2 =>
  httpEvent({
    method: 'GET',
    path: '/api/v1/images/',
    route: 'GET /api/v1/images',
    query: { limit: String(PAGE_SIZE), ...(cursor ? { cursor } : {}) },
  });

export type WarmApp = Awaited<ReturnType<typeof warmApp>>;

/** Imports the handlers and the app's reads, adds 1,000 rows, and calls every path 50 times (connections, JIT). */
export async function warmApp(services: Services) {
  const handlers = {
    get: (await import('../functions/images-get')).handler as Handler,
    list: (await import('../functions/images-list')).handler as Handler,
    create: (await import('../functions/images-create')).handler as Handler,
  };
  const { readQueries } = await import('../lib/images/rows');
  const list = await import('../lib/images/list');
  /** The cursor of the gallery's own list (all images, newest uploaded first) after `last`. */
  const encodeCursor = (last: { createdAt: string; id: string }) =>
    list.encodeCursor({ scope: { kind: 'all' }, sort: 'created', limit: PAGE_SIZE }, last);
  const { imageKey } = await import('../lib/images/cache');
  const { redisConfig } = await import('../lib/config');
  await seed(services, 1000);
  const [newest] = await readQueries().firstPage.execute({ limit: 1 });
  const id = newest?.id ?? '';
  const getEvent = httpEvent({ method: 'GET', path: `/api/v1/images/${id}`, route: 'GET /api/v1/images/{id}', pathParameters: { id } });
  const listEvent = listPageEvent();
  for (let i = 0; i < 50; i++) {
    await call(handlers.get, getEvent, 200);
    await call(handlers.list, listEvent, 200);
    await services.sql`select 1`;
    await services.redis.get('warm');
  }
  return { handlers, call, id, getEvent, listEvent, readQueries, encodeCursor, imageKey, cacheTtlSeconds: redisConfig().CACHE_TTL_SECONDS };
}

/** A file as a client declares and sends it in a direct upload. */
export interface UploadFile {
  bytes: Uint8Array;
  filename: string;
  contentType: string;
}

export type UploadClient = Awaited<ReturnType<typeof uploadClient>>;

/**
 * Direct uploads as a client makes them: signed and completed by the app's handlers in this process,
 * the file POSTed by Node's fetch to the signed target on the bench's emulator (every field, then
 * `file`, as a browser form sends them).
 */
export async function uploadClient() {
  const create = (await import('../functions/uploads-create')).handler as Handler;
  const complete = (await import('../functions/uploads-complete')).handler as Handler;
  /** Signs an upload of `file`, declaring its SHA-256 (hex) when given. */
  const sign = async (title: string, file: UploadFile, sha256?: string): Promise<SignedUpload> => {
    const request: UploadRequest = {
      title,
      description: 'bench',
      filename: file.filename,
      size: file.bytes.byteLength,
      content_type: file.contentType,
      ...(sha256 ? { sha256 } : {}),
    };
    return JSON.parse((await call(create, createUploadEvent(request), 201)).body ?? '{}') as SignedUpload;
  };
  const store = async (signed: SignedUpload, file: UploadFile): Promise<void> => {
    const form = new FormData();
    for (const [name, value] of Object.entries(signed.upload.fields)) form.append(name, value);
    form.append('file', new Blob([file.bytes], { type: file.contentType }), file.filename);
    const res = await fetch(signed.upload.url, { method: 'POST', body: form });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`the store refused the POST: ${res.status}`);
  };
  return {
    sign,
    store,
    complete: (id: string) => call(complete, completeUploadEvent(id), 201),
    /** A pending upload whose file is already stored: what a completion starts from. Its id. */
    pending: async (title: string, file: UploadFile): Promise<string> => {
      const signed = await sign(title, file);
      await store(signed, file);
      return signed.id;
    },
  };
}

/**
 * Stores `bytes` as an upload leaves them, through the app's own code: judged (type, dimensions) as
 * an upload is, the original at `images/<id>.<ext>` in the bucket and its row, processing pending.
 * The original's key, which the S3 event names.
 */
export async function storeOriginal(title: string, filename: string, bytes: Uint8Array): Promise<string> {
  const { inspectImage } = await import('../lib/images/inspect');
  const { createImage } = await import('../lib/images/create');
  const { keyOfUrl } = await import('../lib/keys');
  const { width, height, ...type } = await inspectImage(bytes);
  const image = await createImage({ title, description: 'bench', filename, bytes, type, width, height });
  // The path only: with private originals file_url is a presigned GET.
  return keyOfUrl(new URL(image.file_url).pathname);
}
