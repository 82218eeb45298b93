import { loadSecrets } from './config';

// A deployed function's secrets (SSM_PARAMETER_PATH set), read from SSM Parameter Store once, in
// Lambda's init phase. The modules that read a secret at import (db.ts, redis.ts) import this one
// first: ESM evaluates it, and awaits it, before them. Without the path (npm start, tests) nothing is
// loaded and AWS is never called. Functions that need no secret (docs, openapi) never import it.
await loadSecrets();
