/**
 * Every variable lib/config.ts reads reaches the functions through serverless.yml's environment
 * (scripts/serverless-stage.cjs), or is one the stage sets itself, or one no function reads: a
 * setting added to config and forgotten in the template would otherwise keep its default on AWS.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { configVariables } from '../../lib/config';

const stage = createRequire(import.meta.url)('../../scripts/serverless-stage.cjs') as {
  VARIABLES: Record<'TUNING' | 'LOCAL_ONLY' | 'FROM_STAGE' | 'NOT_FOR_FUNCTIONS', string[]>;
};

describe('the stage passes every setting', () => {
  const { TUNING, LOCAL_ONLY, FROM_STAGE, NOT_FOR_FUNCTIONS } = stage.VARIABLES;

  it('names every variable of lib/config.ts in exactly one list', () => {
    const listed = [...TUNING, ...LOCAL_ONLY, ...FROM_STAGE, ...NOT_FOR_FUNCTIONS];
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual([...new Set(configVariables())].sort());
  });

  it('lets a deployed stage tune the outbox', () => {
    expect(TUNING).toEqual(expect.arrayContaining(['STREAM_MAXLEN', 'OUTBOX_RETENTION_HOURS', 'FILE_REMOVAL_BUDGET_MS']));
  });
});
