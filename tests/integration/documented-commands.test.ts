/**
 * Every npm script the README and docs/*.md show works on a fresh clone: each one named in their code
 * exists in package.json, and each is run the way the docs show it, in a copy of the repository's
 * files (no .env, no .data, nothing built) with an environment of PATH and HOME only, plus what the
 * doc's own line sets and what WAYS below adds (and says why). Long-running ones are started, awaited
 * until their ready line, and stopped by their process group's id.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../../scripts/migrate';
import { freePort } from '../../support/ports';
import { type OwnRedis, ownRedis } from '../helpers/faults';

const root = fileURLToPath(new URL('../..', import.meta.url));
const scripts: Record<string, string> = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts;

/** The pages a user reads. */
const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'), { withFileTypes: true })
    .filter((f) => f.isFile() && f.name.endsWith('.md'))
    .map((f) => `docs/${f.name}`),
];

/** npm's own commands, which are not scripts of package.json. */
const NPM_COMMANDS = new Set(['run', 'ci', 'install', 'i', 'prune', 'ls', 'exec', 'audit', 'pack', 'publish', 'init', 'view', 'update']);

interface Mention {
  script: string;
  page: string;
  /** The shell command as the page shows it, or undefined for a mention inside a sentence. */
  command?: string;
}

/** The code of a Markdown page: its fenced blocks' lines (as commands) and its inline code spans. */
function code(markdown: string): { lines: string[]; spans: string[] } {
  const lines: string[] = [];
  const spans: string[] = [];
  let fenced = false;
  // A command continued with a backslash is one line.
  for (const line of markdown.replace(/\s*\\\n\s*/g, ' ').split('\n')) {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      continue;
    }
    if (fenced) lines.push(line.trim());
    else for (const m of line.matchAll(/`([^`]+)`/g)) spans.push(m[1] ?? '');
  }
  return { lines, spans };
}

/** The segment of a shell line (split at `&&`, `;`, `|`) that runs `script`, without a trailing comment. */
function segment(line: string, script: string): string | undefined {
  const withoutComment = line.replace(/\s+#.*$/, '');
  return withoutComment
    .split(/&&|;|\|\|?/)
    .map((s) => s.trim())
    .find((s) => scriptsRun(s).includes(script));
}

/** The scripts a piece of code runs: `npm run <name>`, and `npm <name>` for npm's shorthands (start, test). */
function scriptsRun(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:^|[\s;&|(`"'$])npm\s+(run(?:-script)?\s+)?([A-Za-z][\w:.-]*)/g)) {
    const name = (m[2] ?? '').replace(/[.:]+$/, '');
    if (m[1] || !NPM_COMMANDS.has(name)) found.push(name);
  }
  return found;
}

/** Every script the pages name in their code, with the command each fenced line shows. */
function mentions(files: Record<string, string>): Mention[] {
  const out: Mention[] = [];
  for (const [page, text] of Object.entries(files)) {
    const { lines, spans } = code(text);
    for (const line of lines) for (const script of scriptsRun(line)) out.push({ script, page, command: segment(line, script) });
    for (const span of spans) for (const script of scriptsRun(span)) out.push({ script, page });
  }
  return out;
}

