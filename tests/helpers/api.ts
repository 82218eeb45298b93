import { handler as createHandler } from '../../functions/images-create';
import { handler as deleteHandler } from '../../functions/images-delete';
import { handler as getHandler } from '../../functions/images-get';
import { handler as listHandler } from '../../functions/images-list';
import { handler as updateHandler } from '../../functions/images-update';
import { handler as uploadsCompleteHandler } from '../../functions/uploads-complete';
import { handler as uploadsCreateHandler } from '../../functions/uploads-create';
import { makeJpeg } from '../../support/images';
import { type FileSpec, multipart } from '../../support/lambda-events';
import { loadWithEnv } from './fresh-env';
import { invoke, type Reply } from './lambda';

export type Handlers = {
  create: typeof createHandler;
  get: typeof getHandler;
  list: typeof listHandler;
  update: typeof updateHandler;
  remove: typeof deleteHandler;
  createUpload: typeof uploadsCreateHandler;
  completeUpload: typeof uploadsCompleteHandler;
};

const BASE = '/api/v1/images';

/** The five endpoints called through their real handlers, as API Gateway would call them. */
export function apiOf(h: Handlers) {
  const patchWith = (id: string, headers: Record<string, string>, body: string | Buffer): Promise<Reply> =>
    invoke(h.update, { method: 'PATCH', path: `${BASE}/${id}`, route: 'PATCH /api/v1/images/{id}', pathParameters: { id }, headers, body });
  return {
    /** POST with any headers and body (a JSON body, a broken multipart one, credentials). */
    post(headers: Record<string, string>, body: string | Buffer, path = `${BASE}/`): Promise<Reply> {
      return invoke(h.create, { method: 'POST', path, route: 'POST /api/v1/images', headers, body });
    },
    /** POST with multipart parts, and more headers if given. */
    async uploadParts(parts: [string, string | FileSpec][], path = `${BASE}/`, headers: Record<string, string> = {}): Promise<Reply> {
      const { body, contentType } = await multipart(parts);
      return this.post({ 'content-type': contentType, ...headers }, body, path);
    },
    /** POST title, description and a file (a small JPEG unless given). */
    upload(fields: { title: string; description?: string; file?: FileSpec }): Promise<Reply> {
      return this.uploadParts([
        ['title', fields.title],
        ['description', fields.description ?? 'Short desc'],
        ['file', fields.file ?? { bytes: makeJpeg(), filename: 'cat.jpg', type: 'image/jpeg' }],
      ]);
    },
    get(id: string): Promise<Reply> {
      return invoke(h.get, { method: 'GET', path: `${BASE}/${id}`, route: 'GET /api/v1/images/{id}', pathParameters: { id } });
    },
    list(query?: Record<string, string>, path = `${BASE}/`): Promise<Reply> {
      return invoke(h.list, { method: 'GET', path, route: 'GET /api/v1/images', ...(query ? { query } : {}) });
    },
    patch(id: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Reply> {
      return patchWith(id, headers, typeof body === 'string' ? body : JSON.stringify(body));
    },
    /** PATCH with any headers and a body of raw bytes (base64-encoded, as API Gateway sends binary). */
    patchRaw(id: string, headers: Record<string, string>, body: Buffer): Promise<Reply> {
      return patchWith(id, headers, body);
    },
    /** POST /api/v1/uploads with a JSON body (or any text). */
    createUpload(body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Reply> {
      return invoke(h.createUpload, {
        method: 'POST',
        path: '/api/v1/uploads',
        route: 'POST /api/v1/uploads',
        headers,
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    },
    completeUpload(id: string, headers: Record<string, string> = {}): Promise<Reply> {
      return invoke(h.completeUpload, {
        method: 'POST',
        path: `/api/v1/uploads/${id}/complete`,
        route: 'POST /api/v1/uploads/{id}/complete',
        pathParameters: { id },
        headers,
      });
    },
    remove(id: string): Promise<Reply> {
      return invoke(h.remove, { method: 'DELETE', path: `${BASE}/${id}`, route: 'DELETE /api/v1/images/{id}', pathParameters: { id } });
    },
  };
}

/** The API over this worker's handler modules. */
export const api = apiOf({
  create: createHandler,
  get: getHandler,
  list: listHandler,
  update: updateHandler,
  remove: deleteHandler,
  createUpload: uploadsCreateHandler,
  completeUpload: uploadsCompleteHandler,
});

/** Fresh handler modules reading the environment as it is now (for faults such as a wrong port). */
export async function freshApi(): Promise<ReturnType<typeof apiOf>> {
  const [c, g, l, u, d, uc, up] = await Promise.all([
    import('../../functions/images-create'),
    import('../../functions/images-get'),
    import('../../functions/images-list'),
    import('../../functions/images-update'),
    import('../../functions/images-delete'),
    import('../../functions/uploads-create'),
    import('../../functions/uploads-complete'),
  ]);
  return apiOf({
    create: c.handler,
    get: g.handler,
    list: l.handler,
    update: u.handler,
    remove: d.handler,
    createUpload: uc.handler,
    completeUpload: up.handler,
  });
}

/**
 * Handlers in fresh modules that read `env` (a wrong port, a stopped emulator, another Redis) on top
 * of the environment. Every config section is read at import, so the environment is restored as soon
 * as the modules are loaded: nothing leaks into the next test.
 */
export function apiWith(env: Record<string, string | undefined>): Promise<ReturnType<typeof apiOf>> {
  return loadWithEnv(env, freshApi);
}
