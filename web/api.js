// The API, same-origin under /api/v1. Errors are the server's problem+json. A client is made with
// what it sends as Authorization and what it does on a 401: the owner's page asks for the API key
// (once for every request waiting on it), keeps it for the tab in sessionStorage and sends the request
// again; a share's page asks for the share's password instead (share.js). No key or token ever goes
// into a URL or a cookie.
import { nextLink } from './text.js';

const KEY_ITEM = 'photo-gallery.api-key';

/** A refusal or failure, with the server's problem+json (its `detail` is what the page shows). */
export class ApiError extends Error {
  constructor(status, problem) {
    // A 422 names each field that is wrong: that says more than its detail.
    const fields = Array.isArray(problem.errors) ? problem.errors.map((e) => `${e.field} ${e.message}`).join('; ') : '';
    super(fields || problem.detail);
    this.status = status;
    this.problem = problem;
  }
}

/** The problem+json of a response, or one made from its status when the body is not one. */
export async function problemOf(response) {
  try {
    const body = await response.json();
    if (body && typeof body.detail === 'string') return body;
  } catch {
    // not JSON: a proxy's page, an empty body
  }
  return {
    status: response.status,
    title: response.statusText,
    detail: `The service answered ${response.status} ${response.statusText}.`.replace(' .', '.'),
  };
}

/**
 * A client: `headers()` is what each request sends (its Authorization); on a 401, `unauthorized(problem,
 * sent, method)` resolves to true when the request is worth sending again (a key was given, a share
 * unlocked), at most three times. Resolves to the Response when it is 2xx, else throws ApiError.
 */
export function createApi({ headers = () => ({}), unauthorized = async () => false } = {}) {
  async function request(method, path, body) {
    for (let attempt = 0; ; attempt++) {
      const sent = { accept: 'application/json', ...headers() };
      if (body !== undefined) sent['content-type'] = 'application/json';
      let response;
      try {
        response = await fetch(path, { method, headers: sent, body: body === undefined ? undefined : JSON.stringify(body) });
      } catch {
        throw new ApiError(0, {
          status: 0,
          title: 'Network error',
          detail: 'The service cannot be reached: check the connection and try again.',
        });
      }
      if (response.ok) return response;
      const problem = await problemOf(response);
      if (response.status === 401 && attempt < 3 && (await unauthorized(problem, sent, method))) continue;
      throw new ApiError(response.status, problem);
    }
  }

  /** GET a JSON resource; with its Response for the headers. */
  async function getJson(path) {
    const response = await request('GET', path);
    return { body: await response.json(), response };
  }

  /** Every item of a paged list, following its Link headers. */
  async function getAll(path) {
    const all = [];
    for (let next = path; next; ) {
      const { body, response } = await getJson(next);
      all.push(...body);
      next = nextLink(response.headers.get('link'));
    }
    return all;
  }

  return { request, getJson, getAll };
}

/** The key kept for this tab, or null. */
export const storedKey = () => sessionStorage.getItem(KEY_ITEM);

/** Forgets the key (the page's "Forget API key", or a key the server refused). */
export function forgetKey() {
  sessionStorage.removeItem(KEY_ITEM);
  for (const listener of keyListeners) listener(null);
}

const keyListeners = new Set();
/** Calls `listener(key | null)` whenever the kept key changes. */
export const onKeyChange = (listener) => keyListeners.add(listener);

let promptForKey = async () => null;
/**
 * Sets how the page asks for a key: `({ refused, reading }) => Promise<string | null>` (null: the
 * person declined). `refused` is the server's problem when the key just sent was refused; `reading`
 * says a read asked (the gallery is private), not a change.
 */
export const setKeyPrompt = (prompt) => {
  promptForKey = prompt;
};

let asking = null;
/** Asks once for everyone waiting: concurrent 401s share one dialog. */
function askForKey(refused, reading) {
  asking ??= promptForKey({ refused, reading }).then((key) => {
    asking = null;
    if (key) {
      sessionStorage.setItem(KEY_ITEM, key);
      for (const listener of keyListeners) listener(key);
    }
    return key;
  });
  return asking;
}

/** The Authorization header for the kept key, if any. */
export function authorization() {
  const key = storedKey();
  return key ? { authorization: `Bearer ${key}` } : {};
}

/** The owner's client: the kept key, and a prompt for one on a 401 (a refused key is forgotten first). */
const owner = createApi({
  headers: authorization,
  unauthorized: async (problem, sent, method) => {
    const key = sent.authorization?.slice('Bearer '.length);
    if (key !== undefined && storedKey() === key) forgetKey();
    // Another request may have been given a key meanwhile: use it before asking.
    return Boolean(storedKey() || (await askForKey(key === undefined ? null : problem, method === 'GET')));
  },
});

export const { request, getJson, getAll } = owner;
