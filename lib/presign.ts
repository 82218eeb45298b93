import { storageConfig } from './config';
import { ServiceUnavailableError } from './errors';
import { amzDate, environmentCredentials, rfc3986, sign } from './sigv4';

/**
 * The bucket's URL for an object, as the AWS SDK addresses it: the configured endpoint (path-style
 * when S3_FORCE_PATH_STYLE, as emulators want), else S3's regional endpoint, virtual-hosted unless
 * the bucket's name has a dot (its certificate would not match).
 */
function objectUrl(key: string): URL {
  const c = storageConfig();
  const region = c.S3_REGION ?? c.AWS_REGION;
  const path = key.split('/').map(encodeURIComponent).join('/');
  if (c.S3_ENDPOINT) {
    const endpoint = new URL(c.S3_ENDPOINT);
    const base = endpoint.pathname.replace(/\/+$/, '');
    if (c.S3_FORCE_PATH_STYLE) return new URL(`${endpoint.origin}${base}/${c.S3_BUCKET}/${path}`);
    return new URL(`${endpoint.protocol}//${c.S3_BUCKET}.${endpoint.host}${base}/${path}`);
  }
  const host = `s3.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
  return c.S3_BUCKET.includes('.') ? new URL(`https://${host}/${c.S3_BUCKET}/${path}`) : new URL(`https://${c.S3_BUCKET}.${host}/${path}`);
}

/**
 * A presigned GET of the object at `key`, valid for `seconds`: how a private original is handed out.
 * SigV4 in the query (UNSIGNED-PAYLOAD, the host header signed), as the AWS SDK's presigner makes
 * it, computed here with node:crypto: synchronous, a few microseconds, so that a list page of 50
 * private originals does not wait on 50 rounds of Web Crypto (aws4fetch's way) or load the SDK's S3
 * client and presigner. The credentials are the function's, from the environment as Lambda sets
 * them. Throws ServiceUnavailableError when there are none.
 */
export function presignObjectGet(key: string, seconds: number, now = new Date()): string {
  const credentials = environmentCredentials();
  if (!credentials) {
    throw new ServiceUnavailableError('object storage', { cause: new Error('no AWS credentials in the environment to sign with') });
  }
  const c = storageConfig();
  const region = c.S3_REGION ?? c.AWS_REGION;
  const url = objectUrl(key);
  const datetime = amzDate(now);
  const scope = `${datetime.slice(0, 8)}/${region}/s3/aws4_request`;
  const query: [string, string][] = [
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${credentials.accessKeyId}/${scope}`],
    ['X-Amz-Date', datetime],
    ['X-Amz-Expires', String(seconds)],
    ...(credentials.sessionToken ? [['X-Amz-Security-Token', credentials.sessionToken] as [string, string]] : []),
    ['X-Amz-SignedHeaders', 'host'],
  ];
  const canonicalQuery = query
    .map(([name, value]) => `${rfc3986(name)}=${rfc3986(value)}`)
    .sort()
    .join('&');
  // The path as S3 canonicalises it: each segment encoded once (objectUrl encoded it for the URL).
  const path = rfc3986(decodeURIComponent(url.pathname)).replace(/%2F/g, '/');
  const { signature } = sign(credentials, 's3', region, datetime, {
    method: 'GET',
    path,
    query: canonicalQuery,
    headers: [['host', url.host]],
    payloadHash: 'UNSIGNED-PAYLOAD',
  });
  return `${url.origin}${url.pathname}?${canonicalQuery}&X-Amz-Signature=${signature}`;
}
