// The photo grid of both pages: a list's pages one at a time by the API's Link header, under month
// headings (by upload or by the day taken, as the list is sorted), thumbnails (the `thumb` variant,
// `display` in the srcset) once made, a placeholder while pending, a mark when failed. Images still
// pending are polled by id, with back-off, for a bounded time. Which list, and with what
// authorization, is the page's: `fetchJson` and `imageUrl`, and `reset` for another list.

import { el } from './dom.js';
import { formatDate, formatTaken, monthOf, nextLink, processingOf } from './text.js';

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

/**
 * `root` holds the month groups; `onActivate(id, event)` is a tile's click (or Ctrl/⌘+Enter, which
 * browsers do not turn into one); `decorate(button, image)` adds the page's own marks to a tile;
 * `onError(err)` may take a failed page load over (true), else the grid shows it.
 */
export function createGrid({ root, empty, more, loading, error, announce, fetchJson, imageUrl, onActivate, decorate, onError }) {
  /** The images shown, in order; and by id. */
  const images = [];
  const byId = new Map();
  let next = null;
  let sort = 'created';
  let inFlight = null;
  /** Bumped by reset: an answer for an earlier list is dropped. */
  let generation = 0;
  const listeners = new Set();

  function tile(image) {
    const state = processingOf(image);
    const li = el('li', 'tile');
    li.dataset.id = image.id;
    li.dataset.state = state;
    const button = el('button', 'tile-button');
    button.type = 'button';
    // Its name is what it shows: the placeholder's words (if any), the title and the date.
    button.addEventListener('click', (event) => onActivate(image.id, event));
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
      placeholder.append(mark, el('span', 'placeholder-text', PLACEHOLDER_TEXT[state]));
      frame.append(placeholder);
    }
    const caption = el('span', 'caption');
    const taken = sort === 'taken' ? formatTaken(image.taken_at, false) : '';
    const date = taken || formatDate(image.created_at, { dateStyle: 'medium' });
    caption.append(el('span', 'caption-title', image.title), el('span', 'caption-date', date));
    button.append(frame, caption);
    decorate?.(button, image);
    li.append(button);
    return li;
  }

  /** The month group `image` goes in, at the end (or, `first`, at the start): the last one when it is that month, else a new one. */
  function groupFor(image, first = false) {
    const { key, label } = monthOf(image, sort);
    const edge = first ? root.firstElementChild : root.lastElementChild;
    if (edge?.dataset.month === key) return edge.querySelector('ul');
    // A heading per month to move by, not a landmark region each: a year of photos would be a dozen.
    const group = el('div', 'month');
    group.dataset.month = key;
    const list = el('ul', 'grid');
    group.append(el('h3', 'month-title', label), list);
    if (first) root.prepend(group);
    else root.append(group);
    return list;
  }

  const tileOf = (id) => root.querySelector(`.tile[data-id="${id}"]`);

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
    const mine = generation;
    loading.hidden = false;
    error.hidden = true;
    more.setAttribute('aria-busy', 'true');
    inFlight = fetchJson(next)
      .then(({ body, response }) => {
        if (mine !== generation) return;
        next = nextLink(response.headers.get('link'));
        const fresh = body.filter((image) => !byId.has(image.id));
        for (const image of fresh) {
          images.push(image);
          remember(image);
          groupFor(image).append(tile(image));
        }
        if (fresh.length > 0 && images.length > fresh.length) announce(`${fresh.length} more photos loaded`);
      })
      .catch((err) => {
        if (mine !== generation || onError?.(err)) return;
        error.querySelector('p').textContent = `The photos could not be loaded: ${err.message}`;
        error.hidden = false;
      })
      .finally(() => {
        if (mine !== generation) return;
        inFlight = null;
        loading.hidden = true;
        more.removeAttribute('aria-busy');
        render();
      });
    return inFlight;
  }

  /** Shows another list (a first page's URL, and the order it is sorted in): empties the grid and loads it. */
  function reset(url, order = 'created') {
    generation++;
    inFlight = null;
    for (const id of byId.keys()) poller.forget(id);
    images.length = 0;
    byId.clear();
    root.replaceChildren();
    next = url;
    sort = order;
    error.hidden = true;
    return loadMore();
  }

  /** A photo just made: first in the grid. */
  function prepend(image) {
    if (byId.has(image.id)) return update(image);
    images.unshift(image);
    remember(image);
    groupFor(image, true).prepend(tile(image));
    render();
  }

  /** A photo changed (edited, its variants made, selected): its tile is drawn again. */
  function update(image) {
    const index = images.findIndex((i) => i.id === image.id);
    if (index < 0) return;
    images[index] = image;
    byId.set(image.id, image);
    if (processingOf(image) === 'pending') poller.watch(image);
    else poller.forget(image.id);
    tileOf(image.id)?.replaceWith(tile(image));
    render();
  }

  /** A photo deleted, or gone from this list: gone from the grid (with its month, if it was the last). */
  function remove(id) {
    const index = images.findIndex((i) => i.id === id);
    if (index < 0) return;
    images.splice(index, 1);
    byId.delete(id);
    poller.forget(id);
    const li = tileOf(id);
    const group = li?.closest('.month');
    li?.remove();
    if (group && !group.querySelector('.tile')) group.remove();
    render();
  }

  // Ctrl/⌘+Enter makes no click (Space and Shift+Enter do, with their modifiers): the same as a modified click.
  root.addEventListener('keydown', (event) => {
    const li = event.target.closest?.('.tile');
    if (event.key !== 'Enter' || !(event.ctrlKey || event.metaKey) || !li) return;
    event.preventDefault();
    onActivate(li.dataset.id, event);
  });

  const poller = createPoller({
    fetchImage: (id) => fetchJson(imageUrl(id)).then(({ body }) => body),
    onChange: (image) => update(image),
    onGone: (id) => remove(id),
  });

  return {
    images,
    get: (id) => byId.get(id),
    /** A tile's button, to focus or mark. */
    button: (id) => tileOf(id)?.querySelector('button') ?? null,
    hasMore: () => next !== null,
    loadMore,
    reset,
    prepend,
    update,
    remove,
    /** Calls `listener()` after every change of the list. */
    onChange: (listener) => listeners.add(listener),
  };
}

/**
 * More photos as the end of the grid comes into view (the `button` does the same by hand, and the
 * `error` notice's button tries again); none while `paused()`.
 */
export function loadOnScroll(grid, { sentinel, button, error, paused = () => false }) {
  const MARGIN = 200;
  button.addEventListener('click', () => grid.loadMore());
  error.querySelector('button').addEventListener('click', () => grid.loadMore());
  new IntersectionObserver((entries) => entries.some((entry) => entry.isIntersecting) && !paused() && grid.loadMore(), {
    rootMargin: `0px 0px ${MARGIN}px 0px`,
  }).observe(sentinel);
  // A page that does not fill the screen leaves the sentinel in view, and the observer says nothing
  // new: keep loading until the screen is full.
  grid.onChange(() =>
    requestAnimationFrame(() => {
      const near = sentinel.getBoundingClientRect().top < innerHeight + MARGIN;
      if (near && !paused() && grid.hasMore() && error.hidden) grid.loadMore();
    }),
  );
}

/**
 * Polls an image (GET …/images/{id}) whose variants are pending: each at growing intervals
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
          if (processingOf(image) !== 'pending' && watched.get(id) === w) {
            watched.delete(id);
            onChange(image);
          }
        })
        .catch((err) => {
          if (err.status === 404 && watched.get(id) === w) {
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
