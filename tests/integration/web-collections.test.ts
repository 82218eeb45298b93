/**
 * The owner's page with albums, search, sort by date taken, selection and share links, and a share's
 * read-only page (/s/<token>), in a real browser (Debian's chromium, driven by playwright-core)
 * against the service as `npm start` runs it with an API key and the gallery private. The photos
 * carry EXIF dates, cameras and exposures written by exiftool. axe-core runs on every screen at a
 * desktop's and a phone's width; screenshots go to artifacts/screenshots/.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { albumTitleTaken } from '../../lib/albums/errors';
import { UnauthorizedError } from '../../lib/errors';
import { wrongPassword } from '../../lib/shares/errors';
import { makeLandscape } from '../../support/images';
import { axeViolations, openPage, type Seen } from '../helpers/browser';
import { type LocalService, launchChromium, startService } from '../helpers/local-service';
import { resetState } from '../helpers/state';
import { runsWith } from '../helpers/tools';

// The callbacks given to page.evaluate run in the browser; see web.test.ts.
// biome-ignore lint/suspicious/noExplicitAny: browser globals seen from Node's types, for page.evaluate callbacks only
type InPage = any;
declare const window: InPage, document: InPage, navigator: InPage, sessionStorage: InPage;

const run = promisify(execFile);
const withTools = runsWith('the albums, search and share pages in Chromium (web-collections.test.ts)', 'chromium', 'exiftool');
const SCREENSHOTS = 'artifacts/screenshots';
const API_KEY = 'web-collections-key-0123456789';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

interface Image {
  id: string;
  title: string;
  created_at: string;
  processing: string;
  taken_at: string | null;
}

/**
 * The photos, oldest upload first, each with what exiftool writes into it: DateTimeOriginal (and
 * OffsetTimeOriginal), camera, lens and exposure. Uploaded in this order, taken in another.
 */
const PHOTOS: { title: string; description: string; exif: string[] }[] = [
  {
    title: 'Snowy ridge',
    description: 'Winter hike',
    exif: [
      '-DateTimeOriginal=2024:12:24 12:00:00',
      '-Make=Canon',
      '-Model=Canon EOS R5',
      '-LensModel=RF24-70mm F2.8 L IS USM',
      '-FNumber=8',
      '-ExposureTime=1/1000',
      '-ISO=100',
      '-FocalLength=35',
    ],
  },
  {
    title: 'Café terrace',
    description: 'Café at dusk',
    exif: [
      '-DateTimeOriginal=2025:07:14 18:03:11',
      '-OffsetTimeOriginal=+02:00',
      '-Make=Apple',
      '-Model=iPhone 15 Pro',
      '-LensModel=iPhone 15 Pro back camera 6.86mm f/1.78',
      '-FNumber=1.78',
      '-ExposureTime=1/250',
      '-ISO=80',
      '-FocalLength=6.86',
    ],
  },
  { title: 'Screenshot', description: 'Saved from the web', exif: [] },
  { title: 'Old town', description: 'Evening stroll', exif: ['-DateTimeOriginal=2024:12:20 20:30:00', '-OffsetTimeOriginal=+01:00'] },
  {
    title: 'Harbour walk',
    description: 'Boats in the bay',
    exif: ['-DateTimeOriginal=2025:07:02 09:15:00', '-OffsetTimeOriginal=+02:00', '-Make=FUJIFILM', '-Model=X-T5', '-FNumber=5.6'],
  },
  { title: 'Meadow', description: 'Spring flowers', exif: [] },
];

let service: LocalService | undefined;
let base = '';
let dir = '';
let browser: Browser;

