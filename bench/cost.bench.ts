/**
 * The PR cost comment for a spec with 20 deployments in 2 regions: in-process (target < 200 ms),
 * and end to end as the runner sees it against a bare `node` start measured in the same run
 * (target <= 4x): the estimate-cost bundle started on a pull_request event in a depth-1 clone, the
 * base spec read at the base commit (the contents API of a loopback GitHub that answers as GitHub does:
 * the raw file, 404 for the absent benchmark results), head and base priced, the result and summary
 * written and the comment POSTED (the comment list, 201 for the new comment). Then the same run at 100, 500 and 1000
 * deployments x 6 regions: the time per deployment-region past the fixed cost (target <= 5 ms), peak
 * RSS (<= 200 MB), and the summary (<= 1 MiB) and comment (<= 65,536 characters) within GitHub's limits.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { BenchRow } from './types';
import { startLoopback, type Loopback, type RecordedRequest } from '../tests/support/loopback';
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

// Six regions that offer every type of TYPES (validate refuses a type a region does not offer).
const SIX_REGIONS = 'us-east-1, us-east-2, us-west-2, eu-west-2, eu-central-1, ap-northeast-1';

/** `count` deployments (20 by default) in 2 regions, or in the 6 of SIX_REGIONS; `shift` changes their types (base vs head). */
export function specText(shift: number, count = 20, regions = 'us-east-1, eu-central-1'): string {
  const body = Array.from({ length: count }, (_, i) => deployment(i, TYPES[(i + shift) % TYPES.length] ?? 'ml.g5.xlarge').replace('[us-east-1, eu-central-1]', `[${regions}]`)).join('');
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

/** The bundle in estimate mode against base-config, interleaved with bare starts of the same node. */
function endToEnd(node: string, runs = 21): BenchRow[] {
  const bundle = path.resolve(__dirname, '..', 'dist', 'estimate-cost', 'index.js');
  if (!fs.existsSync(bundle)) return [{ name: 'end to end: dist/estimate-cost/index.js missing (npm run build)', value: NaN, unit: '', ok: false }];
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'md-cost-bench-'));
  fs.writeFileSync(path.join(ws, 'model-deploy.yml'), specText(0));
  fs.writeFileSync(path.join(ws, 'base.yml'), specText(1));
  fs.writeFileSync(path.join(ws, 'summary'), '');
  fs.writeFileSync(path.join(ws, 'out'), '');
  const base = { PATH: process.env.PATH, HOME: ws, GITHUB_WORKSPACE: ws, GITHUB_ACTIONS: 'true', GITHUB_OUTPUT: path.join(ws, 'out'), GITHUB_STEP_SUMMARY: path.join(ws, 'summary') };
  // HF_HUB_OFFLINE: the models are made up, and a run must not wait on the internet (see prCommentRuns).
  const inputs = { ...base, HF_HUB_OFFLINE: '1', INPUT_MODE: 'estimate', 'INPUT_BASE-CONFIG': 'base.yml', 'INPUT_MAX-MONTHLY-INCREASE': '100000' };
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
    { name: `end to end: bare node start (median of ${runs})`, value: Math.round(median(bare) * 10) / 10, unit: 'ms' },
    {
      name: `end to end: estimate-cost bundle, 20 deployments x 2 regions, estimate + base diff + comment (median of ${runs}, ${Math.round(median(action))} ms)${failed ? ` FAILED: ${failed}` : ''}`,
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
    // The Node running this file: `npm run bench` runs it on this machine's Node and on Node 24 (runs.using of the actions), a column each.
    ...endToEnd(process.execPath),
    ...(await prCommentBench(process.execPath)),
    { name: 'cost: price head+base and render the comment, 20 deployments x 2 regions (median of 15)', value: Math.round(mid * 100) / 100, unit: 'ms', target: '< 200 ms', ok: mid < 200 },
    { name: 'cost: comment body size, 20 deployments', value: size, unit: 'chars', target: '<= 65536', ok: size <= 65536 },
  ];
}

// ---- the real PR-comment run --------------------------------------------------------------------

const TOKEN = 'ghs_benchtoken000000000000000000000000';
const PRELOAD = path.resolve(__dirname, '..', 'scripts', 'bench-preload.js');

/**
 * A GitHub REST API as GitHub answers a GITHUB_TOKEN: no /user, an empty comment list, 201 with the
 * comment; the repository contents at the base commit (raw for a file, GitHub's 404 "Not Found" for a
 * path the commit lacks, as for the benchmark results directory this repository does not have).
 */
