import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The folder map of docs/architecture.md, lowest layer first: a file imports from its own folder
// or from a lower layer, never from a higher one nor from a sibling on its own level, and no
// chain of imports comes back to where it started.

interface Layer {
  name: string;
  level: number;
  holds: (file: string) => boolean;
}

const under = (folder: string) => (file: string) => file.startsWith(`${folder}/`);

const LAYERS: Layer[] = [
  { name: 'lib (infrastructure)', level: 0, holds: (f) => /^lib\/[^/]+$/.test(f) && f !== 'lib/subscribers.ts' },
  { name: 'lib/outbox', level: 1, holds: under('lib/outbox') },
  { name: 'lib/images', level: 2, holds: under('lib/images') },
  { name: 'lib/variants', level: 3, holds: under('lib/variants') },
  { name: 'lib/uploads', level: 3, holds: under('lib/uploads') },
  { name: 'lib/albums', level: 3, holds: under('lib/albums') },
  { name: 'lib/shares', level: 3, holds: under('lib/shares') },
  { name: 'lib/http', level: 4, holds: under('lib/http') },
  { name: 'lib/subscribers.ts', level: 5, holds: (f) => f === 'lib/subscribers.ts' },
  { name: 'functions', level: 6, holds: under('functions') },
  { name: 'listener', level: 6, holds: under('listener') },
  { name: 'scripts', level: 6, holds: under('scripts') },
  { name: 'support', level: 6, holds: under('support') },
  { name: 'bench', level: 7, holds: under('bench') },
];

/** Imports between siblings that the map allows, as `from → to` layer names (none today). */
const SIBLING_EXCEPTIONS = new Set<string>();

const ROOTS = ['lib', 'functions', 'listener', 'scripts', 'support', 'bench'];
const CODE = /\.(ts|mts|cts|js|mjs|cjs)$/;

/** An import graph: each file (relative to the repository) and the files it imports. */
type Graph = Map<string, string[]>;

/** The repository's own imports (relative specifiers) of every code file under ROOTS: static, dynamic, re-exports and require(). */
function readGraph(root: string): Graph {
  const graph: Graph = new Map();
  const walk = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : CODE.test(e.name) ? [join(dir, e.name)] : [],
    );
  const resolve = (from: string, specifier: string): string => {
    const base = join(dirname(from), specifier);
    const candidates = [base, `${base}.ts`, base.replace(/\.js$/, '.ts'), join(base, 'index.ts')];
    return candidates.find((c) => existsSync(join(root, c)) && statSync(join(root, c)).isFile()) ?? base;
  };
  for (const file of ROOTS.filter((r) => existsSync(join(root, r))).flatMap(walk)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
    graph.set(
      file,
      importedFiles
        .map((i) => i.fileName)
        .filter((s) => s.startsWith('.'))
        .map((s) => resolve(file, s)),
    );
  }
  return graph;
}

/** What is wrong with a graph: each import that goes up or sideways, and each circle of imports, named by its files. */
function dependencyProblems(graph: Graph, layers: Layer[] = LAYERS, exceptions = SIBLING_EXCEPTIONS): string[] {
  const layerOf = (file: string) => layers.find((l) => l.holds(file));
  const problems: string[] = [];
  for (const [file, imports] of graph) {
    const from = layerOf(file);
    for (const target of imports) {
      const to = layerOf(target);
      if (!from || !to || from === to) continue;
      if (to.level > from.level) problems.push(`${file} imports ${target}: ${from.name} may not depend on ${to.name}, a higher layer`);
      else if (to.level === from.level && !exceptions.has(`${from.name} → ${to.name}`)) {
        problems.push(`${file} imports ${target}: ${from.name} may not depend on its sibling ${to.name}`);
      }
    }
  }
  // Circles: a depth-first walk that meets a file still on its path.
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    path.push(file);
    for (const target of graph.get(file) ?? []) {
      if (state.get(target) === 'open') problems.push(`import circle: ${[...path.slice(path.indexOf(target)), target].join(' → ')}`);
      else if (!state.has(target)) visit(target);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return problems;
}

describe('dependencies', () => {
  const root = join(import.meta.dirname, '..', '..');
  const graph = readGraph(root);

  it('reads the imports of every layer: static, dynamic and require()', () => {
    for (const layer of LAYERS) expect([...graph.keys()].some(layer.holds), layer.name).toBe(true);
    expect(graph.get('lib/subscribers.ts')).toContain('lib/images/cache.ts');
    // A dynamic import (present loads the signer only when it presigns) is an import too.
    expect(graph.get('lib/images/present.ts')).toContain('lib/presign.ts');
    expect(graph.get('scripts/serverless-stage.cjs')).toContain('scripts/config-variables.json');
    // Every file imported is one the walk read, so no import escapes the checks.
    const unread = [...graph.values()].flat().filter((f) => CODE.test(f) && !graph.has(f) && !f.startsWith('..'));
    expect(unread).toEqual([]);
  });

  it('runs one way, lowest layer first, with no circle', () => {
    expect(dependencyProblems(graph)).toEqual([]);
  });

  it('names an upward import, a sibling import and a circle in a graph that has them', () => {
    const bad: Graph = new Map([
      ['lib/outbox/relay.ts', ['lib/images/cache.ts', 'lib/db.ts']],
      ['lib/images/cache.ts', ['lib/cache.ts']],
      ['lib/shares/create.ts', ['lib/albums/errors.ts']],
      ['lib/albums/errors.ts', ['lib/errors.ts']],
      ['lib/db.ts', ['lib/log.ts']],
      ['lib/log.ts', ['lib/db.ts']],
    ]);
    expect(dependencyProblems(bad)).toEqual([
      'lib/outbox/relay.ts imports lib/images/cache.ts: lib/outbox may not depend on lib/images, a higher layer',
      'lib/shares/create.ts imports lib/albums/errors.ts: lib/shares may not depend on its sibling lib/albums',
      'import circle: lib/db.ts → lib/log.ts → lib/db.ts',
    ]);
    expect(dependencyProblems(bad, LAYERS, new Set(['lib/shares → lib/albums']))).toHaveLength(2);
  });
});
