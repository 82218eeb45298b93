/**
 * Real faults on demand: a Redis server of the test's own, on its own port, that can be killed and
 * started again (empty, as a Redis without persistence comes back); a TCP switch in front of the
 * S3 emulator that can refuse connections (S3 down) and let them through again (S3 back); and an
 * HTTP proxy in front of it that can change the store or cut a connection at an exact request.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer as createHttpServer, request as forward, type Server as HttpServer } from 'node:http';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from '../../support/ports';

export { freePort };

export interface OwnRedis {
  url: string;
  stop: () => Promise<void>;
  start: () => Promise<void>;
}

/** A redis-server on a port of its own (no persistence): `stop` kills it, `start` runs it again, empty. */
export async function ownRedis(): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      const up = await new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.destroy();
          resolve(true);
        }).on('error', () => resolve(false));
      });
      if (up) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server did not start on port ${port}`);
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    running.kill('SIGKILL');
    await exited;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, start, stop };
}

export interface Switch {
  url: string;
  /** Refuses every connection and cuts the open ones: the service behind is unreachable. */
  down: () => void;
  up: () => void;
  close: () => Promise<void>;
}

/** Tracks a server's connections, so that it can refuse new ones and cut the open ones at will. */
function switchable(server: Server | HttpServer, url: string): Switch & { isOpen: () => boolean } {
  let open = true;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    if (!open) socket.destroy();
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return {
    url,
    isOpen: () => open,
    down: () => {
      open = false;
      for (const s of sockets) s.destroy();
    },
    up: () => {
      open = true;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A TCP switch in front of `target` (http://host:port): the same service, reachable or not at will. */
export async function tcpSwitch(target: string): Promise<Switch> {
  const { hostname, port } = new URL(target);
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  // First the switch (which destroys a connection while down), then the relay of the ones it lets in.
  const { isOpen: _, ...control } = switchable(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  server.on('connection', (socket: Socket) => {
    if (socket.destroyed) return;
    const upstream = connect(Number(port), hostname);
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
    socket.pipe(upstream).pipe(socket);
  });
  return control;
}

/** A request to the store, as the proxy in front of the emulator sees it. */
export interface StoreRequest {
  method: string;
  key: string;
  /** A GET of a byte range: the read of the file's first bytes. */
  ranged: boolean;
  /** The key of the source of a CopyObject (a PUT with x-amz-copy-source). */
  copyOf: string | undefined;
}

/**
 * A real HTTP proxy in front of the test's S3 emulator (or the store at `options.target`), for
 * faults at an exact point of a sequence of requests: `before` sees each request as it arrives and
 * runs to its end before the request is forwarded, so it can change the store right then (the same
 * presigned POST used again) or answer 'cut' to drop that one request's connection (a transient
 * fault), or take the whole store down. `options.answered` is told each answer's status and the
 * bytes of its body, as they went through.
 */
export async function storeProxy(
  before: (req: StoreRequest, proxy: Switch) => Promise<'cut' | undefined> | 'cut' | undefined,
  options: { target?: string; answered?: (req: StoreRequest, status: number, bodyBytes: number) => void } = {},
): Promise<Switch> {
  const target = new URL(options.target ?? String(process.env.S3_ENDPOINT));
  let control: ReturnType<typeof switchable> | undefined;
  const server = createHttpServer(async (req, res) => {
    // Path style, /<bucket>/<key>, and so is the copy source.
    const keyIn = (path: string) => decodeURIComponent(path.replace(/^\//, '').split('/').slice(1).join('/'));
    const source = req.headers['x-amz-copy-source'];
    const seen = {
      method: req.method ?? '',
      key: keyIn(new URL(req.url ?? '/', target).pathname),
      ranged: req.headers.range !== undefined,
      copyOf: typeof source === 'string' ? keyIn(source) : undefined,
    };
    const verdict = control ? await before(seen, control) : undefined;
    if (verdict === 'cut' || !control?.isOpen()) {
      req.socket.destroy();
      return;
    }
    const upstream = forward(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        let bytes = 0;
        answer.on('data', (chunk: Buffer) => {
          bytes += chunk.byteLength;
        });
        answer.on('end', () => options.answered?.(seen, answer.statusCode ?? 502, bytes));
        answer.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  control = switchable(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const { isOpen: _, ...proxy } = control;
  return proxy;
}
