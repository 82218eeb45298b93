import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { amzDate, type Credentials, environmentCredentials, sha256Hex, sign } from './sigv4';

/** SSM could not give every parameter asked for; the message names them, never a value. */
export class ParameterStoreError extends Error {
  override name = 'ParameterStoreError';
}

// The read happens once, in a Lambda's init phase (10 s at most): a slow SSM must fail it in time,
// while retries still absorb a throttled burst of cold starts.
const TIMEOUT_MS = 2_000;
const MAX_ATTEMPTS = 3;
/** GetParameters takes at most ten names. */
const MAX_NAMES = 10;

/** What GetParameters answers (the JSON 1.1 protocol), as far as it is read here. */
interface GetParametersOutput {
  Parameters?: { Name?: string; Value?: string }[];
  InvalidParameters?: string[];
}

/**
 * SSM's endpoint: AWS_ENDPOINT_URL_SSM or AWS_ENDPOINT_URL when set (as the AWS SDK honours them: a
 * stand-in such as moto_server), else the region's.
 */
const endpointOf = (region: string): string =>
  process.env.AWS_ENDPOINT_URL_SSM ??
  process.env.AWS_ENDPOINT_URL ??
  `https://ssm.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`;

/** An answer worth another attempt: throttled, or SSM failing on its side. */
const retryable = (status: number, type: string): boolean => status >= 500 || status === 429 || /Throttl|TooManyRequests/.test(type);

/**
 * Reads parameters by name from SSM Parameter Store in one GetParameters call, SecureStrings
 * decrypted, and returns each name's value. Throws ParameterStoreError naming every parameter that
 * does not exist, or saying why SSM refused or could not be reached (credentials, IAM, KMS).
 *
 * One POST signed here (SigV4, lib/sigv4.ts) over node:https, rather than the SDK's SSM client
 * (about 485 KB bundled, evaluated at every cold start) or fetch (whose undici Node loads on its
 * first use: tens of ms of a cold start). Lambda gives the function's role credentials in the
 * environment.
 */
export async function readParameters(names: readonly string[], region: string): Promise<Map<string, string>> {
  if (names.length > MAX_NAMES) throw new ParameterStoreError(`at most ${MAX_NAMES} parameters can be read at once`);
  const fail = (reason: string, cause?: unknown): never => {
    throw new ParameterStoreError(`could not read the SSM parameters ${names.join(', ')}: ${reason}`, { cause });
  };
  const credentials = environmentCredentials();
  if (!credentials) fail('CredentialsProviderError: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set');
  const body = JSON.stringify({ Names: [...names], WithDecryption: true });
  let output: GetParametersOutput | undefined;
  for (let attempt = 1; output === undefined; attempt++) {
    let status = 0;
    let type = '';
    let message = '';
    try {
      const res = await post(new URL(`${endpointOf(region)}/`), credentials as Credentials, region, body);
      const text = res.text;
      if (res.status >= 200 && res.status < 300) {
        output = JSON.parse(text) as GetParametersOutput;
        break;
      }
      status = res.status;
      // An error's type is in its body (`__type`, maybe prefixed with a namespace and `#`) or header.
      const error = (() => {
        try {
          return JSON.parse(text) as { __type?: string; message?: string; Message?: string };
        } catch {
          return {};
        }
      })();
      type = (error.__type ?? res.errorType ?? `HTTP ${status}`).split('#').at(-1)?.split(':')[0] ?? '';
      message = error.message ?? error.Message ?? '';
    } catch (err) {
      type = err instanceof Error ? err.name : 'Error';
      message = err instanceof Error ? err.message : String(err);
      if (attempt >= MAX_ATTEMPTS) fail(`${type}: ${message}`, err);
      continue;
    }
    if (attempt >= MAX_ATTEMPTS || !retryable(status, type)) fail(`${type}: ${message}`);
    // Backoff with jitter, as the SDK's standard retries: up to 100 ms, then 200 ms.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 100 * 2 ** (attempt - 1)));
  }
  const { Parameters = [], InvalidParameters = [] } = output;
  if (InvalidParameters.length > 0) {
    const missing = names.filter((name) => InvalidParameters.includes(name));
    throw new ParameterStoreError(`SSM parameter${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not found`);
  }
  return new Map(Parameters.flatMap((p) => (p.Name !== undefined ? [[p.Name, p.Value ?? '']] : [])));
}

/** POSTs `body` to SSM's GetParameters, signed; its status, its error type header and its text. */
function post(
  url: URL,
  credentials: Credentials,
  region: string,
  body: string,
): Promise<{ status: number; errorType?: string; text: string }> {
  const datetime = amzDate(new Date());
  const headers: [string, string][] = [
    ['host', url.host],
    ['x-amz-date', datetime],
    ...(credentials.sessionToken ? [['x-amz-security-token', credentials.sessionToken] as [string, string]] : []),
    ['x-amz-target', 'AmazonSSM.GetParameters'],
  ];
  const { scope, signedHeaders, signature } = sign(credentials, 'ssm', region, datetime, {
    method: 'POST',
    path: url.pathname,
    query: '',
    headers,
    payloadHash: sha256Hex(body),
  });
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          ...Object.fromEntries(headers),
          'content-type': 'application/x-amz-json-1.1',
          'content-length': String(Buffer.byteLength(body)),
          authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
        },
        timeout: TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const errorType = res.headers['x-amzn-errortype'];
          resolve({
            status: res.statusCode ?? 0,
            ...(typeof errorType === 'string' ? { errorType } : {}),
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer from SSM within ${TIMEOUT_MS} ms`), { name: 'TimeoutError' })));
    req.on('error', reject);
    req.end(body);
  });
}
