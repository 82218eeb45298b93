/**
 * Runs last (tests/helpers/sequencer.ts). Every response of the suite was checked against the OpenAPI
 * document as it arrived: an undocumented status failed its test then. Here the other direction:
 * every status the document promises for an operation was produced by some test. A documented answer
 * no test can make is a promise nobody checked.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../lib/http/openapi';

const runFiles: string[] = JSON.parse(process.env.TEST_RUN_FILES ?? '[]');
const allFiles = (readdirSync('tests', { recursive: true }) as string[]).filter((f) => f.endsWith('.test.ts')).map((f) => join('tests', f));
const fullRun = allFiles.every((f) => runFiles.some((r) => relative(process.cwd(), r) === f));

describe.runIf(fullRun)('the OpenAPI document, against the whole suite', () => {
  it('every documented status of every operation was produced by a test', () => {
    const folder = process.env.CONTRACT_RECORD_DIR ?? '';
    const produced = new Set(readdirSync(folder).flatMap((f) => readFileSync(join(folder, f), 'utf8').split('\n').filter(Boolean)));
    const paths = openApiDocument().paths as Record<string, Record<string, { operationId?: string; responses?: Record<string, unknown> }>>;
    const documented = Object.values(paths).flatMap((item) =>
      Object.values(item).flatMap((op) => (op.operationId ? Object.keys(op.responses ?? {}).map((s) => `${op.operationId} ${s}`) : [])),
    );
    expect(documented.filter((entry) => !produced.has(entry)).sort()).toEqual([]);
  });
});
