/**
 * The PR cost comment under real checkouts and currencies (issue 14): one test per finding, each
 * failing on the code before its fix.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EnvInputs } from '../../../src/core/env';
import { memoryReporter } from '../../../src/core/log';
import { loadSpec, parseSpec } from '../../../src/config/load';
import { readBaseSpec } from '../../../src/cost/base';
import { PriceBook, estimateDeployments } from '../../../src/cost/estimate';
import { CostRequest, estimateCost } from '../../../src/cost/flow';
import * as estimateCostAction from '../../../src/actions/estimate-cost';
import { runAction } from '../../../src/core/action';
import { mapInputSource } from '../../../src/core/inputs';
import { planCost } from '../../../src/cost/plan';
import { buildReport, checkBudget, parseBudget } from '../../../src/cost/report';
import { GITHUB_COMMENT_LIMIT, commentMarker, renderReport } from '../../../src/cost/render';
import { startLoopback, Loopback, RecordedRequest } from '../../support/loopback';
import { sagemaker, specOf } from './fixtures';

const ROOT = path.resolve(__dirname, '../../..');
const EXAMPLE = path.join(ROOT, 'examples', 'model-deploy.yml');
const REVISION = '0123456789abcdef0123456789abcdef01234567';

function ws(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cost-findings-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

/** The door's arguments for the spec in `workspace` (model-deploy.yml): estimate mode, cost.json. */
function options(workspace: string, more: Partial<CostRequest> = {}, env: NodeJS.ProcessEnv = {}) {
  const reporter = memoryReporter();
  const request: CostRequest = {
    hoursPerMonth: 730,
    livePrices: false,
    mode: 'estimate',
    behavior: 'update',
    skipIfUnchanged: false,
    resultFile: 'cost.json',
    retryBaseMs: 5,
    ...more,
  };
  const o = { target: { workspace, config: 'model-deploy.yml' }, request, run: { reporter, env: new EnvInputs(env) } };
  return { o, reporter };
}

const estimate = (o: ReturnType<typeof options>['o']) => estimateCost(o.target, o.request, o.run);

/** The action itself on the spec in `workspace`, for what it outputs. */
async function actionOutputs(workspace: string, inputs: Record<string, string> = {}) {
  const reporter = memoryReporter();
  await runAction(estimateCostAction, { source: mapInputSource({ mode: 'estimate', 'result-file': 'cost.json', ...inputs }), reporter, env: { GITHUB_WORKSPACE: workspace }, setExitCode: false });
  return reporter.captured.outputs;
}

function report(headYaml: string, baseYaml?: string) {
  const head = specOf(headYaml);
  const book = new PriceBook();
  const h = estimateDeployments(Object.values(head.deployments), { prices: book, spec: head });
  const base = baseYaml === undefined ? undefined : baseYaml === '' ? { hoursPerMonth: 730, deployments: [] } : estimateDeployments(Object.values(specOf(baseYaml).deployments), { prices: book, spec: specOf(baseYaml) });
  return buildReport({ project: 'test', head: h, base, prices: book.usedPrices() });
}

const ec2 = (name: string, type: string, more = '') => `  ${name}:
    model: { huggingface: { id: org/model, revision: "${REVISION}" }, sizeGb: 10 }
    engine: { name: vllm }
    target: ec2
    instanceType: ${type}
    regions: [us-east-1]
    usage: { imageSizeGb: 10 }
    security:
      certificateArn: "arn:aws:acm:us-east-1:111111111111:certificate/abc"
      vpc: { vpcId: vpc-0a1b2c3d, subnets: [subnet-0a1b2c3d, subnet-0a1b2c3e], securityGroups: [sg-0a1b2c3d] }
${more}`;

