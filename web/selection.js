// Selecting many photos on the owner's page: Ctrl/⌘+click (or Ctrl/⌘+Enter, Ctrl+Space) toggles a
// photo, Shift+click selects the run from the last one toggled; on touch, the Select button turns
// on a mode where a tap (or Enter, Space) toggles. While selecting, each tile is a toggle button
// (aria-pressed) and the selection bar offers what can be done with them; Esc or Done ends it.
import { $, announce } from './dom.js';
import { photos } from './text.js';

export function createSelection({ grid, section, onOpen }) {
  const selected = new Set();
  let selecting = false;
  let anchor = null;
  const listeners = new Set();
  const bar = $('selection-bar');
  const toggle = $('select-mode');

  /** A tile's marks: pressed or not while selecting, plain button otherwise. */
  function decorate(button, image) {
    if (selecting) button.setAttribute('aria-pressed', String(selected.has(image.id)));
    else button.removeAttribute('aria-pressed');
    button.closest('.tile')?.classList.toggle('selected', selected.has(image.id));
    if (!button.querySelector('.check')) {
      const check = document.createElement('span');
      check.className = 'check';
      check.setAttribute('aria-hidden', 'true');
      button.querySelector('.frame')?.append(check);
    }
  }

  function redraw() {
    for (const image of grid.images) {
      const button = grid.button(image.id);
      if (button) decorate(button, image);
    }
    section.classList.toggle('selecting', selecting);
    bar.hidden = !selecting;
    toggle.setAttribute('aria-pressed', String(selecting));
    toggle.textContent = selecting ? 'Done' : 'Select';
    $('selection-count').textContent = selected.size ? `${photos(selected.size)} selected` : 'Select photos to add, share or delete';
    for (const action of bar.querySelectorAll('[data-needs-selection]')) action.disabled = selected.size === 0;
    for (const listener of listeners) listener();
  }

  function setMode(on) {
    if (!on) selected.clear();
    const changed = selecting !== on;
    selecting = on;
    anchor = null;
    redraw();
    if (changed) announce(on ? 'Selecting: choose photos, then an action below' : 'Selection ended');
  }

  function flip(id) {
    if (selected.has(id)) selected.delete(id);
    else selected.add(id);
    anchor = id;
  }

  /** The run of photos from the last one toggled to `id`, in the grid's order, all selected. */
  function extend(id) {
    const ids = grid.images.map((i) => i.id);
    const [from, to] = [ids.indexOf(anchor), ids.indexOf(id)].sort((a, b) => a - b);
    for (const each of ids.slice(from, to + 1)) selected.add(each);
  }

  /** A tile's click: toggles or extends the selection, or opens the photo when none is being made. */
  function activate(id, event) {
    const modified = event.ctrlKey || event.metaKey || event.shiftKey;
    if (!selecting && !modified) return onOpen(id, event);
    selecting = true;
    if (event.shiftKey && anchor !== null && grid.get(anchor)) extend(id);
    else flip(id);
    redraw();
  }

  toggle.addEventListener('click', () => setMode(!selecting));
  $('selection-clear').addEventListener('click', () => {
    setMode(false);
    toggle.focus();
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && selecting && !document.querySelector('dialog[open]')) setMode(false);
  });
  // A photo deleted or taken out of the list is no longer selected.
  grid.onChange(() => {
    const gone = [...selected].filter((id) => !grid.get(id));
    for (const id of gone) selected.delete(id);
    if (gone.length > 0) redraw();
  });

  return {
    decorate,
    activate,
    /** The selected photos' ids, in the grid's order. */
    ids: () => grid.images.map((i) => i.id).filter((id) => selected.has(id)),
    /** Ends the selection (after its action is done); `focus` gives the focus to the Select button, as the bar goes. */
    end: (focus = false) => {
      setMode(false);
      if (focus) toggle.focus();
    },
    isSelecting: () => selecting,
    onChange: (listener) => listeners.add(listener),
  };
}
