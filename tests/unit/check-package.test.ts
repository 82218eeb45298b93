/**
 * The packaging check of `npm run package`: zips with an x64 binary, or sharp outside imagesProcess,
 * are refused, and so is a function that outgrew its budget (scripts/bundle-budgets.json). The zips
 * are made here with Python's zipfile (the machine image has Python for moto).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BundleSize } from '../../scripts/bundle-sizes';
import { bundleSizes, serverlessFunctions } from '../../scripts/bundle-sizes';
import { budgetsOf, checkBudgets, checkPackage, elfMachine, readBudgets } from '../../scripts/check-package';
import { runsWith } from '../helpers/tools';

/** The first bytes of a 64-bit little-endian ELF shared object for `machine` (e_machine). */
const elf = (machine: number) => {
  const head = Buffer.alloc(64);
  head.write('\x7fELF', 0, 'latin1');
  head[4] = 2; // 64-bit
  head[5] = 1; // little-endian
  head.writeUInt16LE(3, 16); // ET_DYN
  head.writeUInt16LE(machine, 18);
  return head;
};

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `<name>.zip` into a fresh folder holding `files` (entry name → bytes). */
function zipOf(zips: Record<string, Record<string, Buffer>>): string {
  dir = mkdtempSync(join(tmpdir(), 'gallery-zips-'));
  for (const [name, files] of Object.entries(zips)) {
    const sources = Object.entries(files).map(([entry, bytes], i) => {
      const file = join(dir, `f${name}${i}`);
      writeFileSync(file, bytes);
      return [entry, file];
    });
    const script = `import sys, zipfile, json\nwith zipfile.ZipFile(sys.argv[1], 'w') as z:\n  [z.write(f, e) for e, f in json.loads(sys.argv[2])]`;
    execFileSync('python3', ['-c', script, join(dir, `${name}.zip`), JSON.stringify(sources)]);
  }
  return dir;
}

// The zips are written by Python and read, as npm run package does, with unzip.
const withZips = runsWith('the arm64 package check of zips (check-package.test.ts)', 'python3', 'unzip');

describe('the arm64 package check', () => {
  it('reads the machine of ELF headers, 32- and 64-bit, either byte order', () => {
    expect(elfMachine(elf(0xb7))).toBe('aarch64');
    expect(elfMachine(elf(0x3e))).toBe('x86-64');
    expect(elfMachine(Buffer.from('#!/bin/sh\n'.padEnd(64)))).toBeUndefined();
    // This machine's own sharp binary, as npm installed it for x64.
    const x64 = readFileSync('node_modules/@img/sharp-linux-x64/lib/sharp-linux-x64-0.35.5.node');
    expect(elfMachine(x64)).toBe('x86-64');
  });

  it.runIf(withZips)('passes arm64 binaries in imagesProcess, and JavaScript anywhere', () => {
    const ok = zipOf({
      imagesProcess: {
        'node_modules/@img/sharp-linux-arm64/lib/sharp.node': elf(0xb7),
        'functions/images-process.mjs': Buffer.from('export {}'),
      },
      imagesGet: { 'functions/images-get.mjs': Buffer.from('export {}') },
    });
    expect(checkPackage(ok)).toEqual([]);
  });

  it.runIf(withZips)('refuses an x64 binary, and sharp in any other function', () => {
    const bad = zipOf({
      imagesProcess: {
        'node_modules/@img/sharp-linux-x64/lib/sharp-linux-x64.node': elf(0x3e),
        'node_modules/@img/x/lib/libvips-cpp.so.8.18.7': elf(0xb7),
      },
      imagesGet: { 'node_modules/sharp/lib/index.js': Buffer.from('module.exports = {}') },
    });
    expect(checkPackage(bad)).toEqual([
      'imagesGet.zip: carries sharp or libheif, which only imagesProcess needs',
      'imagesProcess.zip: node_modules/@img/sharp-linux-x64/lib/sharp-linux-x64.node is built for x86-64, not aarch64',
    ]);
  });
});

describe('the size budgets', () => {
  const size = (name: string, initBytes: number): BundleSize => ({
    name,
    bytes: initBytes * 2,
    initBytes,
    initByPackage: [
      ['@aws-sdk/client-s3', initBytes - 1000],
      ['lib/db.ts', 1000],
    ],
  });
  const budgets = { imagesGet: { zipBytes: 200_000, initBytes: 300_000 }, imagesList: { zipBytes: 200_000, initBytes: 300_000 } };

  it('passes functions within their budgets, and refuses a zip or the code run at init over it', () => {
    const zips = new Map([
      ['imagesGet', 200_000],
      ['imagesList', 150_000],
    ]);
    expect(checkBudgets(zips, [size('imagesGet', 300_000), size('imagesList', 120_000)], budgets)).toEqual([]);
    expect(checkBudgets(new Map([...zips, ['imagesGet', 200_001]]), [size('imagesGet', 300_001), size('imagesList', 1)], budgets)).toEqual([
      'imagesGet.zip: 195.3 KB, over its budget of 195.3 KB',
      'imagesGet: 293.0 KB of code run at init, over its budget of 293.0 KB (@aws-sdk/client-s3 292.0 KB, lib/db.ts 1.0 KB)',
    ]);
  });

  it('refuses a function without a budget, and a budget without a function', () => {
    const problems = checkBudgets(new Map([['albumsGet', 1]]), [size('albumsGet', 1), size('imagesGet', 1)], budgets);
    expect(problems).toEqual([
      'albumsGet: no budget in scripts/bundle-budgets.json (npx tsx scripts/check-package.ts --record)',
      'imagesList: a budget for no function (remove it from scripts/bundle-budgets.json)',
    ]);
  });

  it('records budgets 10% above the sizes, rounded up to the KB', () => {
    expect(budgetsOf(new Map([['imagesGet', 100_000]]), [size('imagesGet', 200_000)])).toEqual({
      imagesGet: { zipBytes: 108 * 1024, initBytes: 215 * 1024 },
    });
  });

  it("keeps every function's code run at init within its recorded budget", async () => {
    const recorded = readBudgets();
    expect(Object.keys(recorded).sort()).toEqual([...serverlessFunctions(process.cwd()).functions.keys()].sort());
    // The zips are checked by npm run package (they take minutes to make); the bundles, in memory, here.
    expect(checkBudgets(new Map(), await bundleSizes(process.cwd()), recorded)).toEqual([]);
  }, 180_000);
});
