/**
 * `npm start`: the API on http://localhost:3000 under serverless offline, with what it needs:
 * Postgres from DATABASE_URL or an embedded PostgreSQL, an S3 emulator (unless S3_ENDPOINT points at
 * one), the migrations applied. Ctrl-C stops everything it started.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { authConfig, localConfig } from '../lib/config';
import { ORIGINALS_PREFIX } from '../lib/keys';
import { startEmbeddedPostgres } from './embedded-postgres';
import { type Running, redisAnswers, type S3EventRecord, startS3Emulator } from './local-services';
import { runMigrations } from './migrate';

/** Where cache and events go, and whether that Redis answers (the API works without it). */
async function describeRedis(): Promise<string> {
  if (env.UPSTASH_REDIS_REST_URL && env.UPSTASH_REDIS_REST_TOKEN) return `Upstash at ${env.UPSTASH_REDIS_REST_URL}`;
  const url = env.REDIS_URL || 'redis://127.0.0.1:6379';
  return (await redisAnswers(url))
    ? `${url} (npm run listener prints the events)`
    : `${url} does not answer: the API works without cache and events until it does`;
}

const root = fileURLToPath(new URL('..', import.meta.url));
if (existsSync(`${root}.env`)) process.loadEnvFile(`${root}.env`);

const env = process.env;
// npm start's own settings, with lib/config.ts's defaults (a bad value stops it here, named).
const local = localConfig();
const dataDir = resolve(root, local.DATA_DIR);
const port = local.PORT;
const lambdaPort = local.OFFLINE_LAMBDA_PORT;

/**
 * The key that signs unlocked shares' access tokens: SHARE_TOKEN_SECRET when set, else one made for
 * this data folder and kept in it, so that an unlocked share stays unlocked across restarts.
 */
function shareTokenSecret(): string {
  const file = `${dataDir}/share-token-secret`;
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, randomBytes(48).toString('base64url'), { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}
env.SHARE_TOKEN_SECRET ||= shareTokenSecret();

/**
 * Invokes a function of serverless offline as AWS would (its Lambda API): what an EventBridge
 * schedule or an S3 notification does on AWS, `npm start` does through this.
 */
async function invokeFunction(name: string, event: unknown): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${lambdaPort}/2015-03-31/functions/photo-gallery-dev-${name}/invocations`, {
    method: 'POST',
    body: JSON.stringify(event),
  });
  const text = await res.text();
  const result: unknown = text ? JSON.parse(text) : undefined;
  // A function that threw: Lambda's X-Amz-Function-Error, or its { errorMessage, errorType } body.
  if (!res.ok || res.headers.has('x-amz-function-error') || (result && typeof result === 'object' && 'errorMessage' in result)) {
    const message = result && typeof result === 'object' && 'errorMessage' in result ? String(result.errorMessage) : `HTTP ${res.status}`;
    throw new Error(`${name} failed: ${message}`);
  }
  return result;
}
const started: Running[] = [];
let stopping: Promise<void> | undefined;
let signalled = false;

/** Stops what was started, the last first, once (a second caller waits for the first), and exits. */
async function stopAll(code: number): Promise<never> {
  stopping ??= (async () => {
    for (const service of started.reverse()) await service.stop().catch(() => {});
  })();
  await stopping;
  process.exit(code);
}

function say(line: string): void {
  process.stdout.write(`[start] ${line}\n`);
}

try {
  // Checked before anything starts: keys, access mode and origins (GALLERY_ACCESS=private needs keys).
  const corsOrigins = authConfig().CORS_ALLOWED_ORIGINS;
  if (!env.DATABASE_URL) {
    const pg = await startEmbeddedPostgres({
      port: local.EMBEDDED_PG_PORT,
      directory: `${dataDir}/postgres`,
      say: (line) => say(`database: ${line}`),
    });
    started.push(pg);
    env.DATABASE_URL = pg.url;
    say(`database: embedded ${pg.version} at ${pg.url} (data in ${dataDir}/postgres; set DATABASE_URL to use your Postgres)`);
  } else {
    say(`database: ${env.DATABASE_URL.replace(/\/\/[^@/]*@/, '//***@')}`);
  }

  env.S3_BUCKET ||= 'photo-gallery';
  if (!env.S3_ENDPOINT) {
    const s3 = await startS3Emulator({
      port: local.S3_PORT,
      directory: `${dataDir}/s3`,
      bucket: env.S3_BUCKET,
      // The gallery page (served here) and the configured origins POST files straight to the bucket.
      corsOrigins: [`http://localhost:${port}`, `http://127.0.0.1:${port}`, ...corsOrigins],
    });
    started.push(s3);
    // S3's event notification of serverless.yml (ObjectCreated on images/ → imagesProcess), here.
    s3.onEvent((record) => {
      if (record.eventName.startsWith('ObjectCreated:') && record.s3.object.key.startsWith(ORIGINALS_PREFIX)) void processLocally(record);
    });
    env.S3_ENDPOINT = s3.url;
    env.S3_FORCE_PATH_STYLE = 'true';
    env.AWS_ACCESS_KEY_ID = 'S3RVER'; // s3rver checks signatures against its own fixed key
    env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    env.FILES_BASE_URL ||= `${s3.url}/${env.S3_BUCKET}`;
    say(`object storage: s3rver at ${s3.url}, bucket ${env.S3_BUCKET} (data in ${dataDir}/s3)`);
  } else {
    say(`object storage: ${env.S3_ENDPOINT}, bucket ${env.S3_BUCKET}`);
  }
  env.FILES_BASE_URL ||= `${env.S3_ENDPOINT}/${env.S3_BUCKET}`;

  await runMigrations(env.DATABASE_URL);
  say('migrations applied');
  say(`cache and events: ${await describeRedis()}`);
} catch (err) {
  console.error('[start] could not start:', err instanceof Error ? err.message : err);
  await stopAll(1);
}