function fakeGitHub(baseFiles: Record<string, string> = {}, baseSha = ''): { handler: (req: RecordedRequest) => { status?: number; headers?: Record<string, string>; body?: object | string } | undefined; posted: string[] } {
  const posted: string[] = [];
  const handler = (req: RecordedRequest) => {
    const contents = /^\/repos\/acme\/models\/contents\/([^?]+)\?ref=([0-9a-f]+)$/.exec(req.path);
    if (req.method === 'GET' && contents) {
      const text = contents[2] === baseSha ? baseFiles[decodeURIComponent(contents[1] ?? '')] : undefined;
      if (text !== undefined && /raw/.test(String(req.headers.accept))) return { headers: { 'content-type': 'application/vnd.github.raw+json; charset=utf-8' }, body: text };
      return { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/repos/contents#get-repository-content', status: '404' } };
    }
    if (req.method === 'GET' && req.path === '/user') return { status: 403, body: { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest/users/users#get-the-authenticated-user', status: '403' } };
    if (req.method === 'GET' && req.path.startsWith('/repos/acme/models/issues/7/comments')) return { body: [] };
    if (req.method === 'POST' && req.path === '/repos/acme/models/issues/7/comments') {
      const body = (req.params as { body: string }).body;
      posted.push(body);
      const id = 900 + posted.length;
      return { status: 201, body: { id, node_id: `IC_kwDO${id}`, url: `https://api.github.com/repos/acme/models/issues/comments/${id}`, html_url: `https://github.com/acme/models/pull/7#issuecomment-${id}`, body, user: { login: 'github-actions[bot]', id: 41898282, type: 'Bot' }, created_at: '2026-12-06T08:00:00Z', updated_at: '2026-12-06T08:00:00Z', author_association: 'NONE' } };
    }
    return undefined;
  };
  return { handler, posted };
}

const gitIn = (cwd: string, args: string[]) => {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@example.com', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@example.com' } });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};

/** An origin with the base commit and the PR head on top, and `clones` depth-1 clones of the head (actions/checkout's default). */
function pullRequestRepo(count: number, regions: string | undefined, clones: number): { dirs: string[]; baseSha: string; headSha: string; root: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'md-cost-pr-'));
  const origin = path.join(root, 'origin');
  fs.mkdirSync(origin);
  gitIn(origin, ['init', '-q', '-b', 'main']);
  fs.writeFileSync(path.join(origin, 'model-deploy.yml'), specText(1, count, regions));
  gitIn(origin, ['add', '.']);
  gitIn(origin, ['commit', '-qm', 'base']);
  const baseSha = gitIn(origin, ['rev-parse', 'HEAD']);
  fs.writeFileSync(path.join(origin, 'model-deploy.yml'), specText(0, count, regions));
  gitIn(origin, ['commit', '-qam', 'head']);
  const headSha = gitIn(origin, ['rev-parse', 'HEAD']);
  const dirs = Array.from({ length: clones }, (_, i) => {
    const dir = path.join(root, `clone-${i}`);
    gitIn(root, ['clone', '-q', '--depth=1', `file://${origin}`, dir]);
    return dir;
  });
  return { dirs, baseSha, headSha, root };
}

function run(node: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ ms: number; code: number | null; out: string }> {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const child = spawn(node, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ ms: Number(process.hrtime.bigint() - start) / 1e6, code, out }));
  });
}

interface PrRun {
  bare: number[];
  action: number[];
  failed?: string;
  rssMb?: number;
  summaryBytes: number;
  commentChars: number;
}

