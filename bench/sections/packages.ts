import type { BenchContext, Table } from '../context';

const GOAL_BYTES = 500 * 1024;
const kb = (bytes: number) => (bytes > 0 ? `${(bytes / 1024).toFixed(0)} KB` : '');

/** The size of each function's zip, as `npm run package` writes it: the bundled code, and node_modules installed beside it. */
export async function packages(ctx: BenchContext): Promise<Table> {
  return {
    title: 'Packages (npm run package: esbuild, minified, one zip per function)',
    note:
      "node_modules: the externals installed into a zip rather than bundled (sharp's JavaScript and its libvips for Lambda's " +
      "arm64, libheif's WASM build); the rest of a zip is the bundled code and the function's own files (docs, web).",
    columns: [
      ['function', 'left'],
      ['zipped', 'right'],
      ['the bundled code', 'right'],
      ['node_modules', 'right'],
      ['goal < 500 KB (the zip)', 'left'],
    ],
    rows: ctx
      .packaged()
      .functions.map((f) => [f.name, kb(f.zipBytes), kb(f.codeBytes), kb(f.modulesBytes), f.zipBytes < GOAL_BYTES ? 'yes' : 'NO']),
  };
}
