import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** The file that checks what the whole suite saw, and so runs after every other. */
export const COVERAGE_FILE = 'tests/contract-coverage.test.ts';

/**
 * Vitest's own order, with the contract coverage check last; the files of the run are named in
 * TEST_RUN_FILES for it, so that it judges only a full run.
 */
export default class ContractLastSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const isCoverage = (f: TestSpecification) => f.moduleId.endsWith(COVERAGE_FILE);
    process.env.TEST_RUN_FILES = JSON.stringify(sorted.map((f) => f.moduleId));
    return [...sorted.filter((f) => !isCoverage(f)), ...sorted.filter(isCoverage)];
  }
}
