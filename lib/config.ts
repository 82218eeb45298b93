import type { output, ZodType } from 'zod';
import { coerce, object, string, url, enum as zEnum } from 'zod';
import { once } from './once';
import { FILE_URL_MAX } from './schema';

/** Thrown when an environment variable is missing or malformed; fails the cold start loudly. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The longest object key the service makes: `images/<uuid>.<ext>` with a 4-letter extension. */
export const MAX_OBJECT_KEY_LENGTH = 'images/'.length + 36 + '.webp'.length;

/**
 * The secrets a deployed function reads from SSM Parameter Store at cold start: the variable each
 * parameter under `SSM_PARAMETER_PATH` stands for (`<path>/database-url` is DATABASE_URL, …).
 */
export const SECRET_PARAMETERS = {
  DATABASE_URL: 'database-url',
  API_KEYS: 'api-keys',
  UPSTASH_REDIS_REST_URL: 'upstash-redis-rest-url',
  UPSTASH_REDIS_REST_TOKEN: 'upstash-redis-rest-token',
} as const;
type SecretVariable = keyof typeof SECRET_PARAMETERS;

const int = (fallback: number, min: number, max: number) => coerce.number().int().min(min).max(max).default(fallback);
const bool = (fallback: boolean) =>
  zEnum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');
const optionalUrl = url().optional();

const databaseSchema = object({
  DATABASE_URL: string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  DB_MAX_CONNECTIONS: int(1, 1, 100),
  DB_IDLE_TIMEOUT_SECONDS: int(20, 0, 3600),
  DB_CONNECT_TIMEOUT_SECONDS: int(5, 1, 60),
  DB_PREPARE: bool(true),
});

