/** config is the bottom of the folder graph, beside core: it imports only itself, src/core and packages. */
import * as fs from 'fs';
import * as path from 'path';

const SRC = path.resolve(__dirname, '../../../src');
const CONFIG = path.join(SRC, 'config');

/** Every module specifier of a source: static and type imports, re-exports, require() and import(). */
function specifiers(source: string): string[] {
  const found: string[] = [];
  for (const re of [/\bfrom\s+['"]([^'"]+)['"]/g, /\bimport\s+['"]([^'"]+)['"]/g, /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g]) {
    for (const m of source.matchAll(re)) found.push(m[1] as string);
  }
  return found;
}

/** The src/ folder a relative specifier lands in (undefined for a package). */
function folderOf(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  return path.relative(SRC, path.resolve(path.dirname(file), specifier)).split(path.sep)[0];
}

describe('src/config imports', () => {
  const files = fs.readdirSync(CONFIG).filter((f) => /\.(ts|js)$/.test(f));

  it('finds the modules it checks', () => {
    expect(files).toEqual(expect.arrayContaining(['load.ts', 'select.ts', 'types.ts', 'workload.ts', 'schema-validators.generated.js']));
  });

  it('reach only src/config and src/core', () => {
    const above = files.flatMap((f) => {
      const file = path.join(CONFIG, f);
      return specifiers(fs.readFileSync(file, 'utf8'))
        .filter((s) => !['config', 'core', undefined].includes(folderOf(file, s)))
        .map((s) => `src/config/${f} imports ${s}`);
    });
    expect(above).toEqual([]);
  });

  it('would see an import from a folder above', () => {
    const file = path.join(CONFIG, 'checks.ts');
    expect(specifiers("import { resolveEngine } from '../image/engines';\nimport type { Target } from '../deploy/types';").map((s) => folderOf(file, s))).toEqual(['image', 'deploy']);
  });
});