/** The PR-comment run of the estimate-cost bundle, `runs` times, each in a fresh depth-1 clone; bare node starts interleaved. */
export async function prCommentRuns(node: string, count: number, regions: string | undefined, runs: number, rss = false): Promise<PrRun> {
  // BENCH_ESTIMATE_COST_BUNDLE: another build of the bundle (a before/after comparison in one run).
  const bundle = process.env.BENCH_ESTIMATE_COST_BUNDLE ?? path.resolve(__dirname, '..', 'dist', 'estimate-cost', 'index.js');
  const repo = pullRequestRepo(count, regions, runs);
  const gh = fakeGitHub({ 'model-deploy.yml': specText(1, count, regions) }, repo.baseSha);
  const server: Loopback = await startLoopback(gh.handler);
  const out: PrRun = { bare: [], action: [], summaryBytes: 0, commentChars: 0 };
  try {
    for (const ws of repo.dirs) {
      const files = { event: path.join(ws, '..', `${path.basename(ws)}-event.json`), summary: path.join(ws, '..', `${path.basename(ws)}-summary`), output: path.join(ws, '..', `${path.basename(ws)}-output`) };
      fs.writeFileSync(files.event, JSON.stringify({ number: 7, pull_request: { number: 7, base: { sha: repo.baseSha, ref: 'main' }, head: { sha: repo.headSha, ref: 'change' } } }));
      fs.writeFileSync(files.summary, '');
      fs.writeFileSync(files.output, '');
      const base = { PATH: process.env.PATH, HOME: ws, GITHUB_WORKSPACE: ws, GITHUB_ACTIONS: 'true', GITHUB_OUTPUT: files.output, GITHUB_STEP_SUMMARY: files.summary };
      const env = {
        ...base,
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_EVENT_PATH: files.event,
        GITHUB_REPOSITORY: 'acme/models',
        GITHUB_API_URL: server.url,
        GITHUB_SHA: repo.headSha,
        // The bench's models are made up and the loopback run must not reach the internet: the fit check asks no Hub.
        HF_HUB_OFFLINE: '1',
        INPUT_MODE: 'estimate-and-comment',
        'INPUT_GITHUB-TOKEN': TOKEN,
        'INPUT_MAX-MONTHLY-INCREASE': '100000000',
        ...(rss ? { MODEL_DEPLOY_BENCH_RSS_FILE: path.join(ws, '..', 'rss') } : {}),
      };
      out.bare.push((await run(node, ['-e', ''], base, ws)).ms);
      // BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles the action's runs.
      const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
      const r = await run(node, [...nodeArgs, ...(rss ? ['-r', PRELOAD, bundle] : [bundle])], env, ws);
      // A run that lost its base (priced the head alone) is not the run measured here.
      if (r.code !== 0 || gh.posted.length === 0 || !r.out.includes('Comparing with the base')) out.failed = r.out.slice(-400);
      out.action.push(r.ms);
      out.summaryBytes = fs.statSync(files.summary).size;
      out.commentChars = gh.posted[gh.posted.length - 1]?.length ?? 0;
      gh.posted.length = 0;
    }
    if (rss) out.rssMb = Number(fs.readFileSync(path.join(repo.root, 'rss'), 'utf8')) / 1024;
  } finally {
    await server.close();
    fs.rmSync(repo.root, { recursive: true, force: true });
  }
  return out;
}

/** 20 x 2 against bare node, then the slope and the limits at 100, 500 and 1000 deployments x 6 regions. */
export async function prCommentBench(node: string, runs = 21): Promise<BenchRow[]> {
  if (!fs.existsSync(path.resolve(__dirname, '..', 'dist', 'estimate-cost', 'index.js'))) return [{ name: 'PR comment: dist/estimate-cost/index.js missing (npm run build)', value: NaN, unit: '', ok: false }];
  const small = await prCommentRuns(node, 20, undefined, runs);
  const ratio = median(small.action) / median(small.bare);
  const rows: BenchRow[] = [
    { name: `PR comment: bare node start (median of ${runs})`, value: Math.round(median(small.bare) * 10) / 10, unit: 'ms' },
    {
      name: `PR comment: estimate + base diff (depth-1 clone, base read through the API) + comment posted, 20 deployments x 2 regions (median of ${runs}, ${Math.round(median(small.action))} ms)${small.failed ? ` FAILED: ${small.failed}` : ''}`,
      value: Math.round(ratio * 100) / 100,
      unit: 'x bare node',
      target: '<= 4x',
      ok: !small.failed && ratio <= 4,
    },
  ];
  const sizes = [100, 500, 1000];
  const big: { n: number; r: PrRun }[] = [];
  for (const n of sizes) big.push({ n, r: await prCommentRuns(node, n, SIX_REGIONS, 3, n === 1000) });
  const first = big[0]!;
  const last = big[big.length - 1]!;
  const perPart = (median(last.r.action) - median(first.r.action)) / ((last.n - first.n) * 6);
  for (const { n, r } of big) rows.push({ name: `PR comment: ${n} deployments x 6 regions (median of 3)${r.failed ? ` FAILED: ${r.failed}` : ''}`, value: Math.round(median(r.action)), unit: 'ms', ok: !r.failed });
  rows.push(
    { name: `PR comment: time per deployment-region past the fixed cost (100 → 1000 deployments x 6 regions)`, value: Math.round(perPart * 100) / 100, unit: 'ms', target: '<= 5 ms', ok: perPart <= 5 },
    { name: `PR comment: peak RSS at 1000 x 6`, value: Math.round(last.r.rssMb ?? NaN), unit: 'MB', target: '<= 200 MB', ok: (last.r.rssMb ?? Infinity) <= 200 },
    { name: `PR comment: job summary at 1000 x 6`, value: last.r.summaryBytes, unit: 'bytes', target: '<= 1,048,576', ok: last.r.summaryBytes > 0 && last.r.summaryBytes <= 1024 * 1024 },
    { name: `PR comment: comment posted at 1000 x 6`, value: last.r.commentChars, unit: 'chars', target: '<= 65,536', ok: last.r.commentChars > 0 && last.r.commentChars <= 65536 },
  );
  return rows;
}
