import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { handler as docs } from '../../functions/docs';
import { handler as openapi } from '../../functions/openapi';
import { invoke } from '../helpers/lambda';

type Operation = {
  operationId: string;
  responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, { example?: unknown }> }>;
  requestBody?: { content: Record<string, unknown> };
};
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };

const getDoc = async () => (await invoke(openapi, { method: 'GET', path: '/openapi.json', route: 'GET /openapi.json' })).json as Doc;

describe('GET /openapi.json', () => {
  it('describes the five image operations with the contract’s headers, bodies and examples', async () => {
    const doc = await getDoc();
    expect(doc.openapi).toBe('3.1.0');
    const images = doc.paths['/api/v1/images/'] ?? {};
    const image = doc.paths['/api/v1/images/{id}'] ?? {};
    const ops = { post: images.post, list: images.get, get: image.get, patch: image.patch, delete: image.delete };
    expect(Object.values(ops).map((o) => o?.operationId)).toEqual(['uploadImage', 'listImages', 'getImage', 'updateImage', 'deleteImage']);
    // Which statuses each operation documents is checked from the other side: every response of the
    // suite must be documented (tests/helpers/contract.ts) and every documented status produced
    // (tests/contract-coverage.test.ts).
    expect(Object.keys(ops.post?.responses['201']?.headers ?? {})).toEqual(['Location']);
    expect(Object.keys(ops.list?.responses['200']?.headers ?? {})).toEqual(['Link']);
    expect(Object.keys(ops.get?.responses['200']?.headers ?? {})).toEqual(['X-Cache']);
    expect(Object.keys(ops.post?.requestBody?.content ?? {})).toEqual(['multipart/form-data']);
    expect(Object.keys(ops.patch?.requestBody?.content ?? {})).toEqual(['application/json']);
    for (const op of Object.values(ops)) {
      for (const [status, response] of Object.entries(op?.responses ?? {})) {
        if (Number(status) >= 400) {
          expect(response.content?.['application/problem+json']?.example, `${op?.operationId} ${status}`).toMatchObject({
            status: Number(status),
          });
        }
      }
    }
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining([
        'Image',
        'ImageUpload',
        'ImagePatch',
        'UploadRequest',
        'SignedUpload',
        'Problem',
        'Album',
        'Share',
        'SharedImage',
      ]),
    );
  });

  it('takes the field limits from the zod schemas the handlers validate with', async () => {
    const doc = (await getDoc()) as unknown as {
      components: { schemas: { ImageUpload: { properties: Record<string, Record<string, unknown>>; required: string[] } } };
    };
    const upload = doc.components.schemas.ImageUpload;
    expect(upload.required).toEqual(['title', 'description', 'file']);
    expect(upload.properties.title).toMatchObject({ type: 'string', minLength: 1, maxLength: 32 });
    expect(upload.properties.description).toMatchObject({ type: 'string', maxLength: 32 });
    expect(upload.properties.file).toMatchObject({ type: 'string', format: 'binary' });
  });
});

describe('GET /docs', () => {
  it('serves Swagger UI pointing at /openapi.json, with its files from the package (no CDN)', async () => {
    const page = await invoke(docs, { method: 'GET', path: '/docs', route: 'GET /docs' });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.text).toContain('src="/docs/swagger-ui-bundle.js"');
    expect(page.text).toContain('href="/docs/swagger-ui.css"');
    expect(page.text).toContain('data-spec="/openapi.json"');
    expect(page.text).not.toMatch(/https?:\/\//);
  });

  it('sends a Content-Security-Policy that admits no inline script, and has none to admit', async () => {
    const page = await invoke(docs, { method: 'GET', path: '/docs', route: 'GET /docs' });
    const policy = Object.fromEntries(
      (page.headers['content-security-policy'] ?? '').split(';').map((d) => {
        const [name = '', ...sources] = d.trim().split(/\s+/);
        return [name, sources];
      }),
    );
    expect(policy['script-src']).toEqual(["'self'"]);
    expect(policy['default-src']).toEqual(["'none'"]);
    expect(policy['connect-src']).toEqual(["'self'"]);
    expect(policy['frame-ancestors']).toEqual(["'none'"]);
    // Every script is a file of /docs/: no inline code, no event handler attribute.
    const scripts = [...page.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.map(([, attributes]) => /src="([^"]+)"/.exec(attributes ?? '')?.[1])).toEqual([
      '/docs/swagger-ui-bundle.js',
      '/docs/swagger-initializer.js',
    ]);
    expect(scripts.every(([, , body]) => body?.trim() === '')).toBe(true);
    expect(page.text).not.toMatch(/\son[a-z]+=/i);
    const initializer = await invoke(docs, {
      method: 'GET',
      path: '/docs/swagger-initializer.js',
      route: 'GET /docs/{file}',
      pathParameters: { file: 'swagger-initializer.js' },
    });
    expect(initializer.status).toBe(200);
    expect(initializer.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(initializer.text).toContain('SwaggerUIBundle');
  });

  it('serves the script gzipped when asked, and plain otherwise', async () => {
    const original = readFileSync('node_modules/swagger-ui-dist/swagger-ui-bundle.js');
    const call = {
      method: 'GET',
      path: '/docs/swagger-ui-bundle.js',
      route: 'GET /docs/{file}',
      pathParameters: { file: 'swagger-ui-bundle.js' },
    };
    const gz = await invoke(docs, { ...call, headers: { 'accept-encoding': 'gzip, deflate' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(Buffer.from(gz.text, 'latin1')).equals(original)).toBe(true);
    const plain = await invoke(docs, call);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(Buffer.from(plain.text, 'latin1').equals(original)).toBe(true);
  });

  it('answers 404 for any other file', async () => {
    const res = await invoke(docs, {
      method: 'GET',
      path: '/docs/package.json',
      route: 'GET /docs/{file}',
      pathParameters: { file: 'package.json' },
    });
    expect(res.status).toBe(404);
  });
});

describe('the packaged Swagger UI files (as in the deployed zip)', () => {
  it('serves the Brotli files npm run package writes, and plain or gzip to clients without br', async () => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { brotliDecompressSync } = await import('node:zlib');
    const dir = mkdtempSync(join(tmpdir(), 'docs-assets-'));
    const cwd = process.cwd();
    try {
      execFileSync(join(cwd, 'node_modules/.bin/tsx'), [join(cwd, 'scripts/build-package-assets.ts')], { cwd: dir });
      process.chdir(dir);
      const { vi } = await import('vitest');
      vi.resetModules();
      const { handler } = await import('../../functions/docs');
      const original = readFileSync(join(cwd, 'node_modules/swagger-ui-dist/swagger-ui.css'));
      const call = { method: 'GET', path: '/docs/swagger-ui.css', route: 'GET /docs/{file}', pathParameters: { file: 'swagger-ui.css' } };
      const br = await invoke(handler, { ...call, headers: { 'accept-encoding': 'gzip, deflate, br' } });
      expect(br.headers['content-encoding']).toBe('br');
      expect(brotliDecompressSync(Buffer.from(br.text, 'latin1')).equals(original)).toBe(true);
      const gz = await invoke(handler, { ...call, headers: { 'accept-encoding': 'gzip' } });
      expect(gunzipSync(Buffer.from(gz.text, 'latin1')).equals(original)).toBe(true);
      const plain = await invoke(handler, call);
      expect(Buffer.from(plain.text, 'latin1').equals(original)).toBe(true);
    } finally {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
