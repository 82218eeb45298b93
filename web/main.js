// The gallery page: wires the grid, the uploads, the large view and the API key prompt to the page.
import { forgetKey, onKeyChange, setKeyPrompt, storedKey } from './api.js';
import { createGrid } from './grid.js';
import { createUploads } from './uploads.js';
import { createViewer } from './viewer.js';

const $ = (id) => document.getElementById(id);

const announcer = $('announcer');
/** Says something to screen readers (a polite live region). */
function announce(text) {
  announcer.textContent = '';
  // A new node each time, so that the same words twice are read twice.
  setTimeout(() => (announcer.textContent = text), 50);
}

let viewer;
const grid = createGrid({
  list: $('grid'),
  empty: $('empty'),
  more: $('more'),
  loading: $('loading'),
  error: $('list-error'),
  announce,
  onOpen: (id) => viewer.open(id),
});
viewer = createViewer({ grid, announce });

const uploads = createUploads({
  section: $('uploads'),
  list: $('upload-list'),
  startButton: $('start-uploads'),
  clearButton: $('clear-finished'),
  announce,
  onImage: (image) => grid.prepend(image),
});

// Choosing files: the buttons open the one file input.
const input = $('file-input');
for (const id of ['choose', 'choose-empty', 'upload-button']) $(id).addEventListener('click', () => input.click());
input.addEventListener('change', () => {
  if (input.files.length > 0) uploads.add([...input.files]);
  input.value = '';
});

// Dropping files anywhere on the page.
const overlay = $('drop-overlay');
let depth = 0;
const carriesFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes('Files');
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
  if (files.length > 0) uploads.add(files);
});

// The API key: asked for by the first write refused with 401, kept for this tab only.
const keyDialog = $('key-dialog');
const keyInput = $('key-input');
setKeyPrompt(
  (refused) =>
    new Promise((resolve) => {
      $('key-error').textContent = refused ? 'That key was refused. Check it and try again.' : '';
      $('key-error').hidden = !refused;
      keyInput.value = '';
      keyInput.setAttribute('aria-invalid', String(refused));
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
  announce('The API key is forgotten');
});

// More photos as the end of the grid comes into view (the button does the same by hand).
$('load-more').addEventListener('click', () => grid.loadMore());
$('list-error')
  .querySelector('button')
  .addEventListener('click', () => grid.loadMore());
const sentinel = $('sentinel');
const MARGIN = 200;
new IntersectionObserver((entries) => entries.some((entry) => entry.isIntersecting) && grid.loadMore(), {
  rootMargin: `0px 0px ${MARGIN}px 0px`,
}).observe(sentinel);
// A page that does not fill the screen leaves the sentinel in view, and the observer says nothing
// new: keep loading until the screen is full.
grid.onChange(() =>
  requestAnimationFrame(() => {
    const near = sentinel.getBoundingClientRect().top < innerHeight + MARGIN;
    if (near && grid.hasMore() && $('list-error').hidden) grid.loadMore();
  }),
);

grid.loadMore();
