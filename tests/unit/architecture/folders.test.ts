/**
 * The folders of src/ form a DAG: each may import only the folders listed below it here, so a
 * contributor can tell where the walls are. Imports are read with TypeScript's own pre-processor
 * (static imports, re-exports, dynamic import() and require()), so a new edge cannot hide.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const SRC = path.resolve(__dirname, '..', '..', '..', 'src');

/** Each folder and what it may import, bottom to top. */
const MAY_IMPORT: Record<string, string[]> = {
  core: [],
  config: ['core'],
  prices: ['core', 'config'],
  fit: ['core', 'config', 'prices'],
  image: ['core', 'config', 'fit'],
  keys: ['core', 'config'],
  promote: ['core', 'config', 'fit', 'image'],
  deploy: ['core', 'config', 'fit', 'image', 'keys'],
  // The bootstrap stack deployed from a workstation (the CLI's bootstrap): deploy's change sets and events.
  bootstrap: ['core', 'config', 'fit', 'image', 'keys', 'deploy'],
  benchmark: ['core', 'config', 'prices', 'fit', 'image', 'deploy'],
  cost: ['core', 'config', 'prices', 'fit', 'image', 'deploy', 'benchmark'],
  plan: ['core', 'config', 'fit', 'image', 'deploy', 'cost'],
  actions: ['core', 'config', 'fit', 'image', 'keys', 'promote', 'deploy', 'benchmark', 'cost'],
  cli: ['core', 'config', 'fit', 'deploy', 'bootstrap', 'benchmark', 'plan', 'actions'],
  entries: ['core', 'config', 'actions', 'cli'],
};

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return /\.(ts|js)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

function resolveLocal(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, `${base}.js`, path.join(base, 'index.ts')]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return base;
}

const folderOf = (file: string) => path.relative(SRC, file).split(path.sep)[0] ?? '';

function edges(): { from: string; to: string }[] {
  const out: { from: string; to: string }[] = [];
  for (const file of sourceFiles(SRC)) {
    const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
    for (const ref of info.importedFiles) {
      const target = resolveLocal(file, ref.fileName);
      if (target) out.push({ from: file, to: target });
    }
  }
  return out;
}

describe('src/ folders form a DAG', () => {
  const all = edges();

  it('every folder of src/ has a place in the order', () => {
    const folders = fs.readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(folders.filter((f) => !(f in MAY_IMPORT))).toEqual([]);
  });

  it('no folder imports a folder it may not (a higher one)', () => {
    const wrong = all
      .filter(({ from, to }) => folderOf(from) !== folderOf(to) && to.startsWith(SRC))
      .filter(({ from, to }) => !(MAY_IMPORT[folderOf(from)] ?? []).includes(folderOf(to)))
      .map(({ from, to }) => `${path.relative(SRC, from)} -> ${path.relative(SRC, to)}`);
    expect(wrong).toEqual([]);
  });

  it('nothing in src/ reaches outside it by a relative path (packages by name only)', () => {
    const outside = all.filter(({ to }) => !to.startsWith(SRC + path.sep)).map(({ from, to }) => `${path.relative(SRC, from)} -> ${to}`);
    expect(outside.filter((e) => !/package\.json$/.test(e))).toEqual([]);
  });

  it('no two files import each other, directly or through others', () => {
    const graph = new Map<string, string[]>();
    for (const { from, to } of all) graph.set(from, [...(graph.get(from) ?? []), to]);
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (n: string) => {
      state.set(n, 'open');
      stack.push(n);
      for (const m of graph.get(n) ?? []) {
        if (state.get(m) === 'open') cycles.push([...stack.slice(stack.indexOf(m)), m].map((f) => path.relative(SRC, f)).join(' -> '));
        else if (!state.has(m)) visit(m);
      }
      stack.pop();
      state.set(n, 'done');
    };
    for (const n of graph.keys()) if (!state.has(n)) visit(n);
    expect(cycles).toEqual([]);
  });

  it('the check reads real edges (the order is not vacuous)', () => {
    const crossing = new Set(all.filter(({ from, to }) => folderOf(from) !== folderOf(to)).map(({ from, to }) => `${folderOf(from)}->${folderOf(to)}`));
    for (const e of ['deploy->core', 'deploy->config', 'actions->deploy', 'cost->benchmark', 'entries->actions']) expect(crossing).toContain(e);
  });
});
