/**
 * The PR cost comment for a spec with 20 deployments in 2 regions: in-process (target < 200 ms),
 * and end to end as the runner sees it (the estimate-cost bundle started, head and base priced, the
 * comment rendered, the result written) against a bare `node` start measured in the same run
 * (target <= 4x).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { BenchRow } from './types';
import { parseSpec } from '../src/config/load';
import { estimateDeployments, PriceBook } from '../src/cost/estimate';
import { buildReport, checkBudget, parseBudget, reportJson } from '../src/cost/report';
import { commentMarker, renderReport } from '../src/cost/render';
import { formatMoney } from '../src/cost/money';

const TYPES = ['ml.g5.2xlarge', 'ml.g5.xlarge', 'ml.g4dn.xlarge', 'ml.g6.2xlarge', 'ml.inf2.xlarge'];

function deployment(i: number, type: string): string {
  return `  model-${i}:
    model: { huggingface: { id: org/model-${i}, revision: "0123456789abcdef0123456789abcdef01234567" }, sizeGb: 15 }
    engine: { name: ${type.includes('inf2') ? 'lmi' : 'vllm'} }
    target: sagemaker-realtime
    instanceType: ${type}
    instanceCount: 1
    autoscaling: { min: 1, max: 4 }
    volumeSizeGb: 64
    regions: [us-east-1, eu-central-1]
    usage: { imageSizeGb: 9 }
`;
}

export function specText(shift: number): string {
  const body = Array.from({ length: 20 }, (_, i) => deployment(i, TYPES[(i + shift) % TYPES.length] ?? 'ml.g5.xlarge')).join('');
  return `version: 1\nproject: bench\ndeployments:\n${body}`;
}

function spec(shift: number) {
  return parseSpec(specText(shift), 'model-deploy.yml');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function wall(node: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): { ms: number; status: number | null; stdout: string } {
  const start = process.hrtime.bigint();
  const r = spawnSync(node, args, { cwd, env, encoding: 'utf8' });
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, status: r.status, stdout: r.stdout };
}

/**
 * The Node the actions declare (runs.using: node24), when present: BENCH_NODE24, or where .ci/run
 * installs it. `npm run bench` itself may run on another Node (this machine's is 20).
 */
function node24(): string | undefined {
  if (process.env.BENCH_NODE24) return process.env.BENCH_NODE24;
  const dir = process.env.RUNNER_TEMP ?? process.env.TMPDIR ?? os.tmpdir();
  // .ci/run's prefix, model-deploy-node-<version>: whichever 24.x it installed.
  const installed = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /^model-deploy-node-24\./.test(f)).sort() : [];
  return installed.map((f) => path.join(dir, f, 'node_modules', 'node', 'bin', 'node')).reverse().find((bin) => fs.existsSync(bin));
}

/** The bundle in estimate mode against base-config, interleaved with bare starts of the same node. */
function endToEnd(node: string, label: string, runs = 11): BenchRow[] {
  const bundle = path.resolve(__dirname, '..', 'dist', 'estimate-cost', 'index.js');
  if (!fs.existsSync(bundle)) return [{ name: 'end to end: dist/estimate-cost/index.js missing (npm run build)', value: NaN, unit: '', ok: false }];
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'md-cost-bench-'));
  fs.writeFileSync(path.join(ws, 'model-deploy.yml'), specText(0));
  fs.writeFileSync(path.join(ws, 'base.yml'), specText(1));
  fs.writeFileSync(path.join(ws, 'summary'), '');
  fs.writeFileSync(path.join(ws, 'out'), '');
  const base = { PATH: process.env.PATH, HOME: ws, GITHUB_WORKSPACE: ws, GITHUB_ACTIONS: 'true', GITHUB_OUTPUT: path.join(ws, 'out'), GITHUB_STEP_SUMMARY: path.join(ws, 'summary') };
  const inputs = { ...base, INPUT_MODE: 'estimate', 'INPUT_BASE-CONFIG': 'base.yml', 'INPUT_MAX-MONTHLY-INCREASE': '100000' };
  const bare: number[] = [];
  const action: number[] = [];
  let failed: string | undefined;
  for (let i = 0; i < runs; i++) {
    bare.push(wall(node, ['-e', ''], base, ws).ms);
    const r = wall(node, [bundle], inputs, ws);
    if (r.status !== 0) failed = r.stdout.slice(0, 300);
    action.push(r.ms);
  }
  fs.rmSync(ws, { recursive: true, force: true });
  const ratio = median(action) / median(bare);
  return [
    { name: `end to end, ${label}: bare node start (median of ${runs})`, value: Math.round(median(bare) * 10) / 10, unit: 'ms' },
    {
      name: `end to end, ${label}: estimate-cost bundle, 20 deployments x 2 regions, estimate + base diff + comment (median of ${runs}, ${Math.round(median(action))} ms)${failed ? ` FAILED: ${failed}` : ''}`,
      value: Math.round(ratio * 100) / 100,
      unit: 'x bare node',
      target: '<= 4x',
      ok: !failed && ratio <= 4,
    },
  ];
}

export default async function (): Promise<BenchRow[]> {
  const head = spec(0);
  const base = spec(1);
  const once = () => {
    const book = new PriceBook();
    const h = estimateDeployments(Object.values(head.deployments), { prices: book, spec: head });
    const b = estimateDeployments(Object.values(base.deployments), { prices: book, spec: base });
    const report = buildReport({ project: 'bench', head: h, base: b, prices: book.usedPrices() });
    const violations = checkBudget(report, parseBudget('5000', '10%'), formatMoney);
    const body = renderReport(report, { marker: commentMarker('model-deploy.yml'), violations });
    JSON.stringify(reportJson(report));
    return body.length;
  };
  once(); // warm-up: catalogue index, JIT
  const times: number[] = [];
  let size = 0;
  for (let i = 0; i < 15; i++) {
    const start = process.hrtime.bigint();
    size = once();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  const mid = median(times);
  return [
    ...endToEnd(process.execPath, `node ${process.version}`),
    ...(node24() ? endToEnd(node24() as string, 'node 24 (runs.using of the actions)') : []),
    { name: 'cost: price head+base and render the comment, 20 deployments x 2 regions (median of 15)', value: Math.round(mid * 100) / 100, unit: 'ms', target: '< 200 ms', ok: mid < 200 },
    { name: 'cost: comment body size, 20 deployments', value: size, unit: 'chars', target: '<= 65536', ok: size <= 65536 },
  ];
}
