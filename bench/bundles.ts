/**
 * The functions as deployed: packaged by `npm run package`, unzipped into the work folder, and run
 * one at a time in a fresh Node process by bench/driver.mjs. A zip's native binaries are Lambda's
 * (linux-arm64): this machine's own build of the same packages is linked in beside them.
 */

import { execFile, execFileSync, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { APIGatewayProxyEventV2, S3Event, ScheduledEvent, SQSEvent } from 'aws-lambda';
import type { Services } from './services';

/** An unzipped function: its folder (the process's working directory) and its handler's file. */
export interface Bundle {
  name: string;
  dir: string;
  handler: string;
}

export interface Packaged {
  /** Every function's bundle, the size of its zip, and of the bundled code and the node_modules in it (compressed). */
  functions: (Bundle & { zipBytes: number; codeBytes: number; modulesBytes: number })[];
  /** A handler that does nothing: what a cold start costs before any of the app's code. */
  empty: Bundle;
}

/** The zip's entries and the compressed size of each (zipinfo's sixth column). */
function zipEntries(zip: string): { name: string; compressed: number }[] {
  return execFileSync('zipinfo', ['-l', zip], { encoding: 'utf8', maxBuffer: 1 << 24 })
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cells) => cells.length >= 10 && /^\d+$/.test(cells[5] ?? ''))
    .map((cells) => ({ name: cells.slice(9).join(' '), compressed: Number(cells[5]) }));
}

const versionOf = (packageDir: string): string =>
  (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * Makes an unzipped bundle's native packages loadable here. The zip carries sharp's binaries for
 * Lambda (`@img/sharp-linux-arm64`, `@img/sharp-libvips-linux-arm64`), which this x64 machine cannot
 * load; sharp's JavaScript picks `@img/sharp-<platform>-<arch>` for the machine it runs on, so this
 * machine's build, from the project's node_modules, is linked in beside Lambda's (after checking it
 * is the same version). Everything else runs as packaged: the bundle, sharp's JavaScript, libheif's
 * WASM (no native code), resolved from the zip's node_modules as on Lambda. The symlink is resolved
 * to its real path, so the addon finds its libvips through its own relative rpath.
 */
function linkHostBinaries(root: string, dir: string): void {
  const lambda = join(dir, 'node_modules', '@img');
  if (!existsSync(lambda)) return;
  const here = `${process.platform}-${process.arch}`;
  for (const name of readdirSync(lambda).filter((n) => n.endsWith('-linux-arm64'))) {
    const hostName = name.replace(/linux-arm64$/, here);
    if (hostName === name) continue; // on an arm64 Linux machine the zip's own binaries load
    const host = join(root, 'node_modules', '@img', hostName);
    if (!existsSync(host)) throw new Error(`${name} is in the zip but ${host} is not installed: run npm ci`);
    if (versionOf(host) !== versionOf(join(lambda, name))) {
      throw new Error(`the zip's ${name} is ${versionOf(join(lambda, name))}, this machine's ${hostName} ${versionOf(host)}: run npm ci`);
    }
    symlinkSync(host, join(lambda, hostName), 'dir');
  }
}

/**
 * Packages the functions (`npm run package`, unless BENCH_PACKAGED=1 says the zips in .serverless
 * are fresh), unzips each, and writes the empty handler beside them.
 * Zips without a `functions/` folder are the framework's own (osls's custom-resources.zip, which sets
 * the S3 notification on an existing bucket), not functions of this project.
 */
export function packageFunctions(services: Services): Packaged {
  const zipFolder = join(services.root, '.serverless');
  // BENCH_PACKAGED=1: the zips `npm run package` has just written (CI packages before it benches).
  if (process.env.BENCH_PACKAGED !== '1') execFileSync('npm', ['run', '--silent', 'package'], { cwd: services.root, stdio: 'ignore' });
  const functions = readdirSync(zipFolder)
    .filter((f) => f.endsWith('.zip'))
    .sort()
    .map((zip) => ({ zip, entries: zipEntries(join(zipFolder, zip)) }))
    .filter(({ entries }) => entries.some((e) => e.name.startsWith('functions/')))
    .map(({ zip, entries }) => {
      const name = zip.replace('.zip', '');
      const dir = join(services.work, 'bundles', name);
      mkdirSync(dir, { recursive: true });
      execFileSync('unzip', ['-q', '-o', join(zipFolder, zip), '-d', dir]);
      linkHostBinaries(services.root, dir);
      const [file = ''] = readdirSync(join(dir, 'functions'));
      const bytesUnder = (folder: string) => entries.filter((e) => e.name.startsWith(folder)).reduce((sum, e) => sum + e.compressed, 0);
      return {
        name,
        dir,
        handler: join(dir, 'functions', file),
        zipBytes: statSync(join(zipFolder, zip)).size,
        codeBytes: bytesUnder('functions/'),
        modulesBytes: bytesUnder('node_modules/'),
      };
    });
  const emptyDir = join(services.work, 'bundles', 'empty');
  mkdirSync(join(emptyDir, 'functions'), { recursive: true });
  const emptyHandler = join(emptyDir, 'functions', 'empty.mjs');
  writeFileSync(emptyHandler, 'export const handler = async () => ({ statusCode: 200, body: "{}" });\n');
  return { functions, empty: { name: 'empty', dir: emptyDir, handler: emptyHandler } };
}

