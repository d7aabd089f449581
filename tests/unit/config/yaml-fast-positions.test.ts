/**
 * Issue 26 item 3: a spec's positions come from the fast read (js-yaml's listener) instead of a second
 * read by the `yaml` library (20-40 ms of a PR-comment run). They must be the `yaml` library's own, node
 * for node, or not given at all (then the library is asked, as before).
 */
import * as fs from 'fs';
import * as path from 'path';
import YAML from 'yaml';
import { readCoreYaml } from '../../../src/config/yaml-core';
import { parseYaml } from '../../../src/config/yaml-positions';
import { parseSpec } from '../../../src/config/load';
import { specText } from '../../../bench/cost.bench';
import { ecs, sagemaker, TWO_ENVIRONMENTS } from '../cost/fixtures';

const ROOT = path.join(__dirname, '..', '..', '..');
type Part = string | number;

/** Every node's path in the `yaml` library's document, with its range start and its key's. */
function reference(text: string): { p: Part[]; value: number; key?: number }[] {
  const doc = YAML.parseDocument(text);
  const out: { p: Part[]; value: number; key?: number }[] = [];
  const walk = (node: unknown, p: Part[], key?: number) => {
    const range = (node as { range?: number[] } | null)?.range;
    if (range) out.push({ p, value: range[0] as number, key });
    if (YAML.isMap(node)) for (const it of node.items) walk(it.value, [...p, String(YAML.isScalar(it.key) ? it.key.value : '?')], (it.key as { range?: number[] } | null)?.range?.[0]);
    else if (YAML.isSeq(node)) node.items.forEach((it, i) => walk(it, [...p, i]));
  };
  walk(doc.contents, []);
  return out;
}

const TRICKY = [
  // Comments, flow collections over lines, block and folded scalars, multi-line plain scalars, quoted keys.
  'version: 1\n# c\ndeployments:\n  # c\n  a:\n    model:\n      huggingface:\n        id: org/m   # why\n    engine: { name: vllm,\n      version: "1" }\n    instanceType:\n      - ml.g5.xlarge   # first\n      - ml.g5.2xlarge\n    regions: [us-east-1,\n       eu-west-1]\n    nul: null\n    tilde: ~\n    text: |\n      hello\n      world\n    folded: >-\n      a b\n    plain: multi\n      line\n    "quoted key": \'single\'\n    seqmaps:\n    - x: 1\n      y: 2\n    after: 1\n',
  'a: 1\r\nb:\r\n  c: [1, 2]\r\n  d: x\r\n',
  'a:\n- 1\n- b: 2\n  d: 3\ne: ""\nf: \'\'\n',
  '---\nproject: x\ndeployments:\n  b: {model: {s3: "s3://a/b"}, instanceType: [a, b]}\n  c:\n    k: v\n',
  'a:\n  b:\n\n\n    # far\n    c: 1\n',
  // An empty value and nested sequences: where the fast read is not sure, it gives no position.
  'a:\n  empty:\n  n: 1\n  s:\n  -   - nested\n  - {x: 1}\n',
];

describe('the fast read gives the yaml library\'s positions, node for node', () => {
  const examples = fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => f.endsWith('.yml')).map((f) => fs.readFileSync(path.join(ROOT, 'examples', f), 'utf8'));
  const fixture = `version: 1\nproject: test\n${TWO_ENVIRONMENTS}\ndeployments:\n${sagemaker('chat', 'ml.g5.xlarge', '    autoscaling: { min: 1, max: 4 }\n')}${ecs('svc', 'g5.2xlarge')}`;
  const texts = [...examples, specText(0), specText(1, 3, 'us-east-1, eu-west-2'), fixture, ...TRICKY];
  it.each(texts.map((t, i) => [i, t]))('text %i', (_i, text) => {
    const fast = readCoreYaml(text as string);
    expect(fast).toBeDefined();
    let given = 0;
    for (const r of reference(text as string)) {
      const value = fast!.offsetOf(r.p);
      const key = fast!.offsetOf(r.p, true);
      // Either the same position or none (the caller then asks the yaml library).
      if (value !== undefined) expect({ p: r.p, at: value }).toEqual({ p: r.p, at: r.value });
      if (key !== undefined && r.key !== undefined) expect({ p: r.p, key }).toEqual({ p: r.p, key: r.key });
      if (value !== undefined) given++;
    }
    // Nearly every node is placed without the yaml library.
    expect(given).toBeGreaterThanOrEqual(reference(text as string).length * 0.75);
  });

  it('places a path the document lacks at its deepest node, as the yaml library does', () => {
    const text = specText(0, 2);
    const mine = parseYaml(text, 'model-deploy.yml');
    const doc = YAML.parseDocument(text);
    const lines = new YAML.LineCounter();
    YAML.parseDocument(text, { lineCounter: lines });
    const at = (p: Part[]) => lines.linePos((doc.getIn(p, true) as { range: number[] }).range[0] as number);
    expect(mine.locate(['deployments', 'model-1', 'engine', 'version'])).toEqual({ file: 'model-deploy.yml', line: at(['deployments', 'model-1', 'engine']).line, column: at(['deployments', 'model-1', 'engine']).col });
    expect(mine.locate(['deployments', 'model-1', 'instanceType', 3])).toMatchObject({ line: at(['deployments', 'model-1', 'instanceType']).line });
  });

  it('reads the PR comment\'s specs without the yaml library, lines and columns included', () => {
    const parseDocument = jest.spyOn(YAML, 'parseDocument');
    try {
      const text = specText(0);
      const spec = parseSpec(text, 'model-deploy.yml');
      const d = spec.deployments['model-2']!;
      expect(d.source.line).toBe(text.split('\n').indexOf('  model-2:') + 1);
      const typeLine = text.split('\n').findIndex((l, i) => i > d.source.line && l.startsWith('    instanceType: ')) + 1;
      expect(spec.locate(['deployments', 'model-2', 'instanceType'])).toEqual({ file: 'model-deploy.yml', line: typeLine, column: 19 });
      expect(parseDocument).not.toHaveBeenCalled();
    } finally {
      parseDocument.mockRestore();
    }
  });
});
