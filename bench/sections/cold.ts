import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2, S3Event, ScheduledEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { hasCommand, startAwsStandIn } from '../../support/aws-stand-in';
import { makeJpeg } from '../../support/images';
import { failedProcessingEvent, httpEvent, s3Event } from '../../support/lambda-events';
import { listPageEvent, storeOriginal } from '../app';
import { type Bundle, runDriver } from '../bundles';
import {
  BENCH_API_KEY,
  BENCH_SHARE_TOKEN_SECRET,
  type BenchContext,
  BUCKET,
  completeUploadEvent,
  createUploadEvent,
  type Table,
  uploadEvents,
} from '../context';
import { median, ms, ratio } from '../stats';

/** Invoked by a schedule, not by a request: answered with what it did, not a status. */
const SCHEDULED = new Set(['uploadsSweep', 'outboxRelay']);
/** Invoked by S3's ObjectCreated event: answers nothing; judged by the image it processed. */
const S3_TRIGGERED = new Set(['imagesProcess']);
/** Invoked by SQS with a batch: answers the messages it could not handle. */
const SQS_TRIGGERED = new Set(['imagesProcessFailed']);
const SSM_PATH = '/photo-gallery/bench';
/** The password of the share the unlock's cold start opens. */
const SHARE_PASSWORD = 'cold start password';

/**
 * Whether a bundle reads secrets at cold start: it carries the SSM call (its JSON target,
 * `AmazonSSM.GetParameters`, which minification keeps) exactly when it imports lib/secrets.ts, as
 * every function that reaches the database or Redis does (docs, openapi and web never do).
 */
