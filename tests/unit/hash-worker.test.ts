/**
 * The page's hashing (web/hash-worker.js, imported as it is served): the incremental SHA-256 against
 * node:crypto at every length around a block's and its padding's edges, fed in pieces that cut the
 * blocks anywhere; and sha256Of on both of its paths, crypto.subtle for a file up to WHOLE_MAX and
 * the chunked one above it, with the progress each reports.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sha256, sha256Of, WHOLE_MAX } from '../../web/hash-worker.js';

const expected = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('Sha256 (incremental)', () => {
  it('agrees with node:crypto at every length from 0 to 300 bytes', () => {
    const bytes = randomBytes(300);
    for (let n = 0; n <= 300; n++) {
      const hash = new Sha256();
      hash.update(bytes.subarray(0, n));
      expect(hash.hex(), `${n} bytes`).toBe(expected(bytes.subarray(0, n)));
    }
  });

  it('agrees with node:crypto whatever the pieces it is fed', () => {
    const bytes = randomBytes(10_000);
    for (const sizes of [[1], [63], [64], [65], [7, 129, 1000], [4096]]) {
      const hash = new Sha256();
      let at = 0;
      for (let i = 0; at < bytes.length; i++) {
        const size = sizes[i % sizes.length] ?? 1;
        hash.update(bytes.subarray(at, at + size));
        at += size;
      }
      expect(hash.hex(), `pieces of ${sizes.join(', ')}`).toBe(expected(bytes));
    }
  });
});

describe('sha256Of', () => {
  it('hashes a file up to WHOLE_MAX in one go (crypto.subtle), reporting it read once', async () => {
    const bytes = randomBytes(1024 * 1024 + 3);
    const seen: number[] = [];
    expect(await sha256Of(new Blob([bytes]), (loaded: number) => seen.push(loaded))).toBe(expected(bytes));
    expect(seen).toEqual([bytes.byteLength]);
  });

  it('hashes a larger file 4 MiB at a time, reporting each piece read', async () => {
    const bytes = randomBytes(WHOLE_MAX + 5);
    const seen: number[] = [];
    expect(await sha256Of(new Blob([bytes]), (loaded: number) => seen.push(loaded))).toBe(expected(bytes));
    const chunk = 4 * 1024 * 1024;
    expect(seen).toEqual([...Array.from({ length: WHOLE_MAX / chunk }, (_, i) => (i + 1) * chunk), bytes.byteLength]);
  });

  it('hashes an empty file', async () => {
    expect(await sha256Of(new Blob([]))).toBe(expected(new Uint8Array()));
  });
});
