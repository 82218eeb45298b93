// Stage settings for serverless.yml, resolved when the template is read.
//
// The local stage, "dev" (npm start, serverless offline, `npm run package` in CI), takes everything
// from the environment. Every other stage is a deployed one: its secrets stay in SSM Parameter Store
// (SecureString) under /photo-gallery/<stage>/ and never enter the template. The functions get that
// path (SSM_PARAMETER_PATH) and read the values at cold start (lib/config.ts); packaging only checks
// that every one of them exists, so that a stage cannot be deployed without, say, its API keys.
// Settings that are not secret (CORS origins, DB_PREPARE, reserved concurrency) are read here and
// written into the template.
'use strict';

const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { parse } = require('yaml');

const LOCAL_STAGES = new Set(['dev']);

/**
 * Every variable the functions read, by how a stage gives it to them (`delivery` in lib/config.ts,
 * generated into this JSON by `npm run docs`): `secrets` (variable → SSM parameter, read at cold
 * start), `tuning` (passed through when set at packaging, any stage), `local` (the local stage's
 * endpoints), `stage` (set here from the stage), `none` (read by no function), and the stage
 * `parameters` some of them are read from when packaging.
 */
const VARIABLES = require('./config-variables.json');
const SECRET_PARAMETERS = Object.values(VARIABLES.secrets);

/** The bucket is photo-gallery-<stage>-<account id>: at most 63 characters, lowercase. */
const STAGE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,34}[a-z0-9])?$/;

/** The named variables that are set (non-empty) in the packaging environment. */
function passThrough(names) {
  return Object.fromEntries(names.filter((name) => process.env[name]).map((name) => [name, process.env[name]]));
}

/**
 * The bucket's CORS: anyone may GET and HEAD a file (they are public through CloudFront), and the
 * gallery page may POST one straight to S3 (a direct upload): the page is served by the HTTP API
 * itself, so its origin is the API's endpoint (`https://<api id>.execute-api.<region>.amazonaws.com`,
 * resolved by CloudFormation; the API depends on nothing, so the bucket may depend on it), plus the
 * configured origins.
 */
