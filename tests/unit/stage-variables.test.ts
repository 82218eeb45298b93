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

const fresh = () => createRequire(import.meta.url)('../../scripts/serverless-stage.cjs') as typeof stage;
const variables = configVariables();
const named = (...deliveries: string[]) => variables.filter((v) => deliveries.includes(v.delivery)).map((v) => v.name);

describe('the stage passes every setting', () => {
  it('passes the local stage every variable a function reads that is set, secrets included', async () => {
    for (const v of variables) process.env[v.name] = v.name === 'ORIGINALS_PUBLIC' ? 'false' : `value-of-${v.name}`;
    const { environment } = await fresh()({ options: { stage: 'dev' }, resolveVariable: async () => undefined });
    const expected = named('secret', 'tuning', 'local', 'stage').filter((n) => n !== 'SSM_PARAMETER_PATH');
    expect(Object.keys(environment).sort()).toEqual(expected.sort());
    expect(environment.DATABASE_URL).toBe('value-of-DATABASE_URL');
  });

  it('gives a deployed stage the tuning it was packaged with and its own settings, never a secret', async () => {
    for (const v of variables) process.env[v.name] = `value-of-${v.name}`;
    const parameters: Record<string, string> = {
      ...Object.fromEntries(Object.values(configVariables().filter((v) => v.delivery === 'secret')).map((v) => [v.parameter, 'secret'])),
      'api-keys': 'a-key-of-16-chars-or-more',
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
    for (const name of named('stage')) {
      if (name !== 'CORS_ALLOWED_ORIGINS') expect(environment[name], name).toBeDefined();
    }
    for (const name of named('secret', 'local', 'none')) expect(environment[name], name).toBeUndefined();
    expect(JSON.stringify(environment)).not.toContain('value-of-DATABASE_URL');
    expect(environment.S3_BUCKET).toEqual({ Ref: 'ImagesBucket' });
  });
});