/** A command a person can paste as it is: no placeholder (…, <…>) and no command substitution. */
const pasteable = (command: string) => !/[…<>]|\$\(/.test(command);

interface Context {
  /** A throwaway database on the suite's server, with the migrations applied when `migrated`. */
  database: (migrated?: boolean) => Promise<string>;
  redis: () => Promise<OwnRedis>;
  /** The base URL of the `npm start` the start way runs (for the scripts that need a running API). */
  api?: string;
  /** Its S3 emulator's endpoint. */
  s3?: string;
}

type Way =
  | { skip: string }
  | {
      /** What the run adds to PATH and HOME, and why (in the comment beside it). */
      env?: (ctx: Context) => Promise<Record<string, string>>;
      /** A long-running script: the line that says it is ready; it is then stopped by its group id. */
      ready?: RegExp;
      /** What a script that ends must print (it must also exit 0). */
      prints?: RegExp;
      /** Run while the API of the start way is up, against it. */
      againstApi?: boolean;
      timeout: number;
    };

/** Ports of their own, so that a run beside another `npm start` (a developer's, another test's) does not collide. */
async function startPorts(): Promise<Record<string, string>> {
  return {
    PORT: String(await freePort()),
    S3_PORT: String(await freePort()),
    EMBEDDED_PG_PORT: String(await freePort()),
    OFFLINE_LAMBDA_PORT: String(await freePort()),
    OFFLINE_WEBSOCKET_PORT: String(await freePort()),
  };
}

/** How each documented script is run here. A script the docs show that is missing here fails the test. */
const WAYS: Record<string, Way> = {
  start: { env: startPorts, ready: /API ready/, timeout: 300_000 },
  // Against the npm start above, on its ports (the API's, and its emulator's, whose bucket it lists), in
  // its short mode (the docs' defaults are 1000 requests or 60 s).
  load: {
    env: async (ctx) => ({ LOAD_URL: ctx.api ?? '', S3_ENDPOINT: ctx.s3 ?? '', LOAD_REQUESTS: '20', LOAD_SECONDS: '30' }),
    againstApi: true,
    prints: /invariants hold/,
    timeout: 90_000,
  },
  // A Redis of the test's own: the listener reads through a consumer group and acknowledges, which must
  // not take entries from another listener of the machine's Redis.
  listener: { env: async (ctx) => ({ REDIS_URL: (await ctx.redis()).url }), ready: /reading image_events on/, timeout: 60_000 },
  // The settings the docs say it reads from .env or the environment: a migrated database (of no
  // images), and the suite's S3 emulator.
  'db:backfill': {
    env: async (ctx) => ({ DATABASE_URL: await ctx.database(true), ...storage() }),
    prints: /search text: 0 image\(s\) folded/,
    timeout: 60_000,
  },
  // The database the docs say it applies the migrations to: an empty one.
  'db:migrate': { env: async (ctx) => ({ DATABASE_URL: await ctx.database() }), timeout: 60_000 },
  'db:generate': { prints: /No schema changes/, timeout: 60_000 },
  openapi: { prints: /OpenAPI 3\.1 document written/, timeout: 60_000 },
  docs: { prints: /generated files are up to date/, timeout: 60_000 },
  lint: { timeout: 120_000 },
  typecheck: { timeout: 240_000 },
  // Its short mode: a few runs of each property instead of 5000.
  fuzz: { env: async () => ({ FUZZ_RUNS: '3' }), timeout: 300_000 },
  test: { skip: 'CI runs npm test, of which this file is a part' },
  package: { skip: 'CI runs npm run package after the tests, and tests/integration/deploy.test.ts packages a stage' },
  bench: { skip: "the bench's own test runs it in its short mode" },
};

/** The suite's S3 emulator, as the global setup made it (tests/helpers/global-setup.ts). */
function storage(): Record<string, string> {
  const names = [
    'S3_ENDPOINT',
    'S3_BUCKET',
    'S3_FORCE_PATH_STYLE',
    'FILES_BASE_URL',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_REGION',
  ];
  return Object.fromEntries(names.map((n) => [n, process.env[n] ?? '']));
}

const files = Object.fromEntries(pages.map((p) => [p, readFileSync(join(root, p), 'utf8')]));
const documented = mentions(files);
const scriptNames = [...new Set(documented.map((m) => m.script))].sort();

describe('the scripts the docs name', () => {
  it('finds npm scripts in the README and docs, and none that package.json lacks', () => {
    expect(scriptNames).toEqual(expect.arrayContaining(['start', 'test']));
    const missing = documented.filter((m) => !Object.hasOwn(scripts, m.script)).map((m) => `${m.page}: npm run ${m.script}`);
    expect(missing, 'scripts the docs name that package.json does not have').toEqual([]);
  });

  it('tells a missing script from a present one', () => {
    const found = mentions({
      'x.md': 'Run `npm run no-such-script`, then `npm ci && npm start`:\n```bash\nFOO=1 npm run lint -- --x  # note\n```\n',
    });
    expect(found).toEqual([
      { script: 'lint', page: 'x.md', command: 'FOO=1 npm run lint -- --x' },
      { script: 'no-such-script', page: 'x.md' },
      { script: 'start', page: 'x.md' },
    ]);
    expect(found.filter((m) => !Object.hasOwn(scripts, m.script)).map((m) => m.script)).toEqual(['no-such-script']);
  });

  it('reads a command continued over lines as one, and never runs one with a placeholder', () => {
    const found = mentions({
      'x.md': '```bash\nURL="$(aws ssm get-parameter \\\n  --name x)" npm run db:migrate\nnpm run db:migrate   # here\n```\n',
    });
    expect(found.map((m) => m.command)).toEqual(['URL="$(aws ssm get-parameter --name x)" npm run db:migrate', 'npm run db:migrate']);
    expect(found.map((m) => pasteable(m.command ?? ''))).toEqual([false, true]);
  });

  it('has a way to run, or a reason to skip, every script the docs name', () => {
    expect(scriptNames.filter((s) => !WAYS[s])).toEqual([]);
  });
});

/** The command the docs show for `script`: the first pasteable fenced line, else `npm run <script>`. */
function shownCommand(script: string): string {
  const shown = documented.find((m) => m.script === script && m.command && pasteable(m.command))?.command;
  return shown ?? (['start', 'test'].includes(script) ? `npm ${script}` : `npm run ${script}`);
}

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** Ctrl-C to its process group, then SIGKILL to the group if any of it still runs after 20 s. */
  stop: () => Promise<void>;
  /** Whether stop() had to SIGKILL. */
  killed: () => boolean;
}

