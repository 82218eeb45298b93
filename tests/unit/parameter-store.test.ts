/**
 * The SSM read (lib/parameter-store.ts) against a local server standing in for SSM: the request is
 * GetParameters in the JSON 1.1 protocol, decrypted, signed exactly as aws4fetch's SigV4 signs it
 * (session token included); the values come back by name; a missing parameter and SSM's refusals are
 * named in the error, and a throttled SSM is asked again. (tests/integration/deploy.test.ts reads
 * through moto's SSM.)
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsClient } from 'aws4fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readParameters } from '../../lib/parameter-store';

const seen: { headers: IncomingHttpHeaders; body: string }[] = [];
let answers: { status: number; body: unknown }[] = [];
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    seen.push({ headers: req.headers, body });
    const answer = answers.shift() ?? { status: 500, body: {} };
    res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(answer.body));
  });
});
const saved = { ...process.env };

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.env.AWS_ENDPOINT_URL_SSM = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.AWS_ACCESS_KEY_ID = 'AKIAEXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  process.env.AWS_SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEJr//token+with/odd=chars';
});
afterAll(() => {
  server.close();
  for (const name of ['AWS_ENDPOINT_URL_SSM', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

const names = ['/photo-gallery/prod/database-url', '/photo-gallery/prod/api-keys'];

describe('the SSM read', () => {
  it('asks GetParameters, decrypted, signed as aws4fetch signs, and gives the values by name', async () => {
    seen.length = 0;
    answers = [
      {
        status: 200,
        body: {
          Parameters: [
            { Name: names[0], Value: 'postgres://db' },
            { Name: names[1], Value: 'k1,k2' },
          ],
          InvalidParameters: [],
        },
      },
    ];
    const values = await readParameters(names, 'eu-central-1');
    expect(Object.fromEntries(values)).toEqual({ [names[0] ?? '']: 'postgres://db', [names[1] ?? '']: 'k1,k2' });
    const [{ headers, body } = { headers: {}, body: '' }] = seen;
    expect(JSON.parse(body)).toEqual({ Names: names, WithDecryption: true });
    expect(headers['x-amz-target']).toBe('AmazonSSM.GetParameters');
    expect(headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(headers['x-amz-security-token']).toBe(process.env.AWS_SESSION_TOKEN);
    // The same request signed by aws4fetch at the same time.
    const aws = new AwsClient({
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? '',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '',
      sessionToken: process.env.AWS_SESSION_TOKEN,
      service: 'ssm',
      region: 'eu-central-1',
    });
    const reference = await aws.sign(`${process.env.AWS_ENDPOINT_URL_SSM}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetParameters' },
      body,
      aws: { datetime: String(headers['x-amz-date']) },
    });
    expect(headers.authorization).toBe(reference.headers.get('authorization'));
  });

  it('names the parameters that do not exist, and why SSM refused', async () => {
    answers = [{ status: 200, body: { Parameters: [], InvalidParameters: [names[1]] } }];
    await expect(readParameters(names, 'eu-central-1')).rejects.toThrow('SSM parameter /photo-gallery/prod/api-keys not found');
    answers = [
      { status: 400, body: { __type: 'com.amazonaws.ssm#AccessDeniedException', message: 'not authorized to perform ssm:GetParameters' } },
    ];
    await expect(readParameters(names, 'eu-central-1')).rejects.toThrow(
      /AccessDeniedException: not authorized to perform ssm:GetParameters/,
    );
  });

  it('asks again when throttled, three times at most', async () => {
    seen.length = 0;
    const throttled = { status: 400, body: { __type: 'ThrottlingException', message: 'Rate exceeded' } };
    answers = [throttled, { status: 200, body: { Parameters: [{ Name: names[0], Value: 'v' }], InvalidParameters: [] } }];
    expect((await readParameters([names[0] ?? ''], 'eu-central-1')).get(names[0] ?? '')).toBe('v');
    answers = [throttled, throttled, throttled, throttled];
    await expect(readParameters([names[0] ?? ''], 'eu-central-1')).rejects.toThrow(/ThrottlingException: Rate exceeded/);
    expect(seen.length).toBe(2 + 3);
  });
});
