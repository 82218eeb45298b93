// Stage settings for serverless.yml, resolved when the template is read.
//
// The local stage, "dev" (npm start, serverless offline, `npm run package` in CI), takes everything
// from the environment. Every other stage is a deployed one: secrets and endpoints come from SSM
// Parameter Store (SecureString) under /photo-gallery/<stage>/, never from the repository, and the
// bucket and file URL from the resources the template creates. A deployed stage whose API keys
// parameter is missing cannot be deployed: writes would be open to anyone.
'use strict';

const LOCAL_STAGES = new Set(['dev']);

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

async function resolveStage({ options, resolveVariable }) {
  const stage = options.stage || 'dev';
  const env = process.env;

  if (LOCAL_STAGES.has(stage)) {
    if (process.argv.includes('deploy')) {
      throw new Error(`"${stage}" is the local stage; deploy a named one: serverless deploy --stage prod`);
    }
    return {
      cors: cors(env.CORS_ALLOWED_ORIGINS),
      environment: {
        DATABASE_URL: env.DATABASE_URL || '',
        DB_PREPARE: env.DB_PREPARE || 'true',
        S3_BUCKET: env.S3_BUCKET || 'photo-gallery',
        S3_ENDPOINT: env.S3_ENDPOINT || '',
        S3_FORCE_PATH_STYLE: env.S3_FORCE_PATH_STYLE || 'false',
        FILES_BASE_URL: env.FILES_BASE_URL || '',
        API_KEYS: env.API_KEYS || '',
        REDIS_URL: env.REDIS_URL || '',
        UPSTASH_REDIS_REST_URL: env.UPSTASH_REDIS_REST_URL || '',
        UPSTASH_REDIS_REST_TOKEN: env.UPSTASH_REDIS_REST_TOKEN || '',
      },
    };
  }

  const parameter = async (name, required) => {
    const path = `/photo-gallery/${stage}/${name}`;
    try {
      return await resolveVariable(`ssm:${path}`);
    } catch (error) {
      if (!required) return '';
      throw new Error(
        `stage "${stage}" needs the SSM parameter ${path} (SecureString): ${error && error.message ? error.message : error}`,
      );
    }
  };
  const apiKeys = await parameter('api-keys', true);
  if (!String(apiKeys).trim()) {
    throw new Error(`stage "${stage}": /photo-gallery/${stage}/api-keys is empty; a deployed stage needs API keys`);
  }
  return {
    cors: cors(await parameter('cors-allowed-origins', false)),
    environment: {
      DATABASE_URL: await parameter('database-url', true),
      // RDS Proxy and pgbouncer in transaction mode cannot keep prepared statements.
      DB_PREPARE: (await parameter('db-prepare', false)) || 'false',
      S3_BUCKET: { Ref: 'ImagesBucket' },
      S3_ENDPOINT: '',
      S3_FORCE_PATH_STYLE: 'false',
      FILES_BASE_URL: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': ['FilesDistribution', 'DomainName'] }]] },
      API_KEYS: apiKeys,
      REDIS_URL: '',
      UPSTASH_REDIS_REST_URL: await parameter('upstash-redis-rest-url', true),
      UPSTASH_REDIS_REST_TOKEN: await parameter('upstash-redis-rest-token', true),
    },
  };
}

// Read once per command, however many properties of the template refer to it.
let settings;
module.exports = (context) => (settings ??= resolveStage(context));
