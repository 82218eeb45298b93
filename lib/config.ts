import type { output, ZodType } from 'zod';
import { coerce, object, string, toJSONSchema, url, enum as zEnum } from 'zod';
import { MAX_ORIGINAL_KEY_LENGTH } from './keys';
import { once } from './once';
import { FILE_URL_MAX } from './schema';

/** Thrown when an environment variable is missing or malformed; fails the cold start loudly. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Whether a DATABASE_URL makes postgres.js verify the server's certificate and name: `sslmode=verify-full`
 * (or `sslrootcert=system`, which means the same). `require`, the usual advice, encrypts but trusts any
 * certificate: a man in the middle reads the password and every row.
 */
export function verifiesServer(databaseUrl: string): boolean {
  const query = new URL(databaseUrl).searchParams;
  return query.get('sslmode') === 'verify-full' || query.get('sslrootcert') === 'system';
}

const int = (fallback: number, min: number, max: number) => coerce.number().int().min(min).max(max).default(fallback);
const bool = (fallback: boolean) =>
  zEnum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');
const optionalUrl = url().optional();

/**
 * How a variable reaches a deployed function (scripts/serverless-stage.cjs acts on it):
 * - `secret`: read from SSM Parameter Store (SecureString) under SSM_PARAMETER_PATH at cold start;
 *   never in the template. Locally, from the environment.
 * - `tuning`: copied from the packaging environment into every function's, on any stage, when set.
 * - `stage`: set by the stage itself (its resources, or a stage parameter read when packaging).
 * - `local`: the local stage's endpoints and keys, from the environment; a deployed stage has its own.
 * - `template`: no function reads it; it shapes the deployed stage's template (read when packaging).
 * - `none`: no function reads it (the listener's, or `npm start`'s own).
 */
export type Delivery = 'secret' | 'tuning' | 'stage' | 'local' | 'template' | 'none';

/** What the documentation says of a variable: env.example and the configuration table are made from it (`npm run docs`). */
export interface VariableDoc {
  /** What it is for: a sentence or two. */
  doc: string;
  delivery: Delivery;
  /** The default in words, where the schema's own default is not the whole story. */
  defaultText?: string;
  /** The SSM parameter a deployed stage takes it from, under /photo-gallery/<stage>/. */
  parameter?: string;
}

/** A variable's schema with its documentation attached (read back by configVariables()). */
const v = <T extends ZodType>(schema: T, doc: VariableDoc): T => schema.meta({ ...doc }) as T;

const databaseSchema = object({
  DATABASE_URL: v(string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'), {
    doc: '`postgres://user:pass@host:port/db`',
    delivery: 'secret',
    defaultText: 'required (`npm start`: its embedded PostgreSQL)',
    parameter: 'database-url',
  }),
  DB_MAX_CONNECTIONS: v(int(1, 1, 100), { doc: 'postgres.js pool size per Lambda container', delivery: 'tuning' }),
  DB_IDLE_TIMEOUT_SECONDS: v(int(20, 0, 3600), { doc: 'close an idle connection after this long', delivery: 'tuning' }),
  DB_CONNECT_TIMEOUT_SECONDS: v(int(5, 1, 60), { doc: 'give up connecting (then 503) after this long', delivery: 'tuning' }),
  DB_PREPARE: v(bool(true), {
    doc: '`false` behind RDS Proxy or pgbouncer in transaction mode, which cannot keep prepared statements',
    delivery: 'tuning',
    defaultText: '`true` (deployed stages: `false` unless the parameter `db-prepare` says otherwise)',
    parameter: 'db-prepare',
  }),
  DB_TLS_UNVERIFIED: v(bool(false), {
    doc: "`true`: a deployed stage accepts a `DATABASE_URL` that does not verify the server's certificate (any `sslmode` but `verify-full`), for a provider whose certificate cannot be verified; logged as a warning at every cold start",
    delivery: 'stage',
    parameter: 'db-tls-unverified',
  }),
});

