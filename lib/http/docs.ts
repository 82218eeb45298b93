import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { brotliDecompressSync, gzipSync } from 'node:zlib';
import { NotFoundError } from '../errors';
import { once } from '../once';
import type { HttpResult } from './handler';

/** The Swagger UI files served under /docs/, from the swagger-ui-dist package (no CDN). */
const ASSETS: Record<string, string> = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
};

/** The 404 for anything but Swagger UI's files (also the document's example). */
export const noSuchFile = () => new NotFoundError('No such file.');

/** Where `npm run package` puts the Brotli-compressed files (scripts/build-docs-assets.ts). */
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
  const type = ASSETS[name];
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
