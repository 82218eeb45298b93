/** The web function in process: the gallery page and its files, as API Gateway would invoke it. */
import { readdirSync, readFileSync } from 'node:fs';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { handler as web } from '../../functions/web';
import { invoke } from '../helpers/lambda';

const page = (headers: Record<string, string> = {}) => invoke(web, { method: 'GET', path: '/', route: 'GET /', headers });
const file = (name: string, headers: Record<string, string> = {}) =>
  invoke(web, { method: 'GET', path: `/app/${name}`, route: 'GET /app/{file}', pathParameters: { file: name }, headers });
const sharePage = (token: string, headers: Record<string, string> = {}) =>
  invoke(web, { method: 'GET', path: `/s/${token}`, route: 'GET /s/{token}', pathParameters: { token }, headers });
const bytes = (text: string) => Buffer.from(text, 'latin1');

const CSP =
  "default-src 'none'; script-src 'self'; worker-src 'self'; style-src 'self'; " +
  `img-src 'self' ${new URL(process.env.FILES_BASE_URL ?? '').origin} data: blob:; ` +
  `connect-src 'self' ${new URL(process.env.S3_ENDPOINT ?? '').origin}; ` +
  "form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

describe('GET /', () => {
  it('serves web/index.html with the CSP, the security headers and a strong ETag', async () => {
    const res = await page();
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'cache-control': 'no-cache',
    });
    expect(res.headers.etag).toMatch(/^"[\w-]{22}"$/);
    expect(bytes(res.text).equals(readFileSync('web/index.html'))).toBe(true);
    // Everything from the service itself: no CDN, no inline script or style.
    expect(res.text).not.toMatch(/https?:\/\//);
    expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i);
  });

  it('answers 304 to its ETag, per encoding', async () => {
    const plain = await page();
    expect((await page({ 'if-none-match': plain.headers.etag ?? '' })).status).toBe(304);
    const br = await page({ 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.etag).not.toBe(plain.headers.etag);
    const revalidated = await page({ 'accept-encoding': 'gzip, deflate, br', 'if-none-match': `"other", ${br.headers.etag}` });
    expect(revalidated).toMatchObject({ status: 304, text: '' });
    expect(revalidated.headers['content-security-policy']).toBe(CSP);
    expect((await page({ 'accept-encoding': 'br', 'if-none-match': plain.headers.etag ?? '' })).status).toBe(200);
  });
});

describe('GET /s/{token}', () => {
  it.each(['q3VXk8Yw2n0m_Fz7HcRp1A', 'not-a-share', '%3Cscript%3E'])(
    'serves web/share.html whatever the token (%s): the API answers for the share',
    async (token) => {
      const res = await sharePage(token);
      expect(res.status).toBe(200);
      expect(res.headers).toMatchObject({
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': CSP,
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
        'cache-control': 'no-cache',
      });
      expect(bytes(res.text).equals(readFileSync('web/share.html'))).toBe(true);
      expect(res.text).not.toContain(token);
      expect(res.text).not.toMatch(/https?:\/\//);
      expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i);
    },
  );

  it('holds no control to upload, edit or delete, and asks for no API key', () => {
    const html = readFileSync('web/share.html', 'utf8');
    expect(html).not.toMatch(/type="file"|id="(edit|delete|key-dialog|upload-button|choose)"|API key/i);
  });

  it('answers 304 to its ETag', async () => {
    const first = await sharePage('q3VXk8Yw2n0m_Fz7HcRp1A', { 'accept-encoding': 'gzip' });
    expect(first.headers['content-encoding']).toBe('gzip');
    const again = await sharePage('another-token', { 'accept-encoding': 'gzip', 'if-none-match': first.headers.etag ?? '' });
    expect(again).toMatchObject({ status: 304, text: '' });
    expect(again.headers['content-security-policy']).toBe(CSP);
    expect(first.headers.etag).not.toBe((await page({ 'accept-encoding': 'gzip' })).headers.etag);
  });
});

describe('GET /app/{file}', () => {
  const TYPES: Record<string, string> = {
    js: 'text/javascript; charset=utf-8',
    css: 'text/css; charset=utf-8',
    svg: 'image/svg+xml',
  };
  const assets = readdirSync('web').filter((name) => !name.endsWith('.html'));

  it.each(assets)('serves %s with its type and the CSP, Brotli or gzip as the client accepts', async (name) => {
    const original = readFileSync(`web/${name}`);
    const type = TYPES[name.split('.').pop() ?? ''];
    const plain = await file(name);
    expect(plain.status).toBe(200);
    expect(plain.headers).toMatchObject({ 'content-type': type, 'content-security-policy': CSP, vary: 'accept-encoding' });
    expect(bytes(plain.text).equals(original)).toBe(true);
    const br = await file(name, { 'accept-encoding': 'gzip, deflate, br, zstd' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(bytes(br.text)).equals(original)).toBe(true);
    const gz = await file(name, { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(bytes(gz.text)).equals(original)).toBe(true);
    expect((await file(name, { 'accept-encoding': 'gzip', 'if-none-match': gz.headers.etag ?? '' })).status).toBe(304);
  });

  it.each([
    'nope.js',
    'index.html',
    'share.html',
    'package.json',
    '..%2Fpackage.json',
    '../lib/config.ts',
    '.env',
    'main.js.map',
    'MAIN.JS',
  ])('answers 404 problem+json for %s', async (name) => {
    const res = await file(name);
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.json).toEqual({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'No such file.' });
  });
});