const storageSchema = object({
  S3_BUCKET: v(string().min(3).max(63), {
    doc: 'the bucket',
    delivery: 'stage',
    defaultText: "`photo-gallery` under `npm start`; deployed, the stack's bucket `photo-gallery-<stage>-<account id>`",
  }),
  S3_REGION: v(string().min(1).optional(), { doc: "the bucket's region", delivery: 'tuning', defaultText: '`AWS_REGION`' }),
  AWS_REGION: v(string().min(1).default('us-east-1'), {
    doc: "the region of SSM, and of S3 unless `S3_REGION` is set; Lambda and serverless offline set it to the stack's",
    delivery: 'none',
  }),
  S3_ENDPOINT: v(optionalUrl, {
    doc: 'an S3-compatible endpoint (s3rver, MinIO) instead of AWS',
    delivery: 'local',
    defaultText: 'AWS (`npm start`: its emulator)',
  }),
  S3_FORCE_PATH_STYLE: v(bool(false), { doc: 'path-style URLs, for emulators', delivery: 'local' }),
  S3_TIMEOUT_MS: v(int(3000, 100, 60_000), { doc: 'connection and request timeout of each S3 call', delivery: 'tuning' }),
  S3_MAX_ATTEMPTS: v(int(2, 1, 10), { doc: 'attempts per S3 call before a 503', delivery: 'tuning' }),
  FILES_BASE_URL: v(
    url()
      .regex(/^https?:\/\//, 'must be an http(s) URL')
      .transform((u) => u.replace(/\/+$/, '')),
    {
      doc: `the base of every \`file_url\` and variant URL; at most ${FILE_URL_MAX - 1 - MAX_ORIGINAL_KEY_LENGTH} characters, so that \`file_url\` fits in ${FILE_URL_MAX}`,
      delivery: 'stage',
      defaultText: "required (`npm start`: the emulator's bucket URL; deployed: the CloudFront distribution)",
    },
  ),
}).refine((c) => c.FILES_BASE_URL.length + 1 + MAX_ORIGINAL_KEY_LENGTH <= FILE_URL_MAX, {
  path: ['FILES_BASE_URL'],
  message: `is too long: file_url (base + "/" + a ${MAX_ORIGINAL_KEY_LENGTH}-character key) must fit in ${FILE_URL_MAX} characters`,
});

/** Whether originals are public or handed out as presigned GETs: what the answers and the document say of file_url. */
const originalsSchema = object({
  ORIGINALS_PUBLIC: v(bool(false), {
    doc: '`true`: originals are served publicly like the variants (their EXIF and GPS included); `false`: `file_url` is a presigned GET of the original, made per response. An image whose processing failed is always presigned',
    delivery: 'stage',
    parameter: 'originals-public',
  }),
  ORIGINAL_URL_EXPIRES_SECONDS: v(int(3600, 60, 7 * 24 * 3600), {
    doc: 'how long a presigned GET of an original is valid (60 s to 7 days)',
    delivery: 'tuning',
  }),
});

const uploadSchema = object({
  MAX_UPLOAD_BYTES: v(int(4 * 1024 * 1024, 1, 100 * 1024 * 1024), {
    doc: 'largest file through `POST /api/v1/images/` (multipart, through the function; 4 MiB is what fits through API Gateway and Lambda)',
    delivery: 'tuning',
  }),
  MAX_DIRECT_UPLOAD_BYTES: v(int(100 * 1024 * 1024, 1, 5 * 1024 * 1024 * 1024), {
    doc: 'largest file of a direct upload (`POST /api/v1/uploads`, straight to S3; at most 5 GiB)',
    delivery: 'tuning',
  }),
  UPLOAD_URL_EXPIRES_SECONDS: v(int(900, 60, 24 * 3600), {
    doc: 'how long a signed upload POST, and its pending upload, stay valid (60 s to 1 day)',
    delivery: 'tuning',
  }),
  MAX_IMAGE_PIXELS: v(int(50_000_000, 1, 1_000_000_000), {
    doc: 'largest pixel canvas a decoder may allocate for an image (image bombs), on both upload paths and in processing',
    delivery: 'tuning',
  }),
});

/** Who may do what: the owner's keys, and the other sites whose pages may write. */
const authSchema = object({
  API_KEYS: v(
    string()
      .optional()
      .transform((v) =>
        (v ?? '')
          .split(',')
          .map((k) => k.trim())
          .filter((k) => k.length > 0),
      )
      .refine((keys) => keys.every((k) => k.length >= 16), 'each key must be at least 16 characters'),
    {
      doc: 'comma-separated owner keys, each at least 16 characters; unset: everything is open (local development)',
      delivery: 'secret',
      defaultText: 'unset (deployed stages require one)',
      parameter: 'api-keys',
    },
  ),
  CORS_ALLOWED_ORIGINS: v(
    string()
      .optional()
      .transform((v, ctx) => {
        const origins = (v ?? '')
          .split(',')
          .map((o) => o.trim())
          .filter((o) => o.length > 0);
        for (const origin of origins) {
          if (!URL.canParse(origin) || new URL(origin).origin !== origin) {
            ctx.addIssue({ code: 'custom', message: `"${origin}" is not an origin such as https://photos.example.com` });
          }
        }
        return origins;
      }),
    {
      doc: "comma-separated origins of other sites allowed to call the API from a browser (API Gateway's CORS), to write to it across sites, and to POST files straight to the bucket",
      delivery: 'stage',
      defaultText: "unset (no CORS; only the service's own pages write)",
      parameter: 'cors-allowed-origins',
    },
  ),
  SHARE_TOKEN_SECRET: v(string().min(32, 'must be at least 32 characters (e.g. openssl rand -base64 48)').optional(), {
    doc: 'the key that signs the access tokens of password-protected share links; changing it ends every unlocked session',
    delivery: 'secret',
    defaultText: 'required for share links (`npm start` makes one in `DATA_DIR`)',
    parameter: 'share-token-secret',
  }),
  GALLERY_ACCESS: v(zEnum(['private', 'public']).optional(), {
    doc: '`private`: every request for images, uploads, albums and shares needs an owner key; `public`: reading images and albums is open, the rest keyed. Share links (`/s/<token>`) work either way. With no `API_KEYS` everything is open, and `private` is refused',
    delivery: 'stage',
    defaultText: '`private` when `API_KEYS` is set',
    parameter: 'gallery-access',
  }),
}).refine((c) => c.GALLERY_ACCESS !== 'private' || c.API_KEYS.length > 0, {
  path: ['GALLERY_ACCESS'],
  message: 'is private, but API_KEYS holds no key: nobody could open the gallery (set API_KEYS, or GALLERY_ACCESS=public)',
});

const redisSchema = object({
  UPSTASH_REDIS_REST_URL: v(url().optional(), {
    doc: 'with `UPSTASH_REDIS_REST_TOKEN`: Upstash over REST instead of `REDIS_URL`',
    delivery: 'secret',
    defaultText: 'unset (deployed stages require it)',
    parameter: 'upstash-redis-rest-url',
  }),
  UPSTASH_REDIS_REST_TOKEN: v(string().min(1).optional(), {
    doc: "Upstash's REST token",
    delivery: 'secret',
    defaultText: 'unset (deployed stages require it)',
    parameter: 'upstash-redis-rest-token',
  }),
  REDIS_URL: v(
    string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .default('redis://127.0.0.1:6379'),
    {
      doc: 'a Redis over TCP (node-redis), used unless Upstash is set',
      delivery: 'local',
    },
  ),
  REDIS_TIMEOUT_MS: v(int(250, 10, 10_000), {
    doc: 'every Redis call gives up after this long (then: no cache, events left to the relay, a warning)',
    delivery: 'tuning',
  }),
  REDIS_CONNECT_TIMEOUT_MS: v(int(2000, 10, 30_000), { doc: 'a connection attempt is abandoned after this long', delivery: 'tuning' }),
  CACHE_TTL_SECONDS: v(int(60, 1, 86_400), { doc: 'how long a read stays cached', delivery: 'tuning' }),
}).refine((c) => (c.UPSTASH_REDIS_REST_URL === undefined) === (c.UPSTASH_REDIS_REST_TOKEN === undefined), {
  path: ['UPSTASH_REDIS_REST_TOKEN'],
  message: 'and UPSTASH_REDIS_REST_URL go together: set both (Upstash) or neither (REDIS_URL)',
});

/** Set by serverless.yml on deployed stages only: where the function's secrets are in SSM. */
const parameterStoreSchema = object({
  SSM_PARAMETER_PATH: v(
    string()
      .regex(/^(\/[\w.-]+)+$/, 'must be a parameter path such as /photo-gallery/prod')
      .optional(),
    {
      doc: 'deployed stages only (set by the stage to `/photo-gallery/<stage>`): the secrets are read from the SecureString parameters under it, at cold start; the listener does the same when it is set',
      delivery: 'stage',
      defaultText: 'unset: no SSM, every value from the environment',
    },
  ),
  AWS_REGION: string().min(1).default('us-east-1'),
});

/** The outbox's delivery: the stream's length, how long delivered events are kept, the listener's group. */
const outboxSchema = object({
  STREAM_MAXLEN: v(int(10_000, 100, 10_000_000), {
    doc: 'the stream `image_events` keeps about this many entries (`XADD … MAXLEN ~`)',
    delivery: 'tuning',
  }),
  OUTBOX_RETENTION_HOURS: v(int(168, 1, 24 * 365), {
    doc: 'delivered events stay in the outbox this long, then the relay prunes them',
    delivery: 'tuning',
  }),
  FILE_REMOVAL_BUDGET_MS: v(int(1000, 50, 10_000), {
    doc: 'how long a request waits for S3 to delete the files it let go of; the relay retries the rest',
    delivery: 'tuning',
  }),
  LISTENER_GROUP: v(
    string()
      .regex(/^[\w.-]{1,64}$/, 'must be 1 to 64 letters, digits, _ . -')
      .default('listeners'),
    {
      doc: "the listener's consumer group on `image_events`",
      delivery: 'none',
    },
  ),
  LISTENER_CLAIM_IDLE_MS: v(int(60_000, 10, 24 * 3600 * 1000), {
    doc: 'entries another consumer of the group read and left unacknowledged this long are taken over (XAUTOCLAIM)',
    delivery: 'none',
  }),
  LISTENER_CONSUMER: v(
    string()
      .regex(/^[\w.-]{1,64}$/, 'must be 1 to 64 letters, digits, _ . -')
      .optional(),
    {
      doc: "the listener's consumer name in its group; keep it stable across restarts",
      delivery: 'none',
      defaultText: 'the host name',
    },
  ),
});

const logSchema = object({
  LOG_LEVEL: v(zEnum(['debug', 'info', 'warn', 'error', 'silent']).default('info'), {
    doc: '`debug`, `info`, `warn`, `error` or `silent`',
    delivery: 'tuning',
  }),
  LOG_FORMAT: v(zEnum(['text', 'json']).default('text'), {
    doc: "the listener's output: `text` (CloudWatch-like lines) or `json`",
    delivery: 'none',
  }),
});

/**
 * What bounds a deployed stage's load (scripts/serverless-stage.cjs writes them into the template):
 * API Gateway's throttling and each function's reserved concurrency, which also bounds the database
 * connections the functions can open (docs/deploy.md).
 */
const deploymentSchema = object({
  API_THROTTLE_RATE: v(int(100, 1, 10_000), {
    doc: 'requests per second the HTTP API lets through, steady state, all routes together (then 429)',
    delivery: 'template',
    parameter: 'throttle-rate',
  }),
  API_THROTTLE_BURST: v(int(200, 1, 5_000), {
    doc: 'requests the HTTP API lets through at once above the steady rate',
    delivery: 'template',
    parameter: 'throttle-burst',
  }),
  RESERVED_CONCURRENCY: v(
    string()
      .regex(/^(none|([A-Za-z][A-Za-z0-9]*|\*)=\d{1,5}(,\s*([A-Za-z][A-Za-z0-9]*|\*)=\d{1,5})*)$/, 'must be <function>=<n>,… or none')
      .default('*=3,imagesList=10,imagesGet=10,imagesProcess=4,imagesProcessFailed=2,uploadsSweep=1,outboxRelay=1'),
    {
      doc: 'the most instances of each function at once, `<function>=<n>,…` with `*` for every function not named, or `none`; each instance holds at most `DB_MAX_CONNECTIONS` database connections',
      delivery: 'template',
      parameter: 'reserved-concurrency',
    },
  ),
});

/** `npm start`'s own settings (scripts/dev.ts): ports, the data folder, its relay and sweep. */
const localSchema = object({
  PORT: v(int(3000, 1, 65_535), { doc: "`npm start`: the API's port", delivery: 'none' }),
  S3_PORT: v(int(4569, 1, 65_535), { doc: "`npm start`: the S3 emulator's port", delivery: 'none' }),
  EMBEDDED_PG_PORT: v(int(54329, 1, 65_535), { doc: "`npm start`: the embedded PostgreSQL's port", delivery: 'none' }),
  DATA_DIR: v(string().min(1).default('.data'), {
    doc: '`npm start`: where the embedded PostgreSQL and the emulator keep their data',
    delivery: 'none',
  }),
  OFFLINE_LAMBDA_PORT: v(int(3002, 1, 65_535), {
    doc: "`npm start`: serverless offline's Lambda API, through which it invokes `imagesProcess` and `uploadsSweep`",
    delivery: 'none',
  }),
  OFFLINE_WEBSOCKET_PORT: v(int(3001, 1, 65_535), { doc: "`npm start`: serverless offline's websocket port", delivery: 'none' }),
  RELAY_INTERVAL_MS: v(int(2000, 100, 3_600_000), {
    doc: '`npm start`: how often its own process runs a round of the outbox relay',
    delivery: 'none',
  }),
  SWEEP_INTERVAL_MS: v(int(60_000, 1000, 3_600_000), { doc: '`npm start`: how often it invokes `uploadsSweep`', delivery: 'none' }),
});

/** The sections in the order the documentation shows them, each with who reads it. */
const SECTIONS = [
  { title: 'Postgres', readers: 'the functions, the listener, `npm run db:*`', schema: databaseSchema },
  { title: 'Object storage', readers: 'the functions, `npm run db:backfill`', schema: storageSchema },
  { title: 'Originals', readers: 'the functions', schema: originalsSchema },
  { title: 'Uploads', readers: 'the functions', schema: uploadSchema },
  { title: 'Access', readers: 'the functions', schema: authSchema },
  { title: 'Redis', readers: 'the functions, the listener', schema: redisSchema },
  { title: 'Secrets on AWS', readers: 'the functions, the listener', schema: parameterStoreSchema },
  { title: 'Outbox and listener', readers: 'the functions, the listener, `npm start`', schema: outboxSchema },
  { title: 'Logs', readers: 'the functions, the listener', schema: logSchema },
  { title: 'Deployment', readers: '`npm run package` and `serverless deploy`', schema: deploymentSchema },
  { title: '`npm start`', readers: '`npm start`', schema: localSchema },
];

/**
 * The secrets a deployed function reads from SSM Parameter Store at cold start: the variable each
 * parameter under `SSM_PARAMETER_PATH` stands for (`<path>/database-url` is DATABASE_URL, …).
 */
export const SECRET_PARAMETERS: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(
    SECTIONS.flatMap(({ schema }) =>
      Object.entries(schema.shape as Record<string, ZodType>).flatMap(([name, field]) => {
        const doc = field.meta() as VariableDoc | undefined;
        return doc?.delivery === 'secret' && doc.parameter ? [[name, doc.parameter]] : [];
      }),
    ),
  ),
);
type SecretVariable = string;

