/**
 * The functions' database connection verifies its server when the URL says so (sslmode=verify-full,
 * what a deployed stage requires): a real PostgreSQL with a certificate from a test authority, which
 * a connection trusts only when it is given that authority, and never for another host name. And
 * `sslmode=require`, the usual advice, would trust a forged certificate: why it is refused.
 */
import { execFile } from 'node:child_process';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseSsl } from '../../lib/db-tls';
import { type RunningPostgres, startEmbeddedPostgres } from '../../scripts/embedded-postgres';
import { freePort } from '../../support/ports';
import { runsWith } from '../helpers/tools';

const run = promisify(execFile);

/** A query through lib/db.ts in a fresh Node process (NODE_EXTRA_CA_CERTS is read at start only): whether TLS held, or the error. */
async function connectThrough(databaseUrl: string, extraAuthority?: string): Promise<string> {
  const script = `
    const { sqlClient, closeDb } = await import('./lib/db.ts');
    try {
      const [row] = await sqlClient()\`select ssl from pg_stat_ssl where pid = pg_backend_pid()\`;
      console.log(row.ssl ? 'tls' : 'plain');
    } catch (err) {
      console.log('refused: ' + (err.code ?? err.message));
    } finally {
      await closeDb();
    }`;
  const env = { ...process.env, DATABASE_URL: databaseUrl, NODE_EXTRA_CA_CERTS: extraAuthority ?? '', LOG_LEVEL: 'silent' };
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env, timeout: 30_000 });
  return stdout.trim();
}

describe.runIf(runsWith('a database server with a certificate (db-tls.test.ts)', 'openssl'))('the database connection and TLS', () => {
  let dir = '';
  let port = 0;
  let server: RunningPostgres | undefined;
  let authority = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gallery-tls-'));
    const file = (name: string) => join(dir, name);
    // A test authority, and a certificate for "localhost" it signs.
    await run(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2'].concat([
        '-subj',
        '/CN=gallery test authority',
        '-keyout',
        file('ca.key'),
        '-out',
        file('ca.pem'),
      ]),
    );
    await run(
      'openssl',
      ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'].concat([
        '-subj',
        '/CN=localhost',
        '-keyout',
        file('server.key'),
        '-out',
        file('server.csr'),
      ]),
    );
    await writeFile(file('san.cnf'), 'subjectAltName=DNS:localhost\n');
    await run(
      'openssl',
      ['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key')].concat([
        '-CAcreateserial',
        '-days',
        '2',
        '-extfile',
        file('san.cnf'),
        '-out',
        file('server.pem'),
      ]),
    );
    authority = file('ca.pem');
    port = await freePort();
    // As root the server runs as the user "postgres", which must own its key.
    if (process.getuid?.() === 0) {
      const ids = (await run('id', ['-u', 'postgres'])).stdout.trim();
      const gid = (await run('id', ['-g', 'postgres'])).stdout.trim();
      for (const name of ['server.key', 'server.pem']) await chown(file(name), Number(ids), Number(gid));
    }
    await run('chmod', ['600', file('server.key')]);
    await run('chmod', ['755', dir]);
    server = await startEmbeddedPostgres({
      port,
      directory: file('data'),
      settings: { ssl: 'on', ssl_cert_file: file('server.pem'), ssl_key_file: file('server.key') },
    });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const url = (host: string, mode: string) => `postgres://postgres@${host}:${port}/postgres?sslmode=${mode}`;

  it('verifies the certificate with sslmode=verify-full: trusted only given its authority', async () => {
    expect(await connectThrough(url('localhost', 'verify-full'))).toMatch(
      /^refused: (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/,
    );
    expect(await connectThrough(url('localhost', 'verify-full'), authority)).toBe('tls');
  });

  it('verifies the name too: the certificate of "localhost" is refused for 127.0.0.1', async () => {
    expect(await connectThrough(url('127.0.0.1', 'verify-full'), authority)).toBe('refused: ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('with sslmode=require trusts any certificate, which is why a deployed stage refuses it', async () => {
    expect(await connectThrough(url('localhost', 'require'))).toBe('tls');
  });

  it("adds Amazon RDS's authorities to Node's for an RDS endpoint that is verified, and only then", () => {
    const rds = 'postgres://u@db.abc.eu-central-1.rds.amazonaws.com/gallery';
    expect(databaseSsl(`${rds}?sslmode=verify-full`)?.secureContext).toBeDefined();
    expect(databaseSsl(`${rds}?sslmode=require`)).toBeUndefined();
    expect(databaseSsl('postgres://u@db.example.com/gallery?sslmode=verify-full')).toEqual({ host: 'db.example.com' });
  });
});
