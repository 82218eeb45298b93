// The API, same-origin under /api/v1. Errors are the server's problem+json; a write refused with
// 401 asks for the API key once (for every request waiting on it), keeps it for the tab in
// sessionStorage and is sent again. The key never goes into a URL or a cookie.

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
/** Sets how the page asks for a key: `(refused: boolean) => Promise<string | null>` (null: the person declined). */
export const setKeyPrompt = (prompt) => {
  promptForKey = prompt;
};

let asking = null;
/** Asks once for everyone waiting: concurrent 401s share one dialog. */
function askForKey(refused) {
  asking ??= promptForKey(refused).then((key) => {
    asking = null;
    if (key) {
      sessionStorage.setItem(KEY_ITEM, key);
      for (const listener of keyListeners) listener(key);
    }
    return key;
  });
  return asking;
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

/** The Authorization header for the kept key, if any. */
export function authorization() {
  const key = storedKey();
  return key ? { authorization: `Bearer ${key}` } : {};
}

/**
 * A request to the API; resolves to the Response when it is 2xx, else throws ApiError with the
 * server's detail. A 401 asks for a key (at most three times) and sends the request again with it.
 */
export async function request(method, path, body) {
  for (let attempt = 0; ; attempt++) {
    const headers = { accept: 'application/json', ...authorization() };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      throw new ApiError(0, {
        status: 0,
        title: 'Network error',
        detail: 'The service cannot be reached: check the connection and try again.',
      });
    }
    if (response.ok) return response;
    const problem = await problemOf(response);
    if (response.status === 401 && attempt < 3) {
      const sent = headers.authorization !== undefined;
      if (sent && storedKey() === headers.authorization.slice('Bearer '.length)) forgetKey();
      // Another request may have been given a key meanwhile: use it before asking.
      if (storedKey() || (await askForKey(sent))) continue;
    }
    throw new ApiError(response.status, problem);
  }
}

/** GET a JSON resource; with its Response for the headers. */
export async function getJson(path) {
  const response = await request('GET', path);
  return { body: await response.json(), response };
}