/** The API over HTTP, with the key. */
async function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${API_KEY}`, ...(init.headers ?? {}) } });
}
const getJson = async <T>(path: string): Promise<T> => (await (await api(path)).json()) as T;
const images = () => getJson<Image[]>('/api/v1/images/?limit=100');
const idOf = async (title: string) => (await images()).find((i) => i.title === title)?.id ?? '';

beforeAll(async () => {
  if (!withTools) return;
  await resetState();
  dir = await mkdtemp(join(tmpdir(), 'gallery-collections-'));
  await mkdir(SCREENSHOTS, { recursive: true });
  // npm start with a key: the gallery is private (GALLERY_ACCESS's default when keys are set).
  service = await startService({ S3_BUCKET: 'gallery-web-collections', DATA_DIR: dir, API_KEYS: API_KEY });
  base = service.base;
  for (const [i, photo] of PHOTOS.entries()) {
    const path = join(dir, `photo-${i}.jpg`);
    await writeFile(path, makeLandscape(900, 600, i + 11));
    if (photo.exif.length > 0) await run('exiftool', ['-overwrite_original', ...photo.exif, path]);
    const form = new FormData();
    form.append('title', photo.title);
    form.append('description', photo.description);
    form.append('file', new Blob([await readFile(path)], { type: 'image/jpeg' }), `${photo.title}.jpg`);
    const res = await api('/api/v1/images/', { method: 'POST', body: form });
    expect(res.status, await res.clone().text()).toBe(201);
  }
  // The processing reads the EXIF (lib/variants/exif.ts): the page opens once every photo is ready.
  const settled = Date.now() + 90_000;
  while ((await images()).some((i) => i.processing !== 'ready')) {
    if (Date.now() > settled) throw new Error(`the photos were not processed:\n${service.output()}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await service?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  await resetState();
});

const titles = (page: Page) => page.locator('#grid .caption-title').allTextContents();
/** A photo's tile button, by its exact title. */
const tile = (page: Page, title: string) =>
  page
    .locator('#grid li.tile')
    .filter({ has: page.locator('.caption-title', { hasText: new RegExp(`^${title}$`) }) })
    .locator('button');
const albumCard = (page: Page, title: string) =>
  page.locator('#album-list li').filter({ has: page.locator('.album-title', { hasText: new RegExp(`^${title}$`) }) });
const pressed = (page: Page) =>
  page
    .locator('#grid li.tile button[aria-pressed="true"]')
    .evaluateAll((buttons) => buttons.map((b) => b.querySelector('.caption-title').textContent));
/** Text as a person reads it: no-break spaces (the page's, and ICU's before "PM") as spaces. */
const plain = (text: string | null) => (text ?? '').replace(/[\u00a0\u202f]/g, ' ');

/**
 * The screen as it is, at a desktop's and then a phone's width: no axe-core violation of any impact,
 * no horizontal overflow at 390 px, a screenshot of each. Leaves the page at the desktop width.
 */
async function checkScreen(page: Page, name: string): Promise<void> {
  for (const [size, viewport] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const) {
    await page.setViewportSize(viewport);
    await page.evaluate(() => new Promise((resolve) => window.requestAnimationFrame(resolve)));
    expect(await axeViolations(page, { all: true }), `${name} at ${size} width`).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), `${name} at ${size} width`).toBe(0);
    await page.screenshot({ path: `${SCREENSHOTS}/${name}-${size}.png` });
  }
  await page.setViewportSize(DESKTOP);
}

