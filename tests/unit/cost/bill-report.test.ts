/**
 * The bill comparison as the actions run it: cost-report (summary, outputs, the one issue) and the
 * deploy summary's optional section, against the loopback Cost Explorer and a GitHub fake.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as costReport from '../../../src/actions/cost-report';
import { runAction } from '../../../src/core/action';
import { EnvInputs } from '../../../src/core/env';
import { mapInputSource } from '../../../src/core/inputs';
import { memoryReporter } from '../../../src/core/log';
import { billWindow } from '../../../src/cost/bill';
import { billIssueMarker } from '../../../src/cost/bill-render';
import { deployBillSection } from '../../../src/cost/bill-report';
import { upsertReportIssue } from '../../../src/cost/bill-issue';
import { targetOf } from '../../../src/config/select';
import { parseSpec } from '../../../src/config/load';
import { useCostExplorer, type CostLineItem, type FakeCostExplorer } from '../../support/cost-explorer';
import { startLoopback, type Loopback, type RecordedRequest } from '../../support/loopback';
import { sagemaker } from './fixtures';

const TAGS = ['model-deploy:project', 'model-deploy:deployment', 'model-deploy:environment'];
const SPEC = `version: 1\nproject: test\nenvironments:\n  dev:\n    account: "111111111111"\ndeployments:\n${sagemaker('chat', 'ml.g5.2xlarge')}`;

const fake = useCostExplorer();
let ce: FakeCostExplorer;
let gh: Loopback;
let workspace: string;

/** GitHub's issues API for acme/models: an open pull request that quotes the marker, an unrelated issue. */
function fakeIssues() {
  const issues: { number: number; title: string; body: string; html_url: string; pull_request?: object }[] = [
    { number: 3, title: 'A pull request', body: billIssueMarker('test', 'dev'), html_url: 'https://github.com/acme/models/pull/3', pull_request: {} },
    { number: 4, title: 'Unrelated', body: 'hello', html_url: 'https://github.com/acme/models/issues/4' },
  ];
  const handler = (req: RecordedRequest) => {
    if (req.method === 'GET' && req.path.startsWith('/repos/acme/models/issues?')) return { body: issues };
    if (req.method === 'POST' && req.path === '/repos/acme/models/issues') {
      const p = req.params as { title: string; body: string };
      const issue = { number: 10 + issues.length, title: p.title, body: p.body, html_url: `https://github.com/acme/models/issues/${10 + issues.length}` };
      issues.push(issue);
      return { status: 201, body: issue };
    }
    const one = /^\/repos\/acme\/models\/issues\/(\d+)$/.exec(req.path);
    if (one && req.method === 'PATCH') return { body: Object.assign(issues.find((i) => i.number === Number(one[1]))!, req.params) };
    return undefined;
  };
  return { issues, handler };
}

const repo = fakeIssues();
const reports = () => repo.issues.filter((i) => !i.pull_request && i.body.startsWith(billIssueMarker('test', 'dev')));

beforeAll(async () => {
  gh = await startLoopback(repo.handler);
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'bill-report-'));
  fs.writeFileSync(path.join(workspace, 'model-deploy.yml'), SPEC);
});

afterAll(async () => {
  await gh.close();
  fs.rmSync(workspace, { recursive: true, force: true });
});

beforeEach(() => {
  ce = fake();
  gh.requests.length = 0;
});

/** A steady week of chat up to yesterday (the window the action computes from today). */
function steadyWeek(): CostLineItem[] {
  const w = billWindow(new Date(), 7);
  const days = Array.from({ length: 7 }, (_, i) => new Date(Date.parse(`${w.start}T00:00:00Z`) + i * 86400000).toISOString().slice(0, 10));
  const tags = { 'model-deploy:project': 'test', 'model-deploy:deployment': 'chat', 'model-deploy:environment': 'dev' };
  return days.map((day) => ({ day, tags, usageType: 'USE1-Host:ml.g5.2xlarge', cost: (24 * 1.515).toFixed(10), quantity: '24', quantityUnit: 'Hrs' }));
}

async function runReport(inputs: Record<string, string>) {
  const reporter = memoryReporter();
  const env = { GITHUB_WORKSPACE: workspace, GITHUB_REPOSITORY: 'acme/models', GITHUB_API_URL: gh.url, INPUT_GITHUB_TOKEN: 'ghs_secret' };
  const ok = await runAction(costReport, { source: mapInputSource({ config: 'model-deploy.yml', environment: 'dev', 'github-token': 'ghs_secret', ...inputs }), reporter, env, setExitCode: false });
  return { ok, reporter };
}