describe('1. currency per priced line', () => {
  const mixed = `version: 1\nproject: test\ndefaults:\n  regions: [us-east-1]\nenvironments:\n  prod:\n    account: "111111111111"\n    roleArn: arn:aws:iam::111111111111:role/x\n    regions: [us-east-1, cn-north-1]\ndeployments:\n${ec2('svc', 'g4dn.xlarge').replace('    regions: [us-east-1]\n', '')}`;

  it('the spec refuses an environment whose regions mix China and global partitions', () => {
    expect(() => parseSpec(mixed, 'model-deploy.yml')).toThrow(/regions mix China regions \(cn-north-1\) with other regions \(us-east-1\)/);
  });

  it('never sums CNY into USD when the regions come from the environment (defence behind the spec check)', async () => {
    const spec = parseSpec(mixed.replace('regions: [us-east-1, cn-north-1]', 'regions: [us-east-1]'), 'model-deploy.yml');
    // Past the loader's check (a spec object built by code, not read from a file): the estimate must still split currencies.
    spec.environments['prod']!.regions = ['us-east-1', 'cn-north-1'];
    const part = await planCost(spec, Object.values(spec.deployments), { environmentName: 'prod' });
    const json = JSON.parse(part.files[1]!.content);
    expect(json.totalsByCurrency.map((t: { currency: string }) => t.currency)).toEqual(['USD', 'CNY']);
    const usd = json.totalsByCurrency[0];
    const cny = json.totalsByCurrency[1];
    // g4dn.xlarge: 0.526 USD/h in us-east-1, 5.223 CNY/h in cn-north-1 (S2), 730 h.
    expect(Number(usd.totalMonthlyCost)).toBeLessThan(1000);
    expect(Number(cny.totalMonthlyCost)).toBeGreaterThanOrEqual(5.223 * 730);
    for (const p of json.projects) {
      for (const r of p.breakdown.resources) for (const c of r.costComponents) if (c.priceSource) expect(c.priceSource.currency).toBe(p.metadata.currency);
    }
    expect(part.files[0]!.content).toMatch(/svc \(CNY\)/);
  });
});

describe('2. the base spec from a shallow checkout', () => {
  it('fetches the one base commit a depth-1 clone lacks, instead of reading it as "no spec"', async () => {
    const origin = fs.mkdtempSync(path.join(os.tmpdir(), 'cost-origin-'));
    const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@e', '-c', 'protocol.file.allow=always', ...args], { cwd, stdio: 'pipe' }).toString().trim();
    git(origin, 'init', '-q');
    fs.writeFileSync(path.join(origin, 'model-deploy.yml'), `version: 1\nproject: test\ndeployments:\n${sagemaker('chat', 'ml.g4dn.xlarge')}`);
    git(origin, 'add', '.');
    git(origin, 'commit', '-qm', 'base');
    const baseSha = git(origin, 'rev-parse', 'HEAD');
    fs.writeFileSync(path.join(origin, 'model-deploy.yml'), `version: 1\nproject: test\ndeployments:\n${sagemaker('chat', 'ml.g5.xlarge')}`);
    git(origin, 'commit', '-qam', 'head');
    const clone = fs.mkdtempSync(path.join(os.tmpdir(), 'cost-clone-'));
    git(clone, 'clone', '-q', '--depth', '1', `file://${origin}`, '.');
    expect(git(clone, 'rev-list', '--count', 'HEAD')).toBe('1');

    const base = await readBaseSpec({ workspace: clone, config: 'model-deploy.yml', baseRef: baseSha });
    expect(base.unknown).toBeUndefined();
    expect(base.spec?.deployments.chat?.instanceType).toBe('ml.g4dn.xlarge');
  });
});

