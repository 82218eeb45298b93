import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2, S3Event, ScheduledEvent } from 'aws-lambda';
import { hasCommand, startAwsStandIn } from '../../support/aws-stand-in';
import { makeJpeg } from '../../support/images';
import { httpEvent, s3Event } from '../../support/lambda-events';
import { listPageEvent, storeOriginal } from '../app';
import { type Bundle, runDriver } from '../bundles';
import { BENCH_API_KEY, type BenchContext, BUCKET, completeUploadEvent, createUploadEvent, type Table, uploadEvents } from '../context';
import { median, ms, ratio } from '../stats';

/**
 * The functions that read secrets at cold start: every one that imports lib/db.ts or lib/redis.ts,
 * which await lib/secrets.ts first (docs and openapi never do). Checked against the bundles.
 */
const READS_SECRETS = new Set([
  'imagesCreate',
  'imagesDelete',
  'imagesGet',
  'imagesProcess',
  'imagesList',
  'imagesUpdate',
  'uploadsComplete',
  'uploadsCreate',
  'uploadsSweep',
]);
/** Invoked by a schedule, not by a request: answered with what it did, not a status. */
const SCHEDULED = new Set(['uploadsSweep']);
/** Invoked by S3's ObjectCreated event: answers nothing; judged by the image it processed. */
const S3_TRIGGERED = new Set(['imagesProcess']);
const SSM_PATH = '/photo-gallery/bench';

/**
 * Throws unless READS_SECRETS names exactly the bundles that carry the SSM client: esbuild leaves the
 * client out of a function that never imports lib/secrets.ts, so a new function cannot be left
 * unmarked (or a marked one stop reading) without this failing.
 */
function checkReadsSecrets(bundles: Bundle[]): void {
  for (const bundle of bundles) {
    // The SSM API's JSON target prefix (X-Amz-Target: AmazonSSM.GetParameters), which minification keeps.
    const carries = readFileSync(bundle.handler, 'utf8').includes('AmazonSSM');
    if (carries !== READS_SECRETS.has(bundle.name)) {
      throw new Error(
        `${bundle.name} ${carries ? 'carries' : 'does not carry'} the SSM client: update READS_SECRETS in bench/sections/cold.ts`,
      );
    }
  }
}

interface Cold {
  wall: number;
  importMs: number;
  firstMs: number;
}

/**
 * Cold starts: a fresh Node process imports a bundle and serves its first request (the scheduled
 * sweep: its first scheduled event), every function and an empty handler in turn, as deployed (Redis
 * on Upstash's protocol); those that read secrets also with the SSM read, when moto_server is
 * installed to stand in for SSM.
 */
