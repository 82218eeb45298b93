import type { BenchContext, Table } from '../context';

const GOAL_BYTES = 500 * 1024;

/** The size of each function's zip, as `npm run package` writes it. */
export async function packages(ctx: BenchContext): Promise<Table> {
  return {
    title: 'Packages (npm run package: esbuild, minified, one zip per function)',
    columns: [
      ['function', 'left'],
      ['zipped', 'right'],
      ['goal < 500 KB', 'left'],
    ],
    rows: ctx.packaged().functions.map((f) => [f.name, `${(f.zipBytes / 1024).toFixed(0)} KB`, f.zipBytes < GOAL_BYTES ? 'yes' : 'NO']),
  };
}
