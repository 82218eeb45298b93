/**
 * The presigned GET of a private original (lib/presign.ts), signed with node:crypto, is the one
 * aws4fetch's SigV4 makes for the same object, time and credentials, with and without a session
 * token (Lambda's role credentials always carry one): same query, same signature.
 */
import { AwsClient } from 'aws4fetch';
import { afterEach, describe, expect, it } from 'vitest';
import { storageConfig } from '../../lib/config';
import { presignObjectGet } from '../../lib/presign';

const saved = { ...process.env };
afterEach(() => {
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

/** aws4fetch's presigned GET of the same URL (without its query) at the same time. */
async function reference(url: string, seconds: number, at: Date): Promise<URL> {
  const c = storageConfig();
  const aws = new AwsClient({
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? '',
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '',
    sessionToken: process.env.AWS_SESSION_TOKEN,
    service: 's3',
    region: c.S3_REGION ?? c.AWS_REGION,
  });
  const unsigned = new URL(url.split('?')[0] ?? '');
  unsigned.searchParams.set('X-Amz-Expires', String(seconds));
  const datetime = at.toISOString().replace(/[:-]|\.\d{3}/g, '');
  return new URL((await aws.sign(unsigned.toString(), { method: 'GET', aws: { signQuery: true, datetime } })).url);
}

const sorted = (url: URL) => [...url.searchParams].sort(([a], [b]) => a.localeCompare(b));

describe('a presigned GET', () => {
  const at = new Date('2026-12-07T05:06:07.890Z');

  it.each([
    ['long-term keys', undefined],
    ['role credentials with a session token', 'IQoJb3JpZ2luX2VjEJr//////////wEaCWV1LWNlbnRyYWwtMSJHMEUCIQ+token/with=odd&chars'],
  ])('is the one aws4fetch signs, with %s', async (_, token) => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIAEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    if (token === undefined) delete process.env.AWS_SESSION_TOKEN;
    else process.env.AWS_SESSION_TOKEN = token;
    const key = 'images/0b4f7f6e-6f61-4a43-9d0e-3f4c2f0b8a11.jpg';
    const ours = new URL(presignObjectGet(key, 120, at));
    const theirs = await reference(ours.toString(), 120, at);
    expect(`${ours.origin}${ours.pathname}`).toBe(`${theirs.origin}${theirs.pathname}`);
    expect(ours.pathname.endsWith(`/${key}`)).toBe(true);
    expect(sorted(ours)).toEqual(sorted(theirs));
    expect(ours.searchParams.get('X-Amz-Security-Token')).toBe(token ?? null);
    // Another time signs differently: the signature is not a constant.
    expect(new URL(presignObjectGet(key, 120, new Date(at.getTime() + 1000))).searchParams.get('X-Amz-Signature')).not.toBe(
      ours.searchParams.get('X-Amz-Signature'),
    );
  });

  it('needs credentials', () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    expect(() => presignObjectGet('images/x.jpg', 60)).toThrow(/unavailable/);
  });
});