export async function coldStarts(ctx: BenchContext): Promise<Table> {
  const { functions, empty } = ctx.packaged();
  checkReadsSecrets(functions);
  // The secrets in moto's SSM, the functions given only their path; moto accepts any credentials,
  // s3rver wants its own.
  const aws = hasCommand('moto_server') ? await startAwsStandIn() : undefined;
  try {
    const deployedSecrets = aws && {
      ...aws.env,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      SSM_PARAMETER_PATH: SSM_PATH,
      DATABASE_URL: '',
      UPSTASH_REDIS_REST_URL: '',
      UPSTASH_REDIS_REST_TOKEN: '',
    };
    await aws?.putParameters({
      [`${SSM_PATH}/database-url`]: ctx.databaseUrl,
      [`${SSM_PATH}/api-keys`]: BENCH_API_KEY,
      [`${SSM_PATH}/upstash-redis-rest-url`]: ctx.deployedRedis.UPSTASH_REDIS_REST_URL,
      [`${SSM_PATH}/upstash-redis-rest-token`]: ctx.deployedRedis.UPSTASH_REDIS_REST_TOKEN,
      [`${SSM_PATH}/share-token-secret`]: 'bench-share-token-secret-0123456789abcdef',
    });

    const eventOf = await coldEvents(ctx);
    /** One cold start: a fresh process, the import (with the SSM read, when asked), the first request. */
    const coldOnce = async (bundle: Bundle, run: number, ssm: boolean): Promise<Cold> => {
      const events = [await eventOf(bundle.name, run)];
      const { wall, result, stderr } = await runDriver(ctx, {
        bundle,
        events,
        mode: 'cold',
        env: { ...ctx.deployedRedis, ...(ssm ? deployedSecrets : {}) },
      });
      let answered: unknown = result.status;
      let ok = Number(result.status) < 500;
      if (SCHEDULED.has(bundle.name)) {
        answered = JSON.stringify(result.returned);
        ok = Number((result.returned as { swept?: number } | undefined)?.swept) >= 1;
      } else if (S3_TRIGGERED.has(bundle.name)) {
        answered = await processingOf(ctx, events[0] as S3Event);
        ok = answered === 'ready';
      }
      if (!ok) throw new Error(`${bundle.name} cold start answered ${answered}: ${stderr}`);
      return { wall, importMs: Number(result.importMs), firstMs: Number(result.firstRequestMs) };
    };

    // Round-robin: every function, the empty handler included, once per round, with and without the
    // SSM read, so that a noisy moment of the machine falls on all of them alike.
    const bundles = [empty, ...functions];
    const runs = new Map<string, Cold[]>();
    const record = (key: string, cold: Cold) => runs.set(key, [...(runs.get(key) ?? []), cold]);
    for (let run = 0; run < ctx.options.coldRuns; run++) {
      for (const bundle of bundles) {
        record(bundle.name, await coldOnce(bundle, run, false));
        if (deployedSecrets && READS_SECRETS.has(bundle.name)) record(`${bundle.name}+ssm`, await coldOnce(bundle, run, true));
      }
    }
    const of = (key: string): Cold => {
      const r = runs.get(key) ?? [];
      return { wall: median(r.map((x) => x.wall)), importMs: median(r.map((x) => x.importMs)), firstMs: median(r.map((x) => x.firstMs)) };
    };
    const baseline = of(empty.name);
    return {
      title: `Cold start: a fresh Node process imports the bundle and serves one request, Redis on Upstash's protocol (median of ${ctx.options.coldRuns}, round-robin)`,
      note: [
        deployedSecrets
          ? 'With the SSM read: as deployed, the secrets read at import from SSM (moto_server over loopback), the environment holding only their path.'
          : 'No SSM read measured: moto_server is not installed.',
        "uploadsSweep is scheduled: its first event is EventBridge's scheduled event, with one expired upload to sweep; no client waits on it.",
        'uploadsComplete completes a pending upload of a small JPEG already in the bucket (a new one each run).',
        "imagesProcess is invoked by S3's ObjectCreated event: its first event makes the copies of a small JPEG (64×48; a new one each run); no client waits on it (the processing section has it with photos).",
      ].join(' '),
      columns: [
        ['function', 'left'],
        ['process start → answer', 'right'],
        ['import', 'right'],
        ['first request', 'right'],
        ['vs empty handler (goal ≤ 3x)', 'right'],
        ['with the SSM read', 'right'],
        ['its import', 'right'],
        ['vs empty handler', 'right'],
        ['the read costs', 'right'],
      ],
      rows: bundles.map(({ name }) => {
        const cold = of(name);
        const ssm = runs.has(`${name}+ssm`) ? of(`${name}+ssm`) : undefined;
        const withSsm = ssm
          ? [ms(ssm.wall), ms(ssm.importMs), ratio(ssm.wall, baseline.wall), ms(ssm.wall - cold.wall)]
          : ['no read', '', '', ''];
        return [
          name === empty.name ? 'empty handler' : name,
          ms(cold.wall),
          ms(cold.importMs),
          ms(cold.firstMs),
          ratio(cold.wall, baseline.wall),
          ...withSsm,
        ];
      }),
    };
  } finally {
    await aws?.stop();
  }
}

/** Where the image an S3 event names stands after the function handled it (`ready` once its copies are made). */
async function processingOf(ctx: BenchContext, event: S3Event): Promise<string | undefined> {
  const key = event.Records[0]?.s3.object.key ?? '';
  const id = /^images\/([0-9a-f-]{36})\./.exec(key)?.[1] ?? '';
  const [row] = await ctx.sql<{ processing: string }[]>`select processing from images where id = ${id}`;
  return row?.processing;
}

