// The photo grid: newest first, a page at a time by the API's Link header, thumbnails (the `thumb`
// variant, `display` in the srcset) once made, a placeholder while pending, a mark when failed.
// Images still pending are polled by id, with back-off, for a bounded time.

import { getJson } from './api.js';
import { el } from './dom.js';
import { formatDate, nextLink, processingOf } from './text.js';

/** Photos per page: a few screens of tiles at desktop width. */
export const PAGE_SIZE = 24;

/** Polling of a pending image: these waits (ms), then the last one again, until MAX_POLL_MS have passed. */
const POLL_DELAYS = [1000, 2000, 3000, 5000, 8000, 13000, 20000, 30000];
const MAX_POLL_MS = 3 * 60 * 1000;
/** Images created longer ago than this are not polled: their variants are not on their way. */
const POLL_RECENT_MS = 15 * 60 * 1000;
/** At most this many polls in flight. */
const POLL_CONCURRENCY = 2;

const PLACEHOLDER_TEXT = { pending: 'Preview on its way…', failed: 'No preview' };

export function createGrid({ list, empty, more, loading, error, announce, onOpen }) {
  /** The images shown, in order; and by id. */
  const images = [];
  const byId = new Map();
  let next = `/api/v1/images/?limit=${PAGE_SIZE}`;
  let inFlight = null;
  const listeners = new Set();

  function tile(image) {
    const state = processingOf(image);
    const li = el('li', 'tile');
    li.dataset.id = image.id;
    li.dataset.state = state;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'tile-button';
    // Its name is what it shows: the placeholder's words (if any), the title and the date.
    button.addEventListener('click', () => onOpen(image.id));
    const frame = el('span', 'frame');
    if (state === 'ready') {
      const { thumb, display } = image.variants;
      const img = el('img', 'thumb');
      img.loading = 'lazy';
      img.decoding = 'async';
      img.alt = '';
      img.width = thumb.width;
      img.height = thumb.height;
      img.src = thumb.url;
      img.srcset = `${thumb.url} ${thumb.width}w, ${display.url} ${display.width}w`;
      img.sizes = '(max-width: 480px) 50vw, 240px';
      frame.append(img);
    } else {
      const placeholder = el('span', `placeholder ${state}`);
      const mark = el('span', 'placeholder-mark');
      mark.setAttribute('aria-hidden', 'true');
      const text = el('span', 'placeholder-text', PLACEHOLDER_TEXT[state]);
      placeholder.append(mark, text);
      frame.append(placeholder);
    }
    const caption = el('span', 'caption');
    const title = el('span', 'caption-title', image.title);
    const date = el('span', 'caption-date', formatDate(image.created_at, { dateStyle: 'medium' }));
    caption.append(title, date);
    button.append(frame, caption);
    li.append(button);
    return li;
  }

  function render() {
    empty.hidden = images.length > 0 || next !== null;
    more.hidden = next === null;
    for (const listener of listeners) listener();
  }

  function remember(image) {
    byId.set(image.id, image);
    if (processingOf(image) === 'pending') poller.watch(image);
  }

  /** Loads the next page (if any, and none is loading); resolves when it is shown. */
  function loadMore() {
    if (inFlight || next === null) return inFlight ?? Promise.resolve();
    loading.hidden = false;
    error.hidden = true;
    more.setAttribute('aria-busy', 'true');
    inFlight = getJson(next)
      .then(({ body, response }) => {
        next = nextLink(response.headers.get('link'));
        const fresh = body.filter((image) => !byId.has(image.id));
        for (const image of fresh) {
          images.push(image);
          remember(image);
        }
        list.append(...fresh.map(tile));
        if (fresh.length > 0 && images.length > fresh.length) announce(`${fresh.length} more photos loaded`);
      })
      .catch((err) => {
        error.querySelector('p').textContent = `The photos could not be loaded: ${err.message}`;
        error.hidden = false;
      })
      .finally(() => {
        inFlight = null;
        loading.hidden = true;
        more.removeAttribute('aria-busy');
        render();
      });
    return inFlight;
  }

  /** A photo just made: first in the grid. */
  function prepend(image) {
    if (byId.has(image.id)) return update(image);
    images.unshift(image);
    remember(image);
    list.prepend(tile(image));
    render();
  }

  /** A photo changed (edited, its variants made): its tile is drawn again. */
  function update(image) {
    const index = images.findIndex((i) => i.id === image.id);
    if (index < 0) return;
    images[index] = image;
    byId.set(image.id, image);
    if (processingOf(image) === 'pending') poller.watch(image);
    else poller.forget(image.id);
    list.querySelector(`[data-id="${image.id}"]`)?.replaceWith(tile(image));
    render();
  }

  /** A photo deleted: gone from the grid. */
  function remove(id) {
    const index = images.findIndex((i) => i.id === id);
    if (index < 0) return;
    images.splice(index, 1);
    byId.delete(id);
    poller.forget(id);
    list.querySelector(`[data-id="${id}"]`)?.remove();
    render();
  }

  const poller = createPoller({
    fetchImage: (id) => getJson(`/api/v1/images/${id}`).then(({ body }) => body),
    onChange: (image) => update(image),
    onGone: (id) => remove(id),
  });

  return {
    images,
    get: (id) => byId.get(id),
    hasMore: () => next !== null,
    loadMore,
    prepend,
    update,
    remove,
    /** Calls `listener()` after every change of the list. */
    onChange: (listener) => listeners.add(listener),
  };
}

/**
 * Polls GET /api/v1/images/{id} for images whose variants are pending: each at growing intervals
 * (1 s, 2 s, 3 s, 5 s … 30 s), for at most three minutes from when the page first saw it, only
 * for images made in the last quarter of an hour, two requests at a time, paused while the tab is
 * hidden. `onChange` when it is no longer pending, `onGone` when it was deleted meanwhile.
 */
function createPoller({ fetchImage, onChange, onGone }) {
  const watched = new Map();
  let running = 0;
  let timer = null;

  function schedule() {
    clearTimeout(timer);
    if (document.hidden || watched.size === 0) return;
    const due = Math.min(...[...watched.values()].filter((w) => !w.busy).map((w) => w.at));
    if (Number.isFinite(due)) timer = setTimeout(tick, Math.max(0, due - Date.now()));
  }

  function tick() {
    const now = Date.now();
    const ready = [...watched.entries()].filter(([, w]) => !w.busy && w.at <= now).sort((a, b) => a[1].at - b[1].at);
    for (const [id, w] of ready) {
      if (running >= POLL_CONCURRENCY) break;
      if (now - w.since > MAX_POLL_MS) {
        watched.delete(id);
        continue;
      }
      running++;
      w.busy = true;
      fetchImage(id)
        .then((image) => {
          if (processingOf(image) !== 'pending') {
            watched.delete(id);
            onChange(image);
          }
        })
        .catch((err) => {
          if (err.status === 404) {
            watched.delete(id);
            onGone(id);
          }
        })
        .finally(() => {
          running--;
          w.busy = false;
          w.attempt++;
          w.at = Date.now() + POLL_DELAYS[Math.min(w.attempt, POLL_DELAYS.length - 1)];
          schedule();
        });
    }
    schedule();
  }

  document.addEventListener('visibilitychange', schedule);

  return {
    watch(image) {
      if (watched.has(image.id)) return;
      if (Date.now() - Date.parse(image.created_at) > POLL_RECENT_MS) return;
      watched.set(image.id, { since: Date.now(), at: Date.now() + POLL_DELAYS[0], attempt: 0, busy: false });
      schedule();
    },
    forget(id) {
      watched.delete(id);
    },
  };
}
