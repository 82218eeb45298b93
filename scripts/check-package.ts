/**
 * Part of `npm run package`: the zips are what Lambda (arm64) will run. Every native binary in them
 * (an ELF file: sharp's .node, libvips) must be built for aarch64 — a zip packaged on an x64 machine
 * that carries x64 binaries fails only once deployed — and only imagesProcess carries sharp and
 * libheif at all. Exits 1, naming each offending file.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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
  const dir = process.argv[2] ?? '.serverless';
  const problems = checkPackage(dir);
  for (const problem of problems) console.error(`✖ ${problem}`);
  if (problems.length > 0) process.exit(1);
  console.log(`✔ ${dir}: every native binary is aarch64, and only imagesProcess carries sharp and libheif`);
}
