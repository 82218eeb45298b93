/**
 * The presigned POST as @aws-sdk/s3-presigned-post makes it for a declared SHA-256: the checksum is
 * among the form's fields and the signed policy's conditions, so S3 refuses other bytes. No emulator
 * here checks a POST policy (s3rver and moto both ignore it), so the policy is read and its
 * signature recomputed as S3 would (SigV4: the policy's base64 text, HMAC'd with the derived key).
 */
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { presignUpload } from '../../lib/storage';

const digest = createHash('sha256').update('the bytes of a photo').digest();
const hex = digest.toString('hex');

/** The signature S3 expects of `policy` for the credential in the fields (the secret from the test environment). */
function signatureOf(policy: string, credential: string): string {
  const [, date = '', region = '', service = ''] = credential.split('/');
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const key = [date, region, service, 'aws4_request'].reduce<string | Buffer>(
    (k, part) => hmac(k, part),
    `AWS4${process.env.AWS_SECRET_ACCESS_KEY}`,
  );
  return createHmac('sha256', key).update(policy).digest('hex');
}

const decode = (policy: string | undefined) =>
  JSON.parse(Buffer.from(policy ?? '', 'base64').toString()) as { expiration: string; conditions: unknown[] };

describe('presignUpload', () => {
  it('with a SHA-256: the checksum in the fields (base64) and, signed, in the policy', async () => {
    const { fields } = await presignUpload('uploads/x', 1000, 'image/jpeg', 900, hex);
    expect(fields).toMatchObject({ 'x-amz-checksum-algorithm': 'SHA256', 'x-amz-checksum-sha256': digest.toString('base64') });
    const policy = decode(fields.Policy);
    expect(policy.conditions).toEqual(
      expect.arrayContaining([
        ['content-length-range', 1000, 1000],
        ['eq', '$Content-Type', 'image/jpeg'],
        ['eq', '$x-amz-checksum-algorithm', 'SHA256'],
        ['eq', '$x-amz-checksum-sha256', digest.toString('base64')],
        { key: 'uploads/x' },
      ]),
    );
    expect(fields['X-Amz-Signature']).toBe(signatureOf(fields.Policy ?? '', fields['X-Amz-Credential'] ?? ''));
  });

  it('without one: no checksum field and no checksum condition', async () => {
    const { fields } = await presignUpload('uploads/x', 1000, 'image/jpeg', 900);
    expect(Object.keys(fields).filter((name) => name.startsWith('x-amz-checksum'))).toEqual([]);
    expect(JSON.stringify(decode(fields.Policy).conditions)).not.toContain('checksum');
    expect(fields['X-Amz-Signature']).toBe(signatureOf(fields.Policy ?? '', fields['X-Amz-Credential'] ?? ''));
  });
});
