/** Runs the built bundle (node scripts/build.js estimate-cost first) against a loopback GitHub API. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT, runBundle } from '../support/bundle';
import { startLoopback, Loopback, RecordedRequest } from '../support/loopback';
import { startCostExplorer, type FakeCostExplorer } from '../support/cost-explorer';
import { specText } from '../../bench/cost.bench';

const TOKEN = 'ghs_processtestsecrettoken0123456789';

function github() {
  const comments: { id: number; node_id: string; body: string; html_url: string; user: { login: string } }[] = [];
  let failNextList = true;
  return {
    comments,
    handler: (req: RecordedRequest) => {
      // A GITHUB_TOKEN cannot read /user: the action then looks for github-actions[bot]'s comments.
      if (req.method === 'GET' && req.path === '/user') return { status: 403, body: { message: 'Resource not accessible by integration' } };
      const list = req.path.startsWith('/repos/acme/models/issues/7/comments');
      if (req.method === 'GET' && list) {
        // One transient failure: the action must retry it.
        if (failNextList) {
          failNextList = false;
          return { status: 502, body: { message: 'Bad gateway' } };
        }
        return { body: comments };
      }
      if (req.method === 'POST' && list) {
        const c = { id: 900 + comments.length, node_id: 'IC_x', body: (req.params as { body: string }).body, html_url: 'https://github.com/acme/models/pull/7#issuecomment-900', user: { login: 'github-actions[bot]' } };
        comments.push(c);
        return { status: 201, body: c };
      }
      const m = /^\/repos\/acme\/models\/issues\/comments\/(\d+)$/.exec(req.path);
      if (m && req.method === 'PATCH') {
        const c = comments.find((x) => x.id === Number(m[1]))!;
        c.body = (req.params as { body: string }).body;
        return { body: c };
      }
      return undefined;
    },
  };
}

function workspace(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cost-ws-'));
  fs.copyFileSync(path.join(ROOT, 'examples', 'model-deploy.yml'), path.join(dir, 'model-deploy.yml'));
  // The base: only qwen-chat, at a fixed count of one.
  const base = fs.readFileSync(path.join(ROOT, 'examples', 'model-deploy.yml'), 'utf8');
  const onlyChat = base.slice(0, base.indexOf('  summarizer-batch:')).replace('autoscaling: { min: 1, max: 3, targetInvocationsPerInstance: 60 }', '');
  fs.writeFileSync(path.join(dir, 'base.yml'), onlyChat);
  return dir;
}

const event = { pull_request: { number: 7, base: { sha: 'a'.repeat(40) }, head: { sha: 'b'.repeat(40) } } };

/** Workflow-command text decoded, without the runner's own mask registrations. */
const decoded = (text: string) => text.replace(/%0A/g, '\n').replace(/%25/g, '%');
const withoutMasks = (text: string) => text.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n');

let server: Loopback | undefined;
let ce: FakeCostExplorer | undefined;
afterEach(async () => {
  await server?.close();
  await ce?.close();
  ce = undefined;
});