function launch(command: string, cwd: string, env: Record<string, string>): Run {
  // In a process group of its own (detached), as a terminal runs it, so that the whole of it is stopped.
  const child = spawn('bash', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout?.on('data', (d) => (output += String(d)));
  child.stderr?.on('data', (d) => (output += String(d)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  let killed = false;
  const stop = async () => {
    if (!child.pid) return;
    signalGroup('SIGINT');
    // Every process of the group, not only bash: npm, tsx and the script run below it.
    const deadline = Date.now() + 20_000;
    while (isRunning(child.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (isRunning(child.pid)) {
      killed = true;
      signalGroup('SIGKILL');
    }
    await exited;
  };
  return { child, output: () => output, exited, stop, killed: () => killed };
}

async function waitFor(run: Run, pattern: RegExp, timeout: number): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!pattern.test(run.output())) {
    if (run.child.exitCode !== null || Date.now() > deadline) throw new Error(`no line matching ${pattern}; printed:\n${run.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('each documented script, run as the docs show it on a fresh copy', () => {
  let copy = '';
  const databases: string[] = [];
  const redises: OwnRedis[] = [];
  const admin = postgres(process.env.TEST_DATABASE_ADMIN_URL ?? '', { max: 1, onnotice: () => {} });
  const ctx: Context = {
    database: async (migrated = false) => {
      const name = `gallery_docs_${process.pid}_${databases.length}`;
      await admin.unsafe(`CREATE DATABASE ${name}`);
      databases.push(name);
      const url = new URL(process.env.TEST_DATABASE_ADMIN_URL ?? '');
      url.pathname = `/${name}`;
      if (migrated) await runMigrations(url.toString());
      return url.toString();
    },
    redis: async () => {
      const redis = await ownRedis();
      redises.push(redis);
      return redis;
    },
  };

  beforeAll(() => {
    // The files a clone has (tracked, and new ones not ignored), and the installed node_modules: what a
    // person has after `git clone` and `npm ci`.
    copy = mkdtempSync(join(tmpdir(), 'gallery-docs-'));
    const listed = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: root, encoding: 'utf8' });
    const present = listed.split('\0').filter((f) => f && existsSync(join(root, f)));
    execFileSync('cp', ['--parents', '-t', copy, ...present], { cwd: root });
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
    execFileSync('git', ['init', '-q'], { cwd: copy });
  });

  afterAll(async () => {
    for (const redis of redises) await redis.stop();
    for (const name of databases) await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  const baseEnv = (): Record<string, string> => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' });

  async function runToEnd(script: string, extra: Record<string, string>, way: Extract<Way, { timeout: number }>): Promise<void> {
    const run = launch(shownCommand(script), copy, { ...baseEnv(), ...extra });
    const timer = setTimeout(() => void run.stop(), way.timeout - 5_000);
    const code = await run.exited;
    clearTimeout(timer);
    expect(code, `${shownCommand(script)} exited ${code}:\n${run.output()}`).toBe(0);
    if (way.prints) expect(run.output()).toMatch(way.prints);
  }

  for (const script of scriptNames) {
    const way = WAYS[script];
    if (!way || 'skip' in way || way.againstApi) continue;
    const during = Object.entries(WAYS).filter(([name, w]) => 'againstApi' in w && w.againstApi && scriptNames.includes(name));
    it(`${shownCommand(script)}${way.ready ? ' (until it is ready, then stopped)' : ''}`, { timeout: way.timeout + 120_000 }, async () => {
      const extra = (await way.env?.(ctx)) ?? {};
      if (!way.ready) return runToEnd(script, extra, way);
      const run = launch(shownCommand(script), copy, { ...baseEnv(), ...extra });
      try {
        await waitFor(run, way.ready, way.timeout);
        if (script === 'start') {
          ctx.api = `http://127.0.0.1:${extra.PORT}`;
          ctx.s3 = `http://127.0.0.1:${extra.S3_PORT}`;
          for (const [name, w] of during) if ('timeout' in w) await runToEnd(name, (await w.env?.(ctx)) ?? {}, w);
        }
      } finally {
        await run.stop();
      }
      expect(run.killed(), `still running 20 s after Ctrl-C:\n${run.output()}`).toBe(false);
    });
  }
});

function isRunning(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}
