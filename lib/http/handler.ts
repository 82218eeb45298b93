import { createHash, timingSafeEqual } from 'node:crypto';
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { authConfig, galleryAccess } from '../config';
import { BadRequestError, ForbiddenError, NotFoundError, toProblem, UnauthorizedError } from '../errors';
import { describeError, log, withRequestId } from '../log';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;
type Handler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

/** The 400 for a body that is not JSON (also the document's example). */
export const notJson = () => new BadRequestError('The body is not valid JSON.');
/** The 404 of a path no route serves (the greedy trailing-slash routes). */
export const noSuchResource = () => new NotFoundError('No such resource.');

/** Sent on every response, success or error. */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** A JSON response. */
export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return rawJson(statusCode, JSON.stringify(body), headers);
}

/** A response whose body is JSON text already. */
export function rawJson(statusCode: number, body: string, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body };
}

/** A response with no body (204). */
export function noContent(): HttpResult {
  return { statusCode: 204, headers: {} };
}

/** A request header, case-insensitively. */
export function header(event: HttpEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The parsed JSON body. Throws BadRequestError (400) unless it is sent as `application/json`
 * (UTF-8, the only charset JSON has) and is valid UTF-8 and valid JSON.
 */
export function jsonBody(event: HttpEvent): unknown {
  const type = /^\s*application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i.exec(header(event, 'content-type') ?? '');
  if (!type) throw new BadRequestError('The body must be JSON, sent with Content-Type: application/json.');
  let text = event.body ?? '';
  if (event.isBase64Encoded) {
    try {
      text = strictUtf8.decode(Buffer.from(text, 'base64'));
    } catch {
      throw new BadRequestError('The body is not valid UTF-8.');
    }
  }
  try {
    return JSON.parse(text);
  } catch {
    throw notJson();
  }
}

/** Tags logs with the request id, adds the security headers, turns every error into problem+json (logging 5xx in full). */
const problemResponses = (): MiddlewareObj<HttpEvent, HttpResult> => ({
  before: (request) => {
    // A greedy {proxy+} route exists only to accept a trailing slash (serverless.yml).
    if (request.event.pathParameters?.proxy) throw noSuchResource();
  },
  after: (request) => {
    if (request.response) {
      request.response.headers = { ...request.response.headers, ...SECURITY_HEADERS };
    }
  },
  onError: (request) => {
    const err = request.error;
    const { status, body, headers } = toProblem(err);
    if (status >= 500) {
      log.error('request failed', { status, route: request.event.routeKey, ...describeError(err) });
    } else {
      log.info('request rejected', { status, route: request.event.routeKey, detail: body.detail });
    }
    request.response = {
      statusCode: status,
      headers: { 'content-type': 'application/problem+json', ...headers, ...SECURITY_HEADERS },
      body: JSON.stringify(body),
    };
  },
});

/** The 403 of a write another site's page sent (also the document's example). */
export const crossSiteWrite = () =>
  new ForbiddenError(
    "A write from another site's page is refused: only this service's own pages, and the origins in CORS_ALLOWED_ORIGINS, may write.",
  );

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Refuses an unsafe request that a browser sent from another site's page: any page the owner visits
 * could otherwise POST a form to the API (a CORS "simple request" needs no preflight), with the
 * browser's cookies or on a local service without keys. The browser says where the request comes from
 * in `Origin`, or, without it, in `Sec-Fetch-Site`; a request with neither (curl, an SDK) is no browser's
 * and passes. The service's own origin is the one whose host and port are the request's `Host`.
 */
const sameSiteWrites = (): MiddlewareObj<HttpEvent, HttpResult> => {
  const allowed = new Set(authConfig().CORS_ALLOWED_ORIGINS);
  return {
    before: (request) => {
      const { event } = request;
      if (!UNSAFE_METHODS.has(event.requestContext?.http?.method?.toUpperCase() ?? '')) return;
      const origin = header(event, 'origin');
      if (origin === undefined) {
        if (header(event, 'sec-fetch-site')?.trim().toLowerCase() === 'cross-site') throw crossSiteWrite();
        return;
      }
      if (allowed.has(origin)) return;
      const host = header(event, 'host') ?? event.requestContext?.domainName;
      let from: string | undefined;
      try {
        from = new URL(origin).host;
      } catch {
        // "null" (a sandboxed frame, a file) and anything else that is no URL: no site of ours.
      }
      if (from === undefined || host === undefined || from.toLowerCase() !== host.toLowerCase()) throw crossSiteWrite();
    },
  };
};

const digest = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

/** The key a request carries: `Authorization: Bearer <key>` or `x-api-key: <key>`. */
function presentedKey(event: HttpEvent): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header(event, 'authorization') ?? '')?.[1];
  return bearer ?? header(event, 'x-api-key')?.trim();
}

/**
 * Who may call a route:
 * - `owner`: whoever holds an owner key, when keys are configured (every write, uploads, shares);
 * - `reader`: reading images and albums: the owner's key in private mode, anyone in public mode;
 * - `anyone`: the page, the docs, and share links, which carry their own proof (lib/shares).
 */
export type Access = 'owner' | 'reader' | 'anyone';

/**
 * The owner's key, when the route and the mode ask for one (401 otherwise, with WWW-Authenticate).
 * Keys are compared as SHA-256 digests with timingSafeEqual, every key every time, so neither length
 * nor content leaks by timing. With no keys configured (local development) everything is open.
 */
const ownerKeyRequired = (): MiddlewareObj<HttpEvent, HttpResult> => {
  const keys = authConfig().API_KEYS.map(digest);
  return {
    before: (request) => {
      const presented = presentedKey(request.event);
      const candidate = digest(presented ?? '');
      let valid = false;
      for (const key of keys) valid = timingSafeEqual(key, candidate) || valid;
      if (!presented || !valid) throw new UnauthorizedError();
    },
  };
};

/** Whether a route of this access needs the owner's key in the configured mode. */
export function needsOwnerKey(access: Access): boolean {
  const mode = galleryAccess();
  if (mode === 'open' || access === 'anyone') return false;
  return access === 'owner' || mode === 'private';
}

/**
 * Wraps a handler in the shared middy stack: problem+json errors, security headers and the refusal
 * of cross-site writes always; the owner's key when `access` and the mode ask for it (owner, unless
 * said otherwise). Every log line of the invocation carries its request id.
 */
export function httpHandler(handler: Handler, options: { access?: Access } = {}): Handler {
  const stack = middy<HttpEvent, HttpResult>().use(problemResponses()).use(sameSiteWrites());
  if (needsOwnerKey(options.access ?? 'owner')) stack.use(ownerKeyRequired());
  const run = stack.handler(handler);
  return (event, context) => withRequestId(context.awsRequestId, () => run(event, context));
}
