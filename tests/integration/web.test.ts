/**
 * The gallery page in a real browser (Debian's chromium, driven by playwright-core) against the
 * service as `npm start` runs it, with API keys set and the gallery public (reads open, changes
 * keyed; web-collections.test.ts has it private): browse and scroll, upload by the file input and
 * by a drop (straight to the bucket, progress per file), open, edit, delete, at a desktop's and a
 * phone's width, axe-core inside the page. Screenshots go to artifacts/screenshots/.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnauthorizedError } from '../../lib/errors';
import { notAnImage, titleTaken } from '../../lib/images/errors';
import { directUploadTooLarge } from '../../lib/uploads/errors';
import { makeLandscape } from '../../support/images';
import { axeViolations, openPage as openRecordedPage } from '../helpers/browser';
import { type LocalService, launchChromium, startService } from '../helpers/local-service';
import { resetState, sha256 } from '../helpers/state';
import { runsWith } from '../helpers/tools';

// The callbacks given to page.evaluate run in the browser. The project's TypeScript has no DOM
// library (one added program-wide clashes with Node's types), so the few browser globals they use
// are declared here, for this module only, and loosely.
// biome-ignore lint/suspicious/noExplicitAny: browser globals seen from Node's types, for page.evaluate callbacks only
type InPage = any;
declare const window: InPage,
  document: InPage,
  DataTransfer: InPage,
  DragEvent: InPage,
  MutationObserver: InPage,
  requestAnimationFrame: InPage,
  sessionStorage: InPage;
type HTMLElement = InPage;
type HTMLImageElement = InPage;
type HTMLInputElement = InPage;
type HTMLProgressElement = InPage;

const run = promisify(execFile);
const withTools = runsWith('the gallery page in Chromium (web.test.ts)', 'chromium', 'heif-enc');
const SCREENSHOTS = 'artifacts/screenshots';
const API_KEY = 'web-test-key-0123456789abcdef';

interface Variant {
  url: string;
  width: number;
  height: number;
}
interface Image {
  id: string;
  title: string;
  description: string;
  filename: string;
  file_url: string;
  created_at: string;
  content_type: string;
  size: number;
  width: number;
  height: number;
  sha256: string;
  variants?: { thumb: Variant; display: Variant } | null;
  processing?: 'pending' | 'ready' | 'failed';
}

/** Thirty place names for the seeded photos, and one a new upload's default title will collide with. */
const PLACES = ['Harbour', 'Ridge', 'Meadow', 'Glacier', 'Dunes', 'Cove', 'Canyon', 'Fjord', 'Summit', 'Lagoon'];
const SEEDED = PLACES.flatMap((p) => [`${p} at dawn`, `${p} in fog`, `${p} at noon`]).slice(0, 30);
const TAKEN = 'Desert ridge';

let service: LocalService | undefined;
let base = '';
let dir = '';
let browser: Browser;
const files: Record<'big' | 'heic' | 'jpeg' | 'dropped' | 'fog' | 'notImage', string> = {
  big: '',
  heic: '',
  jpeg: '',
  dropped: '',
  fog: '',
  notImage: '',
};

/** The API over HTTP, with the key. */
async function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${API_KEY}`, ...(init.headers ?? {}) } });
}
async function listAll(): Promise<Image[]> {
  const res = await api('/api/v1/images/?limit=100');
  if (res.status !== 200) throw new Error(`the list answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Image[];
}
async function seed(title: string, i: number): Promise<void> {
  const form = new FormData();
  form.append('title', title);
  form.append('description', i % 3 === 0 ? '' : (['Evening light', 'From the trail', 'Low tide'][i % 3] ?? ''));
  form.append('file', new Blob([makeLandscape(480, 320, i)], { type: 'image/jpeg' }), `${title}.jpg`);
  const res = await api('/api/v1/images/', { method: 'POST', body: form });
  expect(res.status).toBe(201);
}

