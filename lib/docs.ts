import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { NotFoundError } from './errors';
import type { HttpResult } from './http';

/** The Swagger UI files served under /docs/, from the swagger-ui-dist package (no CDN). */
const ASSETS: Record<string, string> = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
};

const cache = new Map<string, { plain: Buffer; gzipped: Buffer }>();

function load(name: string): { plain: Buffer; gzipped: Buffer } {
  let entry = cache.get(name);
  if (!entry) {
    // Resolved at run time: in the deployed zip these files are packaged beside the bundle (serverless.yml).
    const root = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
    const plain = readFileSync(join(root, name));
    entry = { plain, gzipped: gzipSync(plain) };
    cache.set(name, entry);
  }
  return entry;
}

/** A Swagger UI file, gzipped when the client accepts it; throws NotFoundError for anything else. */
export function docsAsset(name: string, acceptEncoding: string | undefined): HttpResult {
  const type = ASSETS[name];
  if (!type) throw new NotFoundError('No such file.');
  const { plain, gzipped } = load(name);
  const gzip = /\bgzip\b/.test(acceptEncoding ?? '');
  return {
    statusCode: 200,
    headers: {
      'content-type': type,
      'cache-control': 'public, max-age=86400',
      vary: 'accept-encoding',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    },
    body: (gzip ? gzipped : plain).toString('base64'),
    isBase64Encoded: true,
  };
}

/** The Swagger UI page for the document at `specPath`, its files under `base`. */
export function docsPage(base: string, specPath: string): HttpResult {
  const html = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Photo gallery API</title>
  <link rel="stylesheet" href="${base}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${base}/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({ url: ${JSON.stringify(specPath)}, dom_id: '#swagger-ui', deepLinking: true });
  </script>
</body>
</html>
`;
  return { statusCode: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: html };
}