describe.runIf(withTools)("the owner's page of a private gallery, and a share's page, in Chromium under npm start", () => {
  let owner: { page: Page; context: BrowserContext; seen: Seen };
  let shareLink = '';
  let viewer: { page: Page; context: BrowserContext; seen: Seen };

  afterAll(async () => {
    await owner?.context.close();
    await viewer?.context.close();
  });

  it('asks for the key before it shows anything, and refuses a wrong key with the server’s detail', async () => {
    owner = await openPage(browser, `${base}/`, DESKTOP);
    const { page, seen } = owner;
    await page.locator('#key-dialog').waitFor({ state: 'visible' });
    expect(await page.locator('#key-title').textContent()).toBe('This gallery is private');
    // Nothing of the gallery behind the dialog: no photos, albums, upload or key buttons.
    expect(await page.locator('#content').isHidden()).toBe(true);
    expect(await page.locator('#owner-actions').isHidden()).toBe(true);
    expect(await page.locator('#grid li').count()).toBe(0);
    await checkScreen(page, 'private-key');

    await page.locator('#key-input').fill('not-the-key-0123456789');
    await page.locator('#key-dialog button[type="submit"]').click();
    await expect.poll(() => page.locator('#key-error').textContent()).toBe(`That key was refused. ${new UnauthorizedError().message}`);
    expect(await page.locator('#key-input').getAttribute('aria-invalid')).toBe('true');
    // Declined: the page stays closed, and says how to open it.
    await page.locator('#key-cancel').click();
    await page.locator('#locked').waitFor({ state: 'visible' });
    expect(await page.locator('#content').isHidden()).toBe(true);
    await checkScreen(page, 'private-locked');

    await page.locator('#unlock').click();
    await page.locator('#key-input').fill(API_KEY);
    await page.locator('#key-dialog button[type="submit"]').click();
    await expect.poll(() => titles(page)).toEqual(PHOTOS.map((p) => p.title).reverse());
    expect(await page.locator('#locked').isHidden()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.getItem('photo-gallery.api-key'))).toBe(API_KEY);
    expect(seen.urls.filter((u) => u.includes(API_KEY))).toEqual([]);
    expect(seen.problems).toEqual([]);
  });

  it('makes two albums from selections (a modifier-click, the keyboard, the select mode) and the viewer, with counts and covers', async () => {
    const { page, seen } = owner;
    // Ctrl+click, ⌘+click and Ctrl+Enter select without opening anything.
    await tile(page, 'Café terrace').click({ modifiers: ['Control'] });
    await tile(page, 'Harbour walk').click({ modifiers: ['Meta'] });
    await tile(page, 'Meadow').focus();
    await page.keyboard.press('Control+Enter');
    expect(await page.locator('#viewer').isHidden()).toBe(true);
    expect(await page.locator('#selection-count').textContent()).toBe('3 photos selected');
    expect((await pressed(page)).sort()).toEqual(['Café terrace', 'Harbour walk', 'Meadow']);
    expect(await page.locator('#grid li.tile button[aria-pressed="false"]').count()).toBe(3);
    await checkScreen(page, 'selection');

    await page.locator('#selection-add').click();
    await page.locator('#add-dialog').waitFor({ state: 'visible' });
    expect(await page.locator('#add-dialog-title').textContent()).toBe('Add 3 photos to an album');
    await page.getByRole('button', { name: 'New album…' }).click();
    await page.locator('#album-dialog').waitFor({ state: 'visible' });
    expect(await page.evaluate(() => document.activeElement.id)).toBe('album-title');
    await page.locator('#album-title').fill('Summer');
    await page.locator('#album-description').fill('Two weeks by the sea');
    await checkScreen(page, 'album-new');
    await page.locator('#album-save').click();
    await page.locator('#add-dialog').waitFor({ state: 'hidden' });
    await expect.poll(() => albumCard(page, 'Summer').locator('.album-count').textContent()).toBe('3 photos');
    // The selection is done with; the focus is back on the Select button.
    expect(await page.locator('#selection-bar').isHidden()).toBe(true);
    expect(await page.evaluate(() => document.activeElement.id)).toBe('select-mode');

    // The select mode (for touch): a plain tap, or Space, toggles.
    await page.locator('#select-mode').click();
    expect(await page.locator('#select-mode').getAttribute('aria-pressed')).toBe('true');
    await tile(page, 'Snowy ridge').click();
    await tile(page, 'Screenshot').focus();
    await page.keyboard.press('Space');
    await page.keyboard.press('Space');
    await tile(page, 'Old town').focus();
    await page.keyboard.press('Enter');
    expect((await pressed(page)).sort()).toEqual(['Old town', 'Snowy ridge']);
    await page.locator('#selection-add').click();
    await page.getByRole('button', { name: 'New album…' }).click();
    await page.locator('#album-title').fill('Winter');
    await page.locator('#album-save').click();
    await page.locator('#add-dialog').waitFor({ state: 'hidden' });
    await expect.poll(() => albumCard(page, 'Winter').locator('.album-count').textContent()).toBe('2 photos');

    // "Add to album" in the large view: an album that is there already.
    await tile(page, 'Old town').click();
    await page.locator('#viewer').waitFor({ state: 'visible' });
    await page.locator('#viewer-add').click();
    await page
      .locator('#add-list')
      .getByRole('button', { name: /^Summer/ })
      .click();
    await page.locator('#add-dialog').waitFor({ state: 'hidden' });
    await expect.poll(() => albumCard(page, 'Summer').locator('.album-count').textContent()).toBe('4 photos');
    await page.keyboard.press('Escape');
    await page.locator('#viewer').waitFor({ state: 'hidden' });

    // As the API has them: newest first, each cover the newest upload in it, shown by its thumbnail.
    const albums =
      await getJson<{ title: string; image_count: number; cover: { image_id: string; thumb: { url: string } } }[]>('/api/v1/albums/');
    expect(albums.map((a) => [a.title, a.image_count])).toEqual([
      ['Winter', 2],
      ['Summer', 4],
    ]);
    expect(albums.map((a) => a.cover.image_id)).toEqual([await idOf('Old town'), await idOf('Meadow')]);
    await expect
      .poll(() => page.locator('#album-list .album-cover img').evaluateAll((imgs) => imgs.map((i) => i.src)))
      .toEqual(albums.map((a) => a.cover.thumb.url));
    await expect
      .poll(() => page.locator('#album-list img').evaluateAll((imgs) => imgs.every((i) => i.complete && i.naturalWidth > 0)))
      .toBe(true);
    await checkScreen(page, 'albums');
    expect(seen.problems).toEqual([]);
  });

  it("opens an album's own grid, takes photos out of it, renames it (a taken title refused) and deletes it", async () => {
    const { page, seen } = owner;
    await albumCard(page, 'Summer').locator('button').click();
    const summer = await getJson<{ id: string }[]>('/api/v1/albums/').then((all) => all[1]?.id ?? '');
    await expect.poll(() => page.url()).toBe(`${base}/?album=${summer}`);
    await expect.poll(() => titles(page)).toEqual(['Meadow', 'Harbour walk', 'Old town', 'Café terrace']);
    expect(await page.locator('#photos-heading').textContent()).toBe('Summer');
    expect(await page.locator('#album-about').textContent()).toBe('4 photos · Two weeks by the sea');
    expect(await albumCard(page, 'Summer').locator('button').getAttribute('aria-current')).toBe('true');
    await checkScreen(page, 'album');

    // Out of the album by a selection, and from the large view; the photos stay in the gallery.
    await tile(page, 'Meadow').click({ modifiers: ['Control'] });
    await page.locator('#selection-remove').click();
    await expect.poll(() => titles(page)).toEqual(['Harbour walk', 'Old town', 'Café terrace']);
    await tile(page, 'Old town').click();
    await page.locator('#viewer-remove').click();
    await expect.poll(() => titles(page)).toEqual(['Harbour walk', 'Café terrace']);
    expect(await page.locator('#viewer-title').textContent()).toBe('Café terrace');
    await page.keyboard.press('Escape');
    await expect.poll(() => albumCard(page, 'Summer').locator('.album-count').textContent()).toBe('2 photos');
    expect((await getJson<Image[]>(`/api/v1/images/?album=${summer}`)).map((i) => i.title)).toEqual(['Harbour walk', 'Café terrace']);
    expect((await images()).length).toBe(PHOTOS.length);

    await page.locator('#album-rename').click();
    expect(await page.locator('#album-title').inputValue()).toBe('Summer');
    await page.locator('#album-title').fill('Winter');
    await page.locator('#album-save').click();
    await expect.poll(() => page.locator('#album-title-error').textContent()).toBe(albumTitleTaken().message);
    await page.locator('#album-title').fill('Summer 2025');
    await page.locator('#album-save').click();
    await page.locator('#album-dialog').waitFor({ state: 'hidden' });
    await expect.poll(() => page.locator('#photos-heading').textContent()).toBe('Summer 2025');
    await expect.poll(() => albumCard(page, 'Summer 2025').count()).toBe(1);

    // Back and Forward move between the album and all photos.
    await page.goBack();
    await expect.poll(() => titles(page)).toHaveLength(PHOTOS.length);
    await page.goForward();
    await expect.poll(() => titles(page)).toEqual(['Harbour walk', 'Café terrace']);

    // Asked first: Cancel keeps it.
    await page.locator('#album-delete').click();
    await page.locator('#confirm').waitFor({ state: 'visible' });
    expect(await page.locator('#confirm-title').textContent()).toBe('Delete this album?');
    await page.locator('#confirm-cancel').click();
    await page.locator('#confirm').waitFor({ state: 'hidden' });
    expect(await page.evaluate(() => document.activeElement.id)).toBe('album-delete');
    await page.locator('#album-delete').click();
    await page.locator('#confirm-ok').click();
    await expect.poll(() => page.url()).toBe(`${base}/`);
    await expect.poll(() => page.locator('#album-list .album-title').allTextContents()).toEqual(['Winter']);
    await expect.poll(() => titles(page)).toHaveLength(PHOTOS.length);
    expect((await api(`/api/v1/albums/${summer}`)).status).toBe(404);
    expect(seen.problems).toEqual([]);
  });

  it('finds a photo by a word of its description, accents aside, and sorts by the day taken under month headings', async () => {
    const { page, seen } = owner;
    await page.locator('#search').fill('cafe');
    await expect.poll(() => titles(page)).toEqual(['Café terrace']);
    expect(await page.locator('#photos-heading').textContent()).toBe('Photos matching “cafe”');
    expect(seen.urls.some((u) => u.endsWith('/api/v1/images/?limit=24&q=cafe'))).toBe(true);
    await page.locator('#search').fill('DUSK caf');
    await expect.poll(() => titles(page)).toEqual(['Café terrace']);
    await page.locator('#search').fill('glacier');
    await expect.poll(() => page.locator('#empty-title').textContent()).toBe('No photos match “glacier”');
    await checkScreen(page, 'search-empty');
    await page.locator('#search').fill('');
    await expect.poll(() => titles(page)).toHaveLength(PHOTOS.length);

    const months = () =>
      page
        .locator('#grid .month')
        .evaluateAll((sections) =>
          sections.map((s) => [s.querySelector('h3').textContent, [...s.querySelectorAll('.caption-title')].map((t) => t.textContent)]),
        );
    // By upload: one month, this one, as the reader's clock has it.
    const uploaded = new Intl.DateTimeFormat('en-US', { month: 'long', year: 'numeric' }).format(
      new Date((await images())[0]?.created_at ?? ''),
    );
    expect(await months()).toEqual([[uploaded, PHOTOS.map((p) => p.title).reverse()]]);

    await page.getByRole('radio', { name: 'Taken' }).check();
    await expect.poll(() => page.url()).toBe(`${base}/?sort=taken`);
    const byTaken = (await getJson<Image[]>('/api/v1/images/?sort=taken')).map((i) => i.title);
    await expect.poll(() => titles(page)).toEqual(byTaken);
    expect(await months()).toEqual([
      ['July 2025', ['Café terrace', 'Harbour walk']],
      ['December 2024', ['Snowy ridge', 'Old town']],
      ['Unknown date', ['Meadow', 'Screenshot']],
    ]);
    expect(await tile(page, 'Old town').locator('.caption-date').textContent()).toBe('Dec 20, 2024');
    // The order is in the address: a reload keeps it.
    await page.reload();
    await expect.poll(() => titles(page)).toEqual(byTaken);
    expect(await page.getByRole('radio', { name: 'Taken' }).isChecked()).toBe(true);
    await checkScreen(page, 'taken');

    // The large view: when, with what, and how.
    const cafe = (await images()).find((i) => i.title === 'Café terrace');
    await tile(page, 'Café terrace').click();
    await page.locator('#viewer').waitFor({ state: 'visible' });
    expect(plain(await page.locator('#viewer-taken').textContent())).toBe('Jul 14, 2025, 6:03 PM (UTC+02:00)');
    expect(await page.locator('#viewer-taken').getAttribute('datetime')).toBe(cafe?.taken_at);
    expect(await page.locator('#viewer-camera').textContent()).toBe('Apple iPhone 15 Pro');
    expect(await page.locator('#viewer-lens').textContent()).toBe('iPhone 15 Pro back camera 6.86mm f/1.78');
    expect(plain(await page.locator('#viewer-exposure').textContent())).toBe('f/1.8 · 1/250 s · ISO 80 · 6.9 mm');
    await expect.poll(() => page.locator('#viewer-image').evaluate((i) => i.complete && i.naturalWidth)).toBe(900);
    await checkScreen(page, 'photo-taken');
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.locator('#viewer-title').textContent()).toBe('Harbour walk');
    expect(await page.locator('#viewer-camera').textContent()).toBe('FUJIFILM X-T5');
    expect(await page.locator('#viewer-lens').isHidden()).toBe(true);
    expect(plain(await page.locator('#viewer-exposure').textContent())).toBe('f/5.6');
    await page.keyboard.press('ArrowRight');
    // No offset recorded: the camera's clock, no zone.
    expect(plain(await page.locator('#viewer-taken').textContent())).toBe('Dec 24, 2024, 12:00 PM');
    expect(plain(await page.locator('#viewer-exposure').textContent())).toBe('f/8 · 1/1000 s · ISO 100 · 35 mm');
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.locator('#viewer-title').textContent()).toBe('Screenshot');
    for (const fact of ['taken', 'camera', 'lens', 'exposure']) expect(await page.locator(`#viewer-${fact}`).isHidden(), fact).toBe(true);
    await page.keyboard.press('Escape');
    await page.getByRole('radio', { name: 'Uploaded' }).check();
    await expect.poll(() => page.url()).toBe(`${base}/`);
    expect(seen.problems).toEqual([]);
  });

  it('shares three photos with a password; a private window sees exactly them, read-only, once it gives the password', async () => {
    const { page, context } = owner;
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    await page.locator('#select-mode').click();
    for (const title of ['Café terrace', 'Snowy ridge', 'Screenshot']) await tile(page, title).click();
    await page.locator('#selection-share').click();
    await page.locator('#share-dialog').waitFor({ state: 'visible' });
    expect(await page.locator('#share-dialog-title').textContent()).toBe('Share 3 photos');
    await page.locator('#share-title').fill('For Ana');
    await page.locator('#share-description').fill('Three from the trip');
    await page.locator('#share-password').fill('short');
    await checkScreen(page, 'share-dialog');
    await page.locator('#share-create').click();
    await expect.poll(() => page.locator('#share-password-error').textContent()).toBe('password must be at least 8 characters');
    await page.locator('#share-password').fill('correct horse battery');
    await page.locator('#share-create').click();
    await page.locator('#share-result').waitFor({ state: 'visible' });
    shareLink = await page.locator('#share-link').inputValue();
    expect(shareLink).toMatch(new RegExp(`^${base}/s/[A-Za-z0-9_-]{22,}$`));
    await page.locator('#share-copy').click();
    await expect.poll(() => page.locator('#share-copied').textContent()).toBe('Link copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(shareLink);
    await checkScreen(page, 'share-link');
    await page.locator('#share-done').click();
    expect(await page.locator('#selection-bar').isHidden()).toBe(true);
    const [share] = await getJson<{ url: string; image_count: number; has_password: boolean; title: string }[]>('/api/v1/shares/');
    expect(share).toMatchObject({ url: new URL(shareLink).pathname, image_count: 3, has_password: true, title: 'For Ana' });

    // A private window: no key, no access token; the password first.
    viewer = await openPage(browser, shareLink, DESKTOP);
    const v = viewer.page;
    await v.locator('#locked').waitFor({ state: 'visible' });
    expect(await v.locator('#content').isHidden()).toBe(true);
    expect(await v.locator('#grid li').count()).toBe(0);
    await checkScreen(v, 'share-locked');
    await v.locator('#password').fill('not the password');
    await v.locator('#unlock').click();
    await expect.poll(() => v.locator('#password-error').textContent()).toBe(wrongPassword().message);
    await v.locator('#password').fill('correct horse battery');
    await v.locator('#unlock').click();
    await expect.poll(async () => (await titles(v)).sort()).toEqual(['Café terrace', 'Screenshot', 'Snowy ridge']);
    expect(await v.locator('#share-title').textContent()).toBe('For Ana');
    expect(await v.locator('#share-description').textContent()).toBe('Three from the trip');
    expect(await v.locator('#share-about').textContent()).toBe('3 photos');
    // Read-only: nothing to upload, edit, delete, add, share or key in.
    expect(
      await v.locator('input[type="file"], #edit, #delete, #key-dialog, #upload-button, #forget-key, #selection-bar, #viewer-add').count(),
    ).toBe(0);
    expect(await v.getByRole('button', { name: /upload|edit|delete|key|album|share|select/i }).count()).toBe(0);
    await checkScreen(v, 'share');

    await tile(v, 'Café terrace').click();
    await v.locator('#viewer').waitFor({ state: 'visible' });
    expect(await v.locator('#viewer-camera').textContent()).toBe('Apple iPhone 15 Pro');
    expect(await v.locator('#viewer-original').isHidden()).toBe(true);
    await expect.poll(() => v.locator('#viewer-image').evaluate((i) => i.complete && i.naturalWidth)).toBe(900);
    await checkScreen(v, 'share-photo');
    await v.keyboard.press('Escape');

    // The access token is kept for this share in this tab; no owner's key, no owner's endpoint.
    const token = new URL(shareLink).pathname.split('/')[2];
    expect(await v.evaluate(() => Object.keys(sessionStorage))).toEqual([`photo-gallery.share.${token}`]);
    expect(viewer.seen.urls.filter((u) => /\/api\/v1\/(images|albums|shares|uploads)/.test(u))).toEqual([]);
    expect(viewer.seen.problems).toEqual([]);
  });

  it("revokes the link in the owner's page; the share's page then says it was revoked or never existed", async () => {
    const { page, seen } = owner;
    await page.locator('#share-links').click();
    await page.locator('#shares-dialog').waitFor({ state: 'visible' });
    const item = page.locator('#shares-list li').filter({ hasText: 'For Ana' });
    await item.waitFor();
    expect(plain(await item.locator('.share-meta').textContent())).toBe('3 photos · password · no expiry');
    expect(await item.locator('input').inputValue()).toBe(shareLink);
    await checkScreen(page, 'share-links');
    await item.getByRole('button', { name: 'Revoke' }).click();
    await page.locator('#confirm').waitFor({ state: 'visible' });
    await page.locator('#confirm-ok').click();
    await expect.poll(() => page.locator('#shares-list li').count()).toBe(0);
    expect(await page.locator('#shares-empty').isVisible()).toBe(true);
    expect(await page.evaluate(() => document.activeElement.id)).toBe('shares-close');
    await page.keyboard.press('Escape');
    expect(await getJson('/api/v1/shares/')).toEqual([]);

    const v = viewer.page;
    await v.reload();
    await v.locator('#gone').waitFor({ state: 'visible' });
    expect(await v.locator('#gone-heading').textContent()).toBe('This link was revoked, or never existed');
    expect(await v.locator('#content').isHidden()).toBe(true);
    await checkScreen(v, 'share-revoked');
    expect(seen.problems).toEqual([]);
  });

  it('shows a clear page once a link has expired', async () => {
    const expiresAt = Date.now() + 20_000;
    const res = await api('/api/v1/shares/', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ image_ids: [await idOf('Harbour walk')], expires_at: new Date(expiresAt).toISOString() }),
    });
    expect(res.status).toBe(201);
    const { url } = (await res.json()) as { url: string };
    const { page, context, seen } = await openPage(browser, `${base}${url}`, DESKTOP);
    try {
      await expect.poll(() => titles(page)).toEqual(['Harbour walk']);
      expect(await page.locator('#share-about').textContent()).toMatch(/^1 photo · shared until /);
      await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now() + 1000)));
      await page.reload();
      await page.locator('#gone').waitFor({ state: 'visible' });
      expect(await page.locator('#gone-heading').textContent()).toBe('This link has expired');
      await checkScreen(page, 'share-expired');
      expect(seen.problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);
});
