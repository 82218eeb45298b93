import { AsyncLocalStorage } from 'node:async_hooks';
import { logConfig } from './config';

type Level = 'debug' | 'info' | 'warn' | 'error';
const rank: Record<Level | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

// Checked at import: a bad LOG_LEVEL fails the cold start.
logConfig();

/** The invocation a log line belongs to: its own, even when invocations interleave in one process. */
const invocation = new AsyncLocalStorage<{ requestId: string }>();

/** Runs `work` with every log line it writes, however deep and however late, tagged with `requestId`. */
export function withRequestId<T>(requestId: string | undefined, work: () => T): T {
  return requestId ? invocation.run({ requestId }, work) : work();
}

function write(level: Level, msg: string, fields?: Record<string, unknown>): void {
  if (rank[level] < rank[logConfig().LOG_LEVEL]) return;
  const requestId = invocation.getStore()?.requestId;
  const line = JSON.stringify({
    time: new Date().toISOString(),
    level,
    msg,
    ...(requestId ? { requestId } : {}),
    ...fields,
  });
  (level === 'error' || level === 'warn' ? process.stderr : process.stdout).write(`${line}\n`);
}

/** Describes an error for a log line: name, message, code and cause, never a request body. */
export function describeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { error: String(err) };
  const code = (err as { code?: unknown }).code;
  return {
    error: err.name,
    // Drizzle appends the query's parameters (user data) to its message; the SQL is enough.
    message: err.message.replace(/\nparams: [\s\S]*$/, ''),
    ...(code !== undefined ? { code } : {}),
    ...(err.cause !== undefined ? { cause: describeError(err.cause) } : {}),
    ...(err.stack ? { stack: err.stack.replace(/\nparams: [\s\S]*?(?=\n {4}at )/, '') } : {}),
  };
}

/** Structured JSON logs, one line each, as CloudWatch shows them. */
export const log = {
  debug: (msg: string, fields?: Record<string, unknown>) => write('debug', msg, fields),
  info: (msg: string, fields?: Record<string, unknown>) => write('info', msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => write('warn', msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => write('error', msg, fields),
};
