/**
 * A write a browser sends from another site's page is refused (403) before anything else happens,
 * key or not; the service's own pages, the allowed origins and clients that are no browser (no Origin,
 * no Sec-Fetch-Site) are let through. Every unsafe route the service serves is tried.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { invoke } from '../helpers/lambda';
import { problem } from '../helpers/problems';
import { handlers, pathOf, ROUTES } from '../helpers/routes';
import { resetState, snapshot } from '../helpers/state';

const UNSAFE = ROUTES.filter(({ route }) => !route.startsWith('GET '));
const refused = problem(
  403,
  "A write from another site's page is refused: only this service's own pages, and the origins in CORS_ALLOWED_ORIGINS, may write.",
);

let routes: Awaited<ReturnType<typeof handlers>>;
const saved = process.env.CORS_ALLOWED_ORIGINS;
beforeAll(async () => {
  process.env.CORS_ALLOWED_ORIGINS = 'https://photos.example.com';
  routes = await handlers();
});
afterAll(() => {
  if (saved === undefined) delete process.env.CORS_ALLOWED_ORIGINS;
  else process.env.CORS_ALLOWED_ORIGINS = saved;
  vi.resetModules();
});
beforeEach(resetState);

/** Calls `route` with `headers` (an id for every path parameter, a JSON body). */
const call = (route: string, headers: Record<string, string>) => {
  const handler = routes.get(route);
  if (!handler) throw new Error(`no handler for ${route}`);
  const [method = ''] = route.split(' ');
  return invoke(handler, {
    method,
    route,
    ...pathOf(route, { id: randomUUID() }),
    headers: { 'content-type': 'application/json', ...headers },
    body: '{}',
  });
};

describe('writes from another site', () => {
  it.each(UNSAFE.map((r) => r.route))('%s: 403 for an Origin of another site, and nothing changes', async (route) => {
    const before = await snapshot();
    for (const headers of <Record<string, string>[]>[
      { origin: 'https://evil.example', host: 'localhost:3000' },
      { origin: 'http://localhost:3001', host: 'localhost:3000' },
      { origin: 'null', host: 'localhost:3000' },
      { 'sec-fetch-site': 'cross-site', host: 'localhost:3000' },
    ]) {
      const res = await call(route, headers);
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(res.json).toEqual(refused);
    }
    expect(await snapshot()).toEqual(before);
  });

  it.each(UNSAFE.map((r) => r.route))('%s: passes its own origin, an allowed one, and a client that is no browser', async (route) => {
    for (const headers of <Record<string, string>[]>[
      { origin: 'http://localhost:3000', host: 'localhost:3000' },
      { origin: 'https://photos.example.com', host: 'abc.execute-api.eu-central-1.amazonaws.com' },
      { 'sec-fetch-site': 'same-origin', host: 'localhost:3000' },
      {},
    ]) {
      expect((await call(route, headers)).status, JSON.stringify(headers)).not.toBe(403);
    }
  });

  it('leaves reads alone, whatever the origin', async () => {
    for (const { route } of ROUTES.filter((r) => r.route.startsWith('GET '))) {
      expect((await call(route, { origin: 'https://evil.example', host: 'localhost:3000' })).status, route).not.toBe(403);
    }
  });
});