beforeAll(async () => {
  if (!withTools) return;
  await resetState();
  dir = await mkdtemp(join(tmpdir(), 'gallery-web-'));
  await mkdir(SCREENSHOTS, { recursive: true });
  // Real photos: a JPEG over 5 MB (a 2400×1600 picture padded after its end marker, which decoders
  // ignore), a HEIC made by heif-enc, a plain JPEG; and one more to drop. Plus text named .jpg.
  files.big = join(dir, 'Harbour at dusk.jpg');
  await writeFile(files.big, Buffer.concat([makeLandscape(2400, 1600, 0), Buffer.alloc(5.5 * 1024 * 1024, 0)]));
  const heicSource = join(dir, 'lake.jpg');
  await writeFile(heicSource, makeLandscape(1200, 800, 1));
  files.heic = join(dir, 'Alpine lake.heic');
  await run('heif-enc', ['-q', '60', heicSource, '-o', files.heic]);
  files.jpeg = join(dir, `${TAKEN}.jpg`);
  await writeFile(files.jpeg, makeLandscape(1600, 1067, 2));
  files.dropped = join(dir, 'Morning fog.jpg');
  await writeFile(files.dropped, makeLandscape(1500, 1000, 3));
  files.fog = join(dir, 'Sea fog.jpg');
  await writeFile(files.fog, makeLandscape(1500, 1000, 4));
  files.notImage = join(dir, 'notes.jpg');
  await writeFile(files.notImage, 'these are notes, not a photo\n'.repeat(40));

  // npm start's own emulator, which admits the page's origin to POST files (scripts/dev.ts).
  service = await startService({ S3_BUCKET: 'gallery-web', DATA_DIR: dir, API_KEYS: API_KEY, GALLERY_ACCESS: 'public' });
  base = service.base;
  // Oldest first, so that the list's newest-first order is the reverse; the taken title among them.
  for (const [i, title] of [TAKEN, ...SEEDED].entries()) await seed(title, i);
  // Their copies are made by the processing function, from the emulator's S3 events: the page opens
  // on a settled gallery, each tile as the API says it stands.
  const settled = Date.now() + 60_000;
  while ((await listAll()).some((i) => i.processing === 'pending')) {
    if (Date.now() > settled) throw new Error(`the seeded photos were not processed:\n${service.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await service?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  await resetState();
});

/** A page of `/` in its own context (its own sessionStorage), recording what went wrong in it (tests/helpers/browser.ts). */
const openPage = (viewport: { width: number; height: number }) => openRecordedPage(browser, `${base}/`, viewport);

const tiles = (page: Page) => page.locator('#grid li.tile');
const tileTitles = (page: Page) => page.locator('#grid .caption-title').allTextContents();

/**
 * Every tile as the API says its image stands: the `thumb` variant (lazy, `display` in the srcset)
 * once `processing` is "ready", a placeholder while pending (or while the API has no such field),
 * a mark when failed. Returns how many tiles were of each kind.
 */
async function expectTilesAsTheApiSays(page: Page): Promise<{ ready: number; pending: number; failed: number }> {
  const byId = new Map((await listAll()).map((i) => [i.id, i]));
  const shown = await tiles(page).evaluateAll((lis) =>
    lis.map((li) => {
      const img = li.querySelector('img.thumb') as HTMLImageElement | null;
      return {
        id: (li as HTMLElement).dataset.id ?? '',
        state: (li as HTMLElement).dataset.state ?? '',
        img: img && { src: img.src, srcset: img.srcset, loading: img.loading },
        placeholder: li.querySelector('.placeholder')?.className ?? null,
      };
    }),
  );
  const counts = { ready: 0, pending: 0, failed: 0 };
  for (const tile of shown) {
    const image = byId.get(tile.id);
    expect(image, tile.id).toBeDefined();
    if (image?.processing === 'ready' && image.variants) {
      // Runs once the API has variants (the variants issue): the thumb, lazily, display in the srcset.
      expect(tile).toMatchObject({ state: 'ready', placeholder: null, img: { src: image.variants.thumb.url, loading: 'lazy' } });
      expect(tile.img?.srcset).toBe(
        `${image.variants.thumb.url} ${image.variants.thumb.width}w, ${image.variants.display.url} ${image.variants.display.width}w`,
      );
    } else if (image?.processing === 'failed') {
      expect(tile).toMatchObject({ state: 'failed', img: null, placeholder: 'placeholder failed' });
    } else {
      // Pending, or an API without `processing` yet: never the original as a thumbnail.
      expect(tile).toMatchObject({ state: 'pending', img: null, placeholder: 'placeholder pending' });
    }
    counts[tile.state as keyof typeof counts] += 1;
  }
  return counts;
}

/** axe-core's serious and critical violations, run inside the page with its CSP in force. */
const seriousViolations = (page: Page) => axeViolations(page);

/** Fires a drag and drop of `files` (name, type, bytes) on the page, as a person dropping files does. */
async function drop(page: Page, dropped: { name: string; type: string; base64?: string; size?: number }[]): Promise<void> {
  await page.evaluate((list) => {
    const transfer = new DataTransfer();
    for (const f of list) {
      const bytes = f.base64 ? Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0)) : new Uint8Array(f.size ?? 0);
      transfer.items.add(new File([bytes], f.name, { type: f.type }));
    }
    const target = document.querySelector('.dropzone') ?? document.body;
    for (const type of ['dragenter', 'dragover'])
      target.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
    (window as unknown as { overlayShown: boolean }).overlayShown = !document.getElementById('drop-overlay')?.hidden;
    target.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, dropped);
  expect(await page.evaluate(() => (window as unknown as { overlayShown: boolean }).overlayShown)).toBe(true);
  expect(await page.locator('#drop-overlay').isHidden()).toBe(true);
}

const uploadItem = (page: Page, filename: string) =>
  page.locator('#upload-list > li').filter({ has: page.locator('.upload-name', { hasText: filename }) });

describe.runIf(withTools)('the gallery page at / in Chromium, under npm start', () => {
  let desktop: Awaited<ReturnType<typeof openPage>>;

  beforeAll(async () => {
    desktop = await openPage({ width: 1280, height: 720 });
  });
  afterAll(async () => {
    await desktop?.context.close();
  });

  it('shows the newest photos first, a page at a time, and the next page as you scroll (the Link header)', async () => {
    const { page } = desktop;
    await expect.poll(() => tiles(page).count()).toBe(24);
    const newestFirst = (await listAll()).map((i) => i.title);
    expect(newestFirst).toHaveLength(31);
    expect(await tileTitles(page)).toEqual(newestFirst.slice(0, 24));
    // The first page fills the screen: nothing more is loaded until the end of the grid comes near.
    await page.waitForTimeout(500);
    expect(await tiles(page).count()).toBe(24);
    await page.locator('#sentinel').scrollIntoViewIfNeeded();
    await expect.poll(() => tiles(page).count()).toBe(31);
    expect(await tileTitles(page)).toEqual(newestFirst);
    // The second request is the first answer's Link header, as given.
    expect(desktop.seen.urls.filter((u) => /\/api\/v1\/images\/?\?/.test(u))).toEqual([
      `${base}/api/v1/images/?limit=24`,
      expect.stringMatching(new RegExp(`^${base}/api/v1/images\\?limit=24&cursor=[\\w-]+$`)),
    ]);
    expect(await page.locator('#more').isHidden()).toBe(true);
    const counts = await expectTilesAsTheApiSays(page);
    expect(counts.ready + counts.pending + counts.failed).toBe(31);
    await page.evaluate(() => window.scrollTo(0, 0));
  });

  it('uploads three photos by the file input and one by a drop, straight to the bucket, with a progress bar each', async () => {
    const { page, context, seen } = desktop;
    await page.locator('#file-input').setInputFiles([files.big, files.heic, files.jpeg]);
    await drop(page, [{ name: 'Morning fog.jpg', type: 'image/jpeg', base64: (await readFile(files.dropped)).toString('base64') }]);
    const items = page.locator('#upload-list > li');
    await expect.poll(() => items.count()).toBe(4);
    // Default titles: the file names without their extensions.
    expect(await items.locator('input[name="title"]').evaluateAll((inputs) => inputs.map((i) => (i as HTMLInputElement).value))).toEqual([
      'Harbour at dusk',
      'Alpine lake',
      TAKEN,
      'Morning fog',
    ]);
    expect(await page.locator('#start-uploads').textContent()).toBe('Upload 4 photos');

    // Sample the bars and how many uploads run at once, every frame, until all are done.
    await page.evaluate(() => {
      const w = window as unknown as { samples: Record<string, number[]>; maxRunning: number };
      w.samples = {};
      w.maxRunning = 0;
      const sample = () => {
        const lis: HTMLElement[] = [...document.querySelectorAll('#upload-list > li')];
        for (const li of lis) {
          const name = li.querySelector('.upload-name')?.firstChild?.textContent ?? '';
          w.samples[name] = [...(w.samples[name] ?? []), li.querySelector('progress')?.value ?? -1];
        }
        w.maxRunning = Math.max(
          w.maxRunning,
          lis.filter((li) => ['signing', 'sending', 'completing'].includes(li.dataset.state ?? '')).length,
        );
        if (lis.some((li) => li.dataset.state !== 'done' && li.dataset.state !== 'failed')) requestAnimationFrame(sample);
      };
      requestAnimationFrame(sample);
    });
    await page.locator('#start-uploads').click();

    // The service needs a key: the page asks once for all four uploads; a wrong key is refused and asked again.
    const keyDialog = page.locator('#key-dialog');
    await keyDialog.waitFor({ state: 'visible' });
    await page.locator('#key-input').fill('not-the-key-0123456789');
    await page.locator('#key-dialog button[type="submit"]').click();
    await expect.poll(() => page.locator('#key-error').textContent()).toBe(`That key was refused. ${new UnauthorizedError().message}`);
    await page.locator('#key-input').fill(API_KEY);
    await page.locator('#key-dialog button[type="submit"]').click();
    await keyDialog.waitFor({ state: 'hidden' });

    await expect
      .poll(() => items.evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.state)), { timeout: 60_000 })
      .toEqual(['done', 'done', 'done', 'done']);
    expect(await items.locator('progress').evaluateAll((bars) => bars.map((b) => (b as HTMLProgressElement).value))).toEqual([
      100, 100, 100, 100,
    ]);
    expect(await items.locator('.upload-status').allTextContents()).toEqual(['Uploaded', 'Uploaded', 'Uploaded', 'Uploaded']);
    const sampled = await page.evaluate(() => {
      const w = window as unknown as { samples: Record<string, number[]>; maxRunning: number };
      return { samples: w.samples, maxRunning: w.maxRunning };
    });
    for (const [name, values] of Object.entries(sampled.samples)) {
      expect(values.at(-1), name).toBe(100);
      expect(values, name).toEqual([...values].sort((a, b) => a - b));
    }
    expect(sampled.maxRunning).toBeLessThanOrEqual(3);
    expect(sampled.maxRunning).toBeGreaterThanOrEqual(2);

    // The taken default title became "Desert ridge (2)"; the key stayed in this tab, never in a URL or a cookie.
    expect(await items.locator('input[name="title"]').evaluateAll((inputs) => inputs.map((i) => (i as HTMLInputElement).value))).toContain(
      `${TAKEN} (2)`,
    );
    expect(await page.evaluate(() => sessionStorage.getItem('photo-gallery.api-key'))).toBe(API_KEY);
    expect(await context.cookies()).toEqual([]);
    expect(seen.urls.filter((u) => u.includes(API_KEY) || u.includes('not-the-key'))).toEqual([]);

    // Each went to the bucket, byte for byte, with its type judged by the server (HEIC included).
    const all = await listAll();
    const expected: [string, string, string, number, number][] = [
      ['Harbour at dusk', files.big, 'image/jpeg', 2400, 1600],
      ['Alpine lake', files.heic, 'image/heic', 1200, 800],
      [`${TAKEN} (2)`, files.jpeg, 'image/jpeg', 1600, 1067],
      ['Morning fog', files.dropped, 'image/jpeg', 1500, 1000],
    ];
    for (const [title, path, type, width, height] of expected) {
      const bytes = await readFile(path);
      expect(all.find((i) => i.title === title)).toMatchObject({
        content_type: type,
        size: bytes.byteLength,
        sha256: sha256(bytes),
        width,
        height,
      });
    }
    expect(
      all
        .map((i) => i.title)
        .slice(0, 4)
        .sort(),
    ).toEqual(expected.map((e) => e[0]).sort());
    // The four are first in the grid at once, as their thumbnails or placeholders say.
    expect((await tileTitles(page)).slice(0, 4).sort()).toEqual(expected.map((e) => e[0]).sort());
    expect(await tiles(page).count()).toBe(35);
    // Placeholders at first; the thumbnails appear once the processing function made them (the page
    // polls the pending ones), each as the API says.
    await expect
      .poll(async () => (await listAll()).filter((i) => expected.some(([title]) => title === i.title)).map((i) => i.processing), {
        timeout: 60_000,
      })
      .toEqual(['ready', 'ready', 'ready', 'ready']);
    await expect.poll(async () => (await expectTilesAsTheApiSays(page)).ready, { timeout: 60_000 }).toBeGreaterThanOrEqual(4);
    await expect
      .poll(() =>
        page.locator('#grid li.tile').evaluateAll(
          (lis, titles) =>
            lis
              .filter((li) => titles.includes(li.querySelector('.caption-title')?.textContent ?? ''))
              .every((li) => {
                const img = li.querySelector('img.thumb') as HTMLImageElement | null;
                return img?.complete && img.naturalWidth > 0;
              }),
          expected.map(([title]) => title),
        ),
      )
      .toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: `${SCREENSHOTS}/uploads-desktop.png` });
    expect(seen.problems).toEqual([]);
  });

  it("shows the server's detail beside a refused file: 415 not an image, 413 too large, 409 a title that is taken", async () => {
    const { page } = desktop;
    await page.locator('#clear-finished').click();
    await expect.poll(() => page.locator('#upload-list > li').count()).toBe(0);
    await page.locator('#file-input').setInputFiles([files.notImage]);
    // 101 MiB, above MAX_DIRECT_UPLOAD_BYTES: refused when signing, before a byte is sent.
    await drop(page, [{ name: 'huge.jpg', type: 'image/jpeg', size: 101 * 1024 * 1024 }]);
    await page.locator('#file-input').setInputFiles([files.fog]);
    const mine = uploadItem(page, 'Sea fog.jpg');
    // A title the person typed is theirs: a 409 is shown, not renumbered.
    await mine.locator('input[name="title"]').fill('Harbour at dusk');
    await page.locator('#start-uploads').click();
    await expect
      .poll(() => page.locator('#upload-list > li').evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.state)), {
        timeout: 30_000,
      })
      .toEqual(['failed', 'failed', 'failed']);
    expect(await uploadItem(page, 'notes.jpg').locator('.upload-error').textContent()).toBe(notAnImage().message);
    expect(await uploadItem(page, 'huge.jpg').locator('.upload-error').textContent()).toBe(directUploadTooLarge(100 * 1024 * 1024).message);
    expect(await mine.locator('.upload-error').textContent()).toBe(titleTaken().message);
    // Fixed and sent again.
    await mine.locator('input[name="title"]').fill('Morning fog, again');
    await mine.getByRole('button', { name: 'Try again' }).click();
    await expect.poll(() => mine.getAttribute('data-state'), { timeout: 30_000 }).toBe('done');
    expect((await tileTitles(page))[0]).toBe('Morning fog, again');
    for (const name of ['notes.jpg', 'huge.jpg']) await page.getByRole('button', { name: `Remove ${name}` }).click();
    await page.locator('#clear-finished').click();
    expect(await page.locator('#uploads').isHidden()).toBe(true);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: `${SCREENSHOTS}/gallery-desktop.png` });
  });

  it('offers the photo already in the gallery instead of sending its bytes again, and sends them only when asked', async () => {
    const { page, seen } = desktop;
    // The JPEG the first upload stored as "Desert ridge (2)" (its default title was taken).
    const existing = (await listAll()).find((i) => i.title === `${TAKEN} (2)`) as Image;
    expect(existing).toMatchObject({ sha256: sha256(await readFile(files.jpeg)), processing: 'ready' });
    const count = (await listAll()).length;
    const sent: string[] = [];
    const toTheBucket = (r: Request) => {
      if (r.method() === 'POST' && !r.url().startsWith(`${base}/`)) sent.push(r.url());
    };
    page.on('request', toTheBucket);
    try {
      // Every state the item goes through, with what it says then.
      await page.evaluate(() => {
        const w = window as unknown as { steps: string[] };
        w.steps = [];
        const list = document.getElementById('upload-list');
        new MutationObserver(() => {
          const li = list.querySelector('li');
          const step = li ? `${li.dataset.state}: ${li.querySelector('.upload-status')?.textContent}` : '';
          if (li && w.steps.at(-1) !== step) w.steps.push(step);
        }).observe(list, { subtree: true, childList: true, characterData: true, attributes: true });
      });
      await page.locator('#file-input').setInputFiles([files.jpeg]);
      const item = uploadItem(page, `${TAKEN}.jpg`);
      await page.locator('#start-uploads').click();
      await expect.poll(() => item.locator('.upload-status').textContent()).toBe(`Already in the gallery: ${TAKEN} (2)`);
      expect(await item.getAttribute('data-state')).toBe('duplicate');
      const link = item.locator('.upload-status a');
      expect(await link.getAttribute('href')).toBe(existing.variants?.display.url);
      expect(await link.textContent()).toBe(`${TAKEN} (2)`);
      const steps = await page.evaluate(() => (window as unknown as { steps: string[] }).steps);
      // (Queued and hashing in one go: the observer sees the second.)
      expect(steps.slice(0, 4)).toEqual([
        'ready: Ready to upload',
        'hashing: Checking for duplicates… 0 %',
        'hashing: Checking for duplicates… 100 %',
        'signing: Starting…',
      ]);
      expect(steps.at(-1)).toBe(`duplicate: Already in the gallery: ${TAKEN} (2)`);
      // Not a byte of it went to the bucket, and nothing was made.
      expect(steps.filter((step) => /^(sending|completing)/.test(step))).toEqual([]);
      expect(sent).toEqual([]);
      expect(await listAll()).toHaveLength(count);
      expect(await seriousViolations(page)).toEqual([]);
      await page.screenshot({ path: `${SCREENSHOTS}/duplicate-desktop.png` });

      // Asked for: sent, and a second image of the same bytes (its taken default title numbered on).
      await item.getByRole('button', { name: 'Upload anyway' }).click();
      await expect.poll(() => item.getAttribute('data-state'), { timeout: 30_000 }).toBe('done');
      expect(sent).toHaveLength(1);
      const copies = (await listAll()).filter((i) => i.sha256 === existing.sha256).map((i) => i.title);
      expect(copies.sort()).toEqual([`${TAKEN} (2)`, `${TAKEN} (3)`]);
    } finally {
      page.off('request', toTheBucket);
    }
    await page.locator('#clear-finished').click();
    expect(seen.problems).toEqual([]);
  });

  it('opens a photo large with its facts and the original; ← and → move, Esc closes', async () => {
    const { page } = desktop;
    const all = await listAll();
    const harbour = all.find((i) => i.title === 'Harbour at dusk') as Image;
    expect(harbour).toMatchObject({ processing: 'ready', variants: { display: { width: 2048, height: 1365 } } });
    const titles = await tileTitles(page);
    const at = titles.indexOf('Harbour at dusk');
    await tiles(page).nth(at).locator('button').click();
    const viewer = page.locator('#viewer');
    await viewer.waitFor({ state: 'visible' });
    expect(await page.locator('#viewer-title').textContent()).toBe('Harbour at dusk');
    expect(await page.locator('#viewer-description').textContent()).toBe('No description');
    expect(await page.locator('#viewer-dimensions').textContent()).toBe('2400 × 1600 px');
    expect(await page.locator('#viewer-size').textContent()).toBe(
      `${new Intl.NumberFormat('en', { maximumFractionDigits: 1 }).format(harbour.size / 1e6)} MB`,
    );
    expect(await page.locator('#viewer-date').getAttribute('datetime')).toBe(harbour.created_at);
    expect(await page.locator('#viewer-date').textContent()).toMatch(/\d{4}/);
    const unsigned = (url: string | null) => new URL(url ?? '').pathname;
    expect(unsigned(await page.locator('#viewer-original').getAttribute('href'))).toBe(unsigned(harbour.file_url));
    // The display variant (2048 px), not the 2400 px original, which the link offers.
    await expect
      .poll(() => page.locator('#viewer-image').evaluate((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth))
      .toBe(2048);
    expect(await page.locator('#viewer-image').getAttribute('src')).toBe(harbour.variants?.display.url);
    expect(await page.locator('#viewer-image').getAttribute('alt')).toBe('Harbour at dusk');
    await page.screenshot({ path: `${SCREENSHOTS}/photo-desktop.png` });
    expect(await seriousViolations(page)).toEqual([]);

    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.locator('#viewer-title').textContent()).toBe(titles[at + 1]);
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => page.locator('#viewer-title').textContent()).toBe(titles[at - 1]);
    expect(await page.locator('#viewer-position').textContent()).toBe(`${at} of ${titles.length}`);
    await page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'hidden' });

    // A HEIC, which Chromium cannot show: its display variant, a WebP, is what the view shows.
    const lake = all.find((i) => i.title === 'Alpine lake') as Image;
    await tiles(page)
      .nth((await tileTitles(page)).indexOf('Alpine lake'))
      .locator('button')
      .click();
    await viewer.waitFor({ state: 'visible' });
    expect(await page.locator('#viewer-type').textContent()).toBe('image/heic');
    expect(lake).toMatchObject({ processing: 'ready' });
    await expect.poll(() => page.locator('#viewer-image').getAttribute('src')).toBe(lake.variants?.display.url);
    await expect.poll(() => page.locator('#viewer-image').evaluate((i) => (i as HTMLImageElement).naturalWidth)).toBe(1200);
    expect(await page.locator('#viewer-fallback').isHidden()).toBe(true);
    await page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'hidden' });
    // Focus goes back to the photo's tile.
    expect(await page.evaluate(() => document.activeElement?.closest('li')?.querySelector('.caption-title')?.textContent)).toBe(
      'Alpine lake',
    );
  });

  it('edits a title and description in place, showing the 409 and 422 details, and deletes a photo after confirming', async () => {
    const { page, seen } = desktop;
    const at = (await tileTitles(page)).indexOf('Morning fog');
    await tiles(page).nth(at).locator('button').click();
    await page.locator('#edit').click();
    const title = page.locator('#edit-title');
    expect(await title.evaluate((el) => el === document.activeElement)).toBe(true);
    await title.fill('Harbour at dusk');
    await page.locator('#edit-save').click();
    await expect.poll(() => page.locator('#edit-title-error').textContent()).toBe(titleTaken().message);
    expect(await title.getAttribute('aria-invalid')).toBe('true');
    await title.fill('x'.repeat(33));
    await page.locator('#edit-save').click();
    await expect.poll(() => page.locator('#edit-title-error').textContent()).toBe('title must be at most 32 characters');
    expect(await seriousViolations(page)).toEqual([]);

    await title.fill('Morning fog over the bay');
    await page.locator('#edit-description').fill('Seen from the ferry');
    await page.locator('#edit-save').click();
    await expect.poll(() => page.locator('#viewer-title').textContent()).toBe('Morning fog over the bay');
    expect(await page.locator('#viewer-description').textContent()).toBe('Seen from the ferry');
    expect((await tileTitles(page))[at]).toBe('Morning fog over the bay');
    const id = await tiles(page).nth(at).getAttribute('data-id');
    expect(await (await api(`/api/v1/images/${id}`)).json()).toMatchObject({
      title: 'Morning fog over the bay',
      description: 'Seen from the ferry',
    });

    // Delete: asked first; Cancel keeps it, Delete removes it from the grid and the service.
    const before = await tiles(page).count();
    await page.locator('#delete').click();
    await page.locator('#confirm').waitFor({ state: 'visible' });
    expect(await page.locator('#confirm-text').textContent()).toBe(
      '“Morning fog over the bay” and its file will be deleted. This cannot be undone.',
    );
    await page.locator('#confirm-cancel').click();
    expect(await tiles(page).count()).toBe(before);
    await page.locator('#delete').click();
    await page.locator('#confirm-ok').click();
    await expect.poll(() => tiles(page).count()).toBe(before - 1);
    expect(await page.locator(`#grid [data-id="${id}"]`).count()).toBe(0);
    expect((await api(`/api/v1/images/${id}`)).status).toBe(404);
    // The view moved on to the photo that took its place.
    expect(await page.locator('#viewer-title').textContent()).toBe((await tileTitles(page))[at]);
    await page.keyboard.press('Escape');
    expect(seen.problems).toEqual([]);
  });

  it("keeps its CSP: the browser refuses an inline script, and the page's own requests stay on its origins", async () => {
    const { page, seen } = desktop;
    await expect(page.addScriptTag({ content: 'window.injected = true' })).rejects.toThrow(/Content Security Policy/);
    expect(await page.evaluate(() => 'injected' in window)).toBe(false);
    const s3 = new URL((await listAll())[0]?.file_url ?? '').origin;
    expect(
      seen.urls.filter((u) => !u.startsWith(`${base}/`) && !u.startsWith(`${s3}/`) && !u.startsWith('blob:') && !u.startsWith('data:')),
    ).toEqual([]);
  });
});

