/** The listener as a separate process, as `npm run listener` (or its container) runs it, and what it prints. */
import { type ChildProcess, spawn } from 'node:child_process';

export interface Running {
  child: ChildProcess;
  lines: string[];
  /** Waits for a printed line that matches. */
  waitFor: (pattern: RegExp, after?: number) => Promise<string>;
  exit: () => Promise<number | null>;
}

const started = new Set<Running>();

/** Kills (SIGKILL) every listener a test started that is still running, and waits for each to exit. */
export async function stopListeners(): Promise<void> {
  for (const r of [...started]) {
    started.delete(r);
    if (r.child.exitCode === null && r.child.signalCode === null) {
      r.child.kill('SIGKILL');
      await r.exit();
    }
  }
}

/** Starts the listener with `env` over the test's environment (an undefined value removes a variable). */
export function startListener(env: Record<string, string | undefined>, args: string[] = []): Running {
  const childEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  // One process, as `node` runs the listener's container (the tsx CLI would put a parent in between,
  // which a SIGKILL would kill instead of the listener).
  const child = spawn(process.execPath, ['--import', 'tsx', 'listener/listener.ts', ...args], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  const collect = (d: Buffer) => {
    partial += String(d);
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const running: Running = {
    child,
    lines,
    waitFor: async (pattern, after = 0) => {
      for (let i = 0; i < 300; i++) {
        const found = lines.slice(after).find((l) => pattern.test(l));
        if (found) return found;
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no line matching ${pattern}; printed:\n${lines.join('\n')}`);
    },
    exit: () => exited,
  };
  started.add(running);
  return running;
}
