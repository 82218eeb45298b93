/**
 * Real faults on demand: a Redis server of the test's own, on its own port, that can be killed and
 * started again (empty, as a Redis without persistence comes back); and a TCP switch in front of the
 * S3 emulator that can refuse connections (S3 down) and let them through again (S3 back).
 */
import { type ChildProcess, spawn } from 'node:child_process';
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

/** A TCP switch in front of `target` (http://host:port): the same service, reachable or not at will. */
export async function tcpSwitch(target: string): Promise<Switch> {
  const { hostname, port } = new URL(target);
  let open = true;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    if (!open) {
      socket.destroy();
      return;
    }
    const upstream = connect(Number(port), hostname);
    for (const s of [socket, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        socket.destroy();
        upstream.destroy();
      });
    }
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
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