export interface DriverRun {
  bundle: Bundle;
  /** HTTP API requests, a schedule's events for a scheduled function, S3's for the processing. */
  events: (APIGatewayProxyEventV2 | ScheduledEvent | S3Event | SQSEvent)[];
  /** `cold`: import, then the first event; `memory`: a warm-up event, then the second, sampled. */
  mode: 'cold' | 'memory';
  /** Added to this process's environment. */
  env: Record<string, string>;
  nodeArgs?: string[];
}

// Asynchronous: the S3 emulator and the Upstash fixture run in this process and must keep answering.
const runNode = promisify(execFile);

/** Runs the driver on a bundle in a fresh Node process: the wall time of the process and what it measured. */
export async function runDriver(
  services: Services,
  run: DriverRun,
): Promise<{ wall: number; result: Record<string, unknown>; stderr: string }> {
  const eventFile = join(services.work, `events-${randomUUID()}.json`);
  writeFileSync(eventFile, JSON.stringify(run.events));
  const args = [...(run.nodeArgs ?? []), join(services.root, 'bench', 'driver.mjs'), run.bundle.handler, run.mode, eventFile];
  const t = performance.now();
  const out = await runNode(process.execPath, args, {
    cwd: run.bundle.dir,
    env: { ...process.env, ...run.env },
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  }).catch((err: { code?: number; stderr?: string }) => {
    // The error's message holds the whole of stderr, minified source lines included: its end says why.
    throw new Error(`${run.bundle.name} (${run.mode}) exited with ${err.code}: ${String(err.stderr ?? '').slice(-3000)}`);
  });
  const wall = performance.now() - t;
  return { wall, result: JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>, stderr: out.stderr };
}

/** A Node process that answers messages, one at a time (bench/driver.mjs's mode "serve", bench/bare-sharp.mjs). */
export interface Forked<Ready, Answer> {
  /** What it said once ready: for a bundle, the time of its import. */
  ready: Ready;
  /** Sends one message and waits for its answer; rejects with the error the process reports. */
  ask: (message: unknown) => Promise<Answer>;
  stop: () => void;
}

/** Forks `script` with `args` and waits until it says it is ready. */
export async function forkServer<Ready, Answer>(
  script: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; nodeArgs?: string[] },
): Promise<Forked<Ready, Answer>> {
  const child = fork(script, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    execArgv: options.nodeArgs ?? [],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`${script} exited (${code}) before it answered: ${stderr}`));
      child.once('exit', onExit);
      child.once('message', (message) => {
        child.off('exit', onExit);
        const answer = message as Record<string, unknown>;
        if (typeof answer.error === 'string') reject(new Error(`${script}: ${answer.error}`));
        else resolve(answer);
      });
    });
  const ready = (await next()) as Ready;
  return {
    ready,
    ask: async (message) => {
      const answer = next();
      child.send(message as object);
      return (await answer) as Answer;
    },
    stop: () => {
      child.disconnect();
    },
  };
}

/** What the driver says once it has imported a bundle. */
export interface BundleReady {
  importMs: number;
  /** From the process's start to the end of the import. */
  sinceProcessStartMs: number;
}

/** The driver's answer to one event. */
export interface Handled {
  ms: number;
  /** The CPU time of the process (every thread: libvips works on libuv's) while it handled the event. */
  cpuMs: number;
  returned: unknown;
  /** The process's highest resident set so far (the kernel's maxRSS), in bytes. */
  maxRss: number;
  /** With `memory`: the resident set after a GC before the event, and the peak sampled during it. */
  rssBefore?: number;
  rssPeak?: number;
}

/**
 * A bundle in a fresh Node process (bench/driver.mjs, mode "serve") that handles the events it is
 * given one at a time, as a warm Lambda container does: the first is its cold start's.
 */
export async function startBundle(
  services: Services,
  bundle: Bundle,
  options: { env?: Record<string, string>; nodeArgs?: string[] } = {},
): Promise<Forked<BundleReady, Handled> & { handle: (event: unknown, memory?: boolean) => Promise<Handled> }> {
  const served = await forkServer<BundleReady, Handled>(join(services.root, 'bench', 'driver.mjs'), [bundle.handler, 'serve'], {
    cwd: bundle.dir,
    ...options,
  });
  return { ...served, handle: (event, memory = false) => served.ask({ event, memory }) };
}