describe('estimate-cost bundle', () => {
  it('posts one comment, then updates it in place on the next run', async () => {
    const gh = github();
    server = await startLoopback(gh.handler);
    const ws = workspace();
    const inputs = { 'base-config': 'base.yml', 'github-token': TOKEN };
    const first = await runBundle('estimate-cost', { inputs, workspace: ws, githubApi: server.url, event, env: { GITHUB_EVENT_NAME: 'pull_request' } });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const calls = server.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`);
    // A GITHUB_TOKEN (ghs_) cannot read /user: not asked. The first list answers 502 and is retried.
    expect(calls).toEqual(['GET /repos/acme/models/issues/7/comments', 'GET /repos/acme/models/issues/7/comments', 'POST /repos/acme/models/issues/7/comments']);
    expect(server.requests[2]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    const body = gh.comments[0].body;
    expect(body.startsWith('<!-- model-deploy:estimate-cost config=model-deploy.yml -->')).toBe(true);
    expect(body).toMatch(/\| summarizer-batch \| added \|/);
    expect(body).toMatch(/\| qwen-chat \| changed \|/);
    expect(body).toMatch(/```mermaid\n---\n[\s\S]*?\n---\nxychart-beta horizontal\n/);

    expect(first.outputs['currency']).toBe('USD');
    expect(first.outputs['comment-url']).toBe('https://github.com/acme/models/pull/7#issuecomment-900');
    expect(first.outputs['over-budget']).toBe('false');
    const result = JSON.parse(fs.readFileSync(path.join(ws, 'model-deploy-cost.json'), 'utf8'));
    expect(first.outputs['total-monthly-cost']).toBe(result.totalMonthlyCost);
    expect(first.outputs['past-total-monthly-cost']).toBe(result.pastTotalMonthlyCost);
    // Base: qwen-chat at one instance = 1105.95 + ECR 0.90 + S3 0.3496 (g5 has instance storage: no ML volume).
    expect(result.pastTotalMonthlyCost).toBe('1107.1996');
    expect(Number(result.diffTotalMonthlyCost)).toBeCloseTo(Number(result.totalMonthlyCost) - 1107.1996, 6);
    expect(first.summary).toMatch(/### Cost estimate: acme-llm/);
    expect(first.summary).not.toMatch(/<!-- model-deploy/);
    expect(first.stdout).toContain(`::add-mask::${TOKEN}`);
    expect(withoutMasks(first.all)).not.toContain(TOKEN);

    // Second run: same PR, the spec changed: the comment is edited, not duplicated.
    const spec = path.join(ws, 'model-deploy.yml');
    fs.writeFileSync(spec, fs.readFileSync(spec, 'utf8').replace('instanceType: g5.2xlarge', 'instanceType: g5.xlarge'));
    server.requests.length = 0;
    const second = await runBundle('estimate-cost', { inputs, workspace: ws, githubApi: server.url, event });
    expect(second.code).toBe(0);
    expect(server.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual(['GET /repos/acme/models/issues/7/comments', 'PATCH /repos/acme/models/issues/comments/900']);
    expect(gh.comments).toHaveLength(1);
    expect(gh.comments[0].body).toMatch(/g5\.xlarge/);
    expect(withoutMasks(second.all)).not.toContain(TOKEN);
  });

  it('fails a budget on the total with the figures, after posting the comment', async () => {
    const gh = github();
    server = await startLoopback(gh.handler);
    const run = await runBundle('estimate-cost', {
      inputs: { 'base-config': 'base.yml', 'github-token': TOKEN, 'max-monthly-cost': '1000', 'max-monthly-increase': '10%' },
      workspace: workspace(),
      githubApi: server.url,
      event,
    });
    expect(run.code).toBe(1);
    expect(run.outputs['over-budget']).toBe('true');
    expect(decoded(run.stdout)).toMatch(/the USD total costs up to \$4,\d{3}\.\d\d a month, above max-monthly-cost \$1,000\.00/);
    expect(decoded(run.stdout)).toMatch(/the USD total increases by \d+\.\d% a month at the maximum \(\$1,107\.20 → \$4,\d{3}\.\d\d\)/);
    expect(gh.comments[0].body).toMatch(/Over budget/);
    expect(withoutMasks(run.all)).not.toContain(TOKEN);
  });

  it('rejects a budget that is not a number before posting anything', async () => {
    server = await startLoopback(github().handler);
    const run = await runBundle('estimate-cost', {
      inputs: { 'base-config': 'base.yml', 'github-token': TOKEN, 'max-monthly-increase': 'ten percent' },
      workspace: workspace(),
      githubApi: server.url,
      event,
    });
    expect(run.code).toBe(1);
    expect(decoded(run.stdout)).toMatch(/max-monthly-increase.*"ten percent".*amount \(100\) or a percent \(10%\)/);
    expect(server.requests).toHaveLength(0);
  });

  it('moves a large spec to a worker thread with a bounded young generation: same outputs, summary, file and failed status (issue 26.3, Node 24\'s heap sizing)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cost-large-'));
    const spec = specText(0, 320, 'us-east-1, eu-central-1');
    expect(spec.length).toBeGreaterThan(100 * 1024);
    fs.writeFileSync(path.join(dir, 'model-deploy.yml'), spec);
    fs.writeFileSync(path.join(dir, 'base.yml'), specText(1, 320, 'us-east-1, eu-central-1'));
    const run = await runBundle('estimate-cost', { inputs: { 'base-config': 'base.yml', mode: 'estimate', 'max-monthly-cost': '1000' }, workspace: dir, event });
    expect(run.stdout).toContain('estimating in a worker thread');
    // Over budget: the worker's failure is the step's, said once.
    expect(run.code).toBe(1);
    expect(run.outputs['over-budget']).toBe('true');
    expect(decoded(run.stdout).match(/above max-monthly-cost/g)?.length).toBe(1);
    expect(run.summary).toMatch(/### Cost estimate: bench/);
    const result = JSON.parse(fs.readFileSync(path.join(dir, 'model-deploy-cost.json'), 'utf8'));
    expect(result.projects).toHaveLength(320);
    expect(run.outputs['total-monthly-cost']).toBe(result.totalMonthlyCost);
  });

  it('comment mode (the fork-safe job): refuses a result file whose figures lie, posting nothing; its own budget fails the step (issue 20)', async () => {
    const dir = workspace();
    // The pull request's job: estimate only, into cost.json.
    const estimated = await runBundle('estimate-cost', { inputs: { 'base-config': 'base.yml', mode: 'estimate', 'result-file': 'cost.json' }, workspace: dir, event });
    expect(estimated.code).toBe(0);
    const honest = fs.readFileSync(path.join(dir, 'cost.json'), 'utf8');
    const lying = JSON.parse(honest);
    // The new figure said to be the base's (the diff with it), over the same components.
    const [project] = lying.projects;
    project.breakdown.totalMonthlyCost = project.pastBreakdown.totalMonthlyCost;
    project.breakdown.totalMonthlyCostMax = project.pastBreakdown.totalMonthlyCostMax;
    project.diff = { ...project.diff, totalMonthlyCost: '0', totalMonthlyCostMax: '0' };
    fs.writeFileSync(path.join(dir, 'cost.json'), JSON.stringify(lying));
    const gh = github();
    server = await startLoopback(gh.handler);
    const comment = (inputs: Record<string, string>) =>
      runBundle('estimate-cost', { inputs: { mode: 'comment', 'result-file': 'cost.json', 'pr-number': '7', 'github-token': TOKEN, ...inputs }, workspace: dir, githubApi: server!.url, event: {} });
    const refused = await comment({});
    expect(refused.code).toBe(1);
    expect(decoded(refused.stdout)).toMatch(/\/projects\/0\/breakdown\/totalMonthlyCost: says .*; its components sum to/);
    expect(server.requests).toHaveLength(0);
    // The honest file, with the comment job's own budget: posted, then the step fails.
    fs.writeFileSync(path.join(dir, 'cost.json'), honest);
    const over = await comment({ 'max-monthly-cost': '1000' });
    expect(over.code).toBe(1);
    expect(over.outputs['over-budget']).toBe('true');
    expect(gh.comments).toHaveLength(1);
    expect(gh.comments[0]!.body).toMatch(/Over budget/);
    expect(withoutMasks(over.all)).not.toContain(TOKEN);
  });

  it('bill-days: the comment says what the last 7 days cost against the estimate, read from Cost Explorer with the job\'s credentials (issue 24)', async () => {
    // The bundle's window is the last 7 full UTC days before today: qwen-chat ran each of them on one ml.g5.2xlarge ($1.515 an hour).
    const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
    const week = [1, 2, 3, 4, 5, 6, 7].map((i) => new Date(today - i * 86400000).toISOString().slice(0, 10));
    const tags = { 'model-deploy:project': 'acme-llm', 'model-deploy:deployment': 'qwen-chat' };
    ce = await startCostExplorer({
      items: week.map((day) => ({ day, tags, usageType: 'USE1-Host:ml.g5.2xlarge', cost: (24 * 1.515).toFixed(10), quantity: '24', quantityUnit: 'Hrs' })),
      activeTags: ['model-deploy:project', 'model-deploy:deployment'],
    });
    const gh = github();
    server = await startLoopback(gh.handler);
    const run = await runBundle('estimate-cost', {
      inputs: { 'base-config': 'base.yml', 'github-token': TOKEN, 'bill-days': '7' },
      workspace: workspace(),
      githubApi: server.url,
      // A pull request of the repository itself (a fork's would say "not checked").
      event: { pull_request: { ...event.pull_request, head: { ...event.pull_request.head, repo: { full_name: 'acme/models' } } } },
      env: { GITHUB_EVENT_NAME: 'pull_request', AWS_ENDPOINT_URL_COST_EXPLORER: ce.url },
    });
    // The AWS SDK warns on stderr about node 20 support; nothing else may be there.
    expect(run.stderr.replace(/^\(node:\d+\) Warning: NodeVersionSupportWarning[\s\S]*?--trace-warnings[^\n]*\n/, '')).toBe('');
    expect(run.code).toBe(0);
    expect(ce.queries()).toHaveLength(1);
    expect(ce.queries()[0]!.params.TimePeriod).toEqual({ Start: week[6], End: new Date(today).toISOString().slice(0, 10) });
    expect(gh.comments[0]!.body).toMatch(/\*\*Checked against the bill\*\*\n- qwen-chat[^\n]*: last 7 days: estimated \$[\d,.]+[^\n]*, billed \$254\.52 \(/);
    expect(withoutMasks(run.all)).not.toContain('loopback-secret-access-key');
  });
});
