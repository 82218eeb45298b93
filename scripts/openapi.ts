/** `npm run openapi [-- path]`: writes the OpenAPI 3.1 document (default ./openapi.json) for client generators. */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { openApiDocument } from '../lib/http/openapi';

const path = resolve(process.argv[2] ?? 'openapi.json');
writeFileSync(path, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
console.log(`OpenAPI 3.1 document written to ${path}`);
