/**
 * `npm run bench`: every figure is a ratio of two things measured side by side in this one run (the
 * machine is shared and noisy): package sizes, cold starts against an empty handler, warm paths
 * against the raw operations they must do, a list page at 100,000 rows against 1,000, and the peak
 * memory of an upload at the size limit. Needs Postgres at 127.0.0.1:5432 and Redis at :6379.
 *
 *   BENCH_ITERATIONS=1000 BENCH_COLD_RUNS=7 npm run bench
 *
 * BENCH_SECTIONS=cold,warm,scale,memory runs only those, in that order (package sizes always). The
 * tables go to the console and to .bench-results.md.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from '../lib/once';
import { warmApp } from './app';
import { packageFunctions } from './bundles';
import { startServices, type BenchContext, type Section, type Table } from './context';
import { coldStarts } from './sections/cold';
import { memory } from './sections/memory';
import { packages } from './sections/packages';
import { scale } from './sections/scale';
import { warmPaths } from './sections/warm';

const SECTIONS: [string, Section][] = [
  ['cold', coldStarts],
  ['warm', warmPaths],
  ['scale', scale],
  ['memory', memory],
];
const selected = new Set((process.env.BENCH_SECTIONS ?? 'cold,warm,scale,memory').split(','));
const options = { iterations: Number(process.env.BENCH_ITERATIONS ?? 1000), coldRuns: Number(process.env.BENCH_COLD_RUNS ?? 7) };

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
const ctx: BenchContext = { ...services, packaged: once(() => packageFunctions(services)), app: once(() => warmApp(services)) };
try {
  say(`# npm run bench (${new Date().toISOString()}, node ${process.version}, ${options.iterations} iterations, ${options.coldRuns} cold runs)`);
  for (const section of [packages, ...SECTIONS.filter(([name]) => selected.has(name)).map(([, s]) => s)]) {
    for (const line of markdown(await section(ctx))) say(line);
  }
} finally {
  await services.close();
  writeFileSync(join(services.root, '.bench-results.md'), `${lines.join('\n')}\n`);
}
process.exit(0);
