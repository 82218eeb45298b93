/**
 * Every variable a function reads reaches it through serverless.yml's environment
 * (scripts/serverless-stage.cjs, driven by lib/config.ts's declarations): on the local stage from
 * the environment, on a deployed stage from the stage, and a secret never through the template.
 */
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { configVariables } from '../../lib/config';

type Resolved = { environment: Record<string, unknown> };
const stage = createRequire(import.meta.url)('../../scripts/serverless-stage.cjs') as (context: {
  options: { stage?: string };
  resolveVariable: (name: string) => Promise<unknown>;
}) => Promise<Resolved>;

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
  // The script keeps its answer for the command; a fresh require for the next test.
  const require = createRequire(import.meta.url);
  delete require.cache[require.resolve('../../scripts/serverless-stage.cjs')];
});

/** The stage script as osls loads it for a command: it keeps its answer for the command, so a fresh copy each time. */
const fresh = () => {
  const require = createRequire(import.meta.url);
  delete require.cache[require.resolve('../../scripts/serverless-stage.cjs')];
  return require('../../scripts/serverless-stage.cjs') as typeof stage;
};
const variables = configVariables();
const named = (...deliveries: string[]) => variables.filter((v) => deliveries.includes(v.delivery)).map((v) => v.name);

describe('the stage passes every setting', () => {
  it('passes the local stage every variable a function reads that is set, secrets included', async () => {
    for (const v of variables.filter((v) => v.delivery !== 'template')) {
      process.env[v.name] = v.name === 'ORIGINALS_PUBLIC' ? 'false' : `value-of-${v.name}`;
    }
    const { environment } = await fresh()({ options: { stage: 'dev' }, resolveVariable: async () => undefined });
    const expected = named('secret', 'tuning', 'local', 'stage').filter((n) => n !== 'SSM_PARAMETER_PATH');
    expect(Object.keys(environment).sort()).toEqual(expected.sort());
    expect(environment.DATABASE_URL).toBe('value-of-DATABASE_URL');
  });

  it('gives a deployed stage the tuning it was packaged with and its own settings, never a secret', async () => {
    for (const v of variables.filter((v) => v.delivery !== 'template')) process.env[v.name] = `value-of-${v.name}`;
    const parameters: Record<string, string> = {
      ...Object.fromEntries(Object.values(configVariables().filter((v) => v.delivery === 'secret')).map((v) => [v.parameter, 'secret'])),
      'api-keys': 'a-key-of-16-chars-or-more',
      'database-url': 'postgres://gallery@db.example.eu-central-1.rds.amazonaws.com/gallery?sslmode=verify-full',
      'originals-public': 'false',
    };
    const { environment } = await fresh()({
      options: { stage: 'prod' },
      resolveVariable: async (name) => {
        const value = parameters[name.split('/').at(-1) ?? ''];
        if (value === undefined) throw Object.assign(new Error(`${name} not found`), { code: 'MISSING_VARIABLE_RESULT' });
        return value;
      },
    });
    for (const name of named('tuning')) expect(environment[name], name).toBeDefined();
    // Set only when their stage parameter says so (cors-allowed-origins, db-tls-unverified: unset here).
    const optional = ['CORS_ALLOWED_ORIGINS', 'DB_TLS_UNVERIFIED', 'GALLERY_ACCESS'];
    for (const name of named('stage').filter((n) => !optional.includes(n))) expect(environment[name], name).toBeDefined();
    for (const name of named('secret', 'local', 'none')) expect(environment[name], name).toBeUndefined();
    expect(JSON.stringify(environment)).not.toContain('value-of-DATABASE_URL');
    expect(environment.S3_BUCKET).toEqual({ Ref: 'ImagesBucket' });
  });
});

describe('what bounds a deployed stage', () => {
  const prod = async (parameters: Record<string, string>) => {
    const all: Record<string, string> = {
      ...Object.fromEntries(configVariables().flatMap((v) => (v.delivery === 'secret' && v.parameter ? [[v.parameter, 'secret']] : []))),
      'api-keys': 'a-key-of-16-chars-or-more',
      'database-url': 'postgres://gallery@db.example.eu-central-1.rds.amazonaws.com/gallery?sslmode=verify-full',
      ...parameters,
    };
    return (await fresh()({
      options: { stage: 'prod' },
      resolveVariable: async (name) => {
        const value = all[name.split('/').at(-1) ?? ''];
        if (value === undefined) throw Object.assign(new Error(`${name} not found`), { code: 'MISSING_VARIABLE_RESULT' });
        return value;
      },
    })) as unknown as { reservedConcurrency: Record<string, number>; throttling: Record<string, number> };
  };

  it('reserves concurrency and throttles by default, and takes the stage parameters over the defaults', async () => {
    const defaults = await prod({});
    expect(defaults.throttling).toEqual({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 });
    expect(defaults.reservedConcurrency).toMatchObject({ imagesList: 10, imagesCreate: 3, outboxRelay: 1 });
    // One database connection per instance: the functions that connect fit a stock max_connections
    // of 100, with room for the listener's relay and a migration.
    const connecting = Object.entries(defaults.reservedConcurrency).filter(([fn]) => !['openapi', 'docs', 'web'].includes(fn));
    expect(connecting).toHaveLength(25);
    expect(connecting.reduce((sum, [, n]) => sum + n, 0)).toBeLessThanOrEqual(90);
    const set = await prod({ 'throttle-rate': '20', 'throttle-burst': '40', 'reserved-concurrency': '*=2' });
    expect(set.throttling).toEqual({ ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 });
    expect(new Set(Object.values(set.reservedConcurrency))).toEqual(new Set([2]));
    expect((await prod({ 'reserved-concurrency': 'none' })).reservedConcurrency).toEqual({});
    await expect(prod({ 'throttle-rate': 'lots' })).rejects.toThrow(
      '/photo-gallery/prod/throttle-rate must be a whole number from 1 to 10000, not "lots"',
    );
  });
});
