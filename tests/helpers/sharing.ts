/**
 * The share endpoints, the owner's and a viewer's, through real handlers in modules of their own
 * (fresh, reading an environment of the test's choosing: another Redis, keys), each call from a
 * client address the test chooses: the unlock limits count per address, and the machine's Redis is
 * shared by every test run on it.
 */
import { randomInt } from 'node:crypto';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { loadWithEnv } from './fresh-env';
import { invoke, type Reply } from './lambda';

type LambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;

const MODULES = {
  create: 'shares-create',
  list: 'shares-list',
  revoke: 'shares-delete',
  get: 'shared-get',
  images: 'shared-images-list',
  image: 'shared-image-get',
  unlock: 'shared-unlock',
} as const;

/** An address no other test uses (10.0.0.0/8): its unlock attempts are counted apart. */
export const someAddress = (): string => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

const JSON_TYPE = { 'content-type': 'application/json' };
const text = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/** The share endpoints over the given handlers; viewer calls come from `address` unless told. */
export function sharingOf(h: Record<keyof typeof MODULES, LambdaHandler>, address = someAddress()) {
  const viewer = (route: string, handler: LambdaHandler, token: string, rest: string, extra: object) =>
    invoke(handler, {
      method: route.split(' ')[0] ?? 'GET',
      path: `/api/v1/shared/${token}${rest}`,
      route,
      pathParameters: { token },
      sourceIp: address,
      ...extra,
    });
  return {
    address,
    create: (value: unknown, headers: Record<string, string> = {}): Promise<Reply> =>
      invoke(h.create, {
        method: 'POST',
        path: '/api/v1/shares',
        route: 'POST /api/v1/shares',
        headers: { ...JSON_TYPE, ...headers },
        body: text(value),
      }),
    list: (query?: Record<string, string>, headers: Record<string, string> = {}): Promise<Reply> =>
      invoke(h.list, { method: 'GET', path: '/api/v1/shares', route: 'GET /api/v1/shares', headers, ...(query ? { query } : {}) }),
    revoke: (id: string, headers: Record<string, string> = {}): Promise<Reply> =>
      invoke(h.revoke, {
        method: 'DELETE',
        path: `/api/v1/shares/${id}`,
        route: 'DELETE /api/v1/shares/{id}',
        pathParameters: { id },
        headers,
      }),
    get: (token: string, headers: Record<string, string> = {}): Promise<Reply> =>
      viewer('GET /api/v1/shared/{token}', h.get, token, '', { headers }),
    images: (token: string, query?: Record<string, string>, headers: Record<string, string> = {}): Promise<Reply> =>
      viewer('GET /api/v1/shared/{token}/images', h.images, token, '/images', { headers, ...(query ? { query } : {}) }),
    image: (token: string, id: string, headers: Record<string, string> = {}): Promise<Reply> =>
      invoke(h.image, {
        method: 'GET',
        path: `/api/v1/shared/${token}/images/${id}`,
        route: 'GET /api/v1/shared/{token}/images/{id}',
        pathParameters: { token, id },
        sourceIp: address,
        headers,
      }),
    /** POST …/unlock with `{"password"}`, from `from` (the viewer's address unless told). */
    unlock: (token: string, password: string, from = address): Promise<Reply> =>
      invoke(h.unlock, {
        method: 'POST',
        path: `/api/v1/shared/${token}/unlock`,
        route: 'POST /api/v1/shared/{token}/unlock',
        pathParameters: { token },
        sourceIp: from,
        headers: JSON_TYPE,
        body: JSON.stringify({ password }),
      }),
    /** POST …/unlock with any body and headers. */
    unlockWith: (token: string, body: string, headers: Record<string, string> = JSON_TYPE): Promise<Reply> =>
      invoke(h.unlock, {
        method: 'POST',
        path: `/api/v1/shared/${token}/unlock`,
        route: 'POST /api/v1/shared/{token}/unlock',
        pathParameters: { token },
        sourceIp: address,
        headers,
        body,
      }),
  };
}

export type Sharing = ReturnType<typeof sharingOf>;

/**
 * The share endpoints in fresh modules that read `env` over the environment (restored as soon as
 * they are loaded: every config section is read at import), viewer calls from a fresh address.
 */
export function sharingWith(env: Record<string, string | undefined> = {}): Promise<Sharing> {
  return loadWithEnv(env, async () => {
    const entries = await Promise.all(
      Object.entries(MODULES).map(
        async ([name, module]) => [name, ((await import(`../../functions/${module}.ts`)) as { handler: LambdaHandler }).handler] as const,
      ),
    );
    return sharingOf(Object.fromEntries(entries) as Record<keyof typeof MODULES, LambdaHandler>);
  });
}
