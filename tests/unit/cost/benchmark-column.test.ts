/**
 * The PR cost comment's $/1M output tokens column: shown for a deployment whose head configuration
 * (image content hash, instance type, workload) has a result in the repository's results directory,
 * "not measured" for one whose configuration changed since; through the comment job's validation too.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { imageHashOf } from '../../../src/benchmark/image-hash';
import { BenchmarkResultRecord, benchmarkKey, validateResult } from '../../../src/benchmark/results';
import { parseSpec } from '../../../src/config/load';
import { readArtifact } from '../../../src/cost/artifact';
import { CostRequest, estimateCost } from '../../../src/cost/flow';
import { renderReport } from '../../../src/cost/render';
import { EnvInputs } from '../../../src/core/env';
import { memoryReporter } from '../../../src/core/log';
import { startLoopback } from '../../support/loopback';

const REV = '0123456789abcdef0123456789abcdef01234567';
const COMMIT = '0123abcd89abcdef0123456789abcdef01234567';
const dep = (name: string, type: string) => `  ${name}:
    model: { huggingface: { id: org/${name}, revision: "${REV}" }, sizeGb: 10 }
    engine: { name: vllm }
    target: sagemaker-realtime
    instanceType: ${type}
    regions: [us-east-1]
    workload: { outputTokens: 256, concurrency: 16 }
`;
const specText = (batchType: string) => `version: 1\nproject: acme\ndeployments:\n${dep('chat', 'ml.g5.2xlarge')}${dep('batch', batchType)}`;

function record(name: string, type: string, dir: string, perMillion: number): BenchmarkResultRecord {
  const d = parseSpec(specText(type), 'model-deploy.yml', dir).deployments[name];
  if (!d) throw new Error(name);
  const imageHash = imageHashOf(d, 'us-east-1', dir);
  if (!imageHash) throw new Error('no image hash');
  const r: BenchmarkResultRecord = {
    schema: 1,
    key: benchmarkKey({ imageHash, instanceType: type, workload: d.workload }),
    imageHash,
    instanceType: type,
    workload: d.workload,
    measuredAt: '2026-11-20T08:15:00.000Z',
    commit: COMMIT,
    region: 'us-east-1',
    figures: { completed: 64, failed: 0, request_throughput: 1.5, request_goodput: 1.4, output_throughput: 380, median_ttft_ms: 210, p95_ttft_ms: 400, median_tpot_ms: 22, p95_e2el_ms: 6100, max_concurrency: 16 },
    price: { currency: 'USD', hourlyPrice: 1.515, perMillionOutputTokens: perMillion, perThousandRequests: 0.28, instancesForTarget: 1, monthlyCostForTarget: 1105.95 },
  };
  expect(validateResult(r)).toBeUndefined();
  return r;
}

function workspace(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-cost-bench-'));
  fs.writeFileSync(path.join(dir, 'model-deploy.yml'), specText('ml.g5.2xlarge'));
  const results = path.join(dir, '.model-deploy', 'benchmarks');
  fs.mkdirSync(results, { recursive: true });
  // chat: measured as it is on the head. batch: measured on ml.g5.xlarge; the head moved it to ml.g5.2xlarge.
  for (const r of [record('chat', 'ml.g5.2xlarge', dir, 1.1075), record('batch', 'ml.g5.xlarge', dir, 0.77)]) fs.writeFileSync(path.join(results, `${r.key}.json`), JSON.stringify(r));
  // A tampered file (figures changed, key kept) is skipped with a note, never shown.
  const bad = { ...record('chat', 'ml.g5.2xlarge', dir, 1.1), instanceType: 'ml.p4d.24xlarge' };
  fs.writeFileSync(path.join(results, 'tampered.json'), JSON.stringify(bad));
  return dir;
}

/** The door's arguments for the spec in `dir` (model-deploy.yml): estimate mode, cost.json. */
function options(dir: string, more: Partial<CostRequest> = {}) {
  const request: CostRequest = { hoursPerMonth: 730, livePrices: false, mode: 'estimate', behavior: 'update', skipIfUnchanged: false, resultFile: 'cost.json', ...more };
  return { target: { workspace: dir, config: 'model-deploy.yml' }, request, run: { reporter: memoryReporter(), env: new EnvInputs({}) } };
}

