// The large view of both pages: the display variant (or the original while there is none, when the
// browser can show it), title, description, when it was taken, camera, lens and exposure,
// dimensions, size, upload date and a link to the original (when there is one); ←/→ move, Esc
// closes. On the owner's page (when its markup has them) title and description are edited in place
// (PATCH) and delete asks first (DELETE); a share's page has neither.
import { ApiError, request } from './api.js';
import { closeOnBackdrop, confirmAction, errorsOf, showFieldErrors } from './dialogs.js';
import { $ } from './dom.js';
import { browserCanShow, formatBytes, formatCamera, formatDate, formatExposure, formatTaken, processingOf } from './text.js';

/** `onDeleted(id)` after the owner deleted the photo shown. */
export function createViewer({ grid, announce, onDeleted }) {
  const dialog = $('viewer');
  const image = $('viewer-image');
  const fallback = $('viewer-fallback');
  const editForm = $('edit-form');
  const view = $('view-mode');
  let current = null;
  let opener = null;

  const indexOf = (id) => grid.images.findIndex((i) => i.id === id);

  /** A fact's row: its text, or the whole row hidden when the photo does not say. */
  function fact(id, text) {
    $(id).textContent = text || '—';
    $(id).closest('div').hidden = !text;
  }

  function show(id) {
    const photo = grid.get(id);
    if (!photo) return close();
    current = id;
    closeEditor();
    const state = processingOf(photo);
    const display = state === 'ready' ? photo.variants.display : null;
    const original = photo.file_url ?? null;
    const src = display?.url ?? (original && browserCanShow(photo.content_type ?? 'image/jpeg') ? original : null);
    fallback.hidden = src !== null;
    image.hidden = src === null;
    if (src !== null && image.getAttribute('src') !== src) {
      image.removeAttribute('src');
      image.width = display?.width ?? photo.width ?? 0;
      image.height = display?.height ?? photo.height ?? 0;
      image.src = src;
    }
    image.alt = photo.description ? `${photo.title}: ${photo.description}` : photo.title;
    $('viewer-fallback-text').textContent =
      state === 'failed' ? 'No preview could be made of this photo.' : 'This browser cannot show this photo until its preview is ready.';
    $('viewer-title').textContent = photo.title;
    $('viewer-description').textContent = photo.description || 'No description';
    $('viewer-description').classList.toggle('muted', !photo.description);
    fact('viewer-taken', formatTaken(photo.taken_at));
    $('viewer-taken').dateTime = photo.taken_at ?? '';
    fact('viewer-camera', formatCamera(photo.camera));
    fact('viewer-lens', photo.camera?.lens ?? '');
    fact('viewer-exposure', formatExposure(photo.exposure));
    $('viewer-dimensions').textContent = photo.width && photo.height ? `${photo.width} × ${photo.height} px` : '—';
    $('viewer-size').textContent = formatBytes(photo.size);
    $('viewer-type').textContent = photo.content_type ?? '—';
    $('viewer-date').textContent = formatDate(photo.created_at);
    $('viewer-date').dateTime = photo.created_at;
    $('viewer-filename').textContent = photo.filename;
    $('viewer-original').hidden = !original;
    if (original) $('viewer-original').href = original;
    const index = indexOf(id);
    $('viewer-position').textContent = `${index + 1} of ${grid.images.length}${grid.hasMore() ? '+' : ''}`;
    $('viewer-prev').disabled = index <= 0;
    $('viewer-next').disabled = index >= grid.images.length - 1 && !grid.hasMore();
  }

  // The open photo changed meanwhile (its copies were made, say): shown as it is now, unless it is
  // being edited.
  grid.onChange(() => {
    if (dialog.open && current && (!editForm || editForm.hidden)) show(current);
  });

  image.addEventListener('error', () => {
    if (!image.getAttribute('src')) return;
    image.hidden = true;
    fallback.hidden = false;
  });

  function open(id, from = document.activeElement) {
    opener = from;
    show(id);
    if (!dialog.open) dialog.showModal();
  }

  function close() {
    if (dialog.open) dialog.close();
  }

  dialog.addEventListener('close', () => {
    closeEditor();
    image.removeAttribute('src');
    const tile = current && grid.button(current);
    current = null;
    (tile ?? (opener?.isConnected ? opener : null))?.focus();
  });

  async function step(delta) {
    if (!current) return;
    let index = indexOf(current) + delta;
    if (index >= grid.images.length && grid.hasMore()) await grid.loadMore();
    index = Math.max(0, Math.min(index, grid.images.length - 1));
    const target = grid.images[index];
    if (target && target.id !== current) show(target.id);
  }

  /** The photo at `id` left this list (deleted, taken out of the album): the view moves to the one that took its place. */
  function remove(id) {
    const index = indexOf(id);
    grid.remove(id);
    if (current !== id) return;
    const next = grid.images[Math.min(index, grid.images.length - 1)];
    if (next) show(next.id);
    else close();
  }

  dialog.addEventListener('keydown', (event) => {
    if (event.target.closest('input, textarea') || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === 'ArrowLeft') {
      event.preventDefault();
      step(-1);
    } else if (event.key === 'ArrowRight') {
      event.preventDefault();
      step(1);
    }
  });
  $('viewer-prev').addEventListener('click', () => step(-1));
  $('viewer-next').addEventListener('click', () => step(1));
  $('viewer-close').addEventListener('click', close);
  closeOnBackdrop(dialog);

  function closeEditor() {
    if (!editForm) return;
    editForm.hidden = true;
    view.hidden = false;
  }

  if (editForm) wireEditing();

  function wireEditing() {
    const titleInput = $('edit-title');
    const descriptionInput = $('edit-description');
    const setErrors = (errors) => showFieldErrors('edit', ['title', 'description'], errors);

    // Esc while editing leaves the editor, not the photo.
    dialog.addEventListener('cancel', (event) => {
      if (!editForm.hidden) {
        event.preventDefault();
        closeEditor();
        $('edit').focus();
      }
    });
    $('edit').addEventListener('click', () => {
      const photo = grid.get(current);
      if (!photo) return;
      titleInput.value = photo.title;
      descriptionInput.value = photo.description;
      setErrors({});
      view.hidden = true;
      editForm.hidden = false;
      titleInput.focus();
      titleInput.select();
    });
    $('edit-cancel').addEventListener('click', () => {
      closeEditor();
      $('edit').focus();
    });
    editForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      const photo = grid.get(current);
      if (!photo) return;
      const patch = {};
      if (titleInput.value !== photo.title) patch.title = titleInput.value;
      if (descriptionInput.value !== photo.description) patch.description = descriptionInput.value;
      if (Object.keys(patch).length === 0) return closeEditor();
      const save = $('edit-save');
      save.disabled = true;
      try {
        const updated = await (await request('PATCH', `/api/v1/images/${photo.id}`, patch)).json();
        grid.update(updated);
        show(updated.id);
        $('edit').focus();
        announce(`Saved “${updated.title}”`);
      } catch (err) {
        setErrors(errorsOf(err, Object.keys(patch)));
        (err.status === 409 ? titleInput : save).focus();
      } finally {
        save.disabled = false;
      }
    });

    $('delete').addEventListener('click', () => {
      const photo = grid.get(current);
      if (!photo) return;
      confirmAction({
        title: 'Delete this photo?',
        text: `“${photo.title}” and its file will be deleted. This cannot be undone.`,
        action: 'Delete',
        run: async () => {
          try {
            await request('DELETE', `/api/v1/images/${photo.id}`);
          } catch (err) {
            if (!(err instanceof ApiError && err.status === 404)) throw err;
          }
          remove(photo.id);
          announce(`Deleted “${photo.title}”`);
          onDeleted?.(photo.id);
        },
      });
    });
  }

  return { open, close, remove, isOpen: () => dialog.open, current: () => current };
}
