import { createHash, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { authConfig, ConfigError } from '../config';

// The share's secrets: its token (the link), its password (stored as scrypt), and the access tokens
// an unlocked viewer carries (signed by SHARE_TOKEN_SECRET).

/** A new share token: 128 random bits, base64url (22 characters). */
export const newToken = (): string => randomBytes(16).toString('base64url');

/** What a share is cached under: its token's SHA-256, so the cache (and the outbox) never hold the link itself. */
export const tokenDigest = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, length: number, options: object) => Promise<Buffer>;
/** scrypt's cost: N = 2^15, r = 8 (32 MiB, about 50 ms here): slow to guess offline, quick enough for one unlock. */
const SCRYPT = { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_LENGTH = 32;

/** A password as stored: `scrypt$N$r$p$<salt>$<key>`, base64url. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password.normalize('NFC'), salt, KEY_LENGTH, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Whether `password` is the one `stored` was made from; the keys are compared in constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, key] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64url');
  const derived = await scryptAsync(password.normalize('NFC'), Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return derived.length === expected.length && timingSafeEqual(derived, expected);
}

/** How long an unlocked viewer may look without the password again. */
export const ACCESS_HOURS = 12;

function signingKey(): string {
  const secret = authConfig().SHARE_TOKEN_SECRET;
  if (!secret) throw new ConfigError('Invalid configuration: SHARE_TOKEN_SECRET is required to unlock protected shares (see env.example)');
  return secret;
}

const sign = (payload: string): string => createHmac('sha256', signingKey()).update(payload, 'utf8').digest('base64url');

/** An access token to one share until `expiresAt` (epoch seconds): its id and expiry, signed. */
export function accessToken(shareId: string, expiresAt: number): string {
  const payload = Buffer.from(`${shareId}.${expiresAt}`, 'utf8').toString('base64url');
  return `${payload}.${sign(payload)}`;
}

/** Whether `token` is a valid, unexpired access token to the share `shareId`; its signature compared in constant time. */
export function isAccessTo(shareId: string, token: string): boolean {
  const [payload = '', signature = '', ...rest] = token.split('.');
  if (rest.length > 0 || !/^[A-Za-z0-9_-]+$/.test(payload) || !/^[A-Za-z0-9_-]+$/.test(signature)) return false;
  const expected = Buffer.from(sign(payload), 'base64url');
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
  const [id, expiry] = Buffer.from(payload, 'base64url').toString('utf8').split('.');
  return id === shareId && Number(expiry) > Date.now() / 1000;
}