/** Where a variable's value came from when it is not the environment: its SSM parameter. */
type Origins = Partial<Record<string, string>>;

function parseSection<T extends ZodType>(schema: T, env: NodeJS.ProcessEnv, origins: Origins = {}): Readonly<output<T>> {
  // An empty value (`FOO=` in .env, `${env:FOO, ''}` in serverless.yml) means unset.
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(set);
  if (!result.success) {
    const problems = result.error.issues.map((i) => {
      const message = /received undefined/.test(i.message) ? 'is required (see env.example)' : i.message;
      const parameter = origins[String(i.path[0])];
      return `${i.path.join('.') || '(env)'}${parameter ? ` (SSM parameter ${parameter})` : ''} ${message}`;
    });
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return Object.freeze(result.data);
}

/** Where a deployed function's secrets live in SSM; unset (npm start, tests): nowhere, the environment has them. */
export const parameterStoreConfig = once(() => parseSection(parameterStoreSchema, process.env));

/** The secrets read from SSM, the variable each came from; undefined until loadSecrets() has run. */
let secrets: { values: Partial<Record<SecretVariable, string>>; origins: Origins } | undefined;

/**
 * Reads a deployed function's secrets from SSM (decrypted) once, at cold start, for the container's
 * life: lib/secrets.ts awaits it at its top, in Lambda's init phase. Without SSM_PARAMETER_PATH
 * (npm start, tests) it does nothing: the parameter store module is never loaded and AWS never
 * called. Throws ConfigError naming a parameter that is missing or malformed.
 */
export function loadSecrets(): Promise<void> {
  // A function declaration, not once(…): esbuild then leaves it, and the SSM client it imports, out
  // of the bundles of functions that never call it (docs, openapi).
  loading ??= readSecrets();
  return loading;
}
let loading: Promise<void> | undefined;

async function readSecrets(): Promise<void> {
  const { SSM_PARAMETER_PATH: path, AWS_REGION } = parameterStoreConfig();
  if (path === undefined) return;
  const origins = Object.fromEntries(Object.entries(SECRET_PARAMETERS).map(([variable, name]) => [variable, `${path}/${name}`])) as Record<
    SecretVariable,
    string
  >;
  const { readParameters } = await import('./parameter-store');
  const found = await readParameters(Object.values(origins), AWS_REGION).catch((err: unknown) => {
    throw new ConfigError(`Invalid configuration: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  });
  secrets = { values: Object.fromEntries(Object.entries(origins).map(([v, name]) => [v, found.get(name)])), origins };
  // Checked now, so that a malformed parameter fails the cold start rather than a request; and a
  // stage whose API keys parameter holds no key would leave writes open.
  const { DATABASE_URL, DB_TLS_UNVERIFIED } = databaseConfig();
  if (!verifiesServer(DATABASE_URL) && !DB_TLS_UNVERIFIED) {
    throw new ConfigError(
      `Invalid configuration: DATABASE_URL (SSM parameter ${origins.DATABASE_URL}) does not verify the server's certificate: add sslmode=verify-full to it (Amazon RDS's certificate authorities are trusted as well as the public ones), or, for a provider whose certificate cannot be verified, set the stage parameter db-tls-unverified to true`,
    );
  }
  redisConfig();
  if (authConfig().API_KEYS.length === 0) {
    throw new ConfigError(`Invalid configuration: API_KEYS (SSM parameter ${origins.API_KEYS}) holds no key`);
  }
}

/**
 * A section parsed on first use and cached for the life of the container: the environment, with a
 * deployed function's secrets over it. A section that holds a secret refuses to be read on a
 * deployed function before loadSecrets() has finished, rather than be read without it.
 */
function section<T extends ZodType>(schema: T & { shape: Record<string, ZodType> }): () => Readonly<output<T>> {
  const secret = Object.values(schema.shape).some((field) => (field.meta() as VariableDoc | undefined)?.delivery === 'secret');
  return once(() => {
    if (secret && secrets === undefined && parameterStoreConfig().SSM_PARAMETER_PATH !== undefined) {
      throw new ConfigError(
        'Invalid configuration: a secret was read before loadSecrets() finished (SSM_PARAMETER_PATH is set): import lib/secrets.ts first',
      );
    }
    return parseSection(schema, { ...process.env, ...secrets?.values }, secrets?.origins);
  });
}

/** Postgres settings; throws ConfigError naming the variable when DATABASE_URL is missing or bad. */
export const databaseConfig = section(databaseSchema);
/** S3 and file_url settings; throws ConfigError when S3_BUCKET or FILES_BASE_URL is missing or bad. */
export const storageConfig = section(storageSchema);
/** Whether originals are public, and how long their presigned GETs last (no bucket needed: the document reads it too). */
export const originalsConfig = section(originalsSchema);
/** Upload limits. */
export const uploadConfig = section(uploadSchema);
/** The owner's keys (none configured: everything is open), who may read, and the origins allowed to write cross-site. */
export const authConfig = section(authSchema);

/** Who may read the gallery: `open` (no keys: local development), `private` (the owner's key) or `public`. */
export function galleryAccess(): 'open' | 'private' | 'public' {
  const { API_KEYS, GALLERY_ACCESS } = authConfig();
  return API_KEYS.length === 0 ? 'open' : (GALLERY_ACCESS ?? 'private');
}
/** Redis: Upstash over REST when both UPSTASH_* are set, else REDIS_URL over TCP. */
export const redisConfig = section(redisSchema);
/** The outbox's delivery settings. */
export const outboxConfig = section(outboxSchema);
/** Logging settings. */
export const logConfig = section(logSchema);

/** `npm start`'s own settings. */
export const localConfig = section(localSchema);

/** A variable as declared here: its section, name, default and documentation. */
export interface ConfigVariable extends VariableDoc {
  section: string;
  readers: string;
  name: string;
  /** The schema's default, as the environment would spell it; undefined when it has none. */
  default: string | undefined;
}

/**
 * Every variable, once, in documentation order: what `npm run docs` makes env.example, the
 * configuration table and the stage's lists (scripts/config-variables.json) from.
 */
export function configVariables(): ConfigVariable[] {
  const seen = new Set<string>();
  return SECTIONS.flatMap(({ title, readers, schema }) =>
    Object.entries(schema.shape as Record<string, ZodType>).flatMap(([name, field]) => {
      const doc = field.meta() as VariableDoc | undefined;
      if (seen.has(name) || !doc) return [];
      seen.add(name);
      const fallback = (toJSONSchema(field, { io: 'input', unrepresentable: 'any' }) as { default?: unknown }).default;
      return [{ section: title, readers, name, ...doc, default: fallback === undefined ? undefined : String(fallback) }];
    }),
  );
}
