// A share link's page (/s/<token>): the shared photos, read-only, for whoever has the link, with the
// owner's grid and large view (grid.js, viewer.js) and the same search and sort. A protected share
// asks for its password first; the access token it unlocks is kept in this tab (sessionStorage),
// one per share. An expired, revoked or unknown link gets a page that says so.
//
// A page of its own (share.html), not a mode of the owner's: a viewer's browser never receives the
// upload, edit, delete, album or API-key controls at all — not hidden by a script that might not
// run, simply absent — and this module never reads or sends the owner's key, so an owner opening a
// link sees exactly what the people it was sent to see.
import { ApiError, createApi } from './api.js';
import { createBrowse, emptyText, listUrl } from './browse.js';
import { $, announce } from './dom.js';
import { createGrid, loadOnScroll } from './grid.js';
import { formatDate, photos } from './text.js';
import { createViewer } from './viewer.js';

// The token as the address carries it (base64url needs no escaping; anything else stays escaped).
const token = location.pathname.split('/')[2] ?? '';
const base = `/api/v1/shared/${token}`;
const ITEM = `photo-gallery.share.${token}`;

/** The access token this tab unlocked the share with, while it is valid. */
function accessToken() {
  try {
    const kept = JSON.parse(sessionStorage.getItem(ITEM) ?? 'null');
    if (kept && Date.parse(kept.expires_at) > Date.now()) return kept.access_token;
  } catch {
    // not ours, or damaged: asked for again
  }
  sessionStorage.removeItem(ITEM);
  return null;
}

/** Which of the page's states is shown: 'starting', 'locked', 'gone' or 'content'. */
function showOnly(state) {
  for (const id of ['starting', 'locked', 'gone', 'content']) $(id).hidden = id !== state;
}

// The password form: one for every request the 401 stopped; resolves when the share is unlocked.
let unlocking = null;
function askForPassword() {
  unlocking ??= new Promise((resolve) => {
    showOnly('locked');
    $('password').value = '';
    $('password').focus();
    const form = $('unlock-form');
    const onSubmit = async (event) => {
      event.preventDefault();
      const error = $('password-error');
      $('unlock').disabled = true;
      try {
        const response = await fetch(`${base}/unlock`, {
          method: 'POST',
          headers: { accept: 'application/json', 'content-type': 'application/json' },
          body: JSON.stringify({ password: $('password').value }),
        });
        if (response.status === 404 || response.status === 410) return gone(response.status);
        if (!response.ok) {
          const problem = await response.json().catch(() => ({ detail: `The service answered ${response.status}.` }));
          error.textContent = problem.detail;
          error.hidden = false;
          $('password').setAttribute('aria-invalid', 'true');
          $('password').focus();
          return;
        }
        sessionStorage.setItem(ITEM, JSON.stringify(await response.json()));
        error.hidden = true;
        $('password').setAttribute('aria-invalid', 'false');
        form.removeEventListener('submit', onSubmit);
        unlocking = null;
        showOnly('starting');
        resolve(true);
      } catch {
        error.textContent = 'The service cannot be reached: check the connection and try again.';
        error.hidden = false;
      } finally {
        $('unlock').disabled = false;
      }
    };
    form.addEventListener('submit', onSubmit);
  });
  return unlocking;
}

const api = createApi({
  headers: () => {
    const access = accessToken();
    return access ? { authorization: `Bearer ${access}` } : {};
  },
  unauthorized: (_problem, sent) => {
    // The token it sent is no longer good (12 hours passed): asked for the password again.
    if (sent.authorization) sessionStorage.removeItem(ITEM);
    return askForPassword();
  },
});

/** The page for a link that no longer works (404: revoked or never made; 410: expired), or a failure. */
function gone(status, detail) {
  const [heading, text] =
    status === 410
      ? ['This link has expired', 'Its owner set it to stop working after a while. Ask whoever sent it to you for a new one.']
      : status === 404
        ? [
            'This link was revoked, or never existed',
            'Its owner may have stopped sharing these photos, or the address is not complete. Ask whoever sent it to you.',
          ]
        : ['The photos could not be loaded', detail ?? 'Something went wrong. Try again in a moment.'];
  $('gone-heading').textContent = heading;
  $('gone-text').textContent = text;
  $('gone-retry').hidden = status === 404 || status === 410;
  document.title = heading;
  showOnly('gone');
  return true;
}
$('gone-retry').addEventListener('click', () => start());

const grid = createGrid({
  root: $('grid'),
  empty: $('empty'),
  more: $('more'),
  loading: $('loading'),
  error: $('list-error'),
  announce,
  fetchJson: api.getJson,
  imageUrl: (id) => `${base}/images/${id}`,
  onActivate: (id) => viewer.open(id),
  // Expired or revoked while the page was open: said so, not shown as a failed list.
  onError: (err) => (err.status === 404 || err.status === 410) && gone(err.status),
});
const viewer = createViewer({ grid, announce });

const browse = createBrowse({ onChange: () => list() });

/** Bumped by each list: the one asked for last is the one announced. */
let listed = 0;
async function list() {
  const mine = ++listed;
  const { state } = browse;
  const [title, text] = emptyText(state, { none: 'No photos here', noneText: 'The photos of this link were taken out of it.' });
  $('empty-title').textContent = title;
  $('empty-text').textContent = text;
  $('photos-heading').textContent = state.q ? `Photos matching “${state.q}”` : 'Photos';
  await grid.reset(listUrl(`${base}/images`, state), state.sort);
  if (mine === listed && state.q) announce(`${photos(grid.images.length)}${grid.hasMore() ? ' or more' : ''} found`);
}

/** Asks for the share (its password first, if it has one), then shows it. */
async function start() {
  showOnly('starting');
  let share;
  try {
    share = (await api.getJson(base)).body;
  } catch (err) {
    return gone(err instanceof ApiError ? err.status : 0, err.message);
  }
  const title = share.title || 'Shared photos';
  document.title = title;
  $('share-title').textContent = title;
  $('share-description').textContent = share.description;
  $('share-description').hidden = !share.description;
  $('share-about').textContent = [
    photos(share.image_count),
    share.expires_at ? `shared until ${formatDate(share.expires_at)}` : null,
    share.allow_originals ? 'originals included' : null,
  ]
    .filter(Boolean)
    .join(' · ');
  showOnly('content');
  await list();
}

loadOnScroll(grid, { sentinel: $('sentinel'), button: $('load-more'), error: $('list-error'), paused: () => $('content').hidden });

start();
