/**
 * What each function's bundle holds, and how much of it runs at cold start: every function of
 * serverless.yml bundled by esbuild with the options serverless-esbuild is given there (in memory,
 * nothing written), read through esbuild's metafile. A module runs at init when the handler reaches
 * it by static imports (or the SSM read, awaited at init on a deployed stage); what only a dynamic
 * `import()` reaches is in the bundle, wrapped, and runs when a request first needs it.
 *
 *   npx tsx scripts/bundle-sizes.ts [function…]   prints, per function, the KB and the top packages
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { parse } from 'yaml';

export interface BundleSize {
  name: string;
  /** The bundle's bytes (minified). */
  bytes: number;
  /** Of those, the bytes of the modules evaluated when the handler is imported. */
  initBytes: number;
  /** The bytes at init by package (`node_modules/<package>`, or the project's folder), largest first. */
  initByPackage: [string, number][];
}

interface EsbuildSettings {
  minify?: boolean;
  treeShaking?: boolean;
  keepNames?: boolean;
  target?: string;
  platform?: 'node';
  format?: 'esm';
  mainFields?: string[];
  exclude?: string[];
  external?: string[];
  banner?: { js: string };
}

/** The functions of serverless.yml (name → handler's source file) and the esbuild settings there. */
export function serverlessFunctions(root: string): { functions: Map<string, string>; settings: EsbuildSettings } {
  const config = parse(readFileSync(join(root, 'serverless.yml'), 'utf8')) as {
    functions: Record<string, { handler: string }>;
    custom: { esbuild: EsbuildSettings };
  };
  const functions = new Map(
    Object.entries(config.functions).map(([name, fn]) => [name, `${fn.handler.slice(0, fn.handler.lastIndexOf('.'))}.ts`]),
  );
  return { functions, settings: config.custom.esbuild };
}

/** The package or folder a metafile input belongs to: `node_modules/<package>` (scoped too), else its first two path parts. */
export function packageOf(input: string): string {
  const at = input.lastIndexOf('node_modules/');
  if (at >= 0) {
    const parts = input.slice(at + 'node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? input);
  }
  return input.split('/').slice(0, 2).join('/');
}

/**
 * Modules imported dynamically but awaited at the top of a module (lib/secrets.ts awaits the SSM
 * read on a deployed stage): run at init all the same.
 */
const AWAITED_AT_INIT = new Set(['lib/parameter-store.ts']);

/**
 * The inputs of the metafile reached from `entry` by static imports (import statements, require
 * calls), and through the dynamic imports awaited at init.
 */
export function initInputs(metafile: Metafile, entry: string): Set<string> {
  const reached = new Set<string>();
  const stack = [entry];
  while (stack.length > 0) {
    const input = stack.pop() as string;
    if (reached.has(input) || !metafile.inputs[input]) continue;
    reached.add(input);
    for (const imported of metafile.inputs[input].imports) {
      if (imported.external) continue;
      if (imported.kind !== 'dynamic-import' || AWAITED_AT_INIT.has(imported.path)) stack.push(imported.path);
    }
  }
  return reached;
}

/** Sizes one metafile's single output: its bytes, those run at init, by package. */
export function sizesOf(name: string, metafile: Metafile, entry: string): BundleSize {
  const [output] = Object.values(metafile.outputs);
  if (!output) throw new Error(`${name}: esbuild wrote nothing`);
  const init = initInputs(metafile, entry);
  const byPackage = new Map<string, number>();
  let initBytes = 0;
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    if (!init.has(input)) continue;
    initBytes += bytesInOutput;
    byPackage.set(packageOf(input), (byPackage.get(packageOf(input)) ?? 0) + bytesInOutput);
  }
  return { name, bytes: output.bytes, initBytes, initByPackage: [...byPackage].sort((a, b) => b[1] - a[1]) };
}

/** Bundles every function (or those named) as `npm run package` does, in memory, and sizes each. */
export async function bundleSizes(root: string, only?: string[]): Promise<BundleSize[]> {
  const { functions, settings } = serverlessFunctions(root);
  const options: BuildOptions = {
    absWorkingDir: root,
    bundle: true,
    write: false,
    metafile: true,
    minify: settings.minify ?? false,
    treeShaking: settings.treeShaking ?? true,
    keepNames: settings.keepNames ?? false,
    platform: settings.platform ?? 'node',
    format: settings.format ?? 'esm',
    ...(settings.target ? { target: settings.target } : {}),
    ...(settings.mainFields ? { mainFields: settings.mainFields } : {}),
    // serverless-esbuild leaves both `exclude` and `external` out of the bundle.
    external: [...(settings.exclude ?? []), ...(settings.external ?? [])],
    ...(settings.banner ? { banner: settings.banner } : {}),
    logLevel: 'silent',
  };
  const names = [...functions.keys()].filter((name) => !only?.length || only.includes(name)).sort();
  return Promise.all(
    names.map(async (name) => {
      const entry = functions.get(name) as string;
      const { metafile } = await build({ ...options, entryPoints: [entry] });
      if (!metafile) throw new Error(`${name}: esbuild gave no metafile`);
      return sizesOf(name, metafile, entry);
    }),
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
  for (const size of await bundleSizes(process.cwd(), process.argv.slice(2))) {
    const top = size.initByPackage
      .slice(0, 6)
      .map(([pkg, bytes]) => `${pkg} ${kb(bytes)}`)
      .join(', ');
    console.log(`${size.name}: ${kb(size.bytes)} bundled, ${kb(size.initBytes)} run at init (${top})`);
  }
}
