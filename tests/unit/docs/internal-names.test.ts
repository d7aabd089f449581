/**
 * User docs speak of what users write and see (spec fields, inputs, outputs, commands), never of the
 * code's functions: a name exported from src/ may not appear in backticks in README.md or docs/*.md,
 * unless it is also a spec field, an action input or output (those are public).
 */
import * as fs from 'fs';
import * as path from 'path';
import { ACTIONS } from '../../../src/actions';

const ROOT = path.resolve(__dirname, '../../..');

function files(dir: string, ext: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p, ext) : p.endsWith(ext) ? [p] : [];
  });
}

/** Exported functions and constants of src/, camelCase with an inner capital (words users also write are left out). */
function exportedNames(): Set<string> {
  const names = new Set<string>();
  for (const f of files(path.join(ROOT, 'src'), '.ts')) {
    for (const m of fs.readFileSync(f, 'utf8').matchAll(/^export (?:async )?(?:function\*? |const |let )([a-z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*)/gm)) names.add(m[1]!);
  }
  return names;
}

/** Every property name the schema defines: spec fields are public even when code shares their name. */
function publicNames(): Set<string> {
  const names = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'properties' && x && typeof x === 'object') Object.keys(x).forEach((n) => names.add(n));
        walk(x);
      }
    }
  };
  walk(JSON.parse(fs.readFileSync(path.join(ROOT, 'schema/model-deploy.schema.json'), 'utf8')));
  for (const a of ACTIONS) for (const n of [...Object.keys(a.inputs), ...Object.keys(a.outputs)]) names.add(n);
  return names;
}

describe('user docs', () => {
  it('name no internal function of src/', () => {
    const pub = publicNames();
    const internal = [...exportedNames()].filter((n) => !pub.has(n));
    const docs = [path.join(ROOT, 'README.md'), ...files(path.join(ROOT, 'docs'), '.md')];
    const found: string[] = [];
    for (const doc of docs) {
      const text = fs.readFileSync(doc, 'utf8');
      for (const n of internal) if (new RegExp('`[^`\\n]*\\b' + n + '\\b[^`\\n]*`').test(text)) found.push(`${path.relative(ROOT, doc)}: ${n}`);
    }
    expect(found).toEqual([]);
  });
});
