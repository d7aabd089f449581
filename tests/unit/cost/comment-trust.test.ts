/**
 * Issue 20, "the PR cost comment never posts what it did not compute": the fork-safe comment job
 * (mode: comment, cost-comment-post.yml) gets its result file from a pull request's job, which a fork
 * controls entirely. Each test plants what such a job could write and checks what the privileged job
 * posts under the bot's name (through the action, against a loopback GitHub).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';
import * as estimateCostAction from '../../../src/actions/estimate-cost';
import { runAction } from '../../../src/core/action';
import { mapInputSource } from '../../../src/core/inputs';
import { memoryReporter } from '../../../src/core/log';
import { escapeText } from '../../../src/cost/render';
import { Loopback, RecordedRequest, startLoopback } from '../../support/loopback';
import { ecs, sagemaker, TWO_ENVIRONMENTS } from './fixtures';

const ROOT = path.resolve(__dirname, '../../..');

type Json = Record<string, any>;  

let server: Loopback | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A workspace whose base runs chat on g4dn.xlarge and whose head moves it to g5.xlarge. */
function workspace(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cost-trust-'));
  fs.writeFileSync(path.join(dir, 'base.yml'), `version: 1\nproject: test\ndeployments:\n${sagemaker('chat', 'ml.g4dn.xlarge')}`);
  fs.writeFileSync(path.join(dir, 'model-deploy.yml'), `version: 1\nproject: test\ndeployments:\n${sagemaker('chat', 'ml.g5.xlarge')}`);
  return dir;
}

/** The untrusted job: estimate mode writes cost.json (here with a generous budget of its own). */
async function untrustedResult(dir: string, inputs: Record<string, string> = {}, overBudget = false): Promise<Json> {
  const reporter = memoryReporter();
  const ok = await runAction(estimateCostAction, {
    source: mapInputSource({ mode: 'estimate', 'result-file': 'cost.json', 'base-config': 'base.yml', ...inputs }),
    reporter,
    env: { GITHUB_WORKSPACE: dir },
    setExitCode: false,
  });
  // Over its own budget, the estimate job fails after writing the file.
  expect(ok).toBe(!overBudget);
  return JSON.parse(fs.readFileSync(path.join(dir, 'cost.json'), 'utf8')) as Json;
}

/** The privileged job: mode comment on the (tampered) file, with its own inputs; what it posted. */
async function commentJob(dir: string, file: Json, inputs: Record<string, string> = {}, more: { env?: Record<string, string>; contents?: Record<string, string> } = {}) {
  fs.writeFileSync(path.join(dir, 'cost.json'), JSON.stringify(file));
  const posted: string[] = [];
  server = await startLoopback((req: RecordedRequest) => {
    if (req.path === '/user') return { status: 403, body: { message: 'Resource not accessible by integration' } };
    // GitHub's contents API (raw media type) at a ref: the file, or 404 "Not Found".
    const contents = /^\/repos\/acme\/models\/contents\/(.+)$/.exec(req.path);
    if (req.method === 'GET' && contents) {
      const text = more.contents?.[decodeURIComponent(contents[1]!)];
      return text === undefined ? { status: 404, body: { message: 'Not Found' } } : { headers: { 'content-type': 'application/vnd.github.raw+json; charset=utf-8' }, body: text };
    }
    if (req.method === 'GET') return { body: [] };
    posted.push((req.params as { body: string }).body);
    return { status: 201, body: { id: 1, node_id: 'IC_1', html_url: 'https://github.com/acme/models/pull/7#issuecomment-1' } };
  });
  const reporter = memoryReporter();
  const ok = await runAction(estimateCostAction, {
    source: mapInputSource({ mode: 'comment', 'result-file': 'cost.json', 'pr-number': '7', 'github-token': 'ghs_x', ...inputs }),
    reporter,
    env: { GITHUB_WORKSPACE: dir, GITHUB_REPOSITORY: 'acme/models', GITHUB_API_URL: server.url, ...more.env },
    setExitCode: false,
  });
  const errors = reporter.captured.annotations.filter((a) => a.level === 'error');
  return { ok, posted, errors, outputs: reporter.captured.outputs, reporter };
}

/** The result file's first deployment, in its one (infracost-like) form. */
const change0 = (f: Json): Json => f.projects[0];
const firstComponent = (side: Json): Json => side.resources[0].costComponents[0];

