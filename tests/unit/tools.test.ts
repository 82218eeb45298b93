/**
 * tests/helpers/tools.ts: a test that needs a tool this machine lacks is skipped outside CI and named
 * in the run's last line with what to install; under CI it runs (and fails, if the tool is missing).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runsWith, skippedSummary } from '../helpers/tools';

describe('runsWith, on a machine where nothing is on the PATH', () => {
  const saved = { ...process.env };
  let folder = '';
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'gallery-tools-'));
    Object.assign(process.env, { PATH: folder, SKIPPED_RECORD_DIR: folder });
  });
  afterEach(async () => {
    process.env = { ...saved };
    await rm(folder, { recursive: true, force: true });
  });
  const notes = () => readFile(join(folder, `${process.pid}.jsonl`), 'utf8').catch(() => '');

  it('skips outside CI, and the summary names the tests and what to install', async () => {
    delete process.env.CI;
    expect(runsWith('the gallery page (web.test.ts)', 'jq', 'unzip')).toBe(false);
    expect(runsWith('the deploy (deploy.test.ts)', 'jq', 'unzip')).toBe(false);
    expect(runsWith('HEIC copies (heic-colour.test.ts)', 'heif-enc')).toBe(false);
    expect(skippedSummary(await notes())).toBe(
      'Skipped for tools not installed here (CI runs them all): ' +
        'without jq (apt-get install jq, brew install jq) and unzip (apt-get install unzip): the gallery page (web.test.ts), the deploy (deploy.test.ts); ' +
        'without heif-enc (apt-get install libheif-examples, brew install libheif): HEIC copies (heic-colour.test.ts)',
    );
  });

  it('runs under CI, and notes nothing', async () => {
    process.env.CI = 'true';
    expect(runsWith('the gallery page (web.test.ts)', 'jq')).toBe(true);
    expect(await notes()).toBe('');
    expect(skippedSummary('')).toBe('');
  });
});
