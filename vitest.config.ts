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
    sequence: { sequencer: ContractLastSequencer },
  },
});