const storageSchema = object({
  S3_BUCKET: string().min(3).max(63),
  S3_REGION: string().min(1).optional(),
  AWS_REGION: string().min(1).default('us-east-1'),
  S3_ENDPOINT: optionalUrl,
  S3_FORCE_PATH_STYLE: bool(false),
  S3_TIMEOUT_MS: int(3000, 100, 60_000),
  S3_MAX_ATTEMPTS: int(2, 1, 10),
  /** false: only the variants are public; file_url is a presigned GET of the original, made per response. */
  ORIGINALS_PUBLIC: bool(true),
  ORIGINAL_URL_EXPIRES_SECONDS: int(3600, 60, 7 * 24 * 3600),
  FILES_BASE_URL: url()
    .regex(/^https?:\/\//, 'must be an http(s) URL')
    .transform((u) => u.replace(/\/+$/, '')),
}).refine((c) => c.FILES_BASE_URL.length + 1 + MAX_OBJECT_KEY_LENGTH <= FILE_URL_MAX, {
  path: ['FILES_BASE_URL'],
  message: `is too long: file_url (base + "/" + a ${MAX_OBJECT_KEY_LENGTH}-character key) must fit in ${FILE_URL_MAX} characters`,
});

const uploadSchema = object({
  /** Through the function (multipart): API Gateway's 6 MB payload, base64-encoded, caps it near 4.4 MB. */
  MAX_UPLOAD_BYTES: int(4 * 1024 * 1024, 1, 100 * 1024 * 1024),
  /** Straight to S3 (POST /api/v1/uploads): the signed POST pins the exact declared size under this. */
  MAX_DIRECT_UPLOAD_BYTES: int(100 * 1024 * 1024, 1, 5 * 1024 * 1024 * 1024),
  /**
   * How long a signed upload POST, and its pending upload, stay valid: at most a day, the age at
   * which the bucket's lifecycle rule deletes what is under uploads/.
   */
  UPLOAD_URL_EXPIRES_SECONDS: int(900, 60, 24 * 3600),
  /** Width × height above which an image is refused (a small file can decode to gigabytes). */
  MAX_IMAGE_PIXELS: int(50_000_000, 1, 1_000_000_000),
});

/** Write protection: when keys are set, POST, PATCH and DELETE need one. */
const authSchema = object({
  API_KEYS: string()
    .optional()
    .transform((v) =>
      (v ?? '')
        .split(',')
        .map((k) => k.trim())
        .filter((k) => k.length > 0),
    )
    .refine((keys) => keys.every((k) => k.length >= 16), 'each key must be at least 16 characters'),
});

const redisSchema = object({
  UPSTASH_REDIS_REST_URL: url().optional(),
  UPSTASH_REDIS_REST_TOKEN: string().min(1).optional(),
  REDIS_URL: string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .default('redis://127.0.0.1:6379'),
  REDIS_TIMEOUT_MS: int(250, 10, 10_000),
  REDIS_CONNECT_TIMEOUT_MS: int(2000, 10, 30_000),
  CACHE_TTL_SECONDS: int(60, 1, 86_400),
}).refine((c) => (c.UPSTASH_REDIS_REST_URL === undefined) === (c.UPSTASH_REDIS_REST_TOKEN === undefined), {
  path: ['UPSTASH_REDIS_REST_TOKEN'],
  message: 'and UPSTASH_REDIS_REST_URL go together: set both (Upstash) or neither (REDIS_URL)',
});

/** Set by serverless.yml on deployed stages only: where the function's secrets are in SSM. */
const parameterStoreSchema = object({
  SSM_PARAMETER_PATH: string()
    .regex(/^(\/[\w.-]+)+$/, 'must be a parameter path such as /photo-gallery/prod')
    .optional(),
  AWS_REGION: string().min(1).default('us-east-1'),
});

/** The outbox's delivery: the stream's length, how long delivered events are kept, the listener's group. */
const outboxSchema = object({
  /** `image_events` keeps about this many entries (XADD MAXLEN ~). */
  STREAM_MAXLEN: int(10_000, 100, 10_000_000),
  /** Delivered events stay in the outbox this long, then the relay prunes them. */
  OUTBOX_RETENTION_HOURS: int(168, 1, 24 * 365),
  /** How long a request waits for S3 to delete files it just let go of; the relay retries the rest. */
  FILE_REMOVAL_BUDGET_MS: int(1000, 50, 10_000),
  LISTENER_GROUP: string()
    .regex(/^[\w.-]{1,64}$/, 'must be 1 to 64 letters, digits, _ . -')
    .default('listeners'),
  /** Entries another consumer of the group read and left unacknowledged this long are taken over. */
  LISTENER_CLAIM_IDLE_MS: int(60_000, 10, 24 * 3600 * 1000),
  /** The listener's consumer name in the group: stable across restarts (unset: the host name). */
  LISTENER_CONSUMER: string()
    .regex(/^[\w.-]{1,64}$/, 'must be 1 to 64 letters, digits, _ . -')
    .optional(),
});

const logSchema = object({
  LOG_LEVEL: zEnum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /** The listener's output: CloudWatch-like text lines, or one JSON object a line. */
  LOG_FORMAT: zEnum(['text', 'json']).default('text'),
});

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
const parameterStoreConfig = once(() => parseSection(parameterStoreSchema, process.env));

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
  databaseConfig();
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
function section<T extends ZodType>(schema: T, options: { secret?: boolean } = {}): () => Readonly<output<T>> {
  return once(() => {
    if (options.secret && secrets === undefined && parameterStoreConfig().SSM_PARAMETER_PATH !== undefined) {
      throw new ConfigError(
        'Invalid configuration: a secret was read before loadSecrets() finished (SSM_PARAMETER_PATH is set): import lib/secrets.ts first',
      );
    }
    return parseSection(schema, { ...process.env, ...secrets?.values }, secrets?.origins);
  });
}

/** Postgres settings; throws ConfigError naming the variable when DATABASE_URL is missing or bad. */
export const databaseConfig = section(databaseSchema, { secret: true });
/** S3 and file_url settings; throws ConfigError when S3_BUCKET or FILES_BASE_URL is missing or bad. */
export const storageConfig = section(storageSchema);
/** Upload limits. */
export const uploadConfig = section(uploadSchema);
/** API keys for writes; none configured means writes are open. */
export const authConfig = section(authSchema, { secret: true });
/** Redis: Upstash over REST when both UPSTASH_* are set, else REDIS_URL over TCP. */
export const redisConfig = section(redisSchema, { secret: true });
/** The outbox's delivery settings. */
export const outboxConfig = section(outboxSchema);
/** Logging settings. */
export const logConfig = section(logSchema);

/** Every variable read here (scripts/serverless-stage.cjs must pass each one a function reads; a unit test holds them together). */
export const configVariables = (): string[] =>
  [databaseSchema, storageSchema, uploadSchema, authSchema, redisSchema, parameterStoreSchema, outboxSchema, logSchema].flatMap((schema) =>
    Object.keys(schema.shape),
  );
