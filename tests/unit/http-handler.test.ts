/**
 * The shared middy stack on its own, the way middy tests its middlewares: an inline handler that
 * answers or throws, and the whole response compared.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConflictError, ValidationError } from '../../lib/errors';
import { httpHandler, json } from '../../lib/http/handler';
import { log } from '../../lib/log';
import { httpEvent, lambdaContext } from '../../support/lambda-events';
import { captureOutput } from '../helpers/output';

// This file reads the log: the logger takes its level at import, before anything here runs.
vi.hoisted(() => {
  process.env.LOG_LEVEL = 'debug';
});

const SECURITY = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' };
const event = (pathParameters?: Record<string, string>) =>
  httpEvent({ method: 'GET', path: '/x', route: 'GET /x', ...(pathParameters ? { pathParameters } : {}) });

/** Every line the logger writes while `work` runs, parsed. */
async function logged(work: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines = captureOutput();
  try {
    await work();
  } finally {
    vi.restoreAllMocks();
  }
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

afterEach(() => vi.restoreAllMocks());

describe('httpHandler', () => {
  it('passes an answer through with the security headers added', async () => {
    const handler = httpHandler(async () => json(200, { ok: true }, { 'x-cache': 'HIT' }));
    expect(await handler(event(), lambdaContext())).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json', 'x-cache': 'HIT', ...SECURITY },
      body: '{"ok":true}',
    });
  });

  it('turns a thrown HttpError into its problem+json, field errors included', async () => {
    const handler = httpHandler(async () => {
      throw new ValidationError([{ field: 'title', message: 'is required' }]);
    });
    expect(await handler(event(), lambdaContext())).toEqual({
      statusCode: 422,
      headers: { 'content-type': 'application/problem+json', ...SECURITY },
      body: JSON.stringify({
        type: 'about:blank',
        title: 'Unprocessable Entity',
        status: 422,
        detail: 'The request is not valid.',
        errors: [{ field: 'title', message: 'is required' }],
      }),
    });
  });

  it('turns anything else into a bare 500 and logs it in full with the request id', async () => {
    const handler = httpHandler(async () => {
      throw new TypeError('secret internals: /var/task/db.ts line 12');
    });
    const context = lambdaContext();
    let response: unknown;
    const lines = await logged(async () => {
      response = await handler(event(), context);
    });
    expect(response).toEqual({
      statusCode: 500,
      headers: { 'content-type': 'application/problem+json', ...SECURITY },
      body: JSON.stringify({ type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'An unexpected error occurred.' }),
    });
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'error',
        msg: 'request failed',
        requestId: context.awsRequestId,
        status: 500,
        error: 'TypeError',
        message: 'secret internals: /var/task/db.ts line 12',
      }),
    ]);
  });

  it('answers 404 on the greedy trailing-slash route for anything longer than the collection', async () => {
    const handler = httpHandler(async () => json(200, []));
    expect(await handler(event({ proxy: 'extra/path' }), lambdaContext())).toMatchObject({
      statusCode: 404,
      body: JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'No such resource.' }),
    });
  });

  it('tags each log line with its own invocation, however the invocations interleave', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const handler = httpHandler(async (e) => {
      log.info('before the wait', { path: e.rawPath });
      await gate;
      log.info('after the wait', { path: e.rawPath });
      throw new ConflictError(e.rawPath);
    });
    const [a, b] = [lambdaContext(), lambdaContext()];
    const lines = await logged(async () => {
      const first = handler(httpEvent({ method: 'GET', path: '/a', route: 'GET /x' }), a);
      const second = handler(httpEvent({ method: 'GET', path: '/b', route: 'GET /x' }), b);
      await new Promise((r) => setTimeout(r, 5));
      release();
      await Promise.all([first, second]);
    });
    const byPath = (path: string) => lines.filter((l) => l.path === path || l.detail === path).map((l) => l.requestId);
    expect(byPath('/a')).toEqual([a.awsRequestId, a.awsRequestId, a.awsRequestId]);
    expect(byPath('/b')).toEqual([b.awsRequestId, b.awsRequestId, b.awsRequestId]);
  });
});
