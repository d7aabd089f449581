import * as fs from 'fs';
import * as path from 'path';
import YAML from 'yaml';
import { loadCoreYaml } from '../../../src/config/yaml-core';
import { parseSpec } from '../../../src/config/load';

const ROOT = path.join(__dirname, '..', '..', '..');
const reference = (text: string) => YAML.parse(text, { uniqueKeys: true });

describe('loadCoreYaml reads what the yaml library reads', () => {
  const examples = fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => f.endsWith('.yml'));
  it.each(examples)('examples/%s', (f) => {
    const text = fs.readFileSync(path.join(ROOT, 'examples', f), 'utf8');
    const fast = loadCoreYaml(text);
    expect(fast).toBeDefined();
    expect(fast).toEqual(reference(text));
  });

  // Plain scalars the YAML 1.1 / js-yaml defaults read differently from the 1.2 core schema.
  const scalars = [
    'yes', 'no', 'on', 'off', 'y', 'Yes', 'true', 'True', 'TRUE', 'tRUE', 'false', 'null', 'Null', 'NULL', '~', 'nULL',
    '1_000', '0b101', '0o17', '0o19', '0x1F', '0X1F', '-0x1F', '+12', '-7', '012', '1.5', '.5', '1.', '1e3', '1E-3', '+.inf', '-.Inf', '.NaN', '.nan',
    '2024-01-01', '2001-12-14t21:59:43.10-05:00', '12:30:00', '1:20', '=', '<<', 'a b', '"quoted true"', "'0x10'", '',
  ];
  it.each(scalars)('the plain scalar %p', (s) => {
    const text = `value: ${s}\nlist: [${s || '""'}]\n`;
    expect(loadCoreYaml(text)).toEqual(reference(text));
  });

  it('leaves anchors, aliases, tags, directives, duplicate keys and broken YAML to the yaml library', () => {
    for (const text of ['a: &x 1\nb: *x\n', 'a: !Ref b\n', '%YAML 1.1\n---\na: yes\n', 'a: 1\na: 2\n', 'a: [1, 2\n', 'a:\n\t- b\n', '--- 1\n--- 2\n']) {
      expect({ text, fast: loadCoreYaml(text) }).toEqual({ text, fast: undefined });
    }
  });
});

describe('parseSpec: positions only when pointed at', () => {
  const spec = fs.readFileSync(path.join(ROOT, 'examples', 'model-deploy.yml'), 'utf8');

  it('reads a valid spec without the yaml library, and finds a line when asked (from the same fast read)', () => {
    const parseDocument = jest.spyOn(YAML, 'parseDocument');
    try {
      const parsed = parseSpec(spec, 'model-deploy.yml');
      expect(parseDocument).not.toHaveBeenCalled();
      const d = Object.values(parsed.deployments)[0]!;
      const line = spec.split('\n').findIndex((l) => l === `  ${d.name}:`) + 1;
      expect(d.source.line).toBe(line);
      expect(parsed.locate(['deployments', d.name, 'instanceType']).line).toBeGreaterThan(line);
      // Positions come from js-yaml's read (yaml-fast-positions.test.ts holds them to the yaml library's).
      expect(parseDocument).not.toHaveBeenCalled();
    } finally {
      parseDocument.mockRestore();
    }
  });

  it('still says file:line for a spec error found after the fast read', () => {
    const bad = spec.replace(/instanceType: ml\.g5\.2xlarge/, 'instanceType: ml.m4.xlarge');
    expect(bad).not.toBe(spec);
    let error: unknown;
    try {
      parseSpec(bad, 'model-deploy.yml');
    } catch (err) {
      error = err;
    }
    expect((error as { location?: unknown }).location).toEqual({ file: 'model-deploy.yml', line: 44, column: 19 });
  });
});