// In a process group of its own, stopped by this process after Ctrl-C; its stdin is the pipe by which
// it notices that this process has gone without stopping it (scripts/exit-with-parent.mjs).
const offline = spawn(
  process.execPath,
  ['--import', new URL('./exit-with-parent.mjs', import.meta.url).href, `${root}node_modules/.bin/serverless`, 'offline', 'start'],
  {
    cwd: root,
    env: { ...env, PORT: String(port), OFFLINE_LAMBDA_PORT: String(lambdaPort) },
    stdio: ['pipe', 'inherit', 'inherit'],
    detached: true,
  },
);
offline.on('exit', (code) => {
  if (!stopping && !signalled) say(`serverless offline exited (${code ?? 'signal'})`);
  void stopAll(code ?? 0);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (signalled) return;
    signalled = true;
    say('stopping…');
    try {
      if (offline.pid) process.kill(-offline.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    setTimeout(() => void stopAll(0), 3000).unref();
  });
}

// Say where everything is once the API answers.
const api = `http://localhost:${port}`;
for (let i = 0; i < 120 && !stopping; i++) {
  const ok = await fetch(`http://127.0.0.1:${port}/api/v1/images/?limit=1`)
    .then((r) => r.status < 500)
    .catch(() => false);
  if (ok) {
    say(`gallery: ${api}/ (open it in a browser: browse, upload, edit and delete photos)`);
    say(`API ready: ${api}/api/v1/images/`);
    say(`docs: ${api}/docs (Swagger UI), ${api}/openapi.json`);
    say(`files served from ${env.FILES_BASE_URL}/${ORIGINALS_PREFIX}…`);
    say('Ctrl-C stops the API and everything started with it');
    break;
  }
  await new Promise((r) => setTimeout(r, 500));
}

/**
 * Invokes imagesProcess with the S3 event as S3 would, asynchronously; a failure is tried twice more,
 * as Lambda retries an asynchronous invocation (here after 1 and 4 s, not minutes), then logged: on
 * AWS it would wait in the dead-letter queue.
 */
async function processLocally(record: S3EventRecord): Promise<void> {
  const key = record.s3.object.key;
  for (let attempt = 1; ; attempt++) {
    try {
      await invokeFunction('imagesProcess', { Records: [record] });
      return;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (attempt === 3) {
        say(`processing ${key} failed three times: ${reason}; recorded as failed (on AWS: through the queue ProcessingFailures)`);
        // What Lambda sends to the failure destination, as the queue hands it on.
        const failed = { requestPayload: { Records: [record] }, responsePayload: { errorType: 'Error', errorMessage: reason } };
        await invokeFunction('imagesProcessFailed', { Records: [{ messageId: randomUUID(), body: JSON.stringify(failed) }] }).catch(
          (err: unknown) => say(`could not record the failure of ${key}: ${err instanceof Error ? err.message : String(err)}`),
        );
        return;
      }
      await new Promise((r) => setTimeout(r, attempt === 1 ? 1_000 : 4_000));
    }
  }
}

// The outbox relay's round (the outboxRelay function, every minute on AWS; the listener, where it
// runs), every two seconds here and in this process, so that serverless offline does not log an
// invocation every two seconds: events Redis missed are delivered, files S3 could not delete at once
// are removed. Imported now that the environment is complete (config is read at import).
const { relayRound } = await import('../lib/outbox/run');
const before = (await import('../lib/subscribers')).everyBeforeDelivery();
let relaying = false;
const relay = setInterval(() => {
  if (relaying || stopping) return;
  relaying = true;
  relayRound(before)
    .then((round) => {
      if (round.delivered + round.removed > 0) say(`relay: ${round.delivered} event(s) delivered, ${round.removed} file(s) removed`);
    })
    .finally(() => (relaying = false));
}, local.RELAY_INTERVAL_MS);
relay.unref();

// The hourly schedule of serverless.yml, every minute here: expired direct uploads are discarded.
const sweep = setInterval(() => {
  invokeFunction('uploadsSweep', { source: 'npm start', 'detail-type': 'Scheduled Event' }).catch((err: unknown) =>
    say(`uploads sweep failed: ${err instanceof Error ? err.message : String(err)}`),
  );
}, local.SWEEP_INTERVAL_MS);
sweep.unref();
