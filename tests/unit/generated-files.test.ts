/**
 * The files made from lib/config.ts's declarations (scripts/docs.ts) are as `npm run docs` would
 * write them now: an edited declaration without a fresh env.example, configuration table or stage
 * list fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatedFiles } from '../../scripts/docs';

describe('generated files', () => {
  it.each(Object.entries(generatedFiles()))('%s is fresh (npm run docs)', (path, content) => {
    expect(readFileSync(path, 'utf8'), `${path} is stale: run npm run docs`).toBe(content);
  });
});
