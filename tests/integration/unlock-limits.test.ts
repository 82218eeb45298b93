/**
 * The limit on wrong passwords (CONTRACT.md, "Shares"): more than 10 in 15 minutes for one share or
 * from one client address is a 429 with Retry-After; a right password neither counts nor resets the
 * count; attempts at once cannot pass the limit together; without Redis, unlocking is refused (503),
 * never left unlimited, while the rest of a viewer's requests go on. Through both Redis backends:
 * node-redis over TCP, and the real @upstash/redis client through the fixture that speaks Upstash's
 * REST protocol, both on this machine's Redis (each test's shares and addresses are its own).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createClient } from '@redis/client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startUpstashFixture, type UpstashFixture } from '../../support/upstash-fixture';
import { api } from '../helpers/api';
import { ownRedis } from '../helpers/faults';
import type { Reply } from '../helpers/lambda';
import { problem } from '../helpers/problems';
import { type Sharing, sharingWith, someAddress } from '../helpers/sharing';
import { resetState, sql } from '../helpers/state';

const REDIS_URL = 'redis://127.0.0.1:6379';
const PASSWORD = 'the right password';
const WINDOW_MS = 15 * 60 * 1000;
const direct = createClient({ url: REDIS_URL, RESP: 2 });
let fixture: UpstashFixture;
let imageId = '';

const tooMany = problem(429, 'Too many wrong passwords: try again later.');
const wrong = problem(401, "The password is not this share's.");
const noLimiter = problem(503, 'The rate limiter is unavailable; try again later.');

beforeAll(async () => {
  await direct.connect();
  fixture = await startUpstashFixture(REDIS_URL);
  await resetState();
  imageId = ((await api.upload({ title: 'behind a password' })).json as { id: string }).id;
});
afterAll(async () => {
  await fixture.stop();
  await direct.close();
  await resetState();
  vi.resetModules();
});

/** A new protected share of the image: its id and token. */
async function protectedShare(s: Sharing, password = PASSWORD): Promise<{ id: string; token: string }> {
  const res = await s.create({ image_ids: [imageId], password });
  expect(res.status).toBe(201);
  return res.json as { id: string; token: string };
}

/**
 * `count` more protected shares with the same password, made behind the service from one made
 * through it: scrypt makes each hash cost a tenth of a second, and only the unlocking is tested here.
 */
async function sameShares(s: Sharing, count: number): Promise<{ id: string; token: string }[]> {
  const model = await protectedShare(s);
  const made = Array.from({ length: count }, () => ({ id: randomUUID(), token: randomBytes(16).toString('base64url') }));
  for (const { id, token } of made) {
    await sql`insert into shares (id, token, title, description, password_hash, allow_originals)
      select ${id}, ${token}, title, description, password_hash, allow_originals from shares where id = ${model.id}`;
  }
  return made;
}

/** A 429 as the contract has it: the problem, and Retry-After in whole seconds within the window. */
function expectTooMany(res: Reply): number {
  expect(res.json).toEqual(tooMany);
  const retryAfter = res.headers['retry-after'] ?? '';
  expect(retryAfter).toMatch(/^[1-9][0-9]*$/);
  expect(Number(retryAfter)).toBeLessThanOrEqual(WINDOW_MS / 1000);
  return Number(retryAfter);
}

const backends = [
  ['local Redis over TCP', () => ({ REDIS_URL, UPSTASH_REDIS_REST_URL: undefined, UPSTASH_REDIS_REST_TOKEN: undefined })],
  ['Upstash REST (real client, fixture server)', () => ({ UPSTASH_REDIS_REST_URL: fixture.url, UPSTASH_REDIS_REST_TOKEN: fixture.token })],
] as const;

