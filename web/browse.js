// What list is being browsed — its order, the words searched, the album — kept in the page's URL
// (a reload or a bookmark shows the same list; Back leaves an album), and the toolbar that changes it:
// a search box (as you type, after a pause) and a sort switch (uploaded / taken).
import { $ } from './dom.js';
import { PAGE_SIZE } from './grid.js';

/** How long typing pauses before the search runs. */
const TYPING_PAUSE_MS = 300;
/** The API refuses a search with no letter or digit in it: such text searches nothing. */
const HAS_WORD = /[\p{L}\p{N}]/u;

function fromUrl() {
  const params = new URLSearchParams(location.search);
  const q = (params.get('q') ?? '').trim();
  return { album: params.get('album'), sort: params.get('sort') === 'taken' ? 'taken' : 'created', q: HAS_WORD.test(q) ? q : '' };
}

/** `onChange(state)` whenever the list changes (by the toolbar, `set`, or Back and Forward). */
export function createBrowse({ onChange }) {
  const state = fromUrl();
  const search = $('search');
  const sorts = [...document.querySelectorAll('input[name="sort"]')];

  function show() {
    if (search.value.trim() !== state.q) search.value = state.q;
    for (const radio of sorts) radio.checked = radio.value === state.sort;
  }

  /** Changes the list; `push` makes a new history entry (an album opened), else the current one is replaced. */
  function set(changes, push = false) {
    Object.assign(state, changes);
    const params = new URLSearchParams();
    if (state.album) params.set('album', state.album);
    if (state.sort !== 'created') params.set('sort', state.sort);
    if (state.q) params.set('q', state.q);
    const url = `${location.pathname}${params.size ? `?${params}` : ''}`;
    history[push ? 'pushState' : 'replaceState'](null, '', url);
    show();
    onChange(state);
  }

  let timer = null;
  const searchNow = () => {
    clearTimeout(timer);
    const q = search.value.trim();
    if ((HAS_WORD.test(q) ? q : '') !== state.q) set({ q: HAS_WORD.test(q) ? q : '' });
  };
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(searchNow, TYPING_PAUSE_MS);
  });
  $('search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    searchNow();
  });
  for (const radio of sorts) radio.addEventListener('change', () => radio.checked && set({ sort: radio.value }));
  addEventListener('popstate', () => {
    Object.assign(state, fromUrl());
    show();
    onChange(state);
  });
  show();

  return { state, set };
}

/** A list's first page: `base` with the page size, and the order, words and album when not the default. */
export function listUrl(base, state) {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (state.sort !== 'created') params.set('sort', state.sort);
  if (state.q) params.set('q', state.q);
  if (state.album) params.set('album', state.album);
  // %20, not the form encoding's "+", which a query string parser may keep as a plus.
  return `${base}?${params.toString().replaceAll('+', '%20')}`;
}

/** The words of the empty list, as the person asked for it. */
export function emptyText(state, { none, noneText, album }) {
  if (state.q)
    return [`No photos match “${state.q}”`, 'Try other words, or fewer: each word matches the start of a word in a title or description.'];
  if (state.album) return album;
  return [none, noneText];
}
