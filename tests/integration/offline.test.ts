/**
 * The seed README's curl and httpie examples, run unchanged but for the port, against the service as
 * `npm start` runs it: serverless offline, the embedded S3 emulator, migrations, over real HTTP.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg } from '../../support/images';
import { type LocalService, launchChromium, startService } from '../helpers/local-service';
import { resetState, sha256 } from '../helpers/state';
import { runsWith } from '../helpers/tools';

const run = promisify(execFile);

const withCurl = runsWith('the seed README examples with curl (offline.test.ts)', 'curl');
const withJq = runsWith('the README direct-upload example (offline.test.ts)', 'jq');
const withHeic = runsWith('the HEICs of the direct-upload and variants examples (offline.test.ts)', 'heif-enc');
const withHttpie = runsWith('the seed README examples with httpie (offline.test.ts)', 'http');
const withChromium = runsWith('Swagger UI at /docs (offline.test.ts)', 'chromium');

let service: LocalService | undefined;
let port = 0;
let dir = '';
let imagePath = '';

beforeAll(async () => {
  await resetState();
  dir = await mkdtemp(join(tmpdir(), 'gallery-e2e-'));
  imagePath = join(dir, 'image.jpg');
  await writeFile(imagePath, makeJpeg(120, 80));
  service = await startService({ S3_BUCKET: 'gallery-e2e', DATA_DIR: dir, CORS_ALLOWED_ORIGINS: 'https://gallery.example' });
  port = service.port;
}, 120_000);

afterAll(async () => {
  await service?.stop();
  await rm(dir, { recursive: true, force: true });
  await resetState();
});

/**
 * What the seed's examples show of an image, unchanged by the processing that runs meanwhile (it
 * adds the variants and so moves updated_at, as any change of the resource does), file_url without
 * the signature each answer makes anew for a private original.
 */
const seedFields = ({ id, title, description, filename, file_url, created_at }: Record<string, unknown>) => {
  const url = new URL(String(file_url));
  return { id, title, description, filename, file_url: `${url.origin}${url.pathname}`, created_at };
};

/** Runs a shell command line as a person would paste it. */
async function shell(line: string): Promise<string> {
  const { stdout } = await run('bash', ['-c', line]);
  return stdout;
}