describe.each(backends)('%s', (_, env) => {
  let s: Sharing;
  beforeEach(async () => {
    // Scripts run by SHA; a Redis that lost them gets them again by EVAL.
    await direct.sendCommand(['SCRIPT', 'FLUSH']);
    s = await sharingWith({ ...env(), REDIS_TIMEOUT_MS: '2000', LOG_LEVEL: 'silent' });
  });
  afterEach(async () => {
    const { closeRedis } = await import('../../lib/redis');
    await closeRedis();
  });

  it('10 wrong passwords for a share, from anywhere: the 11th attempt is a 429, the right password too', async () => {
    const share = await protectedShare(s);
    for (let i = 0; i < 10; i++) expect((await s.unlock(share.token, `wrong ${i}`, someAddress())).json).toEqual(wrong);
    const retryAfter = expectTooMany(await s.unlock(share.token, PASSWORD, someAddress()));
    expect(retryAfter).toBeGreaterThan(WINDOW_MS / 1000 - 60);
    expectTooMany(await s.unlock(share.token, 'wrong again', someAddress()));
    // Another share is not this one's business.
    const other = await protectedShare(s);
    expect((await s.unlock(other.token, PASSWORD, someAddress())).status).toBe(200);
  });

  it('10 wrong passwords from one address, across shares: its 11th attempt is a 429, anywhere; other addresses go on', async () => {
    const from = someAddress();
    const [fresh, ...shares] = await sameShares(s, 11);
    for (const share of shares) expect((await s.unlock(share.token, 'not it at all', from)).json).toEqual(wrong);
    if (!fresh) throw new Error('no share made');
    expectTooMany(await s.unlock(fresh.token, PASSWORD, from));
    expect((await s.unlock(fresh.token, PASSWORD, someAddress())).status).toBe(200);
  });

  it('a right password is not counted, and does not reset the count', async () => {
    const share = await protectedShare(s);
    const from = someAddress();
    for (let i = 0; i < 5; i++) expect((await s.unlock(share.token, `wrong ${i}`, from)).status).toBe(401);
    for (let i = 0; i < 3; i++) expect((await s.unlock(share.token, PASSWORD, from)).status).toBe(200);
    for (let i = 5; i < 10; i++) expect((await s.unlock(share.token, `wrong ${i}`, from)).status).toBe(401);
    expect(await direct.zCard(`unlock:share:${share.id}`)).toBe(10);
    expect(await direct.zCard(`unlock:client:${from}`)).toBe(10);
    expectTooMany(await s.unlock(share.token, PASSWORD, from));
  });

  it('20 wrong passwords at once, for one share or from one address: exactly 10 are judged, the rest are 429', async () => {
    const share = await protectedShare(s);
    const atOnce = await Promise.all(Array.from({ length: 20 }, (_, i) => s.unlock(share.token, `wrong ${i}`, someAddress())));
    expect(atOnce.filter((r) => r.status === 401)).toHaveLength(10);
    for (const res of atOnce.filter((r) => r.status !== 401)) expectTooMany(res);

    const from = someAddress();
    const shares = await sameShares(s, 20);
    const fromOne = await Promise.all(shares.map((x) => s.unlock(x.token, 'not it at all', from)));
    expect(fromOne.filter((r) => r.status === 401)).toHaveLength(10);
    for (const res of fromOne.filter((r) => r.status !== 401)) expectTooMany(res);
  });

  it('slides: an attempt that leaves the window makes room for one more, and Retry-After says when the oldest leaves', async () => {
    const share = await protectedShare(s);
    const key = `unlock:share:${share.id}`;
    for (let i = 0; i < 10; i++) expect((await s.unlock(share.token, `wrong ${i}`, someAddress())).status).toBe(401);
    expectTooMany(await s.unlock(share.token, PASSWORD, someAddress()));

    // Behind the service: every attempt made earlier, the oldest 30 s from leaving the window.
    const entries = await direct.zRangeWithScores(key, 0, -1);
    expect(entries).toHaveLength(10);
    const shifted = Date.now();
    const shift = WINDOW_MS - 30_000 - (shifted - (entries[0]?.score ?? 0));
    await direct.zAdd(
      key,
      entries.map((e) => ({ score: e.score - shift, value: e.value })),
      { XX: true },
    );
    const retryAfter = expectTooMany(await s.unlock(share.token, PASSWORD, someAddress()));
    // When the oldest leaves, seen from the answer: 30 s less the time the answer took (a loaded machine is slow).
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(retryAfter).toBeGreaterThanOrEqual(Math.floor(30 - (Date.now() - shifted) / 1000) - 1);

    // The oldest has left: one attempt more, not a new window's ten.
    const [oldest] = entries;
    await direct.zAdd(key, { score: Date.now() - WINDOW_MS - 1000, value: oldest?.value ?? '' }, { XX: true });
    expect((await s.unlock(share.token, 'wrong once more', someAddress())).status).toBe(401);
    expectTooMany(await s.unlock(share.token, PASSWORD, someAddress()));
    // All of them gone: the share unlocks again.
    await direct.zRemRangeByRank(key, 0, -1);
    expect((await s.unlock(share.token, PASSWORD, someAddress())).status).toBe(200);
  });

  it('keeps its counts no longer than the window', async () => {
    const share = await protectedShare(s);
    const from = someAddress();
    expect((await s.unlock(share.token, 'wrong', from)).status).toBe(401);
    for (const key of [`unlock:share:${share.id}`, `unlock:client:${from}`]) {
      const ttl = await direct.pTTL(key);
      expect(ttl, key).toBeGreaterThan(0);
      expect(ttl, key).toBeLessThanOrEqual(WINDOW_MS);
    }
  });
});

