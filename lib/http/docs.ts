import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { brotliDecompressSync, gzipSync } from 'node:zlib';
import { NotFoundError } from '../errors';
import { once } from '../once';
import type { HttpResult } from './handler';

/** The Swagger UI files served under /docs/, from the swagger-ui-dist package (no CDN). */
const ASSETS = new Map([
  ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
  ['swagger-ui.css', 'text/css; charset=utf-8'],
]);

/** The page's own script, out of line so that the policy admits no inline script: it starts Swagger UI on the document the page names. */
const INITIALIZER = 'swagger-initializer.js';
const INITIALIZER_SCRIPT = `const root = document.getElementById('swagger-ui');
window.ui = SwaggerUIBundle({ url: root.dataset.spec, dom_id: '#swagger-ui', deepLinking: true });
`;

/** Every file under /docs/ (the document's enum). */
export const DOCS_FILES = [...ASSETS.keys(), INITIALIZER];

/**
 * The docs' Content-Security-Policy. Swagger UI runs on the gallery's origin, where the page keeps
 * the owner's key: scripts only from /docs/ itself, none inline, no eval; requests only to this
 * origin ("Try it out"); its inline styles and data: images are what it needs to draw.
 */
export const DOCS_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The 404 for anything but Swagger UI's files (also the document's example). */
export const noSuchFile = () => new NotFoundError('No such file.');

/** Where `npm run package` puts the Brotli-compressed files (scripts/build-package-assets.ts). */
export const PACKAGED_ASSETS_DIR = 'docs-assets';

interface Asset {
  br?: Buffer;
  gzip: () => Buffer;
  plain: () => Buffer;
}

const cache = new Map<string, Asset>();

/**
 * Deployed, the files come Brotli-compressed in the zip (a third smaller than deflate, which keeps
 * the function under 500 KB); locally, straight from node_modules.
 */
function load(name: string): Asset {
  let asset = cache.get(name);
  if (!asset) {
    const packaged = join(process.cwd(), PACKAGED_ASSETS_DIR, `${name}.br`);
    if (existsSync(packaged)) {
      const br = readFileSync(packaged);
      const plain = once(() => brotliDecompressSync(br));
      asset = { br, plain, gzip: once(() => gzipSync(plain())) };
    } else {
      const root = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
      const plain = once(() => readFileSync(join(root, name)));
      asset = { plain, gzip: once(() => gzipSync(plain())) };
    }
    cache.set(name, asset);
  }
  return asset;
}

/** A Swagger UI file, Brotli- or gzip-compressed as the client accepts; NotFoundError for anything else. */
export function docsAsset(name: string, acceptEncoding: string | undefined): HttpResult {
  if (name === INITIALIZER) {
    return {
      statusCode: 200,
      headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=300' },
      body: INITIALIZER_SCRIPT,
    };
  }
  const type = ASSETS.get(name);
  if (!type) throw noSuchFile();
  const asset = load(name);
  const accepts = (coding: string) => new RegExp(`\\b${coding}\\b`).test(acceptEncoding ?? '');
  const [encoding, body] =
    asset.br && accepts('br') ? ['br', asset.br] : accepts('gzip') ? ['gzip', asset.gzip()] : [undefined, asset.plain()];
  return {
    statusCode: 200,
    headers: {
      'content-type': type,
      'cache-control': 'public, max-age=86400',
      vary: 'accept-encoding',
      ...(encoding ? { 'content-encoding': encoding } : {}),
    },
    body: body.toString('base64'),
    isBase64Encoded: true,
  };
}

const escapeAttribute = (text: string): string => text.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);

/** The Swagger UI page for the document at `specPath`, its files under `base`, with the docs' policy. */
export function docsPage(base: string, specPath: string): HttpResult {
  const html = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Photo gallery API</title>
  <link rel="stylesheet" href="${escapeAttribute(base)}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-spec="${escapeAttribute(specPath)}"></div>
  <script src="${escapeAttribute(base)}/swagger-ui-bundle.js"></script>
  <script src="${escapeAttribute(base)}/${INITIALIZER}"></script>
</body>
</html>
`;
  return { statusCode: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': DOCS_POLICY }, body: html };
}