/** A schedule's event as EventBridge sends it to the sweep. */
const scheduledEvent = (): ScheduledEvent => ({
  version: '0',
  id: randomUUID(),
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '000000000000',
  time: new Date().toISOString(),
  region: 'eu-central-1',
  resources: ['arn:aws:events:eu-central-1:000000000000:rule/photo-gallery-bench-uploadsSweep'],
  detail: {},
});

/**
 * The first request of each function: an image made for it to read, update or delete, an upload, a
 * direct upload to sign, a stored one to complete, an expired one to sweep, a stored original to
 * process (new ones each run: a completion, a sweep or the processing consumes its own).
 */
async function coldEvents(
  ctx: BenchContext,
): Promise<(name: string, run: number) => Promise<APIGatewayProxyEventV2 | ScheduledEvent | S3Event>> {
  const auth = { authorization: `Bearer ${BENCH_API_KEY}` };
  const uploads = await ctx.uploads();
  const small = { bytes: makeJpeg(64, 48), filename: 'cold.jpg', contentType: 'image/jpeg' };
  const uniqueTitle = (prefix: string, run: number) => `${prefix} ${run} ${randomUUID()}`.slice(0, 32);
  const [fixture] = await ctx.sql<{ id: string }[]>`
    insert into images (id, title, description, filename, file_url)
    values (gen_random_uuid(), 'cold fixture', '', 'f.jpg', ${`${ctx.filesBaseUrl}/images/f.jpg`}) returning id`;
  const id = fixture?.id ?? '';
  const upload = await uploadEvents('cold', { bytes: makeJpeg(64, 48), filename: 'cold.jpg' });
  const events: Record<string, (run: number) => Promise<APIGatewayProxyEventV2 | ScheduledEvent | S3Event>> = {
    empty: async () => httpEvent({ method: 'GET', path: '/', route: 'GET /' }),
    imagesGet: async () =>
      httpEvent({ method: 'GET', path: `/api/v1/images/${id}`, route: 'GET /api/v1/images/{id}', pathParameters: { id } }),
    imagesList: async () => listPageEvent(),
    imagesCreate: async (run) => upload(`cold ${run} ${randomUUID().slice(0, 8)}`),
    imagesUpdate: async () =>
      httpEvent({
        method: 'PATCH',
        path: `/api/v1/images/${id}`,
        route: 'PATCH /api/v1/images/{id}',
        pathParameters: { id },
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify({ description: 'cold' }),
      }),
    imagesDelete: async () => {
      const [row] = await ctx.sql<{ id: string }[]>`
        insert into images (id, title, description, filename, file_url)
        values (gen_random_uuid(), ${`doomed ${randomUUID()}`.slice(0, 32)}, '', 'f.jpg', ${`${ctx.filesBaseUrl}/images/gone.jpg`}) returning id`;
      const doomed = row?.id ?? '';
      return httpEvent({
        method: 'DELETE',
        path: `/api/v1/images/${doomed}`,
        route: 'DELETE /api/v1/images/{id}',
        pathParameters: { id: doomed },
        headers: auth,
      });
    },
    uploadsCreate: async (run) =>
      createUploadEvent({
        title: uniqueTitle('cold', run),
        description: 'cold',
        filename: small.filename,
        size: small.bytes.byteLength,
        content_type: small.contentType,
      }),
    uploadsComplete: async (run) => completeUploadEvent(await uploads.pending(uniqueTitle('cold done', run), small)),
    uploadsSweep: async (run) => {
      const id = await uploads.pending(uniqueTitle('cold expired', run), small);
      await ctx.sql`update uploads set expires_at = now() - interval '1 second' where id = ${id}`;
      return scheduledEvent();
    },
    openapi: async () => httpEvent({ method: 'GET', path: '/openapi.json', route: 'GET /openapi.json' }),
    docs: async () => httpEvent({ method: 'GET', path: '/docs', route: 'GET /docs' }),
    web: async () => httpEvent({ method: 'GET', path: '/', route: 'GET /' }),
    imagesProcess: async (run) => {
      const bytes = makeJpeg(64, 48);
      return s3Event(BUCKET, await storeOriginal(uniqueTitle('cold process', run), 'cold.jpg', bytes), bytes.byteLength);
    },
  };
  return (name, run) => {
    const make = events[name];
    if (!make) throw new Error(`no cold-start event for ${name}`);
    return make(run);
  };
}
