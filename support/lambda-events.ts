/** API Gateway HTTP API events, Lambda contexts and multipart bodies, as the tests and the bench send them. */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, Context, S3Event, SQSEvent } from 'aws-lambda';

export interface Call {
  method: string;
  path: string;
  /** The route as API Gateway names it, e.g. `GET /api/v1/images/{id}`. */
  route: string;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** The client's address as API Gateway reports it (127.0.0.1 unless given). */
  sourceIp?: string;
}

/** An API Gateway HTTP API (payload 2.0) event as AWS sends it: binary bodies base64-encoded. */
export function httpEvent(call: Call): APIGatewayProxyEventV2 {
  const binary = Buffer.isBuffer(call.body);
  const query = call.query ? new URLSearchParams(call.query).toString() : '';
  return {
    version: '2.0',
    routeKey: call.route,
    rawPath: call.path,
    rawQueryString: query,
    headers: Object.fromEntries(Object.entries(call.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    ...(call.query ? { queryStringParameters: call.query } : {}),
    ...(call.pathParameters ? { pathParameters: call.pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method: call.method, path: call.path, protocol: 'HTTP/1.1', sourceIp: call.sourceIp ?? '127.0.0.1', userAgent: 'vitest' },
      requestId: randomUUID(),
      routeKey: call.route,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(call.body !== undefined
      ? {
          body: binary ? (call.body as Buffer).toString('base64') : (call.body as string),
          isBase64Encoded: binary,
        }
      : { isBase64Encoded: false }),
  };
}

/** A Lambda context with a fresh request id. */
export function lambdaContext(): Context {
  const id = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:test',
    memoryLimitInMB: '512',
    awsRequestId: id,
    logGroupName: '/aws/lambda/test',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 10_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** A file part of a multipart body. */
export interface FileSpec {
  bytes: Uint8Array;
  filename: string;
  type?: string;
}

/** A multipart/form-data body as a browser or curl sends it, parts in the order given. */
export async function multipart(parts: [string, string | FileSpec][]): Promise<{ body: Buffer; contentType: string }> {
  const form = new FormData();
  for (const [name, value] of parts) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, new Blob([value.bytes], value.type ? { type: value.type } : {}), value.filename);
  }
  const response = new Response(form);
  return {
    body: Buffer.from(await response.arrayBuffer()),
    contentType: response.headers.get('content-type') ?? '',
  };
}

/** An S3 event notification for a new object, as S3 sends it to a function (and `npm start` forwards it). */
export function s3Event(bucket: string, key: string, size = 0): S3Event {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        userIdentity: { principalId: 'AWS:test' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': 'test', 'x-amz-id-2': 'test' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'imagesProcess',
          bucket: { name: bucket, ownerIdentity: { principalId: 'test' }, arn: `arn:aws:s3:::${bucket}` },
          // S3 URL-encodes keys in events.
          object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), size, eTag: '', sequencer: '0' },
        },
      },
    ],
  };
}

/**
 * A batch from the queue ProcessingFailures: each body what Lambda sends an asynchronous invocation's
 * failure destination (the event that failed, and what its last attempt answered).
 */
export function failedProcessingEvent(...events: S3Event[]): SQSEvent {
  return {
    Records: events.map((event) => ({
      messageId: randomUUID(),
      receiptHandle: 'test',
      body: JSON.stringify({
        version: '1.0',
        requestContext: { requestId: randomUUID(), condition: 'RetriesExhausted', approximateInvokeCount: 3 },
        requestPayload: event,
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        responsePayload: { errorType: 'Error', errorMessage: 'Task timed out after 60.00 seconds' },
      }),
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(Date.now()),
        SenderId: 'test',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:ProcessingFailures',
      awsRegion: 'us-east-1',
    })),
  };
}