describe('cost-report action', () => {
  it('writes the summary and outputs, opens the issue, and updates the same issue next time', async () => {
    ce.state = { items: steadyWeek(), activeTags: TAGS };
    const first = await runReport({ issue: 'true' });
    expect(first.ok).toBe(true);
    expect(first.reporter.captured.summaries.join('\n')).toMatch(/^## Estimate vs bill, last 7 days/);
    expect(first.reporter.captured.outputs['within-tolerance']).toBe('true');
    expect(first.reporter.captured.outputs['issue-url']).toBe('https://github.com/acme/models/issues/12');
    expect(JSON.parse(first.reporter.captured.outputs['report-json']!).deployments[0]).toMatchObject({ deployment: 'chat', withinTolerance: true });
    expect(reports()).toEqual([expect.objectContaining({ number: 12, title: 'Cost report: test (dev), estimate vs bill' })]);

    ce.state = { items: steadyWeek().map((i) => ({ ...i, cost: (30 * 1.515).toFixed(10), quantity: '30' })), activeTags: TAGS };
    gh.requests.length = 0;
    const second = await runReport({ issue: 'true' });
    expect(second.reporter.captured.outputs['within-tolerance']).toBe('false');
    expect(reports()).toHaveLength(1);
    expect(reports()[0]?.body).toMatch(/\| chat \| 7 \| \$254\.80 \| \$318\.15 \| ⚠️ \+24\.9% \|/);
    expect(gh.requests.map((r) => r.method)).toEqual(['GET', 'PATCH']);
    expect(second.reporter.allText()).not.toContain('ghs_secret');
  });

  it('says the tags are not activated as a warning, and leaves within-tolerance empty', async () => {
    ce.state = { items: steadyWeek(), activeTags: ['model-deploy:project', 'model-deploy:environment'] };
    const { ok, reporter } = await runReport({});
    expect(ok).toBe(true);
    expect(reporter.captured.annotations).toEqual([expect.objectContaining({ level: 'warning', title: 'Cost allocation tags not activated' })]);
    expect(reporter.captured.outputs['within-tolerance']).toBe('');
    expect(gh.requests).toEqual([]);
  });

  it('refuses issue: true without a repository before asking Cost Explorer anything', async () => {
    ce.state = { items: steadyWeek(), activeTags: TAGS };
    const reporter = memoryReporter();
    const ok = await runAction(costReport, { source: mapInputSource({ config: 'model-deploy.yml', environment: 'dev', issue: 'true', 'github-token': 'ghs_secret' }), reporter, env: { GITHUB_WORKSPACE: workspace }, setExitCode: false });
    expect(ok).toBe(false);
    expect(reporter.allText()).toMatch(/GITHUB_REPOSITORY is not set/);
    expect(ce.requests).toEqual([]);
  });

  it('rejects days outside 1-90 at the input', async () => {
    const { ok, reporter } = await runReport({ days: '120' });
    expect(ok).toBe(false);
    expect(reporter.allText()).toMatch(/days/);
    expect(ce.requests).toEqual([]);
  });
});

describe('deploy summary section', () => {
  const target = () => targetOf(parseSpec(SPEC, 'model-deploy.yml'), path.join(workspace, 'model-deploy.yml'), { deployment: 'chat', environment: 'dev' });

  it('shows the last days against the bill', async () => {
    ce.state = { items: steadyWeek(), activeTags: TAGS };
    const md = await deployBillSection(target(), 7, { reporter: memoryReporter(), env: new EnvInputs({}) });
    expect(md).toMatch(/\| chat \| 7 \| \$254\.80 \| \$254\.52 \| ✅ -0\.1% \|/);
  });

  it('is off at 0 days (no call), and never fails the deploy: a role without ce:GetCostAndUsage is one info line', async () => {
    const reporter = memoryReporter();
    const run = { reporter, env: new EnvInputs({}) };
    expect(await deployBillSection(target(), 0, run)).toBeUndefined();
    expect(ce.requests).toEqual([]);
    ce.state = { items: [], activeTags: TAGS, denyCostAndUsage: true };
    expect(await deployBillSection(target(), 7, run)).toBeUndefined();
    expect(reporter.captured.lines.join('\n')).toMatch(/Estimate vs bill skipped: .*ce:GetCostAndUsage/);
  });

  it('adds nothing while Cost Explorer has no data yet (a new deployment)', async () => {
    ce.state = { items: [], activeTags: TAGS };
    expect(await deployBillSection(target(), 7, { reporter: memoryReporter(), env: new EnvInputs({}) })).toBeUndefined();
  });
});

describe('the report issue', () => {
  it('opens one issue, then updates that one (found by its hidden marker), never a pull request that quotes it', async () => {
    const fake = fakeIssues();
    const server = await startLoopback(fake.handler);
    try {
      const marker = billIssueMarker('test', 'dev');
      const write = (body: string) => upsertReportIssue({ token: 'ghs_secret', apiUrl: server.url, owner: 'acme', repo: 'models', marker, title: 'Cost report: test (dev)', body, retryBaseMs: 1 });
      const first = await write('week 1');
      expect(first).toMatchObject({ action: 'created', number: 12 });
      const second = await write('week 2');
      expect(second).toMatchObject({ action: 'updated', number: 12 });
      const third = await write('week 2');
      expect(third).toMatchObject({ action: 'unchanged', number: 12 });
      expect(fake.issues.filter((i) => i.body.startsWith(marker) && !i.pull_request)).toHaveLength(1);
      expect(fake.issues.find((i) => i.number === 12)?.body).toBe(`${marker}\nweek 2`);
      expect(server.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual([
        'GET /repos/acme/models/issues',
        'POST /repos/acme/models/issues',
        'GET /repos/acme/models/issues',
        'PATCH /repos/acme/models/issues/12',
        'GET /repos/acme/models/issues',
      ]);
    } finally {
      await server.close();
    }
  });
});