describe('3. an invalid spec on the base', () => {
  it('shows the base as unknown and prices the head', async () => {
    const head = `version: 1\nproject: test\ndeployments:\n${sagemaker('chat', 'ml.g4dn.xlarge')}`;
    const dir = ws({ 'model-deploy.yml': head, 'base.yml': head.replace('instanceType: ml.g4dn.xlarge', 'instanceType: [oops') });
    const { o } = options(dir, { baseConfig: 'base.yml', maxMonthlyIncrease: '10%' });
    const res = await estimate(o);
    expect(res.report.compared).toBe(false);
    expect(res.report.baseNote).toMatch(/Base unknown/);
    // ml.g4dn.xlarge 537.572 + ECR 10 GB × 0.10 + S3 10 GB × 0.023.
    const outputs = await actionOutputs(dir, { 'base-config': 'base.yml', 'max-monthly-increase': '10%' });
    expect(outputs['total-monthly-cost']).toBe('538.802');
    // Nothing to take an increase from: the check does not fail on the unknown base.
    expect(res.violations).toEqual([]);
  });
});

describe('4. price what the rendered stack creates', () => {
  const names = (yaml: string) => {
    const spec = specOf(yaml);
    return estimateDeployments(Object.values(spec.deployments), { spec }).deployments[0]!.resources[0]!.components.map((c) => c.name);
  };

  it('charges no ML storage for instance-store families (the template sets VolumeSizeGb 0)', () => {
    expect(names(sagemaker('chat', 'ml.g5.2xlarge', '    volumeSizeGb: 64\n')).join('\n')).not.toMatch(/storage/i);
    expect(names(sagemaker('chat', 'ml.c5.xlarge', '    volumeSizeGb: 64\n')).join('\n')).toMatch(/ML storage volume \(64 GB/);
  });

  it('prices ECS on a CPU type as Fargate tasks, not EC2 instances', () => {
    const spec = specOf(ec2('svc', 'm5.xlarge').replace('target: ec2', 'target: ecs'));
    const e = estimateDeployments(Object.values(spec.deployments), { spec }).deployments[0]!;
    const compute = e.resources[0]!;
    expect(compute.name).toMatch(/Fargate/);
    expect(compute.components.map((c) => c.kind)).toEqual(['fargate-vcpu', 'fargate-memory', 'fargate-storage']);
    expect(compute.components.some((c) => c.price?.service === 'ec2')).toBe(false);
    // No verified Fargate price in the reference: unpriced, never $0.
    expect(e.unpriced.join('\n')).toMatch(/Fargate vCPU/);
  });

  it('lists and prices the gp3 root volume of EC2 instances (100 GB at least)', () => {
    const spec = specOf(ec2('svc', 'g5.xlarge'));
    const root = estimateDeployments(Object.values(spec.deployments), { spec }).deployments[0]!.resources[0]!.components.find((c) => c.kind === 'root-volume');
    expect(root?.name).toMatch(/EBS gp3 root volume \(100 GB per instance\)/);
    expect(root?.monthlyCost?.low).toBeCloseTo(100 * 0.08, 6);
  });
});

describe('5. one unpriced instance type', () => {
  it('keeps the rest, shows an unpriced row and flags the totals', async () => {
    const spec = specOf(sagemaker('known', 'ml.g4dn.xlarge') + sagemaker('exotic', 'ml.p3.8xlarge'));
    const part = await planCost(spec, Object.values(spec.deployments), {});
    const md = part.files[0]!.content;
    expect(md).toMatch(/\| exotic \| SageMaker\u00a0ml\.p3\.8xlarge, us-east-1 \| \$\d+ \+ unpriced \|/);
    expect(md).toMatch(/\| known \| .* \| \$53\d \|/);
    expect(md).toMatch(/\*\*Total \(USD\)\*\* \| \| \*\*\$[\d,]+ \+ unpriced\*\*/);
    expect(part.summary[0]).toMatch(/\+ unpriced a month/);
  });

  it('never prints "one-time ¥0.00" for an unpriced build', async () => {
    const spec = parseSpec(`version: 1\nproject: test\ndeployments:\n${ec2('cn', 'g4dn.xlarge').replace('regions: [us-east-1]', 'regions: [cn-north-1]').replace('arn:aws:acm:us-east-1', 'arn:aws-cn:acm:cn-north-1')}`, 'model-deploy.yml');
    const part = await planCost(spec, Object.values(spec.deployments), {});
    expect(part.summary[0]).toMatch(/one-time unpriced/);
    expect(part.summary[0]).not.toMatch(/one-time ¥0\.00/);
  });
});

describe('6. the headline of a range that moves both ways', () => {
  it('says the minimum falls and the maximum rises', () => {
    const r = report(sagemaker('chat', 'ml.g4dn.xlarge', '    instanceCount: 1\n    autoscaling: { min: 1, max: 3 }\n'), sagemaker('chat', 'ml.g4dn.xlarge', '    instanceCount: 2\n'));
    const body = renderReport(r);
    expect(body).not.toMatch(/will \*\*decrease/);
    expect(body).toMatch(/moves both ways\*\*: the minimum falls and the maximum rises/);
  });
});

describe('7. guardrails on the totals, new deployments included', () => {
  it('fails 10% and 1000 when a PR adds five deployments', () => {
    const five = Array.from({ length: 5 }, (_, i) => sagemaker(`d${i}`, 'ml.g4dn.xlarge')).join('');
    const r = report(five, '');
    expect(checkBudget(r, parseBudget(undefined, '10%'), (n) => n.toFixed(2)).map((v) => v.message).join('\n')).toMatch(/the USD total rises from nothing to 2694\.01 a month, above max-monthly-increase 10%/);
    expect(checkBudget(r, parseBudget(undefined, '1000'), (n) => n.toFixed(2)).map((v) => v.message).join('\n')).toMatch(/the USD total increases by up to 26\d\d\.\d\d/);
    // Per deployment only when asked for: each adds 537.57, under 1000.
    expect(checkBudget(r, parseBudget(undefined, '1000', 'deployment'), (n) => n.toFixed(2))).toEqual([]);
  });
});

describe('8. the one-time build only when the change builds', () => {
  it('charges no build for a count-only change (same image tag)', () => {
    const r = report(sagemaker('chat', 'ml.g4dn.xlarge', '    instanceCount: 2\n'), sagemaker('chat', 'ml.g4dn.xlarge'));
    expect(r.changes[0]!.status).toBe('changed');
    expect(r.changes[0]!.oneTime).toBe(0);
    expect(r.totals[0]!.oneTime).toBe(0);
    const engine = report(sagemaker('chat', 'ml.g4dn.xlarge').replace('engine: { name: vllm }', 'engine: { name: tgi }'), sagemaker('chat', 'ml.g4dn.xlarge'));
    expect(engine.changes[0]!.oneTime).toBeGreaterThan(0);
  });

  it('asks renderBuild when the build inputs differ: a new build.estimatedMinutes renders the same image tag', async () => {
    const head = `version: 1\nproject: test\ndeployments:\n${sagemaker('chat', 'ml.g4dn.xlarge', '    build: { estimatedMinutes: 12 }\n')}`;
    const base = head.replace('estimatedMinutes: 12', 'estimatedMinutes: 10');
    const res = await estimate(options(ws({ 'model-deploy.yml': head, 'base.yml': base }), { baseConfig: 'base.yml' }).o);
    const chat = res.report.changes[0]!;
    expect(chat.next!.oneTime.imageTag).toMatch(/^md-[0-9a-f]{40}$/);
    expect(chat.next!.oneTime.imageTag).toBe(chat.past!.oneTime.imageTag);
    expect(chat.oneTime).toBe(0);
  });
});

describe('8b. a new engine or new weights is a new image without rendering either build', () => {
  it.each([
    ['engine', (t: string) => t.replace('engine: { name: vllm }', 'engine: { name: tgi }')],
    ['weights', (t: string) => t.replace(/revision: "?[0-9a-f]{40}"?/, 'revision: "1111111111111111111111111111111111111111"')],
  ])('%s changed: the build is charged and renderBuild is not asked', async (_, change) => {
    const base = `version: 1\nproject: test\ndeployments:\n${sagemaker('chat', 'ml.g4dn.xlarge')}`;
    const head = change(base);
    expect(head).not.toBe(base);
     
    const render = require('../../../src/image/render') as typeof import('../../../src/image/render');
    const spy = jest.spyOn(render, 'renderBuild');
    try {
      const res = await estimate(options(ws({ 'model-deploy.yml': head, 'base.yml': base }), { baseConfig: 'base.yml' }).o);
      expect(res.report.changes[0]!.oneTime).toBeGreaterThan(0);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});

describe('9. clearer than infracost: the bundled example with a changed instance type', () => {
  it('shows old → new per deployment and per component, a bar chart of the change, whole units in the summary', async () => {
    const text = fs.readFileSync(EXAMPLE, 'utf8');
    // Two deployments move (qwen-chat down a size, code-assistant up one): the chart has something to compare.
    const head = text.replace('instanceType: ml.g5.2xlarge', 'instanceType: ml.g5.xlarge').replace('instanceType: g5.2xlarge', 'instanceType: g5.4xlarge');
    const { o } = options(ws({ 'model-deploy.yml': head, 'base.yml': text }), { baseConfig: 'base.yml' });
    const res = await estimate(o);
    const body = renderReport(res.report, { marker: commentMarker('model-deploy.yml') });
    fs.mkdirSync(path.join(__dirname, '__output__'), { recursive: true });
    fs.writeFileSync(path.join(__dirname, '__output__', 'example-comment.md'), body);

    // Instance line 1.515 → 1.4084 USD/h × 730 h × 1-3, plus ECR 9 GB and S3 15.2 GB (g5 has instance storage: no ML volume).
    expect(body).toMatch(/\*\*qwen-chat\*\*: instance type ml\.g5\.2xlarge → ml\.g5\.xlarge; \$1,107\.20 – \$3,319\.10 → \$1,029\.38 – \$3,085\.65 \(-\$77\.82 – -\$233\.45\) a month/);
    expect(body).toMatch(/```mermaid\n---\n[\s\S]*?\n---\nxychart-beta horizontal\n/);
    expect(body).not.toMatch(/pie showData/);
    // Summary table in whole dollars, range kept; cents in the details, old → new per component.
    expect(body).toMatch(/\| qwen-chat \| changed \| .* \| \$1,107 – \$3,319 \| \$1,029 – \$3,086 \| -\$78 – -\$233 \|/);
    expect(body).toMatch(/\| Instance usage \(ml\.g5\.xlarge, 1–3 instances\) \| .* \| \$1,105\.95 – \$3,317\.85 \| \$1,028\.13 – \$3,084\.40 \| -\$77\.82 – -\$233\.45 \|/);
    // Count unchanged, same image: no build charged for it.
    expect(res.report.changes.find((c) => c.name === 'qwen-chat')!.oneTime).toBe(0);
  });
});

describe('10. outputs and the size limit', () => {
  it('writes one decimal output per currency and JSON, never "x USD; y CNY"', async () => {
    const spec = `version: 1\nproject: test\ndeployments:\n${ec2('us', 'g4dn.xlarge')}${ec2('cn', 'g4dn.xlarge').replace('regions: [us-east-1]', 'regions: [cn-north-1]').replace('arn:aws:acm:us-east-1', 'arn:aws-cn:acm:cn-north-1')}`;
    const out = await actionOutputs(ws({ 'model-deploy.yml': spec }));
    expect(out['total-monthly-cost']).toBe('');
    expect(out['total-monthly-cost-usd']).toMatch(/^\d+(\.\d+)?$/);
    expect(out['total-monthly-cost-cny']).toMatch(/^\d+(\.\d+)?$/);
    expect(JSON.parse(out['totals-json'] ?? '[]').map((t: { currency: string }) => t.currency)).toEqual(['USD', 'CNY']);
  });

  it('counts the trailing newline against the limit', () => {
    const r = report(sagemaker('aa', 'ml.g4dn.xlarge') + sagemaker('bb', 'ml.g5.xlarge'), '');
    const full = renderReport(r, { limit: 1_000_000 });
    // Every limit from "only the totals fit" to the whole body: the posted text (newline included) fits.
    const over: number[] = [];
    const least = renderReport(r, { limit: 0 }).length; // the totals alone: never cut
    for (let limit = least; limit <= full.length; limit++) if (renderReport(r, { limit }).length > limit) over.push(limit);
    expect(over).toEqual([]);
    expect(renderReport(r).length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
  });
});

describe('11. comment mode posts only what it renders from validated figures', () => {
  let server: Loopback | undefined;
  afterEach(async () => server?.close());

  async function estimateThenComment(tamper: (file: Record<string, unknown>) => void) {
    const spec = `version: 1\nproject: test\ndeployments:\n${sagemaker('chat', 'ml.g4dn.xlarge')}`;
    const dir = ws({ 'model-deploy.yml': spec });
    await estimate(options(dir, { prNumber: 7 }).o);
    const file = path.join(dir, 'cost.json');
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    tamper(parsed);
    fs.writeFileSync(file, JSON.stringify(parsed));
    const posted: string[] = [];
    server = await startLoopback((req: RecordedRequest) => {
      if (req.path === '/user') return { status: 403, body: { message: 'Resource not accessible by integration' } };
      if (req.method === 'GET') return { body: [] };
      posted.push((req.params as { body: string }).body);
      return { status: 201, body: { id: 1, html_url: 'https://github.com/acme/models/pull/7#c1' } };
    });
    const env = { GITHUB_REPOSITORY: 'acme/models', GITHUB_API_URL: server.url };
    const run = estimate(options(dir, { mode: 'comment', prNumber: 7, token: 'ghs_x' }, env).o);
    return { run, posted };
  }

  it('ignores a body in the artifact and renders the comment from the figures', async () => {
    const { run, posted } = await estimateThenComment((f) => {
      f.comment = { ...(f.comment as object), body: '<!-- model-deploy:estimate-cost config=model-deploy.yml -->\n[click here](https://evil.example)' };
    });
    await run;
    expect(posted).toHaveLength(1);
    expect(posted[0]).not.toMatch(/evil/);
    expect(posted[0]).toMatch(/\| chat \| SageMaker\u00a0ml\.g4dn\.xlarge, us-east-1 \| \$539 \|/);
  });

  it('refuses figures that do not match the schema, and escapes text so it cannot link or mention', async () => {
    const bad = await estimateThenComment((f) => {
      (f.projects as { breakdown: { totalMonthlyCost: unknown } }[])[0]!.breakdown.totalMonthlyCost = '1 million';
    });
    await expect(bad.run).rejects.toMatchObject({ title: 'Invalid estimate result' });
    expect(bad.posted).toHaveLength(0);
    await server?.close();
    const text = await estimateThenComment((f) => {
      // A deployment's own assumptions are shown (the report's list is re-derived from them, issue 20).
      (f.projects as { breakdown: { part: { assumptions: string[] } } }[])[0]!.breakdown.part.assumptions.push('see [this](https://evil.example) @everyone <img src=x>');
    });
    await text.run;
    // Brackets escaped: shown as text, not a link; the URL broken by a zero-width space (no autolink, issue 20).
    expect(text.posted[0]).toContain('see \\[this\\](https:\u200b//evil.example)');
    expect(text.posted[0]).not.toMatch(/[^\\]\]\(https:\/\/evil/);
    expect(text.posted[0]).not.toMatch(/<img/);
    expect(text.posted[0]).not.toMatch(/ @everyone/);
  });
});

describe('the bundled example still loads', () => {
  it('prices every deployment', () => {
    const spec = loadSpec(EXAMPLE);
    expect(estimateDeployments(Object.values(spec.deployments), { spec }).deployments).toHaveLength(3);
  });
});