describe('a lying result file is refused: nothing is posted, the step fails naming the figure', () => {
  it('posts the figures it re-derives for an honest file (the control)', async () => {
    const dir = workspace();
    const job = await commentJob(dir, await untrustedResult(dir));
    expect(job.ok).toBe(true);
    expect(job.posted).toHaveLength(1);
    // g4dn.xlarge 0.7364 → g5.xlarge 1.4084 USD/h (S1), 730 h: +$490.56 a month.
    expect(job.posted[0]).toMatch(/Monthly cost will \*\*increase by \$490\.56\*\*/);
    expect(job.outputs['diff-monthly-cost']).toBe('490.56');
  });

  it('refuses "unchanged at $2.00" over components that sum to more', async () => {
    const dir = workspace();
    const f = await untrustedResult(dir);
    const c = change0(f);
    // The deployment figures say $2 before and after; the components still say $1,027.84.
    for (const side of [c.breakdown, c.pastBreakdown]) Object.assign(side, { totalMonthlyCost: '2', totalMonthlyCostMax: '2' });
    c.diff = { ...c.diff, totalMonthlyCost: '0', totalMonthlyCostMax: '0', percent: '0.0', percentMax: '0.0' };
    c.metadata.status = 'unchanged';
    f.comment.unchanged = true;
    const job = await commentJob(dir, f);
    expect(job.posted).toEqual([]);
    expect(job.ok).toBe(false);
    expect(job.errors[0]?.message).toMatch(/\/projects\/0\/(breakdown|pastBreakdown)\/totalMonthlyCost.*\$2\.00.*components.*\$1,0\d\d\.\d\d/);
  });

  it('refuses a component whose cost is not its quantity times its price', async () => {
    const dir = workspace();
    const f = await untrustedResult(dir);
    const instance = firstComponent(change0(f).breakdown);
    Object.assign(instance, { monthlyCost: '1', monthlyCostMax: '1' });
    const job = await commentJob(dir, f);
    expect(job.posted).toEqual([]);
    expect(job.errors[0]?.message).toMatch(/\/projects\/0\/breakdown\/resources\/0\/costComponents\/0\/monthlyCost/);
  });

  it('refuses a price that is not the catalogue price for that service, key and region', async () => {
    const dir = workspace();
    const f = await untrustedResult(dir);
    const instance = firstComponent(change0(f).breakdown);
    // Internally consistent: quantity × price = cost; but ml.g5.xlarge costs 1.408 USD/h in us-east-1.
    Object.assign(instance, { price: '0.001', monthlyCost: '0.73', monthlyCostMax: '0.73' });
    const job = await commentJob(dir, f);
    expect(job.posted).toEqual([]);
    expect(job.errors[0]?.message).toMatch(/costComponents\/0\/price.*ml\.g5\.xlarge.*0\.001.*catalogue.*1\.4084/);
  });

  it('refuses an instance priced as another service (p5 hours at the EBS rate)', async () => {
    const dir = workspace();
    const f = await untrustedResult(dir);
    const instance = firstComponent(change0(f).breakdown);
    instance.priceSource = { ...instance.priceSource, service: 'ebs', key: 'gp3-storage' };
    Object.assign(instance, { price: '0.08', monthlyCost: '58.4', monthlyCostMax: '58.4' });
    const job = await commentJob(dir, f);
    expect(job.posted).toEqual([]);
    expect(job.errors[0]?.message).toMatch(/costComponents\/0\/price.*instance.*sagemaker-hosting ml\.g5\.xlarge/);
  });
});

describe('negative costs are refused', () => {
  it('a "-$30,000 discount" row', async () => {
    const dir = workspace();
    const f = await untrustedResult(dir);
    const c = change0(f);
    const priceSource = { ...firstComponent(c.breakdown).priceSource };
    c.breakdown.resources[0].costComponents.push({ kind: 'instance', name: 'Discount', unit: 'hours', monthlyQuantity: '-1', monthlyQuantityMax: '-1', price: '30000', priceSource, monthlyCost: '-30000', monthlyCostMax: '-30000' });
    const less = (d: string) => String(Number(d) - 30000);
    Object.assign(c.breakdown, { totalMonthlyCost: less(c.breakdown.totalMonthlyCost), totalMonthlyCostMax: less(c.breakdown.totalMonthlyCostMax) });
    const job = await commentJob(dir, f);
    expect(job.posted).toEqual([]);
    expect(job.ok).toBe(false);
    expect(job.errors[0]?.message).toMatch(/\/projects\/0\/breakdown\/resources\/0\/costComponents\/\d\/monthly(Quantity|Cost)\w*: must be a non-negative decimal/);
  });

  it('a negative build minute count', async () => {
    const dir = workspace();
    const f = await untrustedResult(dir);
    change0(f).breakdown.oneTime.buildMinutes = -500;
    const job = await commentJob(dir, f);
    expect(job.posted).toEqual([]);
    expect(job.errors[0]?.message).toMatch(/oneTime\/buildMinutes/);
  });
});

