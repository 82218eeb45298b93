// Helpers for the pages' <dialog>s: a confirmation that runs its action and shows the server's
// refusal in place, the field errors of a form, and focus given back to where it came from.
import { $ } from './dom.js';

/**
 * Asks before `run()` (a deletion, a revocation) in the #confirm dialog: its title, text and button
 * word; Cancel or Esc does nothing. A refusal of `run` is shown in the dialog, which stays open.
 * Resolves to true once `run` succeeded, false when cancelled.
 */
export function confirmAction({ title, text, action, run }) {
  const dialog = $('confirm');
  const ok = $('confirm-ok');
  const error = $('confirm-error');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  ok.textContent = action;
  error.hidden = true;
  return new Promise((resolve) => {
    const onClick = async () => {
      ok.disabled = true;
      try {
        await run();
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
        return;
      } finally {
        ok.disabled = false;
      }
      finish(true);
    };
    const onCancel = () => dialog.close();
    const onClose = () => finish(false);
    const finish = (done) => {
      ok.removeEventListener('click', onClick);
      $('confirm-cancel').removeEventListener('click', onCancel);
      dialog.removeEventListener('close', onClose);
      if (dialog.open) dialog.close();
      resolve(done);
    };
    ok.addEventListener('click', onClick);
    $('confirm-cancel').addEventListener('click', onCancel);
    dialog.addEventListener('close', onClose);
    openDialog(dialog, $('confirm-cancel'));
  });
}

/** Opens a modal dialog with focus on `focus`, and gives focus back to what had it when it closes. */
export function openDialog(dialog, focus) {
  const opener = document.activeElement;
  dialog.addEventListener('close', () => opener?.isConnected && opener.focus(), { once: true });
  dialog.showModal();
  focus?.focus();
}

/**
 * Shows `errors` ({ field: message }) beside a form's fields: each input `<prefix>-<field>` gets its
 * `<prefix>-<field>-error` paragraph and aria-invalid; `form` is for what no field owns.
 */
export function showFieldErrors(prefix, fields, errors) {
  for (const name of [...fields, 'form']) {
    const el = $(`${prefix}-${name}-error`);
    if (!el) continue;
    el.textContent = errors[name] ?? '';
    el.hidden = !errors[name];
    if (name !== 'form') $(`${prefix}-${name}`)?.setAttribute('aria-invalid', String(Boolean(errors[name])));
  }
}

/** The field errors of a refusal: a 422's by field (unknown ones under `form`), a 409's under `conflict`, else `form`. */
export function errorsOf(err, fields, conflict = 'title') {
  if (err.status === 409) return { [conflict]: err.problem?.detail ?? err.message };
  if (err.status === 422 && err.problem?.errors?.length) {
    const byField = {};
    for (const { field, message } of err.problem.errors) {
      const key = fields.includes(field) ? field : 'form';
      byField[key] = [byField[key], `${field} ${message}`].filter(Boolean).join('; ');
    }
    return byField;
  }
  return { form: err.message };
}

/** Closes a dialog when its backdrop is clicked (the event's target is the dialog, and the point outside its box). */
export function closeOnBackdrop(dialog) {
  dialog.addEventListener('click', (event) => {
    const box = dialog.getBoundingClientRect();
    const outside = event.clientX < box.left || event.clientX > box.right || event.clientY < box.top || event.clientY > box.bottom;
    if (event.target === dialog && outside) dialog.close();
  });
}
