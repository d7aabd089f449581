/**
 * The generated validators answer a valid spec with a gate (Ajv without allErrors, no error objects) and
 * build the full validators only when the gate refuses something. Held here to Ajv compiling the same
 * schema at run time with the full options: the same verdict, the same errors and the same defaults
 * filled in, on every example and on thousands of broken variants of them.
 */
import * as fs from 'fs';
import * as path from 'path';
import Ajv, { type ValidateFunction } from 'ajv';
import * as yaml from 'js-yaml';
import * as generated from '../../../src/config/schema-validators.generated';
const { splitSchema } = require('../../../scripts/schema-validators') as { splitSchema: (schema: object) => unknown };

const ROOT = path.resolve(__dirname, '../../..');
const EXAMPLES = path.join(ROOT, 'examples');
const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'schema', 'model-deploy.schema.json'), 'utf8')) as { definitions: Record<string, object> };

/** The full validators compiled at run time by Ajv, from the schema split as the generator splits it. */
function reference(): { document: ValidateFunction; deployment: ValidateFunction; environment: ValidateFunction } {
  const ajv = new Ajv({ allErrors: true, verbose: true, useDefaults: true, strict: false });
  const { root, parts } = splitSchema(schema) as { root: object; parts: [string, object][] };
  ajv.addSchema(root, 'spec');
  for (const [, part] of parts) ajv.addSchema(part);
  const get = (id: string) => ajv.getSchema(id) as ValidateFunction;
  return { document: get('spec'), deployment: get(parts[0]![0]), environment: get(parts[1]![0]) };
}

const ref = reference();
type Doc = Record<string, unknown>;
const docs: Doc[] = fs
  .readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yml'))
  .sort()
  .map((f) => yaml.load(fs.readFileSync(path.join(EXAMPLES, f), 'utf8')) as Doc);

/** Every path to a value in `v`, objects and lists included. */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) return [at, ...v.flatMap((x, i) => paths(x, [...at, i]))];
  if (v && typeof v === 'object') return [at, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...at, k]))];
  return [at];
}

const BAD_VALUES: unknown[] = ['x', '', -1, 0, 1.5, 70000, true, null, {}, [], ['x'], { zz: 1 }];

/** The document with the value at `at` replaced (or deleted when `value` is undefined). */
function variant(doc: Doc, at: (string | number)[], value: unknown): Doc {
  const copy = structuredClone(doc);
  if (at.length === 0) return copy;
  let node = copy as Record<string | number, unknown>;
  for (const k of at.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  const last = at[at.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(node)) node.splice(last as number, 1);
    else delete node[last];
  } else node[last] = structuredClone(value);
  return copy;
}

function variants(): Doc[] {
  const out: Doc[] = [...docs];
  for (const doc of docs) {
    for (const at of paths(doc).filter((p) => p.length > 0)) {
      out.push(variant(doc, at, undefined));
      for (const bad of BAD_VALUES) out.push(variant(doc, at, bad));
    }
    // An unknown field in every mapping.
    for (const at of paths(doc).filter((p) => { const v = p.reduce<unknown>((n, k) => (n as Record<string | number, unknown>)[k], doc); return v !== null && typeof v === 'object' && !Array.isArray(v); })) {
      out.push(variant(doc, [...at, 'zzUnknown'], 1));
    }
  }
  return out;
}

/** The same verdict, errors and data (defaults filled in) from the generated validator and the reference. */
function expectSame(name: 'document' | 'deployment' | 'environment', data: unknown): boolean {
  const mine = structuredClone(data);
  const theirs = structuredClone(data);
  const valid = generated[name](mine);
  const expected = ref[name](theirs);
  expect({ valid, errors: valid ? null : generated[name].errors?.map(({ instancePath, keyword, params, schemaPath }) => ({ instancePath, keyword, params, schemaPath })) }).toEqual({
    valid: expected,
    errors: expected ? null : ref[name].errors?.map(({ instancePath, keyword, params, schemaPath }) => ({ instancePath, keyword, params, schemaPath })),
  });
  if (valid) expect(mine).toEqual(theirs);
  return valid;
}

describe('the generated spec validators', () => {
  it('are valid on every example, with the defaults Ajv fills in', () => {
    for (const doc of docs) expect(expectSame('document', doc)).toBe(true);
  });

  it('say what Ajv with every error says, on every example broken at every field (deleted, each wrong kind of value, an unknown field)', () => {
    const all = variants();
    let refused = 0;
    for (const doc of all) if (!expectSame('document', doc)) refused++;
    // The corpus has both: most variants are refused, some are still valid (an optional field deleted).
    expect(all.length).toBeGreaterThan(1000);
    expect(refused).toBeGreaterThan(all.length / 2);
    expect(refused).toBeLessThan(all.length);
  });

  it('say the same per deployment and per environment, where the defaults are filled in for the spec', () => {
    let checked = 0;
    for (const doc of variants()) {
      for (const d of Object.values((doc.deployments ?? {}) as Record<string, unknown>)) {
        expectSame('deployment', d);
        checked++;
      }
      for (const e of Object.values((doc.environments ?? {}) as Record<string, unknown>)) {
        expectSame('environment', e);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });
});

describe('loading the full validators', () => {
  it('a valid spec never loads them; a refused one loads them once and says every problem', () => {
    let loaded = 0;
    let load: typeof import('../../../src/config/load') | undefined;
    jest.isolateModules(() => {
      jest.doMock('../../../src/config/schema-validators-full.generated', () => {
        loaded++;
        return jest.requireActual('../../../src/config/schema-validators-full.generated');
      });
      load = require('../../../src/config/load');
    });
    const valid = fs.readFileSync(path.join(EXAMPLES, 'model-deploy.yml'), 'utf8');
    load!.parseSpec(valid, 'model-deploy.yml');
    expect(loaded).toBe(0);
    const broken = valid.replace('instanceType: ml.g5.2xlarge', 'instanceType: 7\n    bogus: 1');
    expect(() => load!.parseSpec(broken, 'model-deploy.yml')).toThrow(/unknown field "bogus"[\s\S]*instanceType/);
    expect(() => load!.parseSpec(broken, 'model-deploy.yml')).toThrow();
    expect(loaded).toBe(1);
    jest.dontMock('../../../src/config/schema-validators-full.generated');
  });
});
