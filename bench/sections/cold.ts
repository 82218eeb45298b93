import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { hasCommand, startAwsStandIn } from '../../support/aws-stand-in';
import { makeJpeg } from '../../support/images';
import { httpEvent } from '../../support/lambda-events';
import { listPageEvent } from '../app';
import { runDriver, type Bundle } from '../bundles';
import { BENCH_API_KEY, uploadEvents, type BenchContext, type Table } from '../context';
import { median, ms, ratio } from '../stats';

/** The functions that read secrets at cold start (the others never call loadSecrets). */
const READS_SECRETS = new Set(['imagesCreate', 'imagesDelete', 'imagesGet', 'imagesList', 'imagesUpdate']);
const SSM_PATH = '/photo-gallery/bench';

interface Cold {
  wall: number;
  importMs: number;
  firstMs: number;
}

/**
 * Cold starts: a fresh Node process imports a bundle and serves its first request, every function
 * and an empty handler in turn, as deployed (Redis on Upstash's protocol); the five that read secrets
 * also with the SSM read, when moto_server is installed to stand in for SSM.
 */
export async function coldStarts(ctx: BenchContext): Promise<Table> {
  const { functions, empty } = ctx.packaged();
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
      if (!result.status || result.status >= 500) throw new Error(`${bundle.name} cold start answered ${result.status}: ${stderr}`);
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
      note: deployedSecrets
        ? 'With the SSM read: as deployed, the secrets read at import from SSM (moto_server over loopback), the environment holding only their path.'
        : 'No SSM read measured: moto_server is not installed.',
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
        const withSsm = ssm ? [ms(ssm.wall), ms(ssm.importMs), ratio(ssm.wall, baseline.wall), ms(ssm.wall - cold.wall)] : ['no read', '', '', ''];
        return [name === empty.name ? 'empty handler' : name, ms(cold.wall), ms(cold.importMs), ms(cold.firstMs), ratio(cold.wall, baseline.wall), ...withSsm];
      }),
    };
  } finally {
    await aws?.stop();
  }
}

/** The first request of each function: an image made for it to read, update or delete, an upload. */
async function coldEvents(ctx: BenchContext): Promise<(name: string, run: number) => Promise<APIGatewayProxyEventV2>> {
  const auth = { authorization: `Bearer ${BENCH_API_KEY}` };
  const [fixture] = await ctx.sql<{ id: string }[]>`
    insert into images (id, title, description, filename, file_url)
    values (gen_random_uuid(), 'cold fixture', '', 'f.jpg', ${`${ctx.filesBaseUrl}/images/f.jpg`}) returning id`;
  const id = fixture?.id ?? '';
  const upload = await uploadEvents('cold', { bytes: makeJpeg(64, 48), filename: 'cold.jpg' });
  const events: Record<string, (run: number) => Promise<APIGatewayProxyEventV2>> = {
    empty: async () => httpEvent({ method: 'GET', path: '/', route: 'GET /' }),
    imagesGet: async () => httpEvent({ method: 'GET', path: `/api/v1/images/${id}`, route: 'GET /api/v1/images/{id}', pathParameters: { id } }),
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
    openapi: async () => httpEvent({ method: 'GET', path: '/openapi.json', route: 'GET /openapi.json' }),
    docs: async () => httpEvent({ method: 'GET', path: '/docs', route: 'GET /docs' }),
  };
  return (name, run) => {
    const make = events[name];
    if (!make) throw new Error(`no cold-start event for ${name}`);
    return make(run);
  };
}
