import { createHash, createHmac } from 'node:crypto';

// AWS Signature Version 4 with node:crypto: synchronous and already loaded, where aws4fetch's Web
// Crypto takes several asynchronous rounds a signature and the AWS SDK hundreds of KB of code.

/** encodeURIComponent, and the five characters it leaves that SigV4 encodes too. */
export const rfc3986 = (text: string): string =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const hmac = (key: string | Buffer, text: string): Buffer => createHmac('sha256', key).update(text, 'utf8').digest();
export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** The signing key of a secret, a day, a region and a service: the same all day, so the last is kept. */
let lastKey: { id: string; key: Buffer } | undefined;
function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const id = `${secret},${date},${region},${service}`;
  if (lastKey?.id !== id) lastKey = { id, key: hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request') };
  return lastKey.key;
}

/** The credentials a Lambda function runs with: its role's, in the environment. */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

/** The function's credentials from the environment, or undefined when there are none. */
export function environmentCredentials(): Credentials | undefined {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = process.env;
  return accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, sessionToken } : undefined;
}

/** `20261207T050607Z`: SigV4's time. */
export const amzDate = (now: Date): string => now.toISOString().replace(/[:-]|\.\d{3}/g, '');

/**
 * Signs a canonical request: its parts as SigV4 joins them (method, path, query, headers, signed
 * header names, payload hash). The credential scope and the signature.
 */
export function sign(
  credentials: Credentials,
  service: string,
  region: string,
  datetime: string,
  canonical: { method: string; path: string; query: string; headers: [string, string][]; payloadHash: string },
): { scope: string; signedHeaders: string; signature: string } {
  const scope = `${datetime.slice(0, 8)}/${region}/${service}/aws4_request`;
  const headers = [...canonical.headers].sort(([a], [b]) => (a < b ? -1 : 1));
  const signedHeaders = headers.map(([name]) => name).join(';');
  const request = [
    canonical.method,
    canonical.path,
    canonical.query,
    `${headers.map(([name, value]) => `${name}:${value.trim().replace(/\s+/g, ' ')}`).join('\n')}\n`,
    signedHeaders,
    canonical.payloadHash,
  ].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', datetime, scope, sha256Hex(request)].join('\n');
  const key = signingKey(credentials.secretAccessKey, datetime.slice(0, 8), region, service);
  return { scope, signedHeaders, signature: createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex') };
}
