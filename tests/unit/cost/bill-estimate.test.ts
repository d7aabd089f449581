/**
 * The PR estimate checked against the bill (issue 24): estimate-cost with bill-days reads Cost Explorer
 * (the loopback one, tests/support/cost-explorer.ts) for the deployments the pull request touches, as
 * they run now (the base's definition), and the comment says "last 7 days: estimated $X, billed $Y"
 * under them. A fork, a job without credentials or a refused call says "not checked"; none fails the estimate.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EnvInputs } from '../../../src/core/env';
import { memoryReporter } from '../../../src/core/log';
import { CostRequest, estimateCost } from '../../../src/cost/flow';
import { useCostExplorer, type CostLineItem, type FakeCostExplorer } from '../../support/cost-explorer';
import { BILL, sagemaker } from './fixtures';
import { withEnv } from '../../support/env';

const { NOW, WEEK, TAGS, HOST } = BILL;

const fake = useCostExplorer();
let ce: FakeCostExplorer;
beforeEach(() => {
  ce = fake();
});

function item(day: string, deployment: string, usageType: string, cost: number, quantity: number, unit: string): CostLineItem {
  return { day, tags: { 'model-deploy:project': 'test', 'model-deploy:deployment': deployment }, usageType, cost: cost.toFixed(10), quantity: quantity.toFixed(10), quantityUnit: unit };
}

/** A steady day of `chat` on ml.g5.2xlarge (hand-priced: $1.515 an hour in us-east-1), its image and weights stored. */
const steadyWeek = (): CostLineItem[] =>
  WEEK.flatMap((day) => [item(day, 'chat', 'USE1-Host:ml.g5.2xlarge', 24 * HOST, 24, 'Hrs'), item(day, 'chat', 'USE1-TimedStorage-ByteHrs', (10 * 0.1 + 10 * 0.023) / 30.4167, 20 / 30.4167, 'GB-Mo')]);

// The base runs chat on ml.g5.2xlarge; the pull request moves it to ml.g5.4xlarge and adds `extra` (no bill yet).
const BASE = `version: 1\nproject: test\ndeployments:\n${sagemaker('chat', 'ml.g5.2xlarge')}`;
const HEAD = `version: 1\nproject: test\ndeployments:\n${sagemaker('chat', 'ml.g5.4xlarge')}${sagemaker('extra', 'ml.g5.xlarge')}`;

const samePr = { pull_request: { number: 7, head: { sha: 'a'.repeat(40), repo: { full_name: 'acme/models', fork: false } }, base: { sha: 'b'.repeat(40) } } };
const forkPr = { pull_request: { number: 8, head: { sha: 'a'.repeat(40), repo: { full_name: 'someone/models', fork: true } }, base: { sha: 'b'.repeat(40) } } };

async function run(event: object, more: Partial<CostRequest> = {}, deployment?: string, door = estimateCost) {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'bill-estimate-'));
  fs.writeFileSync(path.join(workspace, 'model-deploy.yml'), HEAD);
  fs.writeFileSync(path.join(workspace, 'base.yml'), BASE);
  const eventPath = path.join(workspace, 'event.json');
  fs.writeFileSync(eventPath, JSON.stringify(event));
  const reporter = memoryReporter();
  const request: CostRequest = { hoursPerMonth: 730, livePrices: false, mode: 'estimate', behavior: 'update', skipIfUnchanged: false, resultFile: 'cost.json', baseConfig: 'base.yml', billDays: 7, now: NOW, ...more };
  const result = await door({ workspace, config: 'model-deploy.yml', deployment }, request, { reporter, env: new EnvInputs({ GITHUB_REPOSITORY: 'acme/models', GITHUB_EVENT_PATH: eventPath }) });
  return { result, reporter, workspace };
}

/**
 * Runs `fn` with no AWS credential anywhere the SDK's default chain looks, and a fresh estimate door
 * (clients are cached per run with the credentials they resolved).
 */
async function withoutCredentials<T>(fn: (door: typeof estimateCost) => Promise<T>): Promise<T> {
  const cleared = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_ROLE_ARN', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI'];
  const set = { AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials', AWS_CONFIG_FILE: '/nonexistent/config', AWS_EC2_METADATA_DISABLED: 'true' };
  return withEnv({ ...Object.fromEntries(cleared.map((k) => [k, undefined])), ...set }, async () => {
    let result: T | undefined;
    // The whole run in the isolated registry: the bill's modules are loaded by the run itself, when asked for.
    await jest.isolateModulesAsync(async () => {
      const door = (jest.requireActual('../../../src/cost/flow') as { estimateCost: typeof estimateCost }).estimateCost;
      result = await fn(door);
    });
    return result as T;
  });
}

