/**
 * Part of `npm run package`: the zips are what Lambda (arm64) will run. Every native binary in them
 * (an ELF file: sharp's .node, libvips) must be built for aarch64 — a zip packaged on an x64 machine
 * that carries x64 binaries fails only once deployed — and only imagesProcess carries sharp and
 * libheif at all. And no function outgrows its budget (scripts/bundle-budgets.json): the bytes of its
 * zip, and of the code its cold start evaluates (esbuild's metafile, scripts/bundle-sizes.ts), so
 * that a heavy import shows in the change that adds it. Exits 1, naming each offending file.
 *
 *   npx tsx scripts/check-package.ts [dir]            checks the zips in dir (.serverless)
 *   npx tsx scripts/check-package.ts --record [dir]   writes the budgets: today's sizes + 10%
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BundleSize, bundleSizes } from './bundle-sizes';

/** A function's budget: the most bytes its zip, and the code it evaluates at init, may have. */
export interface Budget {
  zipBytes: number;
  initBytes: number;
}

/** The budgets, committed beside this script. */
export const BUDGETS_FILE = fileURLToPath(new URL('./bundle-budgets.json', import.meta.url));
/** The room a recorded budget leaves above the size it was recorded at. */
const HEADROOM = 1.1;

export const readBudgets = (file = BUDGETS_FILE): Record<string, Budget> =>
  JSON.parse(readFileSync(file, 'utf8')) as Record<string, Budget>;

/** The functions' zips in `dir` (not the framework's own custom-resources.zip) and their bytes. */
export function zipSizes(dir: string): Map<string, number> {
  return new Map(
    readdirSync(dir)
      .filter((f) => f.endsWith('.zip') && f !== 'custom-resources.zip')
      .map((f) => [f.slice(0, -'.zip'.length), statSync(join(dir, f)).size]),
  );
}

/**
 * What outgrew its budget, one line each: a zip, or the code run at init, over its function's
 * budget; a function with no budget; a budget for a function that no longer exists.
 */
export function checkBudgets(zips: Map<string, number>, sizes: BundleSize[], budgets: Record<string, Budget>): string[] {
  const problems: string[] = [];
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  const init = new Map(sizes.map((s) => [s.name, s]));
  for (const name of [...new Set([...zips.keys(), ...init.keys()])].sort()) {
    const budget = budgets[name];
    if (!budget) {
      problems.push(`${name}: no budget in scripts/bundle-budgets.json (npx tsx scripts/check-package.ts --record)`);
      continue;
    }
    const zip = zips.get(name);
    if (zip !== undefined && zip > budget.zipBytes) problems.push(`${name}.zip: ${kb(zip)}, over its budget of ${kb(budget.zipBytes)}`);
    const size = init.get(name);
    if (size && size.initBytes > budget.initBytes) {
      const top = size.initByPackage
        .slice(0, 5)
        .map(([pkg, bytes]) => `${pkg} ${kb(bytes)}`)
        .join(', ');
      problems.push(`${name}: ${kb(size.initBytes)} of code run at init, over its budget of ${kb(budget.initBytes)} (${top})`);
    }
  }
  for (const name of Object.keys(budgets)) {
    if (!zips.has(name) && !init.has(name)) problems.push(`${name}: a budget for no function (remove it from scripts/bundle-budgets.json)`);
  }
  return problems;
}

/** Budgets from today's sizes, with HEADROOM, rounded up to the KB. */
export function budgetsOf(zips: Map<string, number>, sizes: BundleSize[]): Record<string, Budget> {
  const up = (bytes: number) => Math.ceil((bytes * HEADROOM) / 1024) * 1024;
  return Object.fromEntries(
    sizes
      .map((s) => [s.name, { zipBytes: up(zips.get(s.name) ?? 0), initBytes: up(s.initBytes) }] as const)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

/** e_machine values (0x3E, 0xB7, 0x03, 0x28), in decimal. */
const ELF_MACHINES: Record<number, string> = { 62: 'x86-64', 183: 'aarch64', 3: 'x86', 40: 'arm' };
const NATIVE_PACKAGES = /^node_modules\/(sharp|@img|libheif-js)\//;

/** The machine an ELF file is built for (e_machine), or undefined when the bytes are not ELF. */
export function elfMachine(bytes: Buffer): string | undefined {
  if (bytes.length < 20 || bytes.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const machine = bytes[5] === 2 ? bytes.readUInt16BE(18) : bytes.readUInt16LE(18);
  return ELF_MACHINES[machine] ?? `machine ${machine}`;
}

/** What is wrong with the zips in `dir`, one line each; empty when nothing is. */
export function checkPackage(dir: string): string[] {
  const problems: string[] = [];
  for (const zip of readdirSync(dir).filter((f) => f.endsWith('.zip'))) {
    const path = join(dir, zip);
    const entries = execFileSync('unzip', ['-Z1', path], { encoding: 'utf8', maxBuffer: 1 << 26 })
      .split('\n')
      .filter(Boolean);
    if (zip !== 'imagesProcess.zip' && entries.some((e) => NATIVE_PACKAGES.test(e))) {
      problems.push(`${zip}: carries sharp or libheif, which only imagesProcess needs`);
    }
    for (const entry of entries.filter((e) => !e.endsWith('/'))) {
      // Only what could be a binary is read: native modules, shared libraries, files without a suffix.
      if (!/\.(node|so)(\.\d+)*$/.test(entry) && /\.[a-z]+$/i.test(entry)) continue;
      const head = execFileSync('unzip', ['-p', path, entry], { maxBuffer: 1 << 26 }).subarray(0, 64);
      const machine = elfMachine(head);
      if (machine !== undefined && machine !== 'aarch64') problems.push(`${zip}: ${entry} is built for ${machine}, not aarch64`);
    }
  }
  return problems;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const record = process.argv.includes('--record');
  const dir = process.argv.slice(2).find((a) => a !== '--record') ?? '.serverless';
  const sizes = await bundleSizes(process.cwd());
  if (record) {
    writeFileSync(BUDGETS_FILE, `${JSON.stringify(budgetsOf(zipSizes(dir), sizes), null, 2)}\n`);
    console.log(`✔ ${BUDGETS_FILE}: today's sizes + ${Math.round((HEADROOM - 1) * 100)}%`);
    process.exit(0);
  }
  const problems = [...checkPackage(dir), ...checkBudgets(zipSizes(dir), sizes, readBudgets())];
  for (const problem of problems) console.error(`✖ ${problem}`);
  if (problems.length > 0) process.exit(1);
  console.log(`✔ ${dir}: every native binary is aarch64, only imagesProcess carries sharp and libheif, every function within its budget`);
}
