/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/** A new element with its class (classes, space-separated) and, if given, its text. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A button of `type="button"` with its class, text and click handler. */
export function button(text, className, onClick) {
  const node = el('button', className, text);
  node.type = 'button';
  if (onClick) node.addEventListener('click', onClick);
  return node;
}

const announcer = () => $('announcer');
/** Says something to screen readers (the page's polite live region). */
export function announce(text) {
  announcer().textContent = '';
  // A new node each time, so that the same words twice are read twice.
  setTimeout(() => (announcer().textContent = text), 50);
}
