/**
 * Who may call what (CONTRACT.md, "Round three: Access"): every route the service serves, by every
 * kind of caller, in every access mode, on the real handlers loaded fresh with that mode's
 * environment. The expectation is written from the contract, not from the code: a route the
 * contract does not place fails the test.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { api } from '../helpers/api';
import { loadWithEnv } from '../helpers/fresh-env';
import { invoke, type Reply } from '../helpers/lambda';
import { type handlers, handlersWith, pathOf, ROUTES } from '../helpers/routes';
import { type Sharing, sharingWith } from '../helpers/sharing';
import { resetState } from '../helpers/state';

const KEY = 'the-owners-key-0123456789';
const SECOND_KEY = 'the-owners-other-key-98765';
const PASSWORD = 'correct horse battery';

const OWNER_REFUSAL = 'A valid API key is required: send Authorization: Bearer <key> or x-api-key: <key>.';
const LOCKED = 'This share is protected: unlock it with its password (POST …/unlock), then send the access token as Authorization: Bearer.';

type Mode = 'open' | 'private' | 'public';

/** The modes, as a stage's environment sets them, and what the contract makes of each. */
const MODES: [string, Record<string, string | undefined>, Mode][] = [
  ['no keys', { API_KEYS: undefined, GALLERY_ACCESS: undefined }, 'open'],
  ['no keys, GALLERY_ACCESS=public', { API_KEYS: undefined, GALLERY_ACCESS: 'public' }, 'open'],
  ['keys, GALLERY_ACCESS unset', { API_KEYS: `${KEY},${SECOND_KEY}`, GALLERY_ACCESS: undefined }, 'private'],
  ['keys, GALLERY_ACCESS=private', { API_KEYS: `${KEY},${SECOND_KEY}`, GALLERY_ACCESS: 'private' }, 'private'],
  ['keys, GALLERY_ACCESS=public', { API_KEYS: `${KEY},${SECOND_KEY}`, GALLERY_ACCESS: 'public' }, 'public'],
];

type Caller = 'owner (Bearer)' | 'owner (x-api-key)' | 'wrong key' | 'nobody' | 'viewer of the share' | 'viewer of another share';
const CALLERS: Caller[] = ['owner (Bearer)', 'owner (x-api-key)', 'wrong key', 'nobody', 'viewer of the share', 'viewer of another share'];

/** Routes the contract keeps open in every mode: the page, the docs, and the share links. */
const ALWAYS_OPEN = new Set(['GET /', 'GET /app/{file}', 'GET /s/{token}', 'GET /docs', 'GET /docs/{file}', 'GET /openapi.json']);
const VIEWER = /^\w+ \/api\/v1\/shared\//;
const KEYED = /^\w+ \/api\/v1\/(images|uploads|albums|shares)(\/|$)/;
const PUBLIC_READS = /^GET \/api\/v1\/(images|albums)(\/|$)/;

/**
 * What the contract says a caller gets, as far as access goes: refused for want of the owner's key,
 * refused for want of the share's access token, or let through (to whatever the request then gets).
 */
function expected(mode: Mode, route: string, caller: Caller): 'owner key required' | 'share locked' | 'let through' {
  if (VIEWER.test(route)) {
    // The share at the path is protected; unlocking it is the one request that needs no token.
    if (route.endsWith('/unlock') || caller === 'viewer of the share') return 'let through';
    return 'share locked';
  }
  if (ALWAYS_OPEN.has(route)) return 'let through';
  if (!KEYED.test(route)) throw new Error(`the contract does not say who may call ${route}`);
  if (mode === 'open' || caller === 'owner (Bearer)' || caller === 'owner (x-api-key)') return 'let through';
  if (mode === 'public' && PUBLIC_READS.test(route)) return 'let through';
  return 'owner key required';
}

/** What a reply says of access: a 401 is one of the two refusals (problem+json, WWW-Authenticate: Bearer), anything else let it through. */
function outcome(reply: Reply): string {
  if (reply.status !== 401) return 'let through';
  const challenge = reply.headers['www-authenticate'] ?? '';
  const { detail } = (reply.json ?? {}) as { detail?: string };
  const kind = detail === OWNER_REFUSAL ? 'owner key required' : detail === LOCKED ? 'share locked' : `401: ${reply.text}`;
  if (!/^Bearer( |$)/.test(challenge) || reply.headers['content-type'] !== 'application/problem+json') {
    return `${kind}, but without WWW-Authenticate: Bearer or problem+json`;
  }
  return kind;
}

