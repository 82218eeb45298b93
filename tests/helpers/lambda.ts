/** A real handler invoked as API Gateway would, its response checked against the OpenAPI contract. */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { type Call, httpEvent, lambdaContext } from '../../support/lambda-events';
import { assertDocumented } from './contract';

type LambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;

export interface Reply {
  status: number;
  headers: Record<string, string>;
  text: string;
  json: unknown;
}

/** Invokes a real handler with an event built from `call` and decodes its response. */
export async function invoke(handler: LambdaHandler, call: Call): Promise<Reply> {
  const result = (await handler(httpEvent(call), lambdaContext())) as APIGatewayProxyStructuredResultV2;
  const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
  const text = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64').toString('latin1') : (result.body ?? '');
  const type = headers['content-type'] ?? '';
  const reply = {
    status: result.statusCode ?? 200,
    headers,
    text,
    json: /json/.test(type) && text ? JSON.parse(text) : undefined,
  };
  // Every response a test receives must be one the OpenAPI document describes.
  assertDocumented(call.route, reply);
  return reply;
}
