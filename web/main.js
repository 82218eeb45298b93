// The owner's page: wires the grid, the uploads, the large view, albums, selection, share links and
// the API key prompt to the page. A private gallery's first list answers 401: the page shows
// nothing of it and asks for the key first.
import { createAlbums } from './albums.js';
import { forgetKey, getJson, onKeyChange, request, setKeyPrompt, storedKey } from './api.js';
import { createBrowse, emptyText, listUrl } from './browse.js';
import { confirmAction } from './dialogs.js';
import { $, announce } from './dom.js';
import { createGrid, loadOnScroll } from './grid.js';
import { acceptAttribute, acceptedNames, limits, loadLimits } from './limits.js';
import { createSelection } from './selection.js';
import { createShares } from './shares.js';
import { formatLimit, photos } from './text.js';
import { createUploads } from './uploads.js';
import { createViewer } from './viewer.js';

let viewer;
let selection;
/** The album shown, or null for all photos. */
let album = null;
/** Whether the gallery answered 401 to a read (it is private), whether the page is hidden for want of the key, and whether it has been shown. */
let privateGallery = false;
let locked = false;
let revealed = false;

const grid = createGrid({
  root: $('grid'),
  empty: $('empty'),
  more: $('more'),
  loading: $('loading'),
  error: $('list-error'),
  announce,
  fetchJson: getJson,
  imageUrl: (id) => `/api/v1/images/${id}`,
  onActivate: (id, event) => selection.activate(id, event),
  decorate: (button, image) => selection?.decorate(button, image),
  // A private gallery without its key: nothing is shown until it is given.
  onError: (err) => err.status === 401 && lock(),
});
viewer = createViewer({ grid, announce, onDeleted: () => albums.load().catch(() => {}) });
selection = createSelection({ grid, section: $('photos'), onOpen: (id) => viewer.open(id) });
const albums = createAlbums({ onOpen: (id) => browse.set({ album: id, q: '' }, true) });
const shares = createShares();

// The list shown: all photos or an album's, in the chosen order, narrowed by the search.
const browse = createBrowse({ onChange: () => show() });

/** Bumped by each show: a list asked for later is the one whose answer counts. */
let shown = 0;
async function show() {
  const mine = ++shown;
  selection.end();
  album = null;
  const { state } = browse;
  if (state.album) {
    try {
      album = await albums.get(state.album);
      if (mine !== shown) return;
    } catch (err) {
      if (err.status === 401) return lock();
      announce(`The album could not be opened: ${err.message}`);
      if (err.status === 404) return browse.set({ album: null });
    }
  }
  albums.setCurrent(album?.id ?? null);
  describeList();
  const [title, text] = emptyText(state, {
    none: 'No photos yet',
    noneText: 'Drop photos on this page or choose them from your device to start the gallery.',
    album: ['This album is empty', 'Select photos under “All photos” and choose “Add to album”.'],
  });
  $('empty-title').textContent = title;
  $('empty-text').textContent = text;
  $('choose-empty').hidden = Boolean(state.q || state.album);
  await grid.reset(listUrl('/api/v1/images/', state), state.sort);
  if (mine !== shown) return;
  if (!locked) reveal();
  if (state.q) announce(`${photos(grid.images.length)}${grid.hasMore() ? ' or more' : ''} found`);
}

/** The photos section's heading and album bar, as the list is. */
function describeList() {
  const { q } = browse.state;
  $('photos-heading').textContent = `${album ? album.title : 'Photos'}${q ? ` matching “${q}”` : ''}`;
  $('album-back').hidden = !album;
  $('album-actions').hidden = !album;
  $('album-about').hidden = !album;
  $('selection-remove').hidden = !album;
  $('viewer-remove').hidden = !album;
  if (album) $('album-about').textContent = [photos(album.image_count), album.description].filter(Boolean).join(' · ');
}
albums.onChange(() => {
  // The album shown was renamed, or got or lost photos.
  if (!album) return;
  albums.get(album.id).then(
    (fresh) => {
      album = fresh;
      describeList();
    },
    () => {},
  );
});

/** Shows the page, once its first list answered. */
function reveal() {
  $('starting').hidden = true;
  $('locked').hidden = true;
  $('content').hidden = false;
  $('owner-actions').hidden = false;
  if (!revealed) albums.load().catch((err) => announce(`The albums could not be loaded: ${err.message}`));
  revealed = true;
}

/** Hides the page while the gallery is private and no key was given. */
function lock() {
  locked = true;
  privateGallery = true;
  $('starting').hidden = true;
  $('content').hidden = true;
  $('owner-actions').hidden = true;
  $('locked').hidden = false;
  return true;
}
$('unlock').addEventListener('click', () => {
  locked = false;
  show();
});

// Uploads: the service's types and size limit (limits.js) before the first file is taken.
const uploads = createUploads({
  section: $('uploads'),
  list: $('upload-list'),
  startButton: $('start-uploads'),
  clearButton: $('clear-finished'),
  announce,
  onImage: (image) => {
    // A new photo is first only in the list of all photos by upload; elsewhere it waits for its place.
    const { album: inAlbum, sort, q } = browse.state;
    if (!inAlbum && sort === 'created' && !q) grid.prepend(image);
  },
});
const ready = loadLimits().then(() => {
  $('file-input').accept = acceptAttribute();
  $('upload-hint').textContent = `${acceptedNames()}, up to ${formatLimit(limits.uploadMax)} each. They go straight to storage.`;
});
ready.catch((err) => announce(err.message));
const add = (files) =>
  ready.then(
    () => uploads.add(files),
    (err) => announce(`Uploads cannot start: ${err.message}`),
  );

