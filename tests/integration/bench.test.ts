/**
 * `npm run bench` in its short mode (BENCH_SHORT=1: every section, a few runs each), so that the
 * bench cannot break unnoticed: it packages the functions, cold-starts each of them, with and without
 * the SSM read, and runs every other section. Its figures mean nothing on a few runs and are not
 * asserted; what is asserted is that every section produced its table and every function its cold
 * start. On the test run's Postgres; Redis at 127.0.0.1:6379 as the bench always uses.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { serverlessFunctions } from '../../scripts/bundle-sizes';
import { runsWith } from '../helpers/tools';

const run = promisify(execFile);
const root = process.cwd();

describe.runIf(runsWith('the bench in short mode (bench.test.ts)', 'moto_server', 'heif-enc', 'unzip'))('npm run bench, short', () => {
  it('runs every section and cold-starts every function', async () => {
    const admin = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
    admin.pathname = '/postgres';
    // Only what the bench needs: not the test run's own configuration (keys, bucket, database).
    const { PATH, HOME, TMPDIR } = process.env;
    await run('npm', ['run', '--silent', 'bench'], {
      cwd: root,
      env: { PATH, HOME, ...(TMPDIR ? { TMPDIR } : {}), BENCH_SHORT: '1', BENCH_DATABASE_ADMIN_URL: admin.toString() },
      maxBuffer: 1 << 26,
    });
    const results = readFileSync(join(root, '.bench-results.md'), 'utf8');
    const titles = ['## Packages', '## Cold start', '## Warm path', '## Scale', '## Direct uploads', '## Declared SHA-256', '## Memory'];
    for (const title of [...titles, '## Processing', "## The outbox's cost", '## The relay']) {
      expect(results, title).toContain(title);
    }
    const cold = results.slice(results.indexOf('## Cold start'));
    const table = cold.slice(0, cold.indexOf('\n## '));
    for (const name of serverlessFunctions(root).functions.keys()) {
      // Measured, and (every one but docs, openapi and web) with the SSM read too.
      const row = table.split('\n').find((line) => line.startsWith(`| ${name} |`));
      expect(row, name).toMatch(/\| \d+\.\d+ ms \|/);
      if (!['docs', 'openapi', 'web'].includes(name)) expect(row, `${name} with the SSM read`).not.toContain('no read');
    }
  }, 1_200_000);
});