function bucketCors(origins) {
  const allowedOrigins = (origins ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  return [
    { AllowedMethods: ['GET', 'HEAD'], AllowedOrigins: ['*'], MaxAge: 3600 },
    {
      AllowedMethods: ['POST'],
      AllowedOrigins: [{ 'Fn::GetAtt': ['HttpApi', 'ApiEndpoint'] }, ...allowedOrigins],
      AllowedHeaders: ['*'],
      MaxAge: 3600,
    },
  ];
}

/**
 * What CloudFront may read from the bucket: the variants always; the originals unless they are
 * private (ORIGINALS_PUBLIC=false, then file_url is a presigned GET the functions make).
 */
function publicFiles(originalsPublic) {
  const under = (prefix) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': ['ImagesBucket', 'Arn'] }, `/${prefix}/*`]] });
  return originalsPublic ? [under('images'), under('variants')] : [under('variants')];
}

/** A boolean setting as lib/config.ts reads one (true, false, 1, 0); unset is false, as every such default there. */
function flag(value, where) {
  if (value === undefined || value === '') return false;
  if (['true', '1'].includes(value)) return true;
  if (['false', '0'].includes(value)) return false;
  throw new Error(`${where} must be true or false, not "${value}"`);
}

/** Whether a DATABASE_URL verifies the server's certificate: lib/config.ts's verifiesServer, the same rule. */
function verifiesServer(databaseUrl) {
  const query = new URL(databaseUrl).searchParams;
  return query.get('sslmode') === 'verify-full' || query.get('sslrootcert') === 'system';
}

/** CORS for API Gateway: a comma-separated list of origins, or none (no CORS headers at all). */
function cors(origins) {
  const allowedOrigins = (origins ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  if (allowedOrigins.length === 0) return false;
  return {
    allowedOrigins,
    allowedMethods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['Authorization', 'Content-Type', 'X-Api-Key'],
    exposedResponseHeaders: ['Location', 'Link', 'X-Cache'],
    maxAge: 600,
  };
}

/**
 * A deployment setting (RESERVED_CONCURRENCY, API_THROTTLE_*): the stage parameter when set, else the
 * packaging environment's variable, else lib/config.ts's default.
 */
function templateSetting(name, parameterValue) {
  return parameterValue ?? (process.env[name] || VARIABLES.template[name]);
}

/** API Gateway's throttling of every route of the stage, from a rate and a burst (whole numbers). */
function throttling(rate, burst, where) {
  const whole = (value, what, max) => {
    if (!/^\d{1,5}$/.test(String(value)) || Number(value) < 1 || Number(value) > max) {
      throw new Error(`${where(what)} must be a whole number from 1 to ${max}, not "${value}"`);
    }
    return Number(value);
  };
  return {
    ThrottlingRateLimit: whole(rate, 'API_THROTTLE_RATE', 10_000),
    ThrottlingBurstLimit: whole(burst, 'API_THROTTLE_BURST', 5_000),
  };
}

/**
 * Reserved concurrency per function, from `<function>=<n>,…` where `*` stands for every function not
 * named (`*=10,imagesCreate=4`); functions not covered have none. Throws naming the parameter and
 * the entry at fault.
 */
function reservedConcurrency(value, parameter, functionNames) {
  if (value.trim() === 'none') return {};
  const fail = (why) => {
    throw new Error(
      `${parameter} is malformed (${why}); the format is <function>=<n>,… with "*" for every function not named, e.g. "*=10,imagesCreate=4"; functions: ${functionNames.join(', ')}`,
    );
  };
  const entries = new Map();
  for (const entry of value.split(',').map((e) => e.trim())) {
    const match = /^([A-Za-z][A-Za-z0-9]*|\*)=(\d{1,5})$/.exec(entry);
    if (!match) fail(`"${entry}" is not <function>=<n>`);
    const [, name, n] = match;
    if (name !== '*' && !functionNames.includes(name)) fail(`no function is called "${name}"`);
    if (entries.has(name)) fail(`"${name}" is given twice`);
    entries.set(name, Number(n));
  }
  const result = {};
  for (const name of functionNames) {
    const n = entries.has(name) ? entries.get(name) : entries.get('*');
    if (n !== undefined) result[name] = n;
  }
  return result;
}

/** Reads one SSM parameter through osls (its credentials and region); undefined when it does not exist. */
async function readParameter(resolveVariable, path) {
  try {
    return String(await resolveVariable(`ssm(raw):${path}`));
  } catch (error) {
    // osls resolves the template in passes and the ssm source is not ready on the first ones: this
    // code means "ask again on a later pass", so it must reach osls untouched.
    if (error && error.code === 'MISSING_VARIABLE_DEPENDENCY') throw error;
    if (error && error.code === 'MISSING_VARIABLE_RESULT') return undefined;
    throw new Error(`could not read the SSM parameter ${path}: ${error?.message ? error.message : error}`);
  }
}

async function resolveStage({ options, resolveVariable }) {
  const stage = options.stage || 'dev';
  const env = process.env;
  if (!STAGE_NAME.test(stage)) {
    throw new Error(
      `stage "${stage}": a stage name is 1 to 36 lowercase letters, digits and inner hyphens (it is part of the bucket's name)`,
    );
  }
  const functionNames = Object.keys(parse(readFileSync(join(__dirname, '..', 'serverless.yml'), 'utf8')).functions);

  if (LOCAL_STAGES.has(stage)) {
    if (process.argv.includes('deploy')) {
      throw new Error(`"${stage}" is the local stage; deploy a named one: serverless deploy --stage prod`);
    }
    const originalsPublic = flag(env.ORIGINALS_PUBLIC, 'ORIGINALS_PUBLIC');
    return {
      cors: cors(env.CORS_ALLOWED_ORIGINS),
      bucketCors: bucketCors(env.CORS_ALLOWED_ORIGINS),
      publicFiles: publicFiles(originalsPublic),
      // serverless offline neither throttles nor reserves; `npm run package` of this stage shows the defaults.
      reservedConcurrency: {},
      throttling: throttling(templateSetting('API_THROTTLE_RATE'), templateSetting('API_THROTTLE_BURST'), (name) => name),
      // Everything from the environment, secrets included; never an SSM path (nothing is read from AWS locally).
      environment: {
        ...passThrough(
          [...VARIABLES.tuning, ...Object.keys(VARIABLES.secrets), ...VARIABLES.local, ...VARIABLES.stage].filter(
            (name) => name !== 'SSM_PARAMETER_PATH',
          ),
        ),
        ORIGINALS_PUBLIC: String(originalsPublic),
      },
    };
  }

  const path = `/photo-gallery/${stage}`;
  const read = (name) => readParameter(resolveVariable, `${path}/${name}`);
  const secrets = await Promise.all(SECRET_PARAMETERS.map(read));
  const missing = SECRET_PARAMETERS.filter((_, i) => secrets[i] === undefined).map((name) => `${path}/${name}`);
  if (missing.length > 0) {
    throw new Error(`stage "${stage}" needs the SSM parameter${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (SecureString)`);
  }
  const apiKeys = secrets[SECRET_PARAMETERS.indexOf(VARIABLES.secrets.API_KEYS)];
  if (!apiKeys.split(',').some((key) => key.trim())) {
    throw new Error(`stage "${stage}": ${path}/api-keys holds no key; a deployed stage needs API keys`);
  }
  const [origins, dbPrepare, concurrency, originals, tlsUnverified, rate, burst, access] = await Promise.all(
    [
      VARIABLES.parameters.CORS_ALLOWED_ORIGINS,
      VARIABLES.parameters.DB_PREPARE,
      VARIABLES.parameters.RESERVED_CONCURRENCY,
      VARIABLES.parameters.ORIGINALS_PUBLIC,
      VARIABLES.parameters.DB_TLS_UNVERIFIED,
      VARIABLES.parameters.API_THROTTLE_RATE,
      VARIABLES.parameters.API_THROTTLE_BURST,
      VARIABLES.parameters.GALLERY_ACCESS,
    ].map(read),
  );
  if (access !== undefined && !['private', 'public'].includes(access)) {
    throw new Error(`${path}/${VARIABLES.parameters.GALLERY_ACCESS} must be private or public, not "${access}"`);
  }
  const originalsPublic = flag(originals, `${path}/${VARIABLES.parameters.ORIGINALS_PUBLIC}`);
  const dbTlsUnverified = flag(tlsUnverified, `${path}/${VARIABLES.parameters.DB_TLS_UNVERIFIED}`);
  // The functions refuse it at cold start too; here it stops a deploy that could not serve a request.
  const databaseUrl = secrets[SECRET_PARAMETERS.indexOf(VARIABLES.secrets.DATABASE_URL)];
  if (!dbTlsUnverified && !verifiesServer(databaseUrl)) {
    throw new Error(
      `stage "${stage}": ${path}/${VARIABLES.secrets.DATABASE_URL} does not verify the server's certificate: add sslmode=verify-full to it, or, for a provider whose certificate cannot be verified, set ${path}/${VARIABLES.parameters.DB_TLS_UNVERIFIED} to true`,
    );
  }
  return {
    cors: cors(origins),
    bucketCors: bucketCors(origins),
    publicFiles: publicFiles(originalsPublic),
    reservedConcurrency: reservedConcurrency(
      templateSetting('RESERVED_CONCURRENCY', concurrency),
      concurrency === undefined ? 'RESERVED_CONCURRENCY' : `${path}/${VARIABLES.parameters.RESERVED_CONCURRENCY}`,
      functionNames,
    ),
    throttling: throttling(templateSetting('API_THROTTLE_RATE', rate), templateSetting('API_THROTTLE_BURST', burst), (name) =>
      (name === 'API_THROTTLE_RATE' ? rate : burst) === undefined ? name : `${path}/${VARIABLES.parameters[name]}`,
    ),
    environment: {
      ...passThrough(VARIABLES.tuning),
      // Secrets are read by the functions at cold start, from here; none of them is in the template.
      SSM_PARAMETER_PATH: path,
      // RDS Proxy and pgbouncer in transaction mode cannot keep prepared statements.
      DB_PREPARE: dbPrepare || env.DB_PREPARE || 'false',
      ORIGINALS_PUBLIC: String(originalsPublic),
      ...(dbTlsUnverified ? { DB_TLS_UNVERIFIED: 'true' } : {}),
      // Unset: private, as lib/config.ts has it whenever keys are configured (a deployed stage has them).
      ...(access ? { GALLERY_ACCESS: access } : {}),
      // The functions refuse writes from other sites but these (lib/http/handler.ts).
      ...(origins ? { CORS_ALLOWED_ORIGINS: origins } : {}),
      S3_BUCKET: { Ref: 'ImagesBucket' },
      FILES_BASE_URL: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': ['FilesDistribution', 'DomainName'] }]] },
    },
  };
}

// Read once per command, however many properties of the template refer to it; a failed read is not
// kept, so that the pass osls makes once the ssm source is ready reads again.
let settings;
module.exports = (context) => {
  settings ??= resolveStage(context).catch((error) => {
    settings = undefined;
    throw error;
  });
  return settings;
};
module.exports.SECRET_PARAMETERS = SECRET_PARAMETERS;
