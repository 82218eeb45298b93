/**
 * `npm run bench`: every figure is a ratio of two things measured side by side in this one run (the
 * machine is shared and noisy): package sizes, cold starts against an empty handler, warm paths
 * against the raw operations they must do, a list page at 100,000 rows against 1,000, direct uploads
 * against a raw PutObject and INSERT of the same bytes (and, with a declared SHA-256, on a store
 * that reports checksums: what the completion reads), the peak memory of an upload at the size
 * limit and of a 50 MiB completion, and the processing function's copies of a JPEG, a HEIC and a
 * large PNG against sharp alone doing the same. Needs Postgres at 127.0.0.1:5432, Redis at :6379,
 * heif-enc (Debian's libheif-examples) and moto_server (pip's moto[server]).
 *
 *   BENCH_ITERATIONS=1000 BENCH_COLD_RUNS=7 npm run bench
 *
 * BENCH_PACKAGED=1 takes the zips in .serverless as they are, instead of running npm run package.
 * BENCH_SHORT=1 runs every section on a few runs only (CI: tests/integration/bench.test.ts), its
 * figures meaningless; BENCH_SCALE_ROWS sets the rows of the scale section's large table (100,000).
 * BENCH_SECTIONS=cold,warm,scale,lists,direct,checksum,memory,processing,outbox runs only those, in that
 * order (package sizes always). BENCH_LARGE_ITERATIONS sets the runs of the 50 MiB direct upload
 * (default: a twentieth of BENCH_ITERATIONS, at least 5; the checksum section's 12 MP runs are
 * BENCH_ITERATIONS, at most 100), BENCH_PROCESSING_ITERATIONS the warm runs of each
 * original in the processing section (default: BENCH_ITERATIONS, at most 20); its cold processes are
 * BENCH_COLD_RUNS. The tables go to the console and to .bench-results.md.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from '../lib/once';
import { uploadClient, warmApp } from './app';
import { packageFunctions } from './bundles';
import type { BenchContext, Section, Table } from './context';
import { checksumUploads } from './sections/checksum';
import { coldStarts } from './sections/cold';
import { directUploads } from './sections/direct';
import { lists } from './sections/lists';
import { memory } from './sections/memory';
import { outbox } from './sections/outbox';
import { packages } from './sections/packages';
import { processing } from './sections/processing';
import { scale } from './sections/scale';
import { warmPaths } from './sections/warm';
import { startServices } from './services';

const SECTIONS: [string, Section][] = [
  ['cold', coldStarts],
  ['warm', warmPaths],
  ['scale', scale],
  ['lists', lists],
  ['direct', directUploads],
  ['checksum', checksumUploads],
  ['memory', memory],
  ['processing', processing],
  ['outbox', outbox],
];
const selected = new Set((process.env.BENCH_SECTIONS ?? SECTIONS.map(([name]) => name).join(',')).split(','));
/**
 * BENCH_SHORT=1: every section once, on a few runs, so that CI sees the bench still works (its
 * figures then mean nothing, and nothing asserts them). The variables below still override it.
 */
const short = process.env.BENCH_SHORT === '1';
const numberOf = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number`);
  return value;
};
const iterations = numberOf('BENCH_ITERATIONS', short ? 3 : 1000);
const options = {
  iterations,
  coldRuns: numberOf('BENCH_COLD_RUNS', short ? 1 : 7),
  largeIterations: numberOf('BENCH_LARGE_ITERATIONS', short ? 1 : Math.max(5, Math.round(iterations / 20))),
  processingIterations: numberOf('BENCH_PROCESSING_ITERATIONS', short ? 1 : Math.min(iterations, 20)),
  scaleRows: numberOf('BENCH_SCALE_ROWS', short ? 5_000 : 100_000),
};

/** A table as Markdown, preceded by a blank line and its title. */
function markdown(table: Table): string[] {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    `\n## ${table.title}`,
    ...(table.note ? [table.note] : []),
    line(table.columns.map(([name]) => name)),
    line(table.columns.map(([, align]) => (align === 'right' ? '---:' : '---'))),
    ...table.rows.map(line),
    ...(table.after ?? []),
  ];
}

const lines: string[] = [];
const say = (line: string) => {
  lines.push(line);
  console.log(line);
};

const services = await startServices(options);
const ctx: BenchContext = {
  ...services,
  packaged: once(() => packageFunctions(services)),
  app: once(() => warmApp(services)),
  uploads: once(() => uploadClient()),
};
try {
  say(
    `# npm run bench (${new Date().toISOString()}, node ${process.version}, ${options.iterations} iterations, ${options.largeIterations} of 50 MiB, ${options.processingIterations} of each original processed, ${options.coldRuns} cold runs${short ? ', short mode: figures not meaningful' : ''})`,
  );
  for (const section of [packages, ...SECTIONS.filter(([name]) => selected.has(name)).map(([, s]) => s)]) {
    for (const table of [await section(ctx)].flat()) for (const line of markdown(table)) say(line);
  }
} finally {
  await services.close();
  writeFileSync(join(services.root, '.bench-results.md'), `${lines.join('\n')}\n`);
}
process.exit(0);