const estimate = (o: ReturnType<typeof options>) => estimateCost(o.target, o.request, o.run);

const rowOf = (body: string, name: string) => body.split('\n').find((l) => l.startsWith(`| ${name} |`)) ?? '';

describe('the PR comment\'s $/1M output tokens column', () => {
  it('shows the measured figure for an unchanged configuration and "not measured" for a changed one', async () => {
    const dir = workspace();
    const o = options(dir);
    const res = await estimate(o);
    const body = renderReport(res.report);
    expect(body).toContain('| Per 1M output tokens |');
    expect(rowOf(body, 'chat')).toMatch(/\| \$1\.11 \(measured 2026-11-20 at 0123abc\) \|$/);
    expect(rowOf(body, 'batch')).toMatch(/\| not measured \|$/);
    expect(o.run.reporter.allText()).toMatch(/tampered\.json skipped: key does not match/);
  });

  it('is not shown by the comment job of the fork PR path, which cannot re-derive it (issue 20)', async () => {
    const dir = workspace();
    await estimate(options(dir));
    const file = JSON.parse(fs.readFileSync(path.join(dir, 'cost.json'), 'utf8'));
    expect(file.projects[0].metadata.benchmark).toMatchObject({ measured: true });
    const artifact = await readArtifact(file, 'cost.json', { hoursPerMonth: 730 });
    const body = renderReport(artifact.report);
    // Which configuration a measurement belongs to is the head's image hash: the comment job has no files to compute it.
    expect(body).not.toContain('Per 1M output tokens');
    expect(body).not.toContain('measured 2026-11-20');
    // A planted string in place of the commit is still refused by the schema.
    file.projects[0].metadata.benchmark.commit = '<img src=x>';
    await expect(readArtifact(file, 'cost.json', { hoursPerMonth: 730 })).rejects.toThrow(/not a valid estimate-cost result/);
  });

  it('adds no column where the repository keeps no results', async () => {
    const dir = workspace();
    fs.rmSync(path.join(dir, '.model-deploy'), { recursive: true });
    const res = await estimate(options(dir));
    expect(renderReport(res.report)).not.toContain('Per 1M output tokens');
  });

  it('reads another directory when benchmark-results names it', async () => {
    const dir = workspace();
    fs.renameSync(path.join(dir, '.model-deploy', 'benchmarks'), path.join(dir, 'perf'));
    const res = await estimate(options(dir, { benchmarkResults: 'perf' }));
    expect(rowOf(renderReport(res.report), 'chat')).toContain('(measured 2026-11-20 at 0123abc)');
  });

  it('on a pull request reads the results at the base commit: a result the PR adds for its own configuration is not believed', async () => {
    const dir = workspace();
    fs.rmSync(path.join(dir, '.model-deploy', 'benchmarks', 'tampered.json'));
    const g = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' }).trim();
    g('init', '-q');
    g('-c', 'user.email=t@e', '-c', 'user.name=t', 'add', '.');
    g('-c', 'user.email=t@e', '-c', 'user.name=t', 'commit', '-qm', 'base');
    const base = g('rev-parse', 'HEAD');
    // The PR's head plants a valid-looking result for batch's new configuration.
    const planted = record('batch', 'ml.g5.2xlarge', dir, 0.01);
    fs.writeFileSync(path.join(dir, '.model-deploy', 'benchmarks', `${planted.key}.json`), JSON.stringify(planted));
    const res = await estimate(options(dir, { baseRef: base }));
    const body = renderReport(res.report);
    expect(rowOf(body, 'chat')).toContain('$1.11 (measured 2026-11-20 at 0123abc)');
    expect(rowOf(body, 'batch')).toMatch(/\| not measured \|$/);
    expect(body).not.toContain('$0.01');
  });

  it('with a token, reads the base spec and the results at the base commit through the contents API, in a checkout git cannot read the base from (issue 26)', async () => {
    const dir = workspace();
    const results = path.join(dir, '.model-deploy', 'benchmarks');
    // The base commit as GitHub holds it: the head spec, chat's result; the checkout is no git repository at all.
    const files = Object.fromEntries(fs.readdirSync(results).map((f) => [f, fs.readFileSync(path.join(results, f), 'utf8')]));
    fs.rmSync(results, { recursive: true });
    const BASE = 'b'.repeat(40);
    const blobSha = (f: string) => Buffer.from(f).toString('hex').slice(0, 40).padEnd(40, '0');
    // GitHub's REST answers (repos/contents, git/blobs): a directory is a JSON array of entries; raw for a file or a blob; 404 "Not Found".
    const server = await startLoopback((req) => {
      const url = new URL(req.path, 'http://x');
      if (url.searchParams.get('ref') !== BASE && url.pathname.includes('/contents/')) return { status: 404, body: { message: 'Not Found' } };
      if (url.pathname === '/repos/acme/models/contents/model-deploy.yml') return { headers: { 'content-type': 'application/vnd.github.raw+json; charset=utf-8' }, body: specText('ml.g5.2xlarge') };
      if (url.pathname === '/repos/acme/models/contents/.model-deploy/benchmarks') {
        return { body: [...Object.keys(files).map((name) => ({ type: 'file', name, path: `.model-deploy/benchmarks/${name}`, size: files[name]!.length, sha: blobSha(name) })), { type: 'dir', name: 'old', path: '.model-deploy/benchmarks/old', size: 0, sha: 'c'.repeat(40) }] };
      }
      const blob = /^\/repos\/acme\/models\/git\/blobs\/([0-9a-f]{40})$/.exec(url.pathname);
      const name = blob && Object.keys(files).find((f) => blobSha(f) === blob[1]);
      if (name) return { headers: { 'content-type': 'application/vnd.github.raw+json; charset=utf-8' }, body: files[name]! };
      return { status: 404, body: { message: 'Not Found' } };
    });
    try {
      const o = options(dir, { baseRef: BASE, token: 'ghs_test', retryBaseMs: 1 });
      o.run.env = new EnvInputs({ GITHUB_REPOSITORY: 'acme/models', GITHUB_API_URL: server.url });
      const res = await estimate(o);
      const body = renderReport(res.report);
      expect(rowOf(body, 'chat')).toContain('$1.11 (measured 2026-11-20 at 0123abc)');
      expect(rowOf(body, 'batch')).toMatch(/\| not measured \|$/);
      expect(res.report.baseNote).toBeUndefined();
      expect(server.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual(expect.arrayContaining(['GET /repos/acme/models/contents/model-deploy.yml', 'GET /repos/acme/models/contents/.model-deploy/benchmarks']));
    } finally {
      await server.close();
    }
  });

  it('shows a deployment\'s own regions\' result: a newer one measured in China (CNY) is not shown as "–" on its USD row', async () => {
    const dir = workspace();
    const usd = record('chat', 'ml.g5.2xlarge', dir, 1.1075);
    // The same configuration measured later in cn-north-1 (another deployment, same image): CNY.
    const cny = { ...usd, region: 'cn-north-1', measuredAt: '2026-11-22T08:15:00.000Z', price: { ...usd.price!, currency: 'CNY' as const, perMillionOutputTokens: 7.9 } };
    expect(validateResult(cny)).toBeUndefined();
    fs.writeFileSync(path.join(dir, '.model-deploy', 'benchmarks', 'chat-cn.json'), JSON.stringify(cny));
    const res = await estimate(options(dir));
    expect(rowOf(renderReport(res.report), 'chat')).toMatch(/\| \$1\.11 \(measured 2026-11-20 at 0123abc\) \|$/);
  });
});
