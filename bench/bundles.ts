/**
 * The functions as deployed: packaged by `npm run package`, unzipped into the work folder, and run
 * one at a time in a fresh Node process by bench/driver.mjs.
 */
import type { APIGatewayProxyEventV2, ScheduledEvent } from 'aws-lambda';
import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Services } from './context';

/** An unzipped function: its folder (the process's working directory) and its handler's file. */
export interface Bundle {
  name: string;
  dir: string;
  handler: string;
}

export interface Packaged {
  /** Every function's bundle and the size of its zip, by name. */
  functions: (Bundle & { zipBytes: number })[];
  /** A handler that does nothing: what a cold start costs before any of the app's code. */
  empty: Bundle;
}

/** Packages the functions (`npm run package`), unzips each, and writes the empty handler beside them. */
export function packageFunctions(services: Services): Packaged {
  const zipFolder = join(services.root, '.serverless');
  execFileSync('npm', ['run', '--silent', 'package'], { cwd: services.root, stdio: 'ignore' });
  const functions = readdirSync(zipFolder)
    .filter((f) => f.endsWith('.zip'))
    .sort()
    .map((zip) => {
      const name = zip.replace('.zip', '');
      const dir = join(services.work, 'bundles', name);
      mkdirSync(dir, { recursive: true });
      execFileSync('unzip', ['-q', '-o', join(zipFolder, zip), '-d', dir]);
      const [file = ''] = readdirSync(join(dir, 'functions'));
      return { name, dir, handler: join(dir, 'functions', file), zipBytes: statSync(join(zipFolder, zip)).size };
    });
  const emptyDir = join(services.work, 'bundles', 'empty');
  mkdirSync(join(emptyDir, 'functions'), { recursive: true });
  const emptyHandler = join(emptyDir, 'functions', 'empty.mjs');
  writeFileSync(emptyHandler, 'export const handler = async () => ({ statusCode: 200, body: "{}" });\n');
  return { functions, empty: { name: 'empty', dir: emptyDir, handler: emptyHandler } };
}

export interface DriverRun {
  bundle: Bundle;
  /** HTTP API requests, or a schedule's events for a scheduled function. */
  events: (APIGatewayProxyEventV2 | ScheduledEvent)[];
  /** `cold`: import, then the first event; `memory`: a warm-up event, then the second, sampled. */
  mode: 'cold' | 'memory';
  /** Added to this process's environment. */
  env: Record<string, string>;
  nodeArgs?: string[];
}

// Asynchronous: the S3 emulator and the Upstash fixture run in this process and must keep answering.
const runNode = promisify(execFile);

/** Runs the driver on a bundle in a fresh Node process: the wall time of the process and what it measured. */
export async function runDriver(services: Services, run: DriverRun): Promise<{ wall: number; result: Record<string, unknown>; stderr: string }> {
  const eventFile = join(services.work, `events-${randomUUID()}.json`);
  writeFileSync(eventFile, JSON.stringify(run.events));
  const args = [...(run.nodeArgs ?? []), join(services.root, 'bench', 'driver.mjs'), run.bundle.handler, eventFile, run.mode];
  const t = performance.now();
  const out = await runNode(process.execPath, args, {
    cwd: run.bundle.dir,
    env: { ...process.env, ...run.env },
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  const wall = performance.now() - t;
  return { wall, result: JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>, stderr: out.stderr };
}
