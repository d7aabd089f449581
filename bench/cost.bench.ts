/** Pricing and rendering the PR comment for a spec with 20 deployments, in-process (target < 200 ms). */
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
    engine: { name: vllm }
    target: sagemaker-realtime
    instanceType: ${type}
    instanceCount: 1
    autoscaling: { min: 1, max: 4 }
    volumeSizeGb: 64
    regions: [us-east-1, eu-central-1]
    usage: { imageSizeGb: 9 }
`;
}

function spec(shift: number) {
  const body = Array.from({ length: 20 }, (_, i) => deployment(i, TYPES[(i + shift) % TYPES.length])).join('');
  return parseSpec(`version: 1\nproject: bench\ndeployments:\n${body}`, 'model-deploy.yml');
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
  const median = times[Math.floor(times.length / 2)];
  return [
    { name: 'cost: price head+base and render the comment, 20 deployments x 2 regions (median of 15)', value: Math.round(median * 100) / 100, unit: 'ms', target: '< 200 ms', ok: median < 200 },
    { name: 'cost: comment body size, 20 deployments', value: size, unit: 'chars', target: '<= 65536', ok: size <= 65536 },
  ];
}
