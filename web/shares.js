// Share links on the owner's page: "Share" on a selection or an album opens a dialog with the
// link's options (title, description, expiry, password, originals); once made, the link is shown with
// a copy button. "Share links" lists every link with its own copy and revoke.
import { getAll, request } from './api.js';
import { closeOnBackdrop, confirmAction, errorsOf, openDialog, showFieldErrors } from './dialogs.js';
import { $, announce, button, el } from './dom.js';
import { limits } from './limits.js';
import { formatDate, photos } from './text.js';

const DAY_MS = 24 * 3600 * 1000;

/** The full address of a share's path (`/s/<token>`). */
const linkOf = (share) => new URL(share.url, location.origin).href;

/** Copies `text` to the clipboard; the input it is shown in is selected too, for a copy by hand if that fails. */
async function copy(text, input, status) {
  input?.select();
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = 'Link copied';
  } catch {
    status.textContent = 'Copying failed: the link is selected, copy it with Ctrl+C or ⌘+C';
  }
}

export function createShares() {
  const dialog = $('share-dialog');
  const form = $('share-form');
  const fields = ['title', 'description', 'expires_at', 'password', 'allow_originals'];
  const setErrors = (errors) => showFieldErrors('share', fields, errors);
  let source = null;
  let made = null;
  closeOnBackdrop(dialog);
  for (const id of ['share-cancel', 'share-done']) $(id).addEventListener('click', () => dialog.close());

  /** Opens the share dialog for `{ image_ids }` or `{ album }`; resolves to the share made when it closes, or null. */
  function create(what) {
    made = null;
    source = what.album ? { album_id: what.album.id } : { image_ids: what.image_ids };
    $('share-dialog-title').textContent = what.album ? `Share the album “${what.album.title}”` : `Share ${photos(what.image_ids.length)}`;
    form.reset();
    $('share-title').value = what.album?.title ?? '';
    $('share-title').maxLength = limits.shareTitleMax;
    $('share-description').maxLength = limits.shareDescriptionMax;
    $('share-password').minLength = limits.passwordMin;
    $('share-password').maxLength = limits.passwordMax;
    $('share-password-hint').textContent =
      `Leave empty for none. ${limits.passwordMin} to ${limits.passwordMax} characters; viewers must type it to see anything.`;
    setErrors({});
    form.hidden = false;
    $('share-result').hidden = true;
    openDialog(dialog, $('share-title'));
    return new Promise((resolve) => dialog.addEventListener('close', () => resolve(made), { once: true }));
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const days = Number($('share-expiry').value);
    const body = {
      ...source,
      title: $('share-title').value,
      description: $('share-description').value,
      allow_originals: $('share-originals').checked,
      ...(days ? { expires_at: new Date(Date.now() + days * DAY_MS).toISOString() } : {}),
      ...($('share-password').value ? { password: $('share-password').value } : {}),
    };
    $('share-create').disabled = true;
    try {
      const share = await (await request('POST', '/api/v1/shares', body)).json();
      made = share;
      form.hidden = true;
      $('share-result').hidden = false;
      $('share-link').value = linkOf(share);
      $('share-summary').textContent = describe(share);
      $('share-copied').textContent = '';
      $('share-link').focus();
      $('share-link').select();
      announce('Link made');
    } catch (err) {
      setErrors(errorsOf(err, fields));
      $('share-create').focus();
    } finally {
      $('share-create').disabled = false;
    }
  });
  $('share-copy').addEventListener('click', () => copy($('share-link').value, $('share-link'), $('share-copied')));

  // The list of links.
  const links = $('shares-dialog');
  closeOnBackdrop(links);
  $('shares-close').addEventListener('click', () => links.close());

  function item(share) {
    const li = el('li', 'share-item');
    const head = el('div', 'share-head');
    head.append(el('h3', 'share-title', share.title || 'Untitled link'), el('p', 'share-meta', describe(share)));
    const link = el('input', 'share-url');
    link.type = 'text';
    link.readOnly = true;
    link.value = linkOf(share);
    link.setAttribute('aria-label', `Link to ${share.title || 'the untitled link'}`);
    const status = el('span', 'share-status');
    status.setAttribute('role', 'status');
    const actions = el('div', 'share-actions');
    actions.append(
      button('Copy', 'button small', () => copy(link.value, link, status)),
      button('Revoke', 'button small danger', async () => {
        const revoked = await confirmAction({
          title: 'Revoke this link?',
          text: `Whoever has the link to “${share.title || 'Untitled link'}” will no longer see anything through it.`,
          action: 'Revoke',
          run: async () => {
            await request('DELETE', `/api/v1/shares/${share.id}`);
            li.remove();
            $('shares-empty').hidden = $('shares-list').children.length > 0;
            announce('Link revoked');
          },
        });
        // Its button went with it: the focus goes to the list's own.
        if (revoked) $('shares-close').focus();
      }),
    );
    li.append(head, link, actions, status);
    return li;
  }

  async function list() {
    $('shares-error').hidden = true;
    $('shares-list').replaceChildren();
    $('shares-empty').hidden = true;
    openDialog(links, $('shares-close'));
    try {
      const shares = await getAll('/api/v1/shares/?limit=100');
      $('shares-list').replaceChildren(...shares.map(item));
      $('shares-empty').hidden = shares.length > 0;
    } catch (err) {
      $('shares-error').textContent = `The links could not be loaded: ${err.message}`;
      $('shares-error').hidden = false;
    }
  }

  return { create, list };
}

/** "3 photos · password · expires Jan 5, 2027", as an owner reads a link. */
function describe(share) {
  const expired = share.expires_at && Date.parse(share.expires_at) <= Date.now();
  return [
    share.album_id ? `Album, ${photos(share.image_count)}` : photos(share.image_count),
    share.has_password ? 'password' : 'no password',
    share.expires_at ? `${expired ? 'expired' : 'expires'} ${formatDate(share.expires_at, { dateStyle: 'medium' })}` : 'no expiry',
    share.allow_originals ? 'originals allowed' : null,
  ]
    .filter(Boolean)
    .join(' · ');
}
