import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';
import { serveWire } from './pglite-wire';

/** A running local service and how to stop it. */
export interface Running {
  url: string;
  stop: () => Promise<void>;
}

/** One S3 event notification record, as S3 sends it to a Lambda (`event.Records[i]`). */
export interface S3EventRecord {
  eventName: string;
  s3: { bucket: { name: string }; object: { key: string; size?: number } };
}

/** The emulator, with the S3 event notifications it emits for every write (as a bucket's notification would). */
export interface RunningS3 extends Running {
  onEvent: (listener: (record: S3EventRecord) => void) => void;
}

const xml = (text: string) => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** The bucket's CORS as serverless.yml gives it on AWS: GET and HEAD from anywhere, POST from the origins. */
function corsConfiguration(origins: string[]): string {
  const rule = (methods: string[], allowed: string[]) =>
    `<CORSRule>${allowed.map((o) => `<AllowedOrigin>${xml(o)}</AllowedOrigin>`).join('')}${methods
      .map((m) => `<AllowedMethod>${m}</AllowedMethod>`)
      .join('')}<AllowedHeader>*</AllowedHeader><MaxAgeSeconds>3600</MaxAgeSeconds></CORSRule>`;
  const rules = [rule(['GET', 'HEAD'], ['*']), ...(origins.length > 0 ? [rule(['POST'], origins)] : [])];
  return `<CORSConfiguration>${rules.join('')}</CORSConfiguration>`;
}

/**
 * Starts the s3rver S3 emulator on 127.0.0.1 with `bucket` created. Objects are served to anonymous
 * GETs at `<url>/<bucket>/<key>`, which is what makes file_url work locally.
 */
export async function startS3Emulator(options: {
  port: number;
  directory: string;
  bucket: string;
  /** Origins whose pages may POST files straight to the bucket (direct uploads), as on AWS. */
  corsOrigins?: string[];
}): Promise<RunningS3> {
  await mkdir(options.directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port,
    directory: options.directory,
    silent: true,
    configureBuckets: [{ name: options.bucket, configs: [corsConfiguration(options.corsOrigins ?? [])] }],
  });
  const address = (await server.run()) as AddressInfo;
  const http = (server as unknown as { httpServer: Server }).httpServer;
  return {
    url: `http://127.0.0.1:${address.port}`,
    onEvent: (listener) => {
      (server as unknown as { on: (name: 'event', fn: (e: { Records?: S3EventRecord[] }) => void) => void }).on('event', (e) => {
        for (const record of e.Records ?? []) listener(record);
      });
    },
    stop: async () => {
      http.closeAllConnections();
      await server.close();
    },
  };
}

/**
 * Starts PGlite (Postgres in wasm, data kept in `directory`) served over the wire on 127.0.0.1, for
 * running the API on a machine without Postgres. Its clients take turns, a whole exchange or
 * transaction at a time (scripts/pglite-wire.ts): fine for trying the service, not for its tests or
 * benchmarks, which need a real server.
 */
export async function startEmbeddedPostgres(options: {
  port: number;
  directory: string;
  holdLimitMs?: number;
  log?: (line: string) => void;
}): Promise<Running> {
  const { PGlite } = await import('@electric-sql/pglite');
  await mkdir(options.directory, { recursive: true });
  const db = await PGlite.create(options.directory);
  const server = await serveWire(db, { host: '127.0.0.1', ...options });
  return {
    url: server.url,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}