describe.runIf(withCurl)('the seed README examples against npm start', () => {
  it('curl: upload, get, list, patch, delete', async () => {
    const created = JSON.parse(
      await shell(`curl -sS -X POST "http://localhost:${port}/api/v1/images/" \\
  -F "title=My title" \\
  -F "description=Short desc" \\
  -F "file=@${imagePath};type=image/jpeg"`),
    );
    expect(created).toMatchObject({ title: 'My title', description: 'Short desc', filename: 'image.jpg' });
    const file = await fetch(created.file_url);
    expect(file.status).toBe(200);
    expect(sha256(Buffer.from(await file.arrayBuffer()))).toBe(sha256(makeJpeg(120, 80)));

    expect(seedFields(JSON.parse(await shell(`curl -sS http://localhost:${port}/api/v1/images/${created.id}`)))).toEqual(
      seedFields(created),
    );
    expect(JSON.parse(await shell(`curl -sS http://localhost:${port}/api/v1/images/`)).map(seedFields)).toEqual([seedFields(created)]);

    const patched = JSON.parse(
      await shell(`curl -sS -X PATCH "http://localhost:${port}/api/v1/images/${created.id}" \\
  -H "Content-Type: application/json" \\
  -d '{"title":"New title","description":"New desc"}'`),
    );
    expect(patched).toMatchObject({ id: created.id, title: 'New title', description: 'New desc' });

    const status = await shell(`curl -sS -o /dev/null -w '%{http_code}' -X DELETE http://localhost:${port}/api/v1/images/${created.id}`);
    expect(status).toBe('204');
    // Removed before the answer when S3 confirms within FILE_REMOVAL_BUDGET_MS, else by npm start's
    // relay within seconds (outbox.test.ts holds the first case exactly; here the machine may be loaded).
    await expect.poll(async () => (await fetch(created.file_url)).status).toBe(404);
  });

  it('answers a bad request with problem+json through API Gateway emulation', async () => {
    const res = await fetch(`http://localhost:${port}/api/v1/images/not-a-uuid`);
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const big = await shell(
      `head -c 5000000 /dev/zero > ${dir}/big.jpg && curl -sS -F title=big -F description= -F "file=@${dir}/big.jpg" http://localhost:${port}/api/v1/images`,
    );
    expect(JSON.parse(big)).toMatchObject({
      status: 413,
      detail:
        'The file is larger than the limit of 4194304 bytes (4 MiB). Larger files go straight to the store: POST /api/v1/uploads (see /docs).',
    });
  });

  it('answers the uploads collection with a trailing slash too, and a longer path as a problem+json 404', async () => {
    const sign = (path: string) =>
      fetch(`http://localhost:${port}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: `slash ${path.length}`, description: '', filename: 'a.jpg', content_type: 'image/jpeg', size: 1000 }),
      });
    expect((await sign('/api/v1/uploads/')).status).toBe(201);
    const longer = await sign('/api/v1/uploads/x/y');
    expect(longer.status).toBe(404);
    expect(longer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it("answers issue 9's attacks with a quick 4xx each, and keeps serving", async () => {
    const B = `http://localhost:${port}`;
    const XX = `-H 'Content-Type: multipart/form-data; boundary=XX'`;
    const cursor = (moment: string) => Buffer.from(`${moment}|00000000-0000-0000-0000-000000000000`).toString('base64url');
    const attacks: [string, string][] = [
      [
        `curl -sS -X POST $B/api/v1/images/ ${XX} --data-binary $'--XX\\r\\nContent-Disposition: form-data\\r\\n\\r\\nx\\r\\n--XX--\\r\\n'`,
        '400',
      ],
      [
        `curl -sS -X POST $B/api/v1/images/ ${XX} --data-binary $'--XX\\r\\nContent-Disposition: form-data; name="file"; filename="a.png"\\r\\n\\r\\nx'`,
        '400',
      ],
      [`curl -sS -X POST $B/api/v1/images/ -F description=a -F 'description[]=b'`, '422'],
      [`curl -sS -X POST $B/api/v1/images/ -F 'description[]=b' -F description=a -F title=t -F "file=@${imagePath}"`, '422'],
      [`curl -sS -X POST $B/api/v1/images/ ${XX} --data-binary $'--XX\\r\\n\\r\\n--XX--'`, '400'],
      [`curl -sS "$B/api/v1/images/?cursor=${cursor('2026-02-31T00:00:00.000000+00:00')}"`, '422'],
      [`curl -sS "$B/api/v1/images/?cursor=${cursor('0000-01-01T00:00:00.000000+00:00')}"`, '422'],
      [`curl -sS -X POST $B/api/v1/images/ -F $'title=bad \\xff' -F description=d -F "file=@${imagePath}"`, '400'],
    ];
    for (const [line, status] of attacks) {
      // --max-time: a hang is a failure here, not a 15 s wait for the function's timeout.
      const out = await shell(`B=${B}; ${line.replace('curl -sS', "curl -sS --max-time 5 -w '\\n%{http_code}'")}`);
      const code = out.slice(out.lastIndexOf('\n') + 1);
      expect({ line, code, body: out }).toMatchObject({ code: status });
      expect(JSON.parse(out.slice(0, out.lastIndexOf('\n')))).toMatchObject({ status: Number(status) });
    }
    // The PATCH of issue 9's sixth case: the gateway decodes it as UTF-8, so U+FFFD arrives.
    const created = JSON.parse(await shell(`curl -sS -F title=survivor -F description=d -F "file=@${imagePath}" ${B}/api/v1/images/`));
    const patch = await shell(
      `curl -sS --max-time 5 -o /dev/null -w '%{http_code}' -X PATCH ${B}/api/v1/images/${created.id} -H 'Content-Type: application/json' --data-binary $'{"description":"\\xff"}'`,
    );
    expect(patch).toBe('422');
    // The same process still serves: nothing was stored by the attacks, the survivor is intact.
    const list = (await (await fetch(`${B}/api/v1/images/`)).json()) as { title: string; description: string }[];
    expect(list.map((i) => [i.title, i.description])).toEqual([['survivor', 'd']]);
    expect(service?.output()).not.toMatch(/uncaught|TypeError|LambdaTimeoutError/i);
    await shell(`curl -sS -o /dev/null -X DELETE ${B}/api/v1/images/${created.id}`);
  });

  it.runIf(withJq)('direct uploads: the README three steps with curl, a 30 MB photo and a HEIC, straight to the bucket', async () => {
    const big = join(dir, 'big.jpg');
    // A real 2000×1500 JPEG, padded after its end marker to 30 MB (decoders ignore trailing bytes).
    await writeFile(big, Buffer.concat([makeJpeg(2000, 1500), Buffer.alloc(30 * 1024 * 1024, 7)]));
    const files: [string, string, number, number][] = [[big, 'image/jpeg', 2000, 1500]];
    if (withHeic) {
      await run('heif-enc', ['-q', '50', imagePath, '-o', join(dir, 'photo.heic')]);
      files.push([join(dir, 'photo.heic'), 'image/heic', 120, 80]);
    }
    for (const [f, type, width, height] of files) {
      // The README's lines, as a person pastes them.
      const image = JSON.parse(
        await shell(`B=http://localhost:${port}/api/v1; f=${f}; t=${type}
up=$(curl -sS -X POST $B/uploads -H 'Content-Type: application/json' \\
  -d "{\\"title\\":\\"$(basename "$f")\\",\\"description\\":\\"\\",\\"filename\\":\\"$(basename "$f")\\",\\"size\\":$(wc -c < "$f"),\\"content_type\\":\\"$t\\"}")
mapfile -t fields < <(jq -r '.upload.fields | to_entries[] | "--form-string", "\\(.key)=\\(.value)"' <<<"$up")
curl -sS "$(jq -r .upload.url <<<"$up")" "\${fields[@]}" -F "file=@$f"
curl -sS -X POST "http://localhost:${port}$(jq -r .complete_url <<<"$up")"`),
      );
      const bytes = await readFile(f);
      expect(image).toMatchObject({ content_type: type, size: bytes.byteLength, width, height, sha256: sha256(bytes) });
      const stored = await fetch(image.file_url);
      expect(sha256(Buffer.from(await stored.arrayBuffer()))).toBe(sha256(bytes));
      expect(stored.headers.get('content-type')).toBe(type);
      expect((await fetch(`http://localhost:${port}/api/v1/images/${image.id}`, { method: 'DELETE' })).status).toBe(204);
    }
  });

  it('makes the variants through the S3 event path: a photo uploaded with curl is ready within seconds', async () => {
    const B = `http://localhost:${port}/api/v1`;
    const photos: [string, string][] = [[imagePath, 'jpeg']];
    if (withHeic) {
      await run('heif-enc', ['-q', '50', imagePath, '-o', join(dir, 'variants.heic')]);
      photos.push([join(dir, 'variants.heic'), 'heic']);
    }
    for (const [file, kind] of photos) {
      const created = JSON.parse(await shell(`curl -sS -F title="event path ${kind}" -F description= -F "file=@${file}" ${B}/images/`));
      expect(created).toMatchObject({ processing: 'pending', variants: null });
      // The emulator's ObjectCreated event, forwarded by npm start to imagesProcess, as S3 would.
      let image = created;
      for (let i = 0; i < 100 && image.processing === 'pending'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        image = await (await fetch(`${B}/images/${created.id}`)).json();
      }
      expect(image).toMatchObject({
        processing: 'ready',
        variants: { thumb: { width: 120, height: 80 }, display: { width: 120, height: 80 } },
      });
      for (const variant of [image.variants.thumb, image.variants.display]) {
        const res = await fetch(variant.url);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('image/webp');
      }
      expect((await fetch(`${B}/images/${created.id}`, { method: 'DELETE' })).status).toBe(204);
      await expect.poll(async () => (await fetch(image.variants.thumb.url)).status).toBe(404);
    }
  });

  it('answers CORS preflights for the configured origin only', async () => {
    const preflight = (origin: string) =>
      fetch(`http://localhost:${port}/api/v1/images/`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
      });
    const allowed = await preflight('https://gallery.example');
    expect(allowed.status).toBeLessThan(300);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://gallery.example');
    expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const get = await fetch(`http://localhost:${port}/api/v1/images/`, { headers: { origin: 'https://gallery.example' } });
    expect(get.headers.get('access-control-allow-origin')).toBe('https://gallery.example');
    expect(get.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('link');
  });

  it.runIf(withHttpie)('httpie: upload, get, list, patch, delete', async () => {
    const created = JSON.parse(
      await shell(`http --ignore-stdin --body -f POST :${port}/api/v1/images/ \\
  title="My title" description="Short desc" \\
  file@${imagePath}`),
    );
    expect(created).toMatchObject({ title: 'My title', description: 'Short desc', filename: 'image.jpg' });
    expect(seedFields(JSON.parse(await shell(`http --ignore-stdin --body :${port}/api/v1/images/${created.id}`)))).toEqual(
      seedFields(created),
    );
    expect(JSON.parse(await shell(`http --ignore-stdin --body :${port}/api/v1/images/`)).map(seedFields)).toEqual([seedFields(created)]);
    const patched = JSON.parse(
      await shell(`http --ignore-stdin --body PATCH :${port}/api/v1/images/${created.id} title="New title" description="New desc"`),
    );
    expect(patched).toMatchObject({ title: 'New title', description: 'New desc' });
    const deleted = await shell(`http --ignore-stdin --print=h DELETE :${port}/api/v1/images/${created.id}`);
    expect(deleted).toMatch(/^HTTP\/1\.1 204/);
  });
});

describe.runIf(withChromium)('Swagger UI at /docs in headless Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows the five image operations and runs "Try it out" on the list', async () => {
    const page = await browser.newPage();
    const external: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(`http://localhost:${port}/`)) external.push(r.url());
    });
    await page.goto(`http://localhost:${port}/docs`);
    await page.locator('.opblock').first().waitFor();
    const images = page.locator('#operations-tag-images').locator('xpath=..').locator('.opblock');
    const summaries = await images.evaluateAll((els) =>
      els.map(
        (el) => `${el.querySelector('.opblock-summary-method')?.textContent} ${el.querySelector('.opblock-summary-path')?.textContent}`,
      ),
    );
    expect(summaries).toEqual([
      'POST /api/v1/images/',
      'GET /api/v1/images/',
      'GET /api/v1/images/{id}',
      'PATCH /api/v1/images/{id}',
      'DELETE /api/v1/images/{id}',
    ]);

    const list = page.locator('#operations-images-listImages');
    await list.locator('.opblock-summary').click();
    await list.locator('.try-out__btn').click();
    await list.locator('.execute').click();
    const status = list.locator('.live-responses-table tbody .response-col_status');
    await status.waitFor();
    expect((await status.textContent())?.trim()).toBe('200');
    expect(JSON.parse((await list.locator('.live-responses-table tbody .microlight').first().textContent()) ?? '')).toBeInstanceOf(Array);
    expect(external).toEqual([]);
    await page.close();
  });

  it('uploads a file through "Try it out"', async () => {
    const page = await browser.newPage();
    await page.goto(`http://localhost:${port}/docs`);
    const upload = page.locator('#operations-images-uploadImage');
    await upload.locator('.opblock-summary').click();
    await upload.locator('.try-out__btn').click();
    await upload.locator('tr[data-property-name="title"] input').fill('from Swagger UI');
    await upload.locator('tr[data-property-name="description"] input').fill('in Chromium');
    await upload.locator('input[type="file"]').setInputFiles(imagePath);
    await upload.locator('.execute').click();
    const status = upload.locator('.live-responses-table tbody .response-col_status');
    await status.waitFor();
    expect((await status.textContent())?.trim()).toBe('201');
    const created = JSON.parse((await upload.locator('.live-responses-table tbody .microlight').first().textContent()) ?? '');
    expect(created).toMatchObject({ title: 'from Swagger UI', description: 'in Chromium', filename: 'image.jpg' });
    const file = await fetch(created.file_url);
    expect(sha256(Buffer.from(await file.arrayBuffer()))).toBe(sha256(makeJpeg(120, 80)));
    await page.close();
  });
});
