/**
 * The embedded PGlite of `npm start` (scripts/pglite-wire.ts) shared by many clients over the wire,
 * as the functions' pools, the relay and the processing share it: whole exchanges and transactions
 * take turns, a client that leaves mid-transaction is rolled back, one that holds the database too
 * long while others wait is disconnected.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Running, startEmbeddedPostgres } from '../../scripts/local-services';
import { freePort } from '../../support/ports';

const HOLD_LIMIT_MS = 1500;
let dir: string;
let pg: Running & { url: string };
const logged: string[] = [];
let clients: postgres.Sql[] = [];

const client = (options: postgres.Options<Record<string, never>> = {}) => {
  const sql = postgres(pg.url, { max: 8, onnotice: () => {}, ...options });
  clients.push(sql);
  return sql;
};

/** Whether `promise` has settled by the time the event loop has run `ms` more. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setTimeout(resolve, ms));
  return settled;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gallery-pglite-'));
  pg = (await startEmbeddedPostgres({
    port: await freePort(),
    directory: dir,
    holdLimitMs: HOLD_LIMIT_MS,
    log: (line) => logged.push(line),
  })) as Running & { url: string };
}, 60_000);

afterAll(async () => {
  await pg?.stop();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  logged.length = 0;
  const setup = client({ max: 1 });
  await setup`drop table if exists t`;
  await setup`create table t (id serial primary key, n int not null)`;
});

afterEach(async () => {
  await Promise.all(clients.map((c) => c.end({ timeout: 1 })));
  clients = [];
});

describe('the embedded PGlite served over the wire', () => {
  it('runs many clients at once, prepared statements and transactions, each exchange whole', async () => {
    const pools = [client(), client(), client({ prepare: false })];
    const failures: string[] = [];
    await Promise.all(
      Array.from({ length: 150 }, async (_, i) => {
        const sql = pools[i % pools.length] as postgres.Sql;
        try {
          await sql.begin(async (tx) => {
            await tx`insert into t (n) values (${i})`;
            // Inside its transaction a client sees its own row, and no other client's statement runs.
            const [{ mine, all }] = (await tx`select count(*) filter (where n = ${i})::int as mine, count(*)::int as all from t`) as [
              { mine: number; all: number },
            ];
            const [{ again }] = (await tx`select count(*)::int as again from t`) as [{ again: number }];
            if (mine !== 1 || again !== all) failures.push(`${i}: mine ${mine}, all ${all} then ${again}`);
            if (i % 5 === 0) throw new Error('rolled back on purpose');
          });
        } catch (err) {
          if ((err as Error).message !== 'rolled back on purpose') failures.push(`${i}: ${(err as Error).message}`);
        }
        const [{ x }] = (await sql`select ${i}::int as x`) as [{ x: number }];
        if (x !== i) failures.push(`${i}: read back ${x}`);
      }),
    );
    expect(failures).toEqual([]);
    const [{ count }] = (await client()`select count(*)::int as count from t`) as [{ count: number }];
    expect(count).toBe(120);
  });

  it("makes a client wait while another's transaction is open, never running inside it", async () => {
    const other = client({ max: 1 });
    await other`select 1`;
    const holder = await client().reserve();
    await holder`begin`;
    await holder`insert into t (n) values (1)`;
    // In the one session PGlite has, a statement run now would see the uncommitted row.
    const waiting = other`select count(*)::int as count from t`;
    expect(await settledWithin(waiting, 300)).toBe(false);
    await holder`rollback`;
    expect(await waiting).toEqual([{ count: 0 }]);
    holder.release();
  });

  it('rolls back the transaction of a client that leaves in the middle of it, and serves the others', async () => {
    const leaving = client();
    const holder = await leaving.reserve();
    await holder`begin`;
    await holder`insert into t (n) values (1)`;
    const other = client()`select count(*)::int as count from t`;
    await leaving.end({ timeout: 0 });
    expect(await other).toEqual([{ count: 0 }]);
  });

  it('rolls back the statement of a client that leaves between its Execute and its Sync', async () => {
    const { port } = new URL(pg.url);
    const socket = connect(Number(port), '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk) => received.push(chunk));
    const answered = async (type: string) => {
      for (let i = 0; i < 100 && !Buffer.concat(received).includes(type); i++) await new Promise((r) => setTimeout(r, 20));
    };
    const message = (type: string, ...parts: Buffer[]) => {
      const body = Buffer.concat(parts);
      const header = Buffer.alloc(5);
      header.write(type, 0);
      header.writeInt32BE(4 + body.length, 1);
      return Buffer.concat([header, body]);
    };
    const cstring = (text: string) => Buffer.from(`${text}\0`);
    const int16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
    const startup = Buffer.concat([
      Buffer.from([0, 3, 0, 0]),
      cstring('user'),
      cstring('postgres'),
      cstring('database'),
      cstring('postgres'),
      cstring(''),
    ]);
    const length = Buffer.alloc(4);
    length.writeInt32BE(4 + startup.length);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(Buffer.concat([length, startup]));
    await answered('Z');
    received.length = 0;
    // Parse, Bind, Execute of an INSERT, and no Sync: the statement ran in an implicit transaction.
    socket.write(
      Buffer.concat([
        message('P', cstring(''), cstring('insert into t (n) values (7)'), int16(0)),
        message('B', cstring(''), cstring(''), int16(0), int16(0), int16(0)),
        message('E', cstring(''), Buffer.from([0, 0, 0, 0])),
        message('H'),
      ]),
    );
    await answered('C');
    expect(Buffer.concat(received).includes('INSERT 0 1')).toBe(true);
    socket.destroy();
    expect(await client()`select count(*)::int as count from t`).toEqual([{ count: 0 }]);
  });

  it('disconnects a client that holds the database in a transaction too long while others wait', async () => {
    const holder = client();
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const transaction = holder
      .begin(async (tx) => {
        await tx`insert into t (n) values (1)`;
        holding();
        await new Promise((resolve) => setTimeout(resolve, HOLD_LIMIT_MS * 2));
        await tx`select 1`;
      })
      .then(
        () => 'committed',
        (err: Error) => err.message,
      );
    await held;
    const started = Date.now();
    expect(await client()`select count(*)::int as count from t`).toEqual([{ count: 0 }]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(HOLD_LIMIT_MS - 50);
    expect(logged).toEqual([expect.stringContaining('disconnected, its work rolled back')]);
    expect(await transaction).toMatch(/CONNECTION_CLOSED/);
    expect(await holder`select count(*)::int as count from t`).toEqual([{ count: 0 }]);
  });

  it("forgets what a client prepared by name once it leaves, as a backend's exit would", async () => {
    const probe = client({ max: 1 });
    const prepared = async () => ((await probe`select count(*)::int as count from pg_prepared_statements`) as [{ count: number }])[0].count;
    const before = await prepared();
    const leaving = client({ max: 4 });
    await Promise.all(Array.from({ length: 8 }, (_, i) => leaving`select ${i}::int + count(*) as n from t where n > ${i}`));
    expect(await prepared()).toBeGreaterThan(before);
    await leaving.end();
    await expect.poll(prepared).toBe(before);
  });

  it('closes a connection that sends what is not the protocol, and goes on serving', async () => {
    const { port } = new URL(pg.url);
    const closed = await new Promise<boolean>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')));
      socket.on('close', () => resolve(true));
      socket.on('error', () => {});
    });
    expect(closed).toBe(true);
    expect(await client()`select 1 as one`).toEqual([{ one: 1 }]);
  });
});
