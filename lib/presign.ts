import { AwsClient } from 'aws4fetch';
import { storageConfig } from './config';
import { ServiceUnavailableError } from './errors';

/** The object key of a file_url this service made (`.../images/<id>.<ext>`). */
export function keyOfUrl(fileUrl: string): string {
  return fileUrl.slice(fileUrl.lastIndexOf('/images/') + 1);
}

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
 * Signed with SigV4 in the query by aws4fetch (a few KB), not the AWS SDK's S3 client and presigner
 * (hundreds of KB to load on a reader's first request); the credentials are the function's, from the
 * environment as Lambda sets them. Throws ServiceUnavailableError when there are none.
 */
export async function presignObjectGet(key: string, seconds: number): Promise<string> {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = process.env;
  if (!accessKeyId || !secretAccessKey) {
    throw new ServiceUnavailableError('object storage', { cause: new Error('no AWS credentials in the environment to sign with') });
  }
  const c = storageConfig();
  const aws = new AwsClient({ accessKeyId, secretAccessKey, sessionToken, service: 's3', region: c.S3_REGION ?? c.AWS_REGION });
  const url = objectUrl(key);
  url.searchParams.set('X-Amz-Expires', String(seconds));
  const signed = await aws.sign(url.toString(), { method: 'GET', aws: { signQuery: true } });
  return signed.url;
}