const readsSecrets = (bundle: Bundle): boolean => readFileSync(bundle.handler, 'utf8').includes('AmazonSSM');

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
  const withSecrets = new Set(functions.filter(readsSecrets).map((f) => f.name));
  // The secrets in moto's SSM, the functions given only their path; moto accepts any credentials,
  // s3rver wants its own.
  const aws = hasCommand('moto_server') ? await startAwsStandIn() : undefined;
  try {
    const deployedSecrets = aws && {
      ...aws.env,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      SSM_PARAMETER_PATH: SSM_PATH,
      // The bench's Postgres has no TLS: the stage's opt-out, as a deployed stage without TLS sets it.
      DB_TLS_UNVERIFIED: 'true',
      DATABASE_URL: '',
      UPSTASH_REDIS_REST_URL: '',
      UPSTASH_REDIS_REST_TOKEN: '',
    };
    await aws?.putParameters({
      [`${SSM_PATH}/database-url`]: ctx.databaseUrl,
      [`${SSM_PATH}/api-keys`]: BENCH_API_KEY,
      [`${SSM_PATH}/upstash-redis-rest-url`]: ctx.deployedRedis.UPSTASH_REDIS_REST_URL,
      [`${SSM_PATH}/upstash-redis-rest-token`]: ctx.deployedRedis.UPSTASH_REDIS_REST_TOKEN,
      [`${SSM_PATH}/share-token-secret`]: BENCH_SHARE_TOKEN_SECRET,
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
      // Every request is one that succeeds: a refusal (401, 404) would time a shorter path.
      let ok = Number(result.status) < 400;
      if (SCHEDULED.has(bundle.name)) {
        answered = JSON.stringify(result.returned);
        const returned = result.returned as { swept?: number; delivered?: number } | undefined;
        ok = bundle.name === 'uploadsSweep' ? Number(returned?.swept) >= 1 : typeof returned?.delivered === 'number';
      } else if (SQS_TRIGGERED.has(bundle.name)) {
        answered = JSON.stringify(result.returned);
        ok = (result.returned as SQSBatchResponse | undefined)?.batchItemFailures?.length === 0;
        if (ok) answered = await processingOf(ctx, JSON.parse((events[0] as unknown as SQSEvent).Records[0]?.body ?? '{}').requestPayload);
        ok &&= answered === 'failed';
      } else if (S3_TRIGGERED.has(bundle.name)) {
        answered = await processingOf(ctx, events[0] as S3Event);
        ok = answered === 'ready';
      }
      if (!ok) throw new Error(`${bundle.name} cold start answered ${answered}: ${stderr.slice(-2000)}`);
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
        if (deployedSecrets && withSecrets.has(bundle.name)) record(`${bundle.name}+ssm`, await coldOnce(bundle, run, true));
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
        "uploadsSweep and outboxRelay are scheduled: their first event is EventBridge's scheduled event (the sweep's with one expired upload to sweep); no client waits on them.",
        'imagesProcessFailed is invoked by SQS: its first batch is one failed processing event, whose image turns failed.',
        'sharedUnlock checks a password against its scrypt hash, which is meant to be slow.',
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
): Promise<(name: string, run: number) => Promise<APIGatewayProxyEventV2 | ScheduledEvent | S3Event | SQSEvent>> {
  const auth = { authorization: `Bearer ${BENCH_API_KEY}` };
  const uploads = await ctx.uploads();
  const small = { bytes: makeJpeg(64, 48), filename: 'cold.jpg', contentType: 'image/jpeg' };
  const uniqueTitle = (prefix: string, run: number) => `${prefix} ${run} ${randomUUID()}`.slice(0, 32);
  const [fixture] = await ctx.sql<{ id: string }[]>`
    insert into images (id, title, description, filename, file_url)
    values (gen_random_uuid(), 'cold fixture', '', 'f.jpg', ${`${ctx.filesBaseUrl}/images/f.jpg`}) returning id`;
  const id = fixture?.id ?? '';
  const upload = await uploadEvents('cold', { bytes: makeJpeg(64, 48), filename: 'cold.jpg' });
  const { createAlbum } = await import('../../lib/albums/create');
  const { addToAlbum } = await import('../../lib/albums/members');
  const { createShare } = await import('../../lib/shares/create');
  const album = await createAlbum({ title: uniqueTitle('cold album', 0), description: '' });
  await addToAlbum(album.id, [id]);
  const share = await createShare({ imageIds: [id], description: '', allowOriginals: false });
  const locked = await createShare({ imageIds: [id], description: '', allowOriginals: false, password: SHARE_PASSWORD });
  const json = (method: string, path: string, route: string, body: unknown, pathParameters?: Record<string, string>) =>
    httpEvent({
      method,
      path,
      route,
      pathParameters,
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify(body),
    });
  const keyed = (method: string, path: string, route: string, pathParameters?: Record<string, string>) =>
    httpEvent({ method, path, route, pathParameters, headers: auth });
  const viewer = (path: string, route: string, pathParameters: Record<string, string>) =>
    httpEvent({ method: 'GET', path, route, pathParameters });
  const albumPath = `/api/v1/albums/${album.id}`;
  const events: Record<string, (run: number) => Promise<APIGatewayProxyEventV2 | ScheduledEvent | S3Event | SQSEvent>> = {
    empty: async () => httpEvent({ method: 'GET', path: '/', route: 'GET /' }),
    imagesGet: async () => keyed('GET', `/api/v1/images/${id}`, 'GET /api/v1/images/{id}', { id }),
    imagesList: async () => ({ ...listPageEvent(), headers: auth }),
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
    imagesProcessFailed: async () => {
      const [row] = await ctx.sql<{ id: string }[]>`
        insert into images (id, title, description, filename, file_url)
        values (gen_random_uuid(), ${`failing ${randomUUID()}`.slice(0, 32)}, '', 'f.jpg', ${`${ctx.filesBaseUrl}/images/failing.jpg`}) returning id`;
      return failedProcessingEvent(s3Event(BUCKET, `images/${row?.id ?? ''}.jpg`));
    },
    outboxRelay: async () => scheduledEvent(),
    albumsCreate: async (run) => json('POST', '/api/v1/albums', 'POST /api/v1/albums', { title: uniqueTitle('cold album', run + 1) }),
    albumsList: async () => keyed('GET', '/api/v1/albums', 'GET /api/v1/albums'),
    albumsGet: async () => keyed('GET', albumPath, 'GET /api/v1/albums/{id}', { id: album.id }),
    albumsUpdate: async () => json('PATCH', albumPath, 'PATCH /api/v1/albums/{id}', { description: 'cold' }, { id: album.id }),
    albumsDelete: async (run) => {
      const doomed = await createAlbum({ title: uniqueTitle('cold doomed', run), description: '' });
      return keyed('DELETE', `/api/v1/albums/${doomed.id}`, 'DELETE /api/v1/albums/{id}', { id: doomed.id });
    },
    albumsImagesAdd: async () =>
      json('POST', `${albumPath}/images`, 'POST /api/v1/albums/{id}/images', { image_ids: [id] }, { id: album.id }),
    albumsImagesRemove: async () =>
      json('POST', `${albumPath}/images/remove`, 'POST /api/v1/albums/{id}/images/remove', { image_ids: [randomUUID()] }, { id: album.id }),
    sharesCreate: async () => json('POST', '/api/v1/shares', 'POST /api/v1/shares', { image_ids: [id] }),
    sharesList: async () => keyed('GET', '/api/v1/shares', 'GET /api/v1/shares'),
    sharesDelete: async () => {
      const doomed = await createShare({ imageIds: [id], description: '', allowOriginals: false });
      return keyed('DELETE', `/api/v1/shares/${doomed.id}`, 'DELETE /api/v1/shares/{id}', { id: doomed.id });
    },
    sharedGet: async () => viewer(`/api/v1/shared/${share.token}`, 'GET /api/v1/shared/{token}', { token: share.token }),
    sharedImagesList: async () =>
      viewer(`/api/v1/shared/${share.token}/images`, 'GET /api/v1/shared/{token}/images', { token: share.token }),
    sharedImageGet: async () =>
      viewer(`/api/v1/shared/${share.token}/images/${id}`, 'GET /api/v1/shared/{token}/images/{id}', { token: share.token, id }),
    sharedUnlock: async () =>
      httpEvent({
        method: 'POST',
        path: `/api/v1/shared/${locked.token}/unlock`,
        route: 'POST /api/v1/shared/{token}/unlock',
        pathParameters: { token: locked.token },
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ password: SHARE_PASSWORD }),
      }),
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
