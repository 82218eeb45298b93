import { STATUS_CODES } from 'node:http';

/** One field's validation failure, as sent in a 422's `errors` array. */
export interface FieldError {
  field: string;
  message: string;
}

/** An error whose message is safe to send: it carries the status and the problem+json detail. */
export class HttpError extends Error {
  readonly status: number;
  readonly errors: FieldError[] | undefined;

  constructor(status: number, detail: string, errors?: FieldError[]) {
    super(detail);
    this.status = status;
    this.errors = errors;
  }

  get title(): string {
    return STATUS_CODES[this.status] ?? 'Error';
  }
}

export class BadRequestError extends HttpError {
  override name = 'BadRequestError';
  constructor(detail: string) {
    super(400, detail);
  }
}

/** No valid credentials: the owner's key where one is needed, a share's access token where it is protected. Sent with WWW-Authenticate. */
export class UnauthorizedError extends HttpError {
  override name = 'UnauthorizedError';
  constructor(detail = 'A valid API key is required: send Authorization: Bearer <key> or x-api-key: <key>.') {
    super(401, detail);
  }
}

/** The request is understood and refused whoever sends it (a write from another site). */
export class ForbiddenError extends HttpError {
  override name = 'ForbiddenError';
  constructor(detail: string) {
    super(403, detail);
  }
}

export class NotFoundError extends HttpError {
  override name = 'NotFoundError';
  constructor(detail: string) {
    super(404, detail);
  }
}

/** What was asked for existed and has ended (an expired share link). */
export class GoneError extends HttpError {
  override name = 'GoneError';
  constructor(detail: string) {
    super(410, detail);
  }
}

/** Too many attempts: wait `retryAfterSeconds` (sent as Retry-After). */
export class TooManyRequestsError extends HttpError {
  override name = 'TooManyRequestsError';
  readonly retryAfterSeconds: number;
  constructor(detail: string, retryAfterSeconds: number) {
    super(429, detail);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class ConflictError extends HttpError {
  override name = 'ConflictError';
  constructor(detail: string) {
    super(409, detail);
  }
}

/**
 * A conflict with a resource that exists: the problem names it in extension members (RFC 9457 §3.2,
 * never one of the standard members' names) and a `Link` header points to it.
 */
export class ConflictWithError extends ConflictError {
  override name = 'ConflictWithError';
  readonly members: Readonly<Record<string, string>>;
  readonly link: string;
  constructor(detail: string, members: Record<string, string>, link: { href: string; rel: string }) {
    super(detail);
    this.members = members;
    this.link = `<${link.href}>; rel="${link.rel}"`;
  }
}

export class PayloadTooLargeError extends HttpError {
  override name = 'PayloadTooLargeError';
  /** `hint`: where a larger file can go, appended to the detail. */
  constructor(limitBytes: number, hint?: string) {
    super(413, `The file is larger than the limit of ${limitBytes} bytes (${formatBytes(limitBytes)}).${hint ? ` ${hint}` : ''}`);
  }
}

export class UnsupportedMediaTypeError extends HttpError {
  override name = 'UnsupportedMediaTypeError';
  constructor(detail: string) {
    super(415, detail);
  }
}

export class ValidationError extends HttpError {
  override name = 'ValidationError';
  constructor(errors: FieldError[], detail = 'The request is not valid.') {
    super(422, detail, errors);
  }
}

/** A backing service (Postgres, S3) cannot be reached; the client may retry later. */
export class ServiceUnavailableError extends HttpError {
  override name = 'ServiceUnavailableError';
  constructor(service: 'database' | 'object storage' | 'rate limiter', options?: { cause?: unknown }) {
    super(503, `The ${service} is unavailable; try again later.`);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/** The problem+json body (RFC 9457) for an error; anything not an HttpError is a bare 500. */
export function toProblem(err: unknown): {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
} {
  if (err instanceof HttpError) {
    return {
      ...(err instanceof UnauthorizedError ? { headers: { 'www-authenticate': 'Bearer realm="photo-gallery"' } } : {}),
      ...(err instanceof TooManyRequestsError ? { headers: { 'retry-after': String(err.retryAfterSeconds) } } : {}),
      ...(err instanceof ConflictWithError ? { headers: { link: err.link } } : {}),
      status: err.status,
      body: {
        // First, so that none can stand in for a standard member.
        ...(err instanceof ConflictWithError ? err.members : {}),
        type: 'about:blank',
        title: err.title,
        status: err.status,
        detail: err.message,
        ...(err.errors ? { errors: err.errors } : {}),
      },
    };
  }
  return {
    status: 500,
    body: {
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      detail: 'An unexpected error occurred.',
    },
  };
}