describe.runIf(withTools)('the gallery page at a phone’s width (390 px)', () => {
  it('fits the width, two photos a row, the large view and the upload list usable', async () => {
    const { page, context, seen } = await openPage({ width: 390, height: 844 });
    try {
      await expect.poll(() => tiles(page).count()).toBe(24);
      const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(await overflow()).toBe(0);
      const lefts = await tiles(page).evaluateAll((lis) => lis.slice(0, 4).map((li) => Math.round(li.getBoundingClientRect().left)));
      expect(new Set(lefts).size).toBe(2);
      await page.screenshot({ path: `${SCREENSHOTS}/gallery-phone.png` });
      expect(await seriousViolations(page)).toEqual([]);

      await page.locator('#file-input').setInputFiles([files.jpeg, files.heic]);
      await expect.poll(() => page.locator('#upload-list > li').count()).toBe(2);
      expect(await overflow()).toBe(0);
      expect(await seriousViolations(page)).toEqual([]);
      for (const name of [`${TAKEN}.jpg`, 'Alpine lake.heic']) await page.getByRole('button', { name: `Remove ${name}` }).click();

      await tiles(page).first().locator('button').click();
      await page.locator('#viewer').waitFor({ state: 'visible' });
      await expect.poll(() => page.locator('#viewer-image').evaluate((i) => (i as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
      const box = await page.locator('#viewer').boundingBox();
      expect(box?.width).toBe(390);
      await page.screenshot({ path: `${SCREENSHOTS}/photo-phone.png` });
      expect(await seriousViolations(page)).toEqual([]);
      await page.locator('#viewer-close').click();
      await page.locator('#viewer').waitFor({ state: 'hidden' });
      expect(seen.problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
