import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { databaseConfig } from './config';
import * as schema from './schema';

export type Database = PostgresJsDatabase<typeof schema>;

let database: Database | undefined;

/** The container's one Drizzle client, created on first use and reused across invocations. */
export function db(): Database {
  if (!database) {
    const c = databaseConfig();
    const client = postgres(c.DATABASE_URL, {
      max: c.DB_MAX_CONNECTIONS,
      idle_timeout: c.DB_IDLE_TIMEOUT_SECONDS,
      connect_timeout: c.DB_CONNECT_TIMEOUT_SECONDS,
      prepare: c.DB_PREPARE,
      onnotice: () => {},
    });
    database = drizzle(client, { schema });
  }
  return database;
}

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
