/**
 * Every HTTP route the service serves, with its real handler: for the tests that go over all of them
 * (who may call what, cross-site writes). A handler module is imported fresh by `handlers()`, so the
 * environment set before the call is the one its config reads.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { loadWithEnv } from './fresh-env';

type LambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;

export interface Route {
  /** As API Gateway names it, e.g. `GET /api/v1/images/{id}`. */
  route: string;
  /** The function's file under functions/. */
  module: string;
  /** Path values the route needs beyond an id or a token, to reach its handler at all. */
  sample?: Record<string, string>;
}

/** The routes, by function (a function serving several routes is named for each). */
export const ROUTES: Route[] = [
  { route: 'POST /api/v1/images', module: 'images-create' },
  { route: 'GET /api/v1/images', module: 'images-list' },
  { route: 'GET /api/v1/images/{id}', module: 'images-get' },
  { route: 'PATCH /api/v1/images/{id}', module: 'images-update' },
  { route: 'DELETE /api/v1/images/{id}', module: 'images-delete' },
  { route: 'POST /api/v1/uploads', module: 'uploads-create' },
  { route: 'POST /api/v1/uploads/{id}/complete', module: 'uploads-complete' },
  { route: 'POST /api/v1/albums', module: 'albums-create' },
  { route: 'GET /api/v1/albums', module: 'albums-list' },
  { route: 'GET /api/v1/albums/{id}', module: 'albums-get' },
  { route: 'PATCH /api/v1/albums/{id}', module: 'albums-update' },
  { route: 'DELETE /api/v1/albums/{id}', module: 'albums-delete' },
  { route: 'POST /api/v1/albums/{id}/images', module: 'albums-images-add' },
  { route: 'POST /api/v1/albums/{id}/images/remove', module: 'albums-images-remove' },
  { route: 'POST /api/v1/shares', module: 'shares-create' },
  { route: 'GET /api/v1/shares', module: 'shares-list' },
  { route: 'DELETE /api/v1/shares/{id}', module: 'shares-delete' },
  { route: 'GET /api/v1/shared/{token}', module: 'shared-get' },
  { route: 'GET /api/v1/shared/{token}/images', module: 'shared-images-list' },
  { route: 'GET /api/v1/shared/{token}/images/{id}', module: 'shared-image-get' },
  { route: 'POST /api/v1/shared/{token}/unlock', module: 'shared-unlock' },
  { route: 'GET /openapi.json', module: 'openapi' },
  { route: 'GET /docs', module: 'docs' },
  { route: 'GET /docs/{file}', module: 'docs', sample: { file: 'swagger-ui.css' } },
  { route: 'GET /', module: 'web' },
  { route: 'GET /app/{file}', module: 'web', sample: { file: 'gallery.css' } },
  { route: 'GET /s/{token}', module: 'web' },
];

/** The routes' handlers, from fresh modules. */
export async function handlers(): Promise<Map<string, LambdaHandler>> {
  const { vi } = await import('vitest');
  vi.resetModules();
  const loaded = await Promise.all(
    ROUTES.map(
      async ({ route, module }) => [route, ((await import(`../../functions/${module}.ts`)) as { handler: LambdaHandler }).handler] as const,
    ),
  );
  return new Map(loaded);
}

/**
 * The routes' handlers, from fresh modules that read `env` over the environment (an undefined value
 * removes a variable). Every config section is read at import, so the environment is restored as
 * soon as the modules are loaded.
 */
export function handlersWith(env: Record<string, string | undefined>): Promise<Map<string, LambdaHandler>> {
  return loadWithEnv(env, handlers);
}

/** A concrete path for a route: every `{name}` filled with `values[name]`, else the route's sample. */
export function pathOf(route: string, given: Record<string, string>): { path: string; pathParameters?: Record<string, string> } {
  const values = { ...ROUTES.find((r) => r.route === route)?.sample, ...given };
  const template = route.split(' ')[1] ?? '';
  const names = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? '');
  return names.length > 0 ? { path, pathParameters: Object.fromEntries(names.map((n) => [n, values[n] ?? ''])) } : { path };
}
