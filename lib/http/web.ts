import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { originalsConfig, storageConfig } from '../config';
import { once } from '../once';
import { noSuchFile } from './docs';
import type { HttpResult } from './handler';

/**
 * The gallery page's folder (packaged with the web function): the owner's page index.html at `/`, a
 * share's read-only page share.html at `/s/{token}`, every other file at `/app/<name>`.
 */
export const WEB_DIR = 'web';
export const WEB_INDEX = 'index.html';
export const SHARE_PAGE = 'share.html';
const PAGES = new Set([WEB_INDEX, SHARE_PAGE]);

/** What may be served from web/, by extension: a flat folder of the page's own files, nothing else. */
const TYPES: Record<string, { type: string; compress: boolean }> = {
  html: { type: 'text/html; charset=utf-8', compress: true },
  js: { type: 'text/javascript; charset=utf-8', compress: true },
  css: { type: 'text/css; charset=utf-8', compress: true },
  svg: { type: 'image/svg+xml', compress: true },
  png: { type: 'image/png', compress: false },
};
const ASSET_NAME = /^[a-z0-9][a-z0-9-]*\.([a-z]+)$/;

/** The settings the policy is built from (lib/config.ts's storageConfig() and originalsConfig()). */
export interface PolicySources {
  FILES_BASE_URL: string;
  S3_BUCKET: string;
  S3_ENDPOINT?: string | undefined;
  S3_FORCE_PATH_STYLE: boolean;
  S3_REGION?: string | undefined;
  AWS_REGION: string;
  /** false: originals are handed out as presigned GETs, from the bucket's own origin. */
  ORIGINALS_PUBLIC?: boolean;
}

/** S3's virtual-hosted style needs a DNS label: lowercase letters, digits and hyphens (no dots under TLS). */
const VIRTUAL_HOSTABLE = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const IP_HOST = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:.]+\])$/i;

/**
 * The origin a presigned POST sends the browser to: what @aws-sdk/s3-presigned-post puts in `url`
 * for this configuration (tests/unit/web.test.ts holds the two together). On AWS the virtual-hosted
 * `https://<bucket>.s3.<region>.amazonaws.com`; path style (or a bucket name that is no DNS label)
 * `https://s3.<region>.amazonaws.com`; with S3_ENDPOINT its origin, the bucket in front of the host
 * unless path style or an IP address forbids it.
 */
export function uploadOrigin(c: PolicySources): string {
  const virtual = !c.S3_FORCE_PATH_STYLE && VIRTUAL_HOSTABLE.test(c.S3_BUCKET);
  if (c.S3_ENDPOINT) {
    const endpoint = new URL(c.S3_ENDPOINT);
    return virtual && !IP_HOST.test(endpoint.hostname) ? `${endpoint.protocol}//${c.S3_BUCKET}.${endpoint.host}` : endpoint.origin;
  }
  const region = c.S3_REGION ?? c.AWS_REGION;
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return virtual ? `https://${c.S3_BUCKET}.s3.${region}.${domain}` : `https://s3.${region}.${domain}`;
}

/**
 * The page's Content-Security-Policy: its own scripts, workers and styles only (no inline ones), images from
 * itself and the files' origin (FILES_BASE_URL) — and the bucket's, where private originals are
 * presigned GETs — plus the data: and blob: URLs of local previews, requests to itself and the
 * bucket's upload origin, no forms, no base, never framed.
 */
export function contentSecurityPolicy(c: PolicySources): string {
  const images = new Set([new URL(c.FILES_BASE_URL).origin, ...(c.ORIGINALS_PUBLIC === false ? [uploadOrigin(c)] : [])]);
  return [
    "default-src 'none'",
    "script-src 'self'",
    "worker-src 'self'",
    "style-src 'self'",
    `img-src 'self' ${[...images].join(' ')} data: blob:`,
    `connect-src 'self' ${uploadOrigin(c)}`,
    "form-action 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

// Checked at import: a bad FILES_BASE_URL or S3_ENDPOINT fails the cold start, not the first page.
const policy = once(() => contentSecurityPolicy({ ...storageConfig(), ...originalsConfig() }));
policy();

interface WebFile {
  type: string;
  plain: Buffer;
  etag: string;
  gzip?: () => Buffer;
  br?: () => Buffer;
}

const files = new Map<string, WebFile>();

/** A file of web/, read once per container; compressed forms made on first demand, then kept. */
function load(name: string): WebFile | undefined {
  let file = files.get(name);
  if (file) return file;
  const kind = TYPES[ASSET_NAME.exec(name)?.[1] ?? ''];
  if (!kind) return undefined;
  let plain: Buffer;
  try {
    plain = readFileSync(join(process.cwd(), WEB_DIR, name));
  } catch {
    return undefined;
  }
  const etag = createHash('sha256').update(plain).digest('base64url').slice(0, 22);
  file = { type: kind.type, plain, etag };
  if (kind.compress) {
    file.gzip = once(() => gzipSync(plain, { level: 9 }));
    file.br = once(() =>
      brotliCompressSync(plain, {
        params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: plain.length },
      }),
    );
  }
  files.set(name, file);
  return file;
}

/** What the request says about caching and encodings. */
export interface Conditions {
  acceptEncoding?: string | undefined;
  ifNoneMatch?: string | undefined;
}

/**
 * A file of web/ as a response: its type, the CSP, a strong ETag per encoding (Brotli or gzip as the
 * client accepts), `no-cache` so that every load revalidates (the names carry no version: a
 * 304 costs no bytes, and the modules of one page never mix two deployments); 304 when it matches.
 */
function serve(file: WebFile, conditions: Conditions): HttpResult {
  const accepts = (coding: string) => new RegExp(`\\b${coding}\\b`).test(conditions.acceptEncoding ?? '');
  const [encoding, body] =
    file.br && accepts('br') ? ['br', file.br()] : file.gzip && accepts('gzip') ? ['gzip', file.gzip()] : [undefined, file.plain];
  const etag = `"${file.etag}${encoding ? `-${encoding}` : ''}"`;
  const headers: Record<string, string> = {
    'content-type': file.type,
    'cache-control': 'no-cache',
    etag,
    'content-security-policy': policy(),
    ...(file.gzip ? { vary: 'accept-encoding' } : {}),
  };
  const matches = (conditions.ifNoneMatch ?? '').split(',').some((tag) => tag.trim() === etag || tag.trim() === '*');
  if (matches) return { statusCode: 304, headers };
  return {
    statusCode: 200,
    headers: { ...headers, ...(encoding ? { 'content-encoding': encoding } : {}) },
    body: body.toString('base64'),
    isBase64Encoded: true,
  };
}

/** A page of web/ (index.html, share.html); throws when the package lacks it. */
function page(name: string, conditions: Conditions): HttpResult {
  const file = load(name);
  if (!file) throw new Error(`${WEB_DIR}/${name} is missing from the package`);
  return serve(file, conditions);
}

/** The gallery page (web/index.html). */
export const webPage = (conditions: Conditions): HttpResult => page(WEB_INDEX, conditions);

/**
 * A share's read-only gallery (web/share.html): the same page whatever the token, which the page reads
 * from its own URL; the API answers for the share (404, 410, 401), so no lookup is made here.
 */
export const sharePage = (conditions: Conditions): HttpResult => page(SHARE_PAGE, conditions);

/** One of the pages' files (web/<name>: a script, a style sheet, an icon); NotFoundError (404) for anything else. */
export function webAsset(name: string, conditions: Conditions): HttpResult {
  const file = PAGES.has(name) ? undefined : load(name);
  if (!file) throw noSuchFile();
  return serve(file, conditions);
}
