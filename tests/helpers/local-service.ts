/**
 * The service as `npm start` runs it (scripts/dev.ts: serverless offline, its own S3 emulator, the
 * migrations, the processing and the relay), on free ports and a data folder of the test's, and the
 * machine's chromium for the browser tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { type Browser, chromium } from 'playwright-core';
import { freePort } from '../../support/ports';
import { CHROMIUM } from './tools';

export interface LocalService {
  /** `http://localhost:<port>` */
  base: string;
  port: number;
  /** Everything it has printed so far, stdout and stderr. */
  output: () => string;
  /** Ctrl-C, as a person stops it; resolves when it has exited. */
  stop: () => Promise<void>;
  /** kill -9 of npm start, nothing stopped; resolves when it has exited. */
  kill: () => Promise<void>;
}

/**
 * Starts `npm start` with `env` over the test's environment, with npm start's own emulator (never
 * the one the other tests share), and waits until it says the API is ready.
 */
export async function startService(env: NodeJS.ProcessEnv & { DATA_DIR: string }): Promise<LocalService> {
  const port = await freePort();
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    OFFLINE_LAMBDA_PORT: String(await freePort()),
    OFFLINE_WEBSOCKET_PORT: String(await freePort()),
    S3_PORT: String(await freePort()),
    // Its own database port too: a second service (another test file, a developer's npm start) must not meet it.
    EMBEDDED_PG_PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
    ...env,
  };
  delete childEnv.S3_ENDPOINT;
  delete childEnv.FILES_BASE_URL;
  let output = '';
  // As package.json's start script runs it; in a process group of its own, which kill() ends at once.
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'scripts/dev.ts'], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout?.on('data', (d) => {
    output += String(d);
  });
  child.stderr?.on('data', (d) => {
    output += String(d);
  });
  const signal = async (send: () => void) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    send();
    await exited;
  };
  const stop = () => signal(() => child.kill('SIGINT'));
  const kill = () => signal(() => child.pid && process.kill(-child.pid, 'SIGKILL'));
  const deadline = Date.now() + 90_000;
  while (!output.includes('API ready')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`npm start did not come up:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { base: `http://localhost:${port}`, port, output: () => output, stop, kill };
}

/** Headless chromium as the browser tests drive it: no sandbox (root in CI), no network of its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