describe('estimate-cost bill-days: the deployments the pull request touches against the bill', () => {
  it('says "last 7 days: estimated $X, billed $Y (±N%)" under chat, priced as it runs now (the base), in one query', async () => {
    ce.state = { items: steadyWeek(), activeTags: TAGS };
    const { result } = await run(samePr);
    // $254.80: 7 days of ml.g5.2xlarge ($254.52) and the image and weights stored; the head's ml.g5.4xlarge is not what ran.
    expect(result.summary).toContain('**Checked against the bill**\n- chat: last 7 days: estimated $254.80, billed $254.80 (0.0%)\n');
    expect(result.summary).not.toMatch(/- extra: last/);
    expect(ce.queries()).toHaveLength(1);
    expect(ce.queries()[0]?.params.TimePeriod).toEqual({ Start: '2026-11-29', End: '2026-12-06' });
    expect(result.failure).toBeUndefined();
  });

  it('an estimate the bill is far from: the error and that it is outside ±10%', async () => {
    ce.state = { items: steadyWeek().map((i) => (i.usageType.includes('Host') ? { ...i, cost: (Number(i.cost) * 1.5).toFixed(10) } : i)), activeTags: TAGS };
    const { result } = await run(samePr);
    expect(result.summary).toMatch(/- chat: last 7 days: estimated \$254\.80, billed \$382\.06 \(\+49\.9%, outside ±10%\)\n/);
  });

  it('a pull request from a fork: not checked, no call to Cost Explorer, and the estimate stands', async () => {
    ce.state = { items: steadyWeek(), activeTags: TAGS };
    const { result } = await run(forkPr);
    expect(ce.requests).toHaveLength(0);
    expect(result.report.priceNotes).toContain('Estimate vs bill, last 7 days: not checked (a pull request from a fork holds no AWS identity).');
    expect(result.summary).not.toContain('Checked against the bill');
    expect(result.totals[0]?.totalMonthlyCost).toBeDefined();
  });

  it('a job without AWS credentials: not checked, never a failure', async () => {
    ce.state = { items: steadyWeek(), activeTags: TAGS };
    const { result, reporter } = await withoutCredentials((door) => run(samePr, {}, undefined, door));
    expect(ce.requests).toHaveLength(0);
    expect(result.report.priceNotes).toContain('Estimate vs bill, last 7 days: not checked (the job has no AWS credentials).');
    expect(result.failure).toBeUndefined();
    expect(reporter.allText()).toMatch(/not checked: .*credentials/i);
  });

  it('a role without ce:GetCostAndUsage: not checked, with the permission named', async () => {
    ce.state = { items: steadyWeek(), activeTags: TAGS, denyCostAndUsage: true };
    const { result } = await run(samePr);
    expect(result.report.priceNotes).toContain('Estimate vs bill, last 7 days: not checked (the role may not call ce:GetCostAndUsage).');
    expect(result.failure).toBeUndefined();
  });

  it('tags not activated: says what to activate instead of a figure', async () => {
    ce.state = { items: steadyWeek(), activeTags: ['model-deploy:project', 'model-deploy:environment'] };
    const { result } = await run(samePr);
    expect(result.report.priceNotes.join('\n')).toMatch(/^Estimate vs bill, last 7 days: nothing to compare\. .*not activated as a cost allocation tag/m);
  });

  it('off by default: no call to Cost Explorer and no bill section', async () => {
    ce.state = { items: steadyWeek(), activeTags: TAGS };
    const { result } = await run(samePr, { billDays: undefined });
    expect(ce.requests).toHaveLength(0);
    expect(result.summary).not.toContain('against the bill');
  });

  it('only new deployments touched: nothing to read', async () => {
    ce.state = { items: steadyWeek(), activeTags: TAGS };
    await run(samePr, {}, 'extra');
    expect(ce.requests).toHaveLength(0);
  });

  it('refuses bill-days outside 0 to 90, naming the input, before any call', async () => {
    await expect(run(samePr, { billDays: 91 })).rejects.toThrow(/input `bill-days` is 91, which is not valid/);
    expect(ce.requests).toHaveLength(0);
  });
});
