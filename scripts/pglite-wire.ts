/**
 * PGlite served over Postgres's wire protocol, for `npm start` on a machine without Postgres.
 *
 * PGlite is one Postgres backend in wasm: one session. Several clients (the functions' pools, the
 * relay, the processing) can share it only by taking turns, and a turn must be a whole exchange: from
 * a client's first message to the Sync (or simple Query) after which the backend is idle outside a
 * transaction. @electric-sql/pglite-socket interleaves clients message by message, so one client's
 * Bind ran against another's Parse ("portal "" does not exist", "bind message supplies 2
 * parameters, but prepared statement requires 1") and a transaction could take in another client's
 * statements. Here a client keeps the backend for its whole exchange, a transaction included, and the
 * others wait their turn in order of arrival. A client that keeps the backend (in a transaction, or
 * in the middle of an exchange) while others wait `holdLimitMs` for it, as a lock never released
 * would, is disconnected and its work rolled back, so that the service answers an error instead of
 * hanging.
 */
import { createServer, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;
const SYNC = Buffer.from([0x53, 0, 0, 0, 4]);
/** Execute of a portal that does not exist: an error, so that the Sync after it rolls back. */
const FAILING_EXECUTE = (() => {
  const portal = Buffer.from('pglite_wire_no_such_portal\0');
  const message = Buffer.alloc(1 + 4 + portal.length + 4);
  message.write('E', 0);
  message.writeInt32BE(4 + portal.length + 4, 1);
  portal.copy(message, 5);
  return message;
})();

export interface WireServer {
  url: string;
  stop(): Promise<void>;
}

/** Who has the backend, and who waits for it (first come, first served). */
class Turns<T> {
  #owner: T | undefined;
  readonly #queue: { client: T; grant: () => void }[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly holdLimitMs: number,
    private readonly onHeldTooLong: (owner: T) => void,
  ) {}

  take(client: T): Promise<void> {
    if (this.#owner === client) return Promise.resolve();
    if (this.#owner === undefined) {
      this.#owner = client;
      return Promise.resolve();
    }
    return new Promise((grant) => {
      this.#queue.push({ client, grant });
      this.#watch();
    });
  }

  give(client: T): void {
    if (this.#owner !== client) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const next = this.#queue.shift();
    this.#owner = next?.client;
    if (next) {
      next.grant();
      this.#watch();
    }
  }

  /** While others wait, the owner has `holdLimitMs` to give the backend back. */
  #watch(): void {
    const owner = this.#owner;
    if (this.#timer || owner === undefined || this.#queue.length === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#owner === owner && this.#queue.length > 0) this.onHeldTooLong(owner);
    }, this.holdLimitMs);
    this.#timer.unref();
  }
}

/**
 * Serves `db` on `host:port` until stopped. `log` hears of a client disconnected for holding the
 * backend too long.
 */
export async function serveWire(
  db: PGlite,
  options: { host: string; port: number; holdLimitMs?: number; log?: (line: string) => void },
): Promise<WireServer> {
  const sockets = new Set<Socket>();
  /** Each connection's work, the clean-up after it has left included. */
  const finished = new Set<Promise<void>>();
  const holdLimitMs = options.holdLimitMs ?? 30_000;
  const turns = new Turns<Socket>(holdLimitMs, (socket) => {
    options.log?.(
      `a client kept the database (a transaction or an unfinished exchange) while others waited ${holdLimitMs} ms: disconnected, its work rolled back`,
    );
    socket.destroy();
  });

  /** Runs one message, its answers written back to `socket` (or dropped, without one). */
  const exec = (socket: Socket | undefined, message: Uint8Array) =>
    db.runExclusive(() =>
      db.execProtocolRawStream(message, {
        onRawData: (bytes) => {
          if (socket && !socket.destroyed) socket.write(Buffer.from(bytes));
        },
      }),
    );

  /**
   * After a client left, what a backend's exit would have ended, rolled back: its extended query
   * (it may have left in the middle of one, whose Sync would commit it: an error first makes the
   * Sync roll it back), its transaction, and the statements it prepared by name.
   */
  const reset = async (statements: Iterable<string>) => {
    for (const message of [FAILING_EXECUTE, SYNC]) await exec(undefined, message);
    if (db.isInTransaction()) await db.exec('rollback');
    for (const name of statements) await db.exec(`deallocate "${name.replaceAll('"', '""')}"`).catch(() => {});
  };

  const serve = (socket: Socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    let buffer = Buffer.alloc(0);
    let started = false;
    let gone = false;
    const statements = new Set<string>();
    let chain = Promise.resolve();

    const run = (message: Buffer, endsExchange: boolean) => {
      chain = chain
        .then(async () => {
          await turns.take(socket);
          if (gone) return;
          await exec(socket, message);
          if (endsExchange && !db.isInTransaction()) turns.give(socket);
        })
        .catch(() => {
          socket.destroy();
        });
    };

    /** The next whole message in the buffer, handled; false when none is complete yet. */
    const next = (): boolean => {
      if (!started) {
        if (buffer.length < 8) return false;
        const length = buffer.readInt32BE(0);
        if (length < 8 || length > 10_000) throw new Error('malformed start-up message');
        if (buffer.length < length) return false;
        const code = buffer.readInt32BE(4);
        const message = buffer.subarray(0, length);
        buffer = buffer.subarray(length);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) socket.write('N');
        // A cancel request: there is no backend process to signal.
        else if (code === CANCEL_REQUEST) socket.end();
        else if (code === PROTOCOL_3) {
          started = true;
          run(message, true);
        } else throw new Error(`unsupported protocol ${code}`);
        return true;
      }
      if (buffer.length < 5) return false;
      const length = 1 + buffer.readInt32BE(1);
      if (length < 5) throw new Error('malformed message');
      if (buffer.length < length) return false;
      const type = String.fromCharCode(buffer[0] as number);
      const message = buffer.subarray(0, length);
      buffer = buffer.subarray(length);
      if (type === 'P') {
        const name = message.toString('utf8', 5, message.indexOf(0, 5));
        if (name) statements.add(name);
      }
      // Terminate: after what came before it.
      if (type === 'X') chain = chain.then(() => void socket.end());
      // What the backend answers with ReadyForQuery: a Sync, a simple Query, a FunctionCall.
      else run(message, type === 'S' || type === 'Q' || type === 'F');
      return true;
    };

    socket.on('data', (chunk) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      try {
        while (next()) {}
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      gone = true;
      sockets.delete(socket);
      const done = chain.then(async () => {
        await turns.take(socket);
        await reset(statements).catch(() => {});
        turns.give(socket);
      });
      finished.add(done);
      chain = done.finally(() => finished.delete(done));
    });
  };

  const server = createServer(serve);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    url: `postgres://postgres@${options.host}:${options.port}/postgres`,
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      // Every connection's clean-up (rollbacks) done before the database may close.
      await Promise.allSettled([...finished]);
    },
  };
}
