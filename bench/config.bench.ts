/**
 * How quickly the spec loader stops an alias bomb (moved out of tests/unit/config/load.test.ts, which keeps
 * that it is stopped and how it is reported): the bomb's rejection against loading the bundled example
 * spec in the same run, each the median of interleaved runs. The example is read twice: as it is (the
 * js-yaml fast path) and with an anchor added (the `yaml` path the bomb takes).
 */
import { YAML_ALIAS_BOMB } from '../tests/support/yaml-bomb';
import * as fs from 'fs';
import * as path from 'path';
import type { BenchRow } from './types';
import { parseSpec } from '../src/config/load';

const RUNS = 21;
const BOMB = YAML_ALIAS_BOMB;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function timed(fn: () => void): number {
  const start = performance.now();
  try {
    fn();
  } catch {
    // The bomb is rejected: that is the point.
  }
  return performance.now() - start;
}

export default async function (): Promise<BenchRow[]> {
  const root = path.resolve(__dirname, '..');
  const example = fs.readFileSync(path.join(root, 'examples', 'model-deploy.yml'), 'utf8');
  const anchored = `x-anchor: &anchor 1\n${example}`;
  const bomb: number[] = [];
  const plain: number[] = [];
  const withAnchor: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    bomb.push(timed(() => parseSpec(BOMB, 'model-deploy.yml')));
    plain.push(timed(() => parseSpec(example, 'model-deploy.yml', root)));
    withAnchor.push(timed(() => parseSpec(anchored, 'model-deploy.yml', root)));
  }
  const b = median(bomb);
  const p = median(plain);
  const a = median(withAnchor);
  return [
    { name: 'alias bomb rejected / example spec loaded', value: Number((b / p).toFixed(2)), unit: `x (${b.toFixed(2)} vs ${p.toFixed(2)} ms)`, target: '<= 10x', ok: b / p <= 10 },
    { name: 'alias bomb rejected / example spec with an anchor loaded', value: Number((b / a).toFixed(2)), unit: `x (${b.toFixed(2)} vs ${a.toFixed(2)} ms)`, target: '<= 5x', ok: b / a <= 5 },
  ];
}