let sharing: Sharing;
let imageId = '';
let token = '';
/** Access tokens: to the share at the viewer routes' path, and to another share. */
const access = { mine: '', other: '' };

function headersOf(caller: Caller): Record<string, string> {
  switch (caller) {
    case 'owner (Bearer)':
      return { authorization: `Bearer ${KEY}` };
    case 'owner (x-api-key)':
      return { 'x-api-key': SECOND_KEY };
    case 'wrong key':
      return { authorization: 'Bearer not-the-owners-key-at-all' };
    case 'nobody':
      return {};
    case 'viewer of the share':
      return { authorization: `Bearer ${access.mine}` };
    case 'viewer of another share':
      return { authorization: `Bearer ${access.other}` };
  }
}

/** Makes a protected share of the image and unlocks it: its token and an access token to it. */
async function protectedShare(password: string): Promise<{ token: string; access: string }> {
  const created = await sharing.create({ image_ids: [imageId], password });
  expect(created.status).toBe(201);
  const { token } = created.json as { token: string };
  const unlocked = await sharing.unlock(token, password);
  expect(unlocked.status).toBe(200);
  return { token, access: (unlocked.json as { access_token: string }).access_token };
}

beforeAll(async () => {
  await resetState();
  sharing = await sharingWith({ API_KEYS: undefined, GALLERY_ACCESS: undefined });
  imageId = ((await api.upload({ title: 'seen by some' })).json as { id: string }).id;
  const mine = await protectedShare(PASSWORD);
  const other = await protectedShare(`${PASSWORD} too`);
  token = mine.token;
  access.mine = mine.access;
  access.other = other.access;
});
afterAll(async () => {
  vi.resetModules();
  await resetState();
});

describe.each(MODES)('access with %s', (_, env, mode) => {
  let routes: Awaited<ReturnType<typeof handlers>>;
  beforeAll(async () => {
    routes = await handlersWith({ ...env, LOG_LEVEL: 'silent' });
  });

  it.each(ROUTES.map((r) => r.route))('%s: exactly the callers the contract names are refused', async (route) => {
    const handler = routes.get(route);
    if (!handler) throw new Error(`no handler for ${route}`);
    const [method = ''] = route.split(' ');
    const got: string[] = [];
    const want: string[] = [];
    for (const caller of CALLERS) {
      const body = route.endsWith('/unlock') ? JSON.stringify({ password: PASSWORD }) : '{}';
      const reply = await invoke(handler, {
        method,
        route,
        ...pathOf(route, { id: route.includes('/shared/') ? imageId : '00000000-0000-4000-8000-0000000000aa', token }),
        headers: { 'content-type': 'application/json', ...headersOf(caller) },
        sourceIp: sharing.address,
        ...(method === 'GET' ? {} : { body }),
      });
      got.push(`${caller}: ${outcome(reply)}`);
      want.push(`${caller}: ${expected(mode, route, caller)}`);
    }
    expect(got).toEqual(want);
  });
});

describe('GALLERY_ACCESS=private without keys', () => {
  it.each(ROUTES.map((r) => r.module).filter((m, i, all) => all.indexOf(m) === i))(
    '%s fails its cold start, naming GALLERY_ACCESS and API_KEYS',
    async (module) => {
      await expect(handlersWithModule(module, { API_KEYS: undefined, GALLERY_ACCESS: 'private' })).rejects.toThrow(
        'Invalid configuration: GALLERY_ACCESS is private, but API_KEYS holds no key: nobody could open the gallery (set API_KEYS, or GALLERY_ACCESS=public)',
      );
    },
  );

  it('a mode the contract does not name fails the cold start too', async () => {
    await expect(handlersWithModule('images-list', { API_KEYS: KEY, GALLERY_ACCESS: 'open' })).rejects.toThrow(/GALLERY_ACCESS/);
  });
});

/** Imports one function's module fresh with `env`, restoring the environment afterwards. */
function handlersWithModule(module: string, env: Record<string, string | undefined>): Promise<unknown> {
  return loadWithEnv(env, () => import(`../../functions/${module}.ts`));
}
