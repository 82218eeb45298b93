// Uploads straight to the bucket: each file's SHA-256 is computed first (in a worker:
// hash-worker.js), POST /api/v1/uploads signs a presigned POST for it, the browser sends the file
// there with XMLHttpRequest (fetch reports no upload progress), then POST complete_url makes the
// image. A photo already in the gallery (a 409 naming it) is offered instead, and its bytes are sent
// only if asked. Three at a time; every refusal shows the server's detail beside its file.

import { ApiError, getJson, request } from './api.js';
import { el } from './dom.js';
import { browserCanShow, declaredType, defaultTitle, formatBytes, MAX_TITLE_NUMBER, numberedTitle } from './text.js';

/** Uploads running at once. */
const CONCURRENCY = 3;

const STATUS = {
  ready: 'Ready to upload',
  queued: 'Waiting…',
  hashing: 'Checking for duplicates…',
  signing: 'Starting…',
  sending: 'Uploading…',
  completing: 'Finishing…',
  done: 'Uploaded',
};

let sequence = 0;

/** The server named a photo with the same bytes (409 with `duplicate_of`). */
class DuplicateError extends Error {
  constructor(id) {
    super('Already in the gallery.');
    this.id = id;
  }
}

let hasher = null;
let jobs = 0;
const hashing = new Map();

/**
 * The SHA-256 of a file, from the page's one hash worker (it hashes one file at a time, so that
 * memory holds at most one); `progress(fraction)` as it reads.
 */
function hashFile(file, progress) {
  if (!hasher) {
    hasher = new Worker(new URL('./hash-worker.js', import.meta.url), { type: 'module' });
    hasher.addEventListener('message', ({ data }) => {
      const job = hashing.get(data.job);
      if (!job) return;
      if (data.loaded !== undefined) return job.progress(data.total > 0 ? data.loaded / data.total : 1);
      hashing.delete(data.job);
      if (data.sha256) job.resolve(data.sha256);
      else job.reject(new Error(data.error));
    });
    hasher.addEventListener('error', (event) => {
      event.preventDefault();
      for (const job of hashing.values()) job.reject(new Error('The file could not be hashed.'));
      hashing.clear();
      hasher = null;
    });
  }
  const job = ++jobs;
  return new Promise((resolve, reject) => {
    hashing.set(job, { resolve, reject, progress });
    hasher.postMessage({ job, file });
  });
}