describe('text from the file is inert', () => {
  const planted = 'see https://evil.example/x or www.evil.example, ask @octocat or @acme/admins, fixes #12, acme/models#3, GH-4, &#64;octocat <b>x</b> ![i](https://evil.example/i.png)';

  it('no link, autolink, mention or issue reference survives, wherever the text is', async () => {
    const dir = workspace();
    const f = await untrustedResult(dir);
    const c = change0(f);
    firstComponent(c.breakdown).name = `Instance usage ${planted}`;
    firstComponent(c.breakdown).note = planted;
    c.breakdown.part.engine = planted.slice(0, 200);
    f.assumptions.push(planted);
    f.priceNotes.push(planted);
    f.baseNote = planted;
    const job = await commentJob(dir, f);
    expect(job.ok).toBe(true);
    expect(job.posted).toHaveLength(1);
    const body = job.posted[0]!.split('\n').slice(1).join('\n'); // after the hidden marker
    expect(body).toContain('evil'); // the text is shown...
    // ...but nothing GitHub would turn into a link, a mention or a reference.
    expect(body).not.toMatch(/:\/\//);
    expect(body).not.toMatch(/www\./i);
    expect(body).not.toMatch(/@[A-Za-z0-9]/);
    expect(body).not.toMatch(/#\d/);
    expect(body).not.toMatch(/\bGH-\d/i);
    expect(body).not.toMatch(/<\/?(b|img)\b/);
    expect(body).not.toMatch(/&#/);
    expect(body).not.toMatch(/[^\\]\]\(/); // an escaped bracket is text
  });

  it('escapeText neutralises each trigger on its own', () => {
    for (const s of ['http://a.b', 'HTTPS://a.b', 'ftp://a', 'WWW.a.b', '@user', 'a@b.example', '#1', 'o/r#2', 'GH-3', 'gh-3', '&#64;x', '<a href=x>', '[t](u)', '`code`']) {
      const out = escapeText(s);
      expect(out).not.toMatch(/:\/\/|www\.|@[A-Za-z0-9]|#\d|GH-\d|&#|<[A-Za-z]|[^\\]\]\(|^`|[^\\]`/i);
    }
  });
});

describe('escapeText on text with nothing to escape', () => {
  it('returns plain text as it is, and escapes every text that has a trigger (none skipped by the shortcut)', () => {
    for (const s of ['ml.g5.2xlarge', '$1,234.56', 'us-east-1', 'chat (SageMaker real-time)', 'build-minutes', '']) expect(escapeText(s)).toBe(s);
    for (const s of ['a\nb', 'a\rb', 'a&b', 'a<b', 'a>b', 'a\\b', 'a`b', 'a*b', 'a_b', 'a[b', 'a]b', 'a|b', 'a!b', 'a#b', 'a~b', 'a@b', 'a://b', 'WwW.a', 'GH-1', 'abc1234', 'DEADBEE1']) {
      expect(escapeText(s)).not.toBe(s);
    }
  });
});

describe('guardrails come only from the comment job\'s own inputs', () => {
  it('fails the step on its own max-monthly-cost, whatever budget the file carries (after posting the comment)', async () => {
    const dir = workspace();
    const f = await untrustedResult(dir, { 'max-monthly-cost': '1000000' });
    expect(f.budget.maxMonthlyCost).toBe(1000000);
    const job = await commentJob(dir, f, { 'max-monthly-cost': '500' });
    expect(job.ok).toBe(false);
    expect(job.outputs['over-budget']).toBe('true');
    expect(job.errors[0]?.message).toMatch(/above max-monthly-cost \$500\.00/);
    expect(job.posted).toHaveLength(1);
    expect(job.posted[0]).toMatch(/Over budget/);
  });

  it('fails the step on its own max-monthly-increase', async () => {
    const dir = workspace();
    const job = await commentJob(dir, await untrustedResult(dir), { 'max-monthly-increase': '10%' });
    expect(job.ok).toBe(false);
    expect(job.errors[0]?.message).toMatch(/above max-monthly-increase 10%/);
  });

  it('ignores a budget in the file the job was not given', async () => {
    const dir = workspace();
    const f = await untrustedResult(dir, { 'max-monthly-cost': '1' }, true);
    expect(f.budget.maxMonthlyCost).toBe(1);
    const job = await commentJob(dir, f);
    expect(job.ok).toBe(true);
    expect(job.outputs['over-budget']).toBe('false');
    expect(job.posted[0]).not.toMatch(/Over budget/);
  });

  it('refuses a file priced for other hours than its own hours-per-month', async () => {
    const dir = workspace();
    const f = await untrustedResult(dir, { 'hours-per-month': '100' });
    const job = await commentJob(dir, f);
    expect(job.posted).toEqual([]);
    expect(job.errors[0]?.message).toMatch(/hours-per-month.*100.*730/);
  });
});

describe('cost-comment-post.yml', () => {
  const doc = parse(fs.readFileSync(path.join(ROOT, '.github', 'workflows', 'cost-comment-post.yml'), 'utf8')) as Json;

  it('takes the guardrails and hours as its own inputs and hands them to the comment step', () => {
    const inputs = doc.on.workflow_call.inputs as Json;
    for (const name of ['max-monthly-cost', 'max-monthly-increase', 'budget-scope', 'hours-per-month']) expect(inputs[name]).toBeDefined();
    const step = (doc.jobs.comment.steps as Json[]).find((s) => s.id === 'comment')!;
    expect(step.with).toMatchObject({
      'max-monthly-cost': '${{ inputs.max-monthly-cost }}',
      'max-monthly-increase': '${{ inputs.max-monthly-increase }}',
      'budget-scope': '${{ inputs.budget-scope }}',
      'hours-per-month': '${{ inputs.hours-per-month }}',
    });
    expect(doc.on.workflow_call.outputs['over-budget'].value).toBe('${{ jobs.comment.outputs.over-budget }}');
    expect(doc.jobs.comment.outputs['over-budget']).toBe('${{ steps.comment.outputs.over-budget }}');
  });
});

describe('an honest result file of every kind round-trips: the comment job posts what the estimate job computed', () => {
  const ENVIRONMENTS = TWO_ENVIRONMENTS;
  const vpc = (region: string, more = '') =>
    `    security:\n      certificateArn: "arn:${region.startsWith('cn-') ? 'aws-cn' : 'aws'}:acm:${region}:111111111111:certificate/abc"\n${more}      vpc: { vpcId: vpc-0a1b2c3d, subnets: [subnet-0a1b2c3d, subnet-0a1b2c3e], securityGroups: [sg-0a1b2c3d]${more ? ', natGateway: true' : ''} }\n`;
  const head = [
    sagemaker('chat', 'ml.g5.xlarge'),
    '  tuned:\n    target: bedrock\n    model: { bedrock: arn:aws:bedrock:us-east-1:111111111111:custom-model/amazon.titan-text-express-v1:0:8k/a1b2c3d4e5f6 }\n    regions: [us-east-1]\n    bedrockThroughput: { modelUnits: 1, commitment: OneMonth }\n',
    sagemaker('batch', 'ml.m5.xlarge', '    volumeSizeGb: 64\n    autoscaling: { min: 0, max: 2 }\n    security: { createKmsKey: true }\n').replace('sagemaker-realtime', 'sagemaker-async').replace('imageSizeGb: 10', 'imageSizeGb: 10, busyHoursPerMonth: 120'),
    ecs('svc', 'g5.2xlarge', 'us-east-1', vpc('us-east-1', '      createKmsKey: true\n') + '    usage: { imageSizeGb: 10, lcuPerHour: 2, natDataGbPerMonth: 100 }\n'),
    ecs('cpu', 'c5.xlarge'),
    ecs('far', 'g5.xlarge', 'eu-south-2'),
    sagemaker('cn', 'ml.g4dn.xlarge').replace('regions: [us-east-1]', 'regions: [cn-north-1]'),
    sagemaker('big', 'ml.g5.xlarge', '    build: { computeType: BUILD_GENERAL1_XLARGE }\n    autoscaling: { min: 1, max: 4 }\n'),
  ].join('');
  const base = [sagemaker('chat', 'ml.g4dn.xlarge'), sagemaker('legacy', 'ml.g4dn.xlarge'), sagemaker('big', 'ml.g5.xlarge')].join('');

  it('re-derives the same figures, rows and prices from the file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cost-trust-all-'));
    fs.writeFileSync(path.join(dir, 'base.yml'), `version: 1\nproject: test\n${ENVIRONMENTS}\ndeployments:\n${base}`);
    fs.writeFileSync(path.join(dir, 'model-deploy.yml'), `version: 1\nproject: test\n${ENVIRONMENTS}\ndeployments:\n${head}`);
    const f = await untrustedResult(dir);
    const kinds = new Set<string>();
    for (const c of f.projects) for (const side of [c.breakdown, c.pastBreakdown]) for (const r of side?.resources ?? []) for (const x of r.costComponents) kinds.add(x.kind);
    // Every kind of component the estimate writes is in this file.
    expect([...kinds].sort()).toEqual(
      ['alb-hours', 'alb-lcu', 'bedrock-model-units', 'ecr-storage', 'fargate-memory', 'fargate-storage', 'fargate-vcpu', 'instance', 'kms-key', 'ml-storage', 'nat-data', 'root-volume', 's3-storage', 'secret', 'secret-calls', 'sns-requests'].sort(),
    );
    expect(f.projects.map((c: Json) => c.metadata.status).sort()).toEqual(['added', 'added', 'added', 'added', 'added', 'added', 'changed', 'changed', 'removed']);
    const job = await commentJob(dir, f);
    expect(job.errors).toEqual([]);
    expect(job.ok).toBe(true);
    // The figures the comment job outputs are the estimate job's, to the cent.
    expect(JSON.parse(job.outputs['totals-json'] ?? '[]')).toEqual(f.totalsByCurrency);
    const body = job.posted[0]!;
    for (const c of f.projects) expect(body).toContain(`| ${c.metadata.label} | ${c.metadata.status} |`);
    expect(body).toMatch(/\+ unpriced/);
  });
});

describe('the fit lines (issue 22) in the fork-safe comment', () => {
  const HEAD = 'c0ffee'.padEnd(40, '0');
  /** A workflow_run event for the pull request's head commit. */
  const workflowRun = (dir: string) => {
    const event = path.join(dir, 'event.json');
    fs.writeFileSync(event, JSON.stringify({ workflow_run: { head_sha: HEAD, event: 'pull_request', pull_requests: [] } }));
    return { GITHUB_EVENT_NAME: 'workflow_run', GITHUB_EVENT_PATH: event };
  };

  it('are computed by the comment job from the spec at the head commit the event names; the file\'s own lines are never posted', async () => {
    const dir = workspace();
    const file = await untrustedResult(dir);
    file.priceNotes = ['chat: memory fits on ml.p5.48xlarge (planted)'];
    // The spec as the head commit holds it: chat's 10 GB model on ml.g5.xlarge (24 GiB).
    const spec = fs.readFileSync(path.join(dir, 'model-deploy.yml'), 'utf8');
    const job = await commentJob(dir, file, {}, { env: workflowRun(dir), contents: { [`model-deploy.yml?ref=${HEAD}`]: spec } });
    expect(job.errors).toEqual([]);
    expect(job.posted).toHaveLength(1);
    expect(job.posted[0]).toMatch(/chat: memory fits on ml\.g5\.xlarge \(\d+\.\d of \d+\.\d GiB usable\)/);
    expect(job.posted[0]).not.toContain('planted');
    expect(server!.requests.some((r) => r.path === `/repos/acme/models/contents/model-deploy.yml?ref=${HEAD}` && /raw/.test(String(r.headers.accept)))).toBe(true);
  });

  it('say "not checked" when the spec cannot be read at that commit, and the comment is still posted', async () => {
    const dir = workspace();
    const file = await untrustedResult(dir);
    const job = await commentJob(dir, file, {}, { env: workflowRun(dir) });
    expect(job.posted).toHaveLength(1);
    expect(job.posted[0]).toMatch(/Will it start: not checked by the comment job \(model-deploy\.yml could not be read at c0ffee\u200b?000000: Not Found\)/);
  });
});
