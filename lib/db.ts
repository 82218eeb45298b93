import { type SQLWrapper, sql } from 'drizzle-orm';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { databaseConfig, parameterStoreConfig, verifiesServer } from './config';
import './secrets';
import { databaseSsl } from './db-tls';
import { HttpError, ServiceUnavailableError } from './errors';
import { log } from './log';
import * as schema from './schema';

export type Database = PostgresJsDatabase<typeof schema>;
/** A transaction of that client, as `db().transaction()` hands it to its callback. */
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];

// Checked at import: a missing or bad DATABASE_URL fails the cold start, not the first request. A
// deployed stage allowed to skip the certificate's verification says so at every cold start.
{
  const { DATABASE_URL, DB_TLS_UNVERIFIED } = databaseConfig();
  if (DB_TLS_UNVERIFIED && parameterStoreConfig().SSM_PARAMETER_PATH !== undefined && !verifiesServer(DATABASE_URL)) {
    log.warn(
      "DATABASE_URL does not verify the database server's certificate (db-tls-unverified is true): a man in the middle can read the password and every row",
    );
  }
}

let database: Database | undefined;
let connection: ReturnType<typeof postgres> | undefined;

/** The container's one Drizzle client, created on first use and reused across invocations. */
export function db(): Database {
  if (!database) {
    const c = databaseConfig();
    const ssl = databaseSsl(c.DATABASE_URL);
    const client = postgres(c.DATABASE_URL, {
      max: c.DB_MAX_CONNECTIONS,
      idle_timeout: c.DB_IDLE_TIMEOUT_SECONDS,
      connect_timeout: c.DB_CONNECT_TIMEOUT_SECONDS,
      prepare: c.DB_PREPARE,
      ...(ssl ? { ssl } : {}),
      onnotice: () => {},
    });
    connection = client;
    database = drizzle(client, { schema });
  }
  return database;
}

/**
 * The postgres.js client under db(), the same connections: for the few statements on a hot path
 * that are plain SQL, where Drizzle's query building would cost more than the query (the outbox
 * relay after every write).
 */
export function sqlClient(): ReturnType<typeof postgres> {
  db();
  if (!connection) throw new Error('no database connection');
  return connection;
}

/** Closes the connection (scripts and the listener, at their end; a Lambda container never needs to). */
export async function closeDb(): Promise<void> {
  const c = connection;
  connection = undefined;
  database = undefined;
  await c?.end({ timeout: 5 });
}

/** to_char's pattern for a timestamptz at time zone UTC as the API writes it (`…T….ffffff+00:00`). */
export const ISO_TIMESTAMP_PATTERN = 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"';

/** A timestamptz as the API writes it: exact to the microsecond, in UTC, `…T….ffffff+00:00`. */
export const isoTimestamp = (column: SQLWrapper) => sql<string>`to_char(${column} at time zone 'UTC', ${ISO_TIMESTAMP_PATTERN})`;

/** Postgres SQLSTATEs and postgres.js/Node codes that mean the database cannot be reached now. */
const UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);

/** The first error code in the chain (Drizzle wraps the driver's error in `cause`). */
export function dbErrorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    // AggregateError (a host with several addresses, all refused) carries the code on its parts.
    if (e instanceof AggregateError) return dbErrorCode(e.errors[0]);
  }
  return undefined;
}

/** True when the error means the database is down or unreachable, not that the query was wrong. */
export function isDbUnavailable(err: unknown): boolean {
  const code = dbErrorCode(err);
  return code !== undefined && UNAVAILABLE.has(code);
}

/** The constraint a unique violation (23505) names, anywhere in the error's chain. */
function violatedConstraint(err: unknown): string | undefined {
  if (dbErrorCode(err) !== '23505') return undefined;
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const name = (e as { constraint_name?: unknown }).constraint_name;
    if (typeof name === 'string') return name;
  }
  return undefined;
}

/**
 * Runs database work. An unreachable database becomes ServiceUnavailableError (503); a unique
 * violation of a constraint named in `conflicts` becomes the error made for it (a 409).
 */
export async function withDb<T>(work: () => Promise<T>, conflicts: Record<string, () => HttpError> = {}): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof HttpError) throw err;
    const constraint = violatedConstraint(err);
    const conflict = constraint === undefined ? undefined : conflicts[constraint];
    if (conflict) throw conflict();
    if (isDbUnavailable(err)) throw new ServiceUnavailableError('database', { cause: err });
    throw err;
  }
}