export function createUploads({ section, list, startButton, clearButton, announce, onImage }) {
  const items = [];
  const queue = [];
  let running = 0;

  function field(labelText, value, name) {
    const id = `upload-${sequence}-${name}`;
    const wrap = el('div', 'field');
    const label = document.createElement('label');
    label.htmlFor = id;
    label.textContent = labelText;
    const input = document.createElement('input');
    input.id = id;
    input.name = name;
    input.type = 'text';
    input.autocomplete = 'off';
    input.value = value;
    wrap.append(label, input);
    return { wrap, input };
  }

  function add(files) {
    for (const file of files) {
      sequence++;
      const item = {
        key: sequence,
        file,
        state: 'ready',
        autoTitle: true,
        base: defaultTitle(file.name),
        xhr: null,
        preview: null,
        sha256: undefined,
        allowDuplicate: false,
      };
      const li = el('li', 'upload');
      li.dataset.state = 'ready';
      item.li = li;

      const thumb = el('span', 'upload-preview');
      thumb.setAttribute('aria-hidden', 'true');
      const type = declaredType(file);
      if (browserCanShow(type) && file.size < 50e6) {
        const img = document.createElement('img');
        item.preview = URL.createObjectURL(file);
        img.src = item.preview;
        img.alt = '';
        img.addEventListener('error', () => img.replaceWith(typeBadge(type)));
        thumb.append(img);
      } else {
        thumb.append(typeBadge(type));
      }

      const body = el('div', 'upload-body');
      const name = el('p', 'upload-name', file.name);
      const size = el('span', 'upload-size', ` · ${formatBytes(file.size)}`);
      name.append(size);

      const title = field('Title', uniqueInBatch(item.base, item), 'title');
      title.input.addEventListener('input', () => (item.autoTitle = false));
      const description = field('Description', '', 'description');
      description.input.placeholder = 'Optional';
      item.title = title.input;
      item.description = description.input;
      const fields = el('div', 'upload-fields');
      fields.append(title.wrap, description.wrap);

      const progress = document.createElement('progress');
      progress.max = 100;
      progress.value = 0;
      progress.setAttribute('aria-label', `Upload of ${file.name}`);
      const status = el('p', 'upload-status', STATUS.ready);
      const error = el('p', 'upload-error');
      error.setAttribute('role', 'alert');
      item.progress = progress;
      item.status = status;
      item.error = error;

      body.append(name, fields, progress, status, error);

      const actions = el('div', 'upload-actions');
      const retry = button('Try again', 'button small', () => enqueue([item]));
      retry.hidden = true;
      const anyway = button('Upload anyway', 'button small', () => {
        item.allowDuplicate = true;
        enqueue([item]);
      });
      anyway.hidden = true;
      const remove = button('Remove', 'button small ghost', () => discard(item));
      remove.setAttribute('aria-label', `Remove ${file.name}`);
      item.retry = retry;
      item.anyway = anyway;
      item.remove = remove;
      actions.append(retry, anyway, remove);

      li.append(thumb, body, actions);
      list.append(li);
      items.push(item);
    }
    refresh();
    announce(`${files.length} ${files.length === 1 ? 'photo' : 'photos'} ready to upload`);
  }

  /** The default title, numbered past any other file of this page's list that already has it. */
  function uniqueInBatch(base, self) {
    const taken = new Set(items.filter((i) => i !== self && i.state !== 'failed').map((i) => i.title.value));
    let title = base;
    for (let n = 2; taken.has(title) && n <= MAX_TITLE_NUMBER; n++) title = numberedTitle(base, n);
    return title;
  }

  function button(text, className, onClick) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = className;
    b.textContent = text;
    b.addEventListener('click', onClick);
    return b;
  }

  function typeBadge(type) {
    const badge = el('span', 'type-badge', (type.split('/')[1] ?? 'file').toUpperCase().slice(0, 4));
    return badge;
  }

  function setState(item, state, text = STATUS[state]) {
    item.state = state;
    item.li.dataset.state = state;
    item.status.textContent = text;
    const editable = state === 'ready' || state === 'failed' || state === 'duplicate';
    item.title.disabled = !editable;
    item.description.disabled = !editable;
    item.retry.hidden = state !== 'failed';
    item.anyway.hidden = state !== 'duplicate';
    // Signing and completing are short requests; a file waiting or on its way can be called off.
    item.remove.hidden = state === 'signing' || state === 'completing';
    refresh();
  }

  function refresh() {
    section.hidden = items.length === 0;
    const ready = items.filter((i) => i.state === 'ready').length;
    startButton.hidden = ready === 0;
    startButton.textContent = `Upload ${ready} ${ready === 1 ? 'photo' : 'photos'}`;
    clearButton.hidden = !items.some((i) => i.state === 'done');
  }

  function discard(item) {
    item.removed = true;
    if (queue.includes(item)) queue.splice(queue.indexOf(item), 1);
    item.xhr?.abort();
    if (item.preview) URL.revokeObjectURL(item.preview);
    items.splice(items.indexOf(item), 1);
    item.li.remove();
    refresh();
  }

  function enqueue(batch) {
    for (const item of batch) {
      item.error.textContent = '';
      setState(item, 'queued');
      queue.push(item);
    }
    pump();
  }

  function pump() {
    while (running < CONCURRENCY && queue.length > 0) {
      const item = queue.shift();
      running++;
      upload(item)
        .then((image) => {
          setState(item, 'done');
          item.progress.value = 100;
          onImage(image);
          announce(`“${image.title}” uploaded`);
        })
        .catch((err) => {
          if (err instanceof DuplicateError) return showDuplicate(item, err.id);
          item.error.textContent = err.message;
          setState(item, 'failed', 'Not uploaded');
        })
        .finally(() => {
          running--;
          pump();
        });
    }
  }

  /** Says which photo of the gallery has the same bytes, with a link to it; "Upload anyway" sends them all the same. */
  async function showDuplicate(item, id) {
    setState(item, 'duplicate', 'Already in the gallery: ');
    const link = document.createElement('a');
    link.target = '_blank';
    link.rel = 'noopener';
    link.textContent = 'the photo';
    item.status.append(link);
    try {
      const { body: photo } = await getJson(`/api/v1/images/${encodeURIComponent(id)}`);
      link.textContent = photo.title;
      link.href = photo.variants?.display?.url ?? photo.file_url;
    } catch (err) {
      item.error.textContent = err.message;
    }
    announce(`${item.file.name} is already in the gallery${link.href ? ` as “${link.textContent}”` : ''}`);
  }

  async function upload(item) {
    const file = item.file;
    if (item.sha256 === undefined) {
      setState(item, 'hashing', `${STATUS.hashing} 0 %`);
      try {
        // Its own progress, in words: the bar is the upload's, and never goes back.
        item.sha256 = await hashFile(file, (fraction) => {
          if (item.state === 'hashing') item.status.textContent = `${STATUS.hashing} ${Math.floor(fraction * 100)} %`;
        });
      } catch (err) {
        // Without the hash the upload goes as it would without duplicates to check: nothing is lost.
        console.warn(`${file.name}: not checked for duplicates: ${err.message}`);
        item.sha256 = null;
      }
      if (item.removed) throw new Error('Cancelled.');
    }
    setState(item, 'signing');
    const declared = {
      description: item.description.value,
      filename: file.name,
      size: file.size,
      content_type: declaredType(file),
      ...(item.sha256 ? { sha256: item.sha256, allow_duplicate: item.allowDuplicate } : {}),
    };
    let signed;
    for (let n = 1; !signed; n++) {
      try {
        const response = await request('POST', '/api/v1/uploads', { title: item.title.value, ...declared });
        signed = await response.json();
      } catch (err) {
        if (err instanceof ApiError && err.status === 409 && typeof err.problem.duplicate_of === 'string') {
          throw new DuplicateError(err.problem.duplicate_of);
        }
        // A default title that is taken becomes "Name (2)", "Name (3)" …; a title the person wrote is theirs to change.
        if (err instanceof ApiError && err.status === 409 && item.autoTitle && n < MAX_TITLE_NUMBER) {
          item.title.value = numberedTitle(item.base, n + 1);
          continue;
        }
        throw err;
      }
    }
    setState(item, 'sending', 'Uploading… 0 %');
    await sendFile(item, signed);
    setState(item, 'completing');
    const response = await request('POST', signed.complete_url);
    return response.json();
  }

  /** POSTs the file to the signed target: every field in order, then `file`; progress from the XHR. */
  function sendFile(item, signed) {
    return new Promise((resolve, reject) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(signed.upload.fields)) form.append(name, value);
      form.append('file', item.file);
      const xhr = new XMLHttpRequest();
      item.xhr = xhr;
      xhr.open('POST', signed.upload.url);
      xhr.upload.addEventListener('progress', (event) => {
        if (!event.lengthComputable) return;
        const percent = Math.floor((event.loaded / event.total) * 100);
        item.progress.value = percent;
        item.status.textContent = `Uploading… ${percent} %`;
      });
      xhr.addEventListener('load', () => {
        item.xhr = null;
        if (xhr.status >= 200 && xhr.status < 300) {
          item.progress.value = 100;
          resolve();
        } else {
          const message = /<Message>([^<]*)<\/Message>/.exec(xhr.responseText ?? '')?.[1];
          reject(new Error(`The storage refused the file (${xhr.status})${message ? `: ${message}` : '.'}`));
        }
      });
      xhr.addEventListener('error', () => {
        item.xhr = null;
        reject(new Error('The file could not be sent to the storage (network error).'));
      });
      xhr.addEventListener('abort', () => reject(new Error('Cancelled.')));
      xhr.send(form);
    });
  }

  startButton.addEventListener('click', () => enqueue(items.filter((i) => i.state === 'ready')));
  clearButton.addEventListener('click', () => items.filter((i) => i.state === 'done').forEach(discard));

  return { add };
}
