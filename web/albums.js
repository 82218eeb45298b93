// Albums on the owner's page: the list with covers and counts, making and renaming one (a dialog),
// deleting one (asked first; its photos stay), and "Add to album" for a set of photos: a dialog that
// lists the albums and can make a new one on the way.
import { getAll, request } from './api.js';
import { closeOnBackdrop, confirmAction, errorsOf, openDialog, showFieldErrors } from './dialogs.js';
import { $, announce, button, el } from './dom.js';
import { limits } from './limits.js';
import { photos } from './text.js';

export function createAlbums({ onOpen }) {
  let albums = [];
  let loaded = false;
  let current = null;
  const list = $('album-list');
  const listeners = new Set();

  const url = (id = '') => `/api/v1/albums/${id}`;

  function card(album) {
    const li = el('li', 'album');
    li.dataset.id = album.id;
    const open = button('', 'album-card', () => onOpen(album.id));
    if (album.id === current) open.setAttribute('aria-current', 'true');
    const cover = el('span', 'album-cover');
    if (album.cover?.thumb) {
      const img = el('img');
      img.alt = '';
      img.loading = 'lazy';
      img.src = album.cover.thumb.url;
      img.width = album.cover.thumb.width;
      img.height = album.cover.thumb.height;
      cover.append(img);
    } else {
      const mark = el('span', 'placeholder-mark');
      mark.setAttribute('aria-hidden', 'true');
      cover.append(mark);
    }
    open.append(cover, el('span', 'album-title', album.title), el('span', 'album-count', photos(album.image_count)));
    li.append(open);
    return li;
  }

  function render() {
    list.replaceChildren(...albums.map(card));
    $('albums-empty').hidden = !loaded || albums.length > 0;
    for (const listener of listeners) listener();
  }

  /** Loads every album again (counts and covers change as photos come and go). */
  async function load() {
    albums = await getAll(`${url()}?limit=100`);
    loaded = true;
    render();
  }

  /** The album with this id: from the list, else asked for (404 when there is none). */
  async function get(id) {
    return albums.find((a) => a.id === id) ?? (await (await request('GET', url(id))).json());
  }

  function replace(album) {
    const at = albums.findIndex((a) => a.id === album.id);
    if (at >= 0) albums[at] = album;
    else albums.unshift(album);
    render();
    return album;
  }

  // Making or renaming: one dialog, one form.
  const dialog = $('album-dialog');
  const form = $('album-form');
  const fields = ['title', 'description'];
  const setErrors = (errors) => showFieldErrors('album', fields, errors);
  let editing = null;
  let made = null;
  closeOnBackdrop(dialog);
  $('album-cancel').addEventListener('click', () => dialog.close());

  /** Opens the album form: a new album (resolves to it, or null), or `album` to rename. */
  function edit(album = null) {
    editing = album;
    made = null;
    $('album-dialog-title').textContent = album ? 'Rename album' : 'New album';
    $('album-save').textContent = album ? 'Save' : 'Create album';
    $('album-title').value = album?.title ?? '';
    $('album-description').value = album?.description ?? '';
    $('album-title').maxLength = limits.albumTitleMax;
    $('album-description').maxLength = limits.albumDescriptionMax;
    setErrors({});
    openDialog(dialog, $('album-title'));
    return new Promise((resolve) => dialog.addEventListener('close', () => resolve(made), { once: true }));
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { title: $('album-title').value, description: $('album-description').value };
    $('album-save').disabled = true;
    try {
      const response = editing ? await request('PATCH', url(editing.id), body) : await request('POST', url(), body);
      made = replace(await response.json());
      announce(editing ? `Renamed to “${made.title}”` : `Album “${made.title}” made`);
      dialog.close();
    } catch (err) {
      setErrors(errorsOf(err, fields));
      $(err.status === 409 || err.problem?.errors?.some((e) => e.field === 'title') ? 'album-title' : 'album-save').focus();
    } finally {
      $('album-save').disabled = false;
    }
  });

  /** Deletes an album after asking (its photos stay); resolves to true once it is gone. */
  function remove(album) {
    return confirmAction({
      title: 'Delete this album?',
      text: `“${album.title}” will be deleted. Its ${photos(album.image_count)} stay in the gallery, and links that share the album stop working.`,
      action: 'Delete album',
      run: async () => {
        await request('DELETE', url(album.id));
        albums = albums.filter((a) => a.id !== album.id);
        render();
        announce(`Album “${album.title}” deleted`);
      },
    });
  }

  /** Puts photos into an album (those in it already stay); resolves to the album. */
  async function add(ids, albumId) {
    const album = replace(await (await request('POST', `${url(albumId)}/images`, { image_ids: ids })).json());
    announce(`${photos(ids.length)} added to “${album.title}”`);
    return album;
  }

  /** Takes photos out of an album (they stay in the gallery); resolves to the album. */
  async function take(ids, albumId) {
    const album = replace(await (await request('POST', `${url(albumId)}/images/remove`, { image_ids: ids })).json());
    announce(`${photos(ids.length)} taken out of “${album.title}”`);
    return album;
  }

  // "Add to album": the albums as buttons, and "New album…".
  const picker = $('add-dialog');
  closeOnBackdrop(picker);
  $('add-cancel').addEventListener('click', () => picker.close());

  /** Asks which album `ids` go into and adds them; resolves to the album, or null when the person cancels. */
  function pick(ids) {
    $('add-dialog-title').textContent = `Add ${photos(ids.length)} to an album`;
    $('add-error').hidden = true;
    return new Promise((resolve) => {
      let chosen = null;
      const choose = async (albumId) => {
        try {
          chosen = await add(ids, albumId);
          picker.close();
        } catch (err) {
          $('add-error').textContent = err.message;
          $('add-error').hidden = false;
        }
      };
      const choices = albums.map((album) => {
        const li = el('li');
        const choice = button('', 'album-choice', () => choose(album.id));
        choice.append(el('span', 'album-choice-title', album.title), el('span', 'album-count', photos(album.image_count)));
        li.append(choice);
        return li;
      });
      const fresh = button('New album…', 'album-choice new', async () => {
        const album = await edit();
        if (album) await choose(album.id);
      });
      const li = el('li');
      li.append(fresh);
      $('add-list').replaceChildren(...choices, li);
      picker.addEventListener('close', () => resolve(chosen), { once: true });
      openDialog(picker, $('add-list').querySelector('button'));
    });
  }

  $('new-album').addEventListener('click', () => edit());

  return {
    load,
    get,
    edit,
    remove,
    pick,
    take,
    /** Marks the album being shown (its card gets aria-current), or none. */
    setCurrent(id) {
      current = id;
      render();
    },
    onChange: (listener) => listeners.add(listener),
  };
}