describe('without Redis', () => {
  /** A share, protected, unlocked while Redis was there: its token and an access token. */
  async function unlockedShare(): Promise<{ token: string; access: string; open: string }> {
    const s = await sharingWith({ LOG_LEVEL: 'silent' });
    const share = await protectedShare(s);
    const unlocked = await s.unlock(share.token, PASSWORD);
    expect(unlocked.status).toBe(200);
    const open = (await s.create({ image_ids: [imageId] })).json as { token: string };
    return { token: share.token, access: (unlocked.json as { access_token: string }).access_token, open: open.token };
  }

  /** Unlocking is refused (503), right password or wrong; everything else a viewer does still works. */
  async function expectUnlockRefused(s: Sharing, share: { token: string; access: string; open: string }): Promise<void> {
    for (const password of [PASSWORD, 'a wrong one']) {
      const res = await s.unlock(share.token, password);
      expect(res.json, password).toEqual(noLimiter);
    }
    const headers = { authorization: `Bearer ${share.access}` };
    expect((await s.get(share.token, headers)).status).toBe(200);
    expect((await s.images(share.token, undefined, headers)).json).toMatchObject([{ id: imageId }]);
    expect((await s.image(share.token, imageId, headers)).status).toBe(200);
    expect((await s.get(share.token)).status).toBe(401);
    expect((await s.get(share.open)).status).toBe(200);
    // An open share has nothing to count.
    expect((await s.unlock(share.open, 'anything')).status).toBe(200);
  }

  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    const { closeRedis } = await import('../../lib/redis');
    await closeRedis();
    for (const close of closers.splice(0)) await close();
  });

  it.each([
    ['TCP, a port nothing listens on', () => ({ REDIS_URL: 'redis://127.0.0.1:1' })],
    ['Upstash, a port nothing listens on', () => ({ UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1', UPSTASH_REDIS_REST_TOKEN: 't' })],
    ['Upstash, refusing the token', () => ({ UPSTASH_REDIS_REST_URL: fixture.url, UPSTASH_REDIS_REST_TOKEN: 'wrong-token' })],
  ])('%s: unlocking is a 503, never a 200 or a 401; the rest of a viewer works', async (_, env) => {
    const share = await unlockedShare();
    const s = await sharingWith({ ...env(), REDIS_TIMEOUT_MS: '250', LOG_LEVEL: 'silent' });
    await expectUnlockRefused(s, share);
  });

  it('a Redis that stops: unlocking is a 503 while it is gone, counted again once it is back', async () => {
    const redis = await ownRedis();
    closers.push(redis.stop);
    const share = await unlockedShare();
    const s = await sharingWith({ REDIS_URL: redis.url, REDIS_TIMEOUT_MS: '500', REDIS_CONNECT_TIMEOUT_MS: '500', LOG_LEVEL: 'silent' });
    expect((await s.unlock(share.token, 'wrong while up')).status).toBe(401);
    await redis.stop();
    await expectUnlockRefused(s, share);
    await redis.start();
    expect((await s.unlock(share.token, 'wrong once back')).status).toBe(401);
    expect((await s.unlock(share.token, PASSWORD)).status).toBe(200);
  });
});
