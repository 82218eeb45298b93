import { defineConfig } from 'vitest/config';
import ContractLastSequencer from './tests/helpers/sequencer.ts';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/helpers/global-setup.ts'],
    // The integration files share one throwaway database and bucket; one file at a time keeps
    // each file's view of the table its own.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // A poll waits for something that must happen (a page showing a server's answer, say): on a
    // loaded two-core CI machine a first request to a handler serverless offline has not loaded yet
    // can take longer than the 1 s default (CI saw the gallery's delete miss it). The test's own
    // timeout still bounds every poll. (vi.waitFor keeps its own 1 s default: the tests use expect.poll.)
    expect: { poll: { timeout: 15_000 } },
    sequence: { sequencer: ContractLastSequencer },
  },
});
