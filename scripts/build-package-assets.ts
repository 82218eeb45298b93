/** Writes Swagger UI's files Brotli-compressed into docs-assets/, for the docs function's zip. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';
import { PACKAGED_ASSETS_DIR } from '../lib/http/docs';

const root = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
mkdirSync(PACKAGED_ASSETS_DIR, { recursive: true });
for (const name of ['swagger-ui-bundle.js', 'swagger-ui.css']) {
  const plain = readFileSync(join(root, name));
  const br = brotliCompressSync(plain, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: plain.length },
  });
  writeFileSync(join(PACKAGED_ASSETS_DIR, `${name}.br`), br);
  console.log(`${PACKAGED_ASSETS_DIR}/${name}.br: ${plain.length} → ${br.length} bytes`);
}
