// The large view: the display variant (or the original while there is none, when the browser can
// show it), title, description, dimensions, size, date and a link to the original; ←/→ move, Esc
// closes. Title and description are edited in place (PATCH); delete asks first (DELETE).
import { ApiError, request } from './api.js';
import { browserCanShow, formatBytes, formatDate, processingOf } from './text.js';

const $ = (id) => document.getElementById(id);

export function createViewer({ grid, announce }) {
  const dialog = $('viewer');
  const image = $('viewer-image');
  const fallback = $('viewer-fallback');
  const editForm = $('edit-form');
  const view = $('view-mode');
  const titleInput = $('edit-title');
  const descriptionInput = $('edit-description');
  const confirm = $('confirm-delete');
  let current = null;
  let opener = null;

  const indexOf = (id) => grid.images.findIndex((i) => i.id === id);

  function show(id) {
    const photo = grid.get(id);
    if (!photo) return close();
    current = id;
    closeEditor();
    const state = processingOf(photo);
    const display = state === 'ready' ? photo.variants.display : null;
    const src = display?.url ?? (browserCanShow(photo.content_type ?? 'image/jpeg') ? photo.file_url : null);
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
    $('viewer-dimensions').textContent = photo.width && photo.height ? `${photo.width} × ${photo.height} px` : '—';
    $('viewer-size').textContent = formatBytes(photo.size);
    $('viewer-type').textContent = photo.content_type ?? '—';
    $('viewer-date').textContent = formatDate(photo.created_at);
    $('viewer-date').dateTime = photo.created_at;
    $('viewer-filename').textContent = photo.filename;
    $('viewer-original').href = photo.file_url;
    const index = indexOf(id);
    $('viewer-position').textContent = `${index + 1} of ${grid.images.length}${grid.hasMore() ? '+' : ''}`;
    $('viewer-prev').disabled = index <= 0;
    $('viewer-next').disabled = index >= grid.images.length - 1 && !grid.hasMore();
  }

  // The open photo changed meanwhile (its copies were made, say): shown as it is now, unless it is
  // being edited.
  grid.onChange(() => {
    if (dialog.open && current && editForm.hidden) show(current);
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
    const tile = current && document.querySelector(`.tile[data-id="${current}"] button`);
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
  // Esc while editing leaves the editor, not the photo.
  dialog.addEventListener('cancel', (event) => {
    if (!editForm.hidden) {
      event.preventDefault();
      closeEditor();
      $('edit').focus();
    }
  });
  $('viewer-prev').addEventListener('click', () => step(-1));
  $('viewer-next').addEventListener('click', () => step(1));
  $('viewer-close').addEventListener('click', close);
  // A click on the backdrop (the dialog itself, outside its content) closes it.
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) close();
  });

  function openEditor() {
    const photo = grid.get(current);
    if (!photo) return;
    titleInput.value = photo.title;
    descriptionInput.value = photo.description;
    setFieldErrors({});
    view.hidden = true;
    editForm.hidden = false;
    titleInput.focus();
    titleInput.select();
  }

  function closeEditor() {
    editForm.hidden = true;
    view.hidden = false;
  }

  function setFieldErrors(errors) {
    for (const name of ['title', 'description', 'form']) {
      const el = $(`edit-${name}-error`);
      el.textContent = errors[name] ?? '';
      el.hidden = !errors[name];
    }
    titleInput.setAttribute('aria-invalid', String(Boolean(errors.title)));
    descriptionInput.setAttribute('aria-invalid', String(Boolean(errors.description)));
  }

  $('edit').addEventListener('click', openEditor);
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
    if (Object.keys(patch).length === 0) {
      closeEditor();
      return;
    }
    const save = $('edit-save');
    save.disabled = true;
    try {
      const updated = await (await request('PATCH', `/api/v1/images/${photo.id}`, patch)).json();
      grid.update(updated);
      show(updated.id);
      $('edit').focus();
      announce(`Saved “${updated.title}”`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) setFieldErrors({ title: err.message });
      else if (err instanceof ApiError && err.status === 422 && err.problem.errors?.length) {
        const byField = {};
        for (const { field, message } of err.problem.errors) byField[field in patch ? field : 'form'] = `${field} ${message}`;
        setFieldErrors(byField);
      } else setFieldErrors({ form: err.message });
      (err.status === 409 ? titleInput : save).focus();
    } finally {
      save.disabled = false;
    }
  });

  $('delete').addEventListener('click', () => {
    const photo = grid.get(current);
    if (!photo) return;
    $('confirm-text').textContent = `“${photo.title}” and its file will be deleted. This cannot be undone.`;
    $('confirm-error').hidden = true;
    confirm.showModal();
    $('confirm-cancel').focus();
  });
  $('confirm-cancel').addEventListener('click', () => confirm.close());
  $('confirm-ok').addEventListener('click', async () => {
    const photo = grid.get(current);
    if (!photo) return confirm.close();
    const ok = $('confirm-ok');
    ok.disabled = true;
    try {
      await request('DELETE', `/api/v1/images/${photo.id}`);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) {
        $('confirm-error').textContent = err.message;
        $('confirm-error').hidden = false;
        return;
      }
    } finally {
      ok.disabled = false;
    }
    confirm.close();
    const index = indexOf(photo.id);
    grid.remove(photo.id);
    announce(`Deleted “${photo.title}”`);
    const next = grid.images[Math.min(index, grid.images.length - 1)];
    if (next) show(next.id);
    else close();
  });

  return { open, close, isOpen: () => dialog.open };
}
