import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACCEPTED_TYPES } from '../../lib/images/types';
import {
  imageIdOfKey,
  keyOfUrl,
  MAX_ORIGINAL_KEY_LENGTH,
  ORIGINALS_PREFIX,
  originalKey,
  PENDING_PREFIX,
  parseKey,
  pendingKey,
  VARIANT_SIDES,
  VARIANTS_PREFIX,
  type VariantName,
  variantKey,
  variantKeys,
} from '../../lib/keys';

const id = fc.uuid({ version: 4 });
const ext = fc.constantFrom(...new Set([...ACCEPTED_TYPES.values()].map((t) => t.ext)));
const name = fc.constantFrom(...(Object.keys(VARIANT_SIDES) as VariantName[]));
/** A key of every kind, as the service writes them. */
const anyKey = fc.oneof(
  fc.tuple(id, ext).map(([i, e]) => originalKey(i, e)),
  fc.tuple(id, name).map(([i, n]) => variantKey(i, n)),
  id.map(pendingKey),
);

describe('object keys', () => {
  it('parses every key it builds back into what built it', () => {
    fc.assert(
      fc.property(id, ext, name, (i, e, n) => {
        expect(parseKey(originalKey(i, e))).toEqual({ kind: 'original', id: i, ext: e });
        expect(imageIdOfKey(originalKey(i, e))).toBe(i);
        expect(parseKey(variantKey(i, n))).toEqual({ kind: 'variant', id: i, name: n });
        expect(parseKey(pendingKey(i))).toEqual({ kind: 'pending', id: i });
        expect(originalKey(i, e).length).toBeLessThanOrEqual(MAX_ORIGINAL_KEY_LENGTH);
      }),
    );
  });

  it('finds the original key in a file_url whatever the base, even one with images/ in it', () => {
    fc.assert(
      fc.property(fc.webUrl(), fc.boolean(), id, ext, (base, nested, i, e) => {
        const key = originalKey(i, e);
        const url = `${nested ? `${base}/images/x` : base}/${key}`;
        expect(keyOfUrl(url)).toBe(key);
      }),
    );
  });

  it('names no image for any key but an original, and no copy outside its prefix', () => {
    fc.assert(
      fc.property(id, name, (i, n) => {
        expect(imageIdOfKey(variantKey(i, n))).toBeUndefined();
        expect(imageIdOfKey(pendingKey(i))).toBeUndefined();
        expect(variantKey(i, n).startsWith(VARIANTS_PREFIX)).toBe(true);
        expect(variantKey(i, n).startsWith(ORIGINALS_PREFIX)).toBe(false);
        expect(variantKeys(i)).toEqual(Object.keys(VARIANT_SIDES).map((v) => variantKey(i, v as VariantName)));
      }),
    );
  });

  it('rejects malformed keys', () => {
    const i = '530918e4-2d9a-49a7-931e-fb5e18228cc1';
    for (const key of [
      '',
      'images/',
      `images/${i}`,
      `images/${i}.`,
      `images/${i}.jpeg2`,
      `images/${i}.JPG`,
      `images/${i.toUpperCase()}.jpg`,
      `images/${i.slice(1)}.jpg`,
      `images/${i}.tar.gz`,
      `images/../${i}.jpg`,
      `images/x/${i}.jpg`,
      `/images/${i}.jpg`,
      ` images/${i}.jpg`,
      `images/${i}.jpg\n`,
      `raw/${i}.jpg`,
      `variants/${i}/thumb.jpg`,
      `variants/${i}/huge.webp`,
      `variants/${i}.webp`,
      `uploads/${i}/`,
      `uploads/${i}.jpg`,
      `uploads/not-a-uuid`,
    ]) {
      expect(parseKey(key), key).toBeUndefined();
      expect(imageIdOfKey(key), key).toBeUndefined();
    }
  });

  it('parses a string only when it is exactly a key the builders write', () => {
    // Near misses: valid keys with one character inserted, removed or replaced.
    const mutated = fc
      .tuple(
        anyKey,
        fc.nat(),
        fc.oneof(fc.constant(''), fc.string({ minLength: 1, maxLength: 1 }), fc.constantFrom('/', '.', 'A', '-')),
        fc.boolean(),
      )
      .map(([key, at, ch, replace]) => {
        const p = at % (key.length + 1);
        return key.slice(0, p) + ch + key.slice(p + (replace ? 1 : 0));
      });
    fc.assert(
      fc.property(fc.oneof(anyKey, mutated, fc.string()), (key) => {
        const parsed = parseKey(key);
        if (parsed === undefined) return;
        const rebuilt =
          parsed.kind === 'original'
            ? originalKey(parsed.id, parsed.ext)
            : parsed.kind === 'variant'
              ? variantKey(parsed.id, parsed.name)
              : pendingKey(parsed.id);
        expect(rebuilt).toBe(key);
      }),
    );
  });

  it('builds no key from an id or extension that could leave its prefix', () => {
    for (const bad of ['', '../x', 'a/b', '530918E4-2D9A-49A7-931E-FB5E18228CC1', '530918e4-2d9a-49a7-931e-fb5e18228cc1/..']) {
      expect(() => originalKey(bad, 'jpg'), bad).toThrow(/not an id/);
      expect(() => variantKey(bad, 'thumb'), bad).toThrow(/not an id/);
      expect(() => pendingKey(bad), bad).toThrow(/not an id/);
    }
    for (const bad of ['', 'jpeg2', 'j/g', '.jpg', 'JPG']) {
      expect(() => originalKey('530918e4-2d9a-49a7-931e-fb5e18228cc1', bad), bad).toThrow(/not an extension/);
    }
  });

  it('names the same prefixes as the bucket rules in serverless.yml', () => {
    const yml = readFileSync(new URL('../../serverless.yml', import.meta.url), 'utf8');
    // The processing trigger, the pending uploads' expiry, and the IAM grants of each prefix.
    expect(yml).toMatch(new RegExp(`- prefix: ${ORIGINALS_PREFIX}\\n`));
    expect(yml).toMatch(new RegExp(`Prefix: ${PENDING_PREFIX}\\n`));
    const granted = [...yml.matchAll(/Arn\] \}, '\/([a-z]+\/)\*'\]\]/g)].map((m) => m[1]);
    expect(new Set(granted)).toEqual(new Set([ORIGINALS_PREFIX, VARIANTS_PREFIX, PENDING_PREFIX]));
  });
});