// Choosing files: the buttons open the one file input.
const input = $('file-input');
for (const id of ['choose', 'choose-empty', 'upload-button']) $(id).addEventListener('click', () => input.click());
input.addEventListener('change', () => {
  if (input.files.length > 0) add([...input.files]);
  input.value = '';
});

// Dropping files anywhere on the page.
const overlay = $('drop-overlay');
let depth = 0;
const carriesFiles = (event) => !locked && [...(event.dataTransfer?.types ?? [])].includes('Files');
document.addEventListener('dragenter', (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  depth++;
  overlay.hidden = false;
});
document.addEventListener('dragover', (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = 'copy';
});
document.addEventListener('dragleave', (event) => {
  if (!carriesFiles(event)) return;
  depth = Math.max(0, depth - 1);
  if (depth === 0) overlay.hidden = true;
});
document.addEventListener('drop', (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  depth = 0;
  overlay.hidden = true;
  const files = [...event.dataTransfer.files];
  if (files.length > 0) add(files);
});

// The API key: asked for by the first request refused with 401 (the first list, when the gallery is
// private; else the first change), kept for this tab only.
const keyDialog = $('key-dialog');
const keyInput = $('key-input');
setKeyPrompt(
  ({ refused, reading }) =>
    new Promise((resolve) => {
      if (reading) privateGallery = true;
      $('key-title').textContent = reading ? 'This gallery is private' : 'API key needed';
      $('key-text').textContent = `${
        reading ? 'Enter the API key to see its photos.' : 'This gallery accepts changes only with an API key.'
      } It is kept in this tab until you close it, and sent only to this service.`;
      $('key-error').textContent = refused ? `That key was refused. ${refused.detail}` : '';
      $('key-error').hidden = !refused;
      keyInput.value = '';
      keyInput.setAttribute('aria-invalid', String(Boolean(refused)));
      const done = (key) => {
        keyDialog.removeEventListener('close', onClose);
        $('key-form').removeEventListener('submit', onSubmit);
        if (keyDialog.open) keyDialog.close();
        resolve(key);
      };
      const onSubmit = (event) => {
        event.preventDefault();
        const key = keyInput.value.trim();
        if (key) done(key);
      };
      const onClose = () => done(null);
      $('key-form').addEventListener('submit', onSubmit);
      keyDialog.addEventListener('close', onClose);
      keyDialog.showModal();
      keyInput.focus();
    }),
);
$('key-cancel').addEventListener('click', () => keyDialog.close());
const forget = $('forget-key');
forget.hidden = !storedKey();
onKeyChange((key) => (forget.hidden = !key));
forget.addEventListener('click', () => {
  forgetKey();
  // A private gallery's photos are not left on the screen of whoever comes next.
  if (privateGallery) location.reload();
  else announce('The API key is forgotten');
});

// Albums: opening one, and its own actions.
$('album-back').addEventListener('click', () => browse.set({ album: null, q: '' }, true));
$('album-rename').addEventListener('click', () => album && albums.edit(album));
$('album-share').addEventListener('click', () => album && shares.create({ album }));
$('album-delete').addEventListener('click', async () => {
  if (album && (await albums.remove(album))) browse.set({ album: null, q: '' }, true);
});

// What can be done with a selection, or with the photo in the large view.
async function addToAlbum(ids) {
  const chosen = await albums.pick(ids);
  if (chosen && selection.isSelecting()) selection.end(true);
}
async function takeOut(ids) {
  if (!album) return;
  try {
    await albums.take(ids, album.id);
    for (const id of ids) viewer.remove(id);
    if (selection.isSelecting()) selection.end(true);
  } catch (err) {
    announce(`Not taken out of the album: ${err.message}`);
  }
}
$('selection-add').addEventListener('click', () => addToAlbum(selection.ids()));
$('selection-remove').addEventListener('click', () => takeOut(selection.ids()));
$('selection-share').addEventListener('click', async () => {
  if (await shares.create({ image_ids: selection.ids() })) selection.end(true);
});
$('selection-delete').addEventListener('click', async () => {
  const ids = selection.ids();
  const deleted = await confirmAction({
    title: `Delete ${photos(ids.length)}?`,
    text: `${photos(ids.length)} and their files will be deleted, and taken out of every album. This cannot be undone.`,
    action: 'Delete',
    run: async () => {
      for (const id of ids) {
        await request('DELETE', `/api/v1/images/${id}`).catch((err) => {
          if (err.status !== 404) throw err;
        });
        grid.remove(id);
      }
      announce(`${photos(ids.length)} deleted`);
      albums.load().catch(() => {});
    },
  });
  if (deleted) selection.end(true);
});
$('viewer-add').addEventListener('click', () => viewer.current() && addToAlbum([viewer.current()]));
$('viewer-remove').addEventListener('click', () => viewer.current() && takeOut([viewer.current()]));
$('share-links').addEventListener('click', () => shares.list());

loadOnScroll(grid, { sentinel: $('sentinel'), button: $('load-more'), error: $('list-error'), paused: () => locked });

show();
