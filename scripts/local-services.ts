import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from '@redis/client';
import S3rver from 's3rver';

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

/** Whether a Redis server answers a PING at `url` within `timeoutMs`. */
export async function redisAnswers(url: string, timeoutMs = 1000): Promise<boolean> {
  const client = createClient({ url, socket: { connectTimeout: timeoutMs, reconnectStrategy: false } });
  client.on('error', () => {});
  const ping = client.connect().then(() => client.ping());
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs).unref());
  const up = await Promise.race([ping, timeout]).then(
    () => true,
    () => false,
  );
  client.destroy();
  return up;
}
