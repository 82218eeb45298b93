/** The bench's S3 emulator seen from inside: each request it serves, timed (it runs in the bench's process). */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';

/** A request to the emulator as it served it: what it was, its path, and when (performance.now()). */
export interface Served {
  /** `get` (a whole object), `range` (a ranged GET), `put`, `copy` (a PUT with a copy source), or the method. */
  kind: string;
  path: string;
  start: number;
  end: number;
  ms: number;
}

/** What an S3 request is, from its method and headers. */
function kindOf(request: IncomingMessage): string {
  const { method = '', headers } = request;
  if (method === 'GET') return headers.range ? 'range' : 'get';
  if (method === 'PUT') return headers['x-amz-copy-source'] ? 'copy' : 'put';
  return method.toLowerCase();
}

/**
 * Times every request the emulator at `host` serves, from its arrival to its response's finish, with
 * node:http's server diagnostics channels. `take` returns those finished since the last call.
 */
export function watchEmulator(host: string): { take: () => Served[]; stop: () => void } {
  const open = new Map<IncomingMessage, { kind: string; path: string; start: number }>();
  const finished: Served[] = [];
  const onStart = (message: unknown) => {
    const { request } = message as { request: IncomingMessage };
    if (request.headers.host === host) open.set(request, { kind: kindOf(request), path: request.url ?? '', start: performance.now() });
  };
  const onFinish = (message: unknown) => {
    const { request } = message as { request: IncomingMessage };
    const started = open.get(request);
    if (!started) return;
    open.delete(request);
    const end = performance.now();
    finished.push({ ...started, end, ms: end - started.start });
  };
  subscribe('http.server.request.start', onStart);
  subscribe('http.server.response.finish', onFinish);
  return {
    take: () => finished.splice(0),
    stop: () => {
      unsubscribe('http.server.request.start', onStart);
      unsubscribe('http.server.response.finish', onFinish);
    },
  };
}
