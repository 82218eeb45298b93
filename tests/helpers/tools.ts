/**
 * The programs beyond Node that some tests run. Outside CI a test that needs a missing one is skipped,
 * and the run ends with one line saying what was skipped and what to install; under CI (CI set) every
 * test runs, so a missing program fails its tests. .ci/run installs them all.
 */
import { accessSync, appendFileSync, constants } from 'node:fs';
import { join } from 'node:path';
import { hasCommand } from '../../support/aws-stand-in';

/** Debian's chromium, driven by playwright-core. */
export const CHROMIUM = '/usr/bin/chromium';

const executable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};
const onPath = (command: string) => () => hasCommand(command);

const TOOLS = {
  chromium: { installed: () => executable(CHROMIUM), install: 'apt-get install chromium' },
  curl: { installed: onPath('curl'), install: 'apt-get install curl' },
  exiftool: { installed: onPath('exiftool'), install: 'apt-get install libimage-exiftool-perl, brew install exiftool' },
  'heif-enc': { installed: onPath('heif-enc'), install: 'apt-get install libheif-examples, brew install libheif' },
  http: { installed: onPath('http'), install: 'apt-get install httpie, brew install httpie' },
  jq: { installed: onPath('jq'), install: 'apt-get install jq, brew install jq' },
  openssl: { installed: onPath('openssl'), install: 'apt-get install openssl' },
  moto_server: { installed: onPath('moto_server'), install: "pip install 'moto[server]==5.2.1'" },
  python3: { installed: onPath('python3'), install: 'apt-get install python3' },
  'cfn-lint': { installed: onPath('cfn-lint'), install: "pip install 'cfn-lint==1.51.0'" },
  unzip: { installed: onPath('unzip'), install: 'apt-get install unzip' },
} satisfies Record<string, { installed: () => boolean; install: string }>;

export type Tool = keyof typeof TOOLS;

const known = new Map<Tool, boolean>();
const installed = (tool: Tool): boolean => {
  let answer = known.get(tool);
  if (answer === undefined) {
    answer = TOOLS[tool].installed();
    known.set(tool, answer);
  }
  return answer;
};

/**
 * Whether the tests described as `what` run: when every tool they need is installed, and always under
 * CI. When they do not, that is noted for the run's summary (tests/helpers/global-setup.ts).
 */
export function runsWith(what: string, ...tools: Tool[]): boolean {
  if (process.env.CI) return true;
  const missing = tools.filter((t) => !installed(t));
  if (missing.length === 0) return true;
  const folder = process.env.SKIPPED_RECORD_DIR;
  if (folder) appendFileSync(join(folder, `${process.pid}.jsonl`), `${JSON.stringify({ what, missing })}\n`);
  return false;
}

/** The one line that says what the run skipped for want of which tools, from the notes of runsWith; empty if nothing. */
export function skippedSummary(records: string): string {
  const byTool = new Map<string, Set<string>>();
  for (const line of records.split('\n').filter(Boolean)) {
    const { what, missing } = JSON.parse(line) as { what: string; missing: Tool[] };
    const key = missing.map((t) => `${t} (${TOOLS[t].install})`).join(' and ');
    byTool.set(key, (byTool.get(key) ?? new Set()).add(what));
  }
  if (byTool.size === 0) return '';
  const parts = [...byTool].map(([tools, whats]) => `without ${tools}: ${[...whats].join(', ')}`);
  return `Skipped for tools not installed here (CI runs them all): ${parts.join('; ')}`;
}
