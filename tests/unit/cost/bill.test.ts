/**
 * The estimate against the bill: the real Cost Explorer client against a loopback Cost Explorer that
 * answers as the service does (tests/support/cost-explorer.ts), and the report issue against a
 * GitHub fake. Line items are hand-priced: ml.g5.2xlarge hosting in us-east-1 at $1.515 an hour.
 */
import { compareWithBill, billPartOf, billWindow, costExplorerRegion, type BillComparison } from '../../../src/cost/bill';
import { billCommentLines, billIssueMarker, billMarkdown, billedByDeployment } from '../../../src/cost/bill-render';
import { estimateDeployments } from '../../../src/cost/estimate';
import { renderReport } from '../../../src/cost/render';
import { buildReport } from '../../../src/cost/report';
import type { Spec } from '../../../src/config/types';
import { useCostExplorer, type CostLineItem, type FakeCostExplorer } from '../../support/cost-explorer';
import { BILL, sagemaker, specOf } from './fixtures';

const { NOW, WEEK, TAGS, HOST } = BILL;

const fake = useCostExplorer();
let ce: FakeCostExplorer;
beforeEach(() => {
  ce = fake();
});

const spec: Spec = specOf(
  sagemaker('chat', 'ml.g5.2xlarge') +
    `  batch:
    model: { huggingface: { id: org/model, revision: "0123456789abcdef0123456789abcdef01234567" }, sizeGb: 10 }
    engine: { name: vllm }
    target: sagemaker-async
    instanceType: ml.g5.xlarge
    regions: [us-east-1]
    autoscaling: { min: 0, max: 2 }
    usage: { imageSizeGb: 10, busyHoursPerMonth: 146, requestsPerMonth: 1000 }
`,
  'environments:\n  dev:\n    account: "111111111111"\n',
);

const tags = (deployment: string) => ({ 'model-deploy:project': 'test', 'model-deploy:deployment': deployment, 'model-deploy:environment': 'dev' });

function item(day: string, deployment: string, usageType: string, cost: number, quantity: number, unit: string): CostLineItem {
  return { day, tags: tags(deployment), usageType, cost: cost.toFixed(10), quantity: quantity.toFixed(10), quantityUnit: unit };
}

/** A steady day of `chat`: 24 hours of the endpoint, and its image (10 GB ECR) and weights (10 GB S3) stored. */
function steadyDay(day: string, deployment = 'chat'): CostLineItem[] {
  return [
    item(day, deployment, 'USE1-Host:ml.g5.2xlarge', 24 * HOST, 24, 'Hrs'),
    item(day, deployment, 'USE1-TimedStorage-ByteHrs', (10 * 0.1 + 10 * 0.023) / 30.4167, 20 / 30.4167, 'GB-Mo'),
  ];
}

const compare = (deployments = [spec.deployments.chat!], days = 7) =>
  compareWithBill({ spec, deployments, environmentName: 'dev', environment: spec.environments.dev }, { days, now: NOW });

describe('reading the bill', () => {
  it('asks Cost Explorer in us-east-1 for DAILY UnblendedCost by deployment tag and usage type, filtered on the project, environment and usage records', async () => {
    ce.state = { items: WEEK.flatMap((d) => steadyDay(d)), activeTags: TAGS };
    await compare();
    const [q] = ce.queries();
    expect(q?.headers['x-amz-target']).toBe('AWSInsightsIndexService.GetCostAndUsage');
    expect(q?.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(q?.headers.authorization).toMatch(/\/us-east-1\/ce\/aws4_request/);
    expect(q?.params).toEqual({
      TimePeriod: { Start: '2026-11-29', End: '2026-12-06' },
      Granularity: 'DAILY',
      Metrics: ['UnblendedCost', 'UsageQuantity'],
      Filter: {
        And: [
          { Tags: { Key: 'model-deploy:project', Values: ['test'], MatchOptions: ['EQUALS'] } },
          { Tags: { Key: 'model-deploy:environment', Values: ['dev'], MatchOptions: ['EQUALS'] } },
          { Dimensions: { Key: 'RECORD_TYPE', Values: ['Usage', 'SavingsPlanCoveredUsage'] } },
        ],
      },
      GroupBy: [
        { Type: 'TAG', Key: 'model-deploy:deployment' },
        { Type: 'DIMENSION', Key: 'USAGE_TYPE' },
      ],
    });
  });

  it('follows NextPageToken to the last page, a day split across pages counted once', async () => {
    ce.state = { items: WEEK.flatMap((d) => [...steadyDay(d), ...steadyDay(d, 'batch')]), activeTags: TAGS, pageSize: 3 };
    const c = await compare([spec.deployments.chat!, spec.deployments.batch!]);
    const queries = ce.queries();
    expect(queries.length).toBe(Math.ceil((7 * 4) / 3));
    expect(queries.slice(1).map((q) => q.params.NextPageToken)).toEqual(queries.slice(1).map((_, i) => String((i + 1) * 3)));
    const chat = c.deployments.find((d) => d.deployment === 'chat')!;
    expect(chat.days).toEqual(WEEK);
    expect(chat.billed).toBeCloseTo(7 * (24 * HOST + 0.0404), 2);
  });

  it('says the tags are not activated when every cost comes back under an empty "model-deploy:deployment$" value', async () => {
    ce.state = { items: WEEK.flatMap((d) => steadyDay(d)), activeTags: ['model-deploy:project', 'model-deploy:environment'] };
    const c = await compare();
    expect(c.notice?.state).toBe('tags-inactive');
    expect(c.notice?.message).toMatch(/none carries a model-deploy:deployment value: the tag is not activated as a cost allocation tag/);
    expect(c.notice?.message).toMatch(/update-cost-allocation-tags-status/);
    expect(billMarkdown(c)).toContain('not activated');
  });

  it('asks ListCostAllocationTags when nothing matches, and names the inactive tag', async () => {
    ce.state = { items: WEEK.flatMap((d) => steadyDay(d)), activeTags: ['model-deploy:deployment'], seenTags: TAGS };
    const c = await compare();
    expect(ce.calls()).toEqual(['GetCostAndUsage', 'ListCostAllocationTags']);
    expect(ce.requests[1]?.params).toEqual({ TagKeys: TAGS, Type: 'UserDefined' });
    expect(c.notice).toMatchObject({ state: 'tags-inactive' });
    expect(c.notice?.message).toMatch(/cost allocation tags model-deploy:project, model-deploy:environment are not active/);
  });

  it('says there is no data yet when the tags are active and Cost Explorer has nothing (it lags about a day)', async () => {
    ce.state = { items: [], activeTags: TAGS };
    const c = await compare();
    expect(c.notice).toMatchObject({ state: 'no-data' });
    expect(c.notice?.message).toMatch(/about 24 hours after it happens/);
    expect(c.notice?.message).not.toMatch(/ListCostAllocationTags/);
  });

  it('cannot tell inactive tags from no data without ce:ListCostAllocationTags, and says both', async () => {
    ce.state = { items: [], activeTags: TAGS, denyListTags: true };
    const c = await compare();
    expect(c.notice).toMatchObject({ state: 'no-data' });
    expect(c.notice?.message).toMatch(/may not call ce:ListCostAllocationTags/);
  });

  it('turns DataUnavailableException into "no data yet"', async () => {
    ce.state = { items: [], activeTags: TAGS, dataUnavailable: true };
    const c = await compare();
    expect(c.notice?.state).toBe('no-data');
    expect(c.notice?.message).toMatch(/DataUnavailableException/);
  });

  it('reads China from cn-northwest-1, refuses GovCloud with a reason', () => {
    expect(costExplorerRegion('cn-north-1')).toBe('cn-northwest-1');
    expect(costExplorerRegion('eu-west-1')).toBe('us-east-1');
    expect(() => costExplorerRegion('us-gov-west-1')).toThrow(/commercial account/);
  });

  it('refuses a window of 0 or more than 90 days before calling anything', async () => {
    await expect(compare(undefined, 0)).rejects.toThrow(/from 1 to 90/);
    await expect(compare(undefined, 91)).rejects.toThrow(/from 1 to 90/);
    expect(ce.requests).toEqual([]);
  });
});

describe('estimate against the bill', () => {
  it('a steady endpoint: within ±10 %, on the full week', async () => {
    ce.state = { items: WEEK.flatMap((d) => steadyDay(d)), activeTags: TAGS, estimatedFrom: '2026-12-05' };
    const c = await compare();
    const chat = c.deployments[0]!;
    expect(chat.days).toHaveLength(7);
    expect(chat.estimated.low).toBeCloseTo((7 * 24 * HOST + (7 * 24 * (10 * 0.1 + 10 * 0.023)) / 730), 1);
    expect(Math.abs(chat.errorPercent!)).toBeLessThanOrEqual(10);
    expect(chat.withinTolerance).toBe(true);
    expect(chat.explanations).toEqual([]);
    expect(chat.provisional).toBe(true);
    expect(billCommentLines(c, 'chat')).toEqual([expect.stringMatching(/^last 7 days: estimated \$254\.\d\d, billed \$254\.\d\d \([+-]?\d\.\d%\), not final yet$/)]);
  });

  it('a 30 % gap explained by data transfer, with the usage type it came from', async () => {
    const day = 24 * HOST;
    ce.state = { items: WEEK.flatMap((d) => [...steadyDay(d), item(d, 'chat', 'USE1-DataTransfer-Out-Bytes', 0.3 * day, (0.3 * day) / 0.09, 'GB')]), activeTags: TAGS };
    const c = await compare();
    const chat = c.deployments[0]!;
    expect(chat.errorPercent).toBeGreaterThan(29);
    expect(chat.errorPercent).toBeLessThan(31);
    expect(chat.withinTolerance).toBe(false);
    expect(chat.explanations).toHaveLength(1);
    expect(chat.explanations[0]).toMatch(/^Data transfer: \$76\.\d\d billed \(USE1-DataTransfer-Out-Bytes\); data transfer is not in the estimate/);
    const md = billMarkdown(c);
    expect(md).toContain('| Data transfer | `USE1-DataTransfer-Out-Bytes` | not estimated | $76.');
    expect(md).toContain('⚠️ +30.');
    expect(billCommentLines(c, 'chat')[0]).toMatch(/outside ±10%/);
  });

  it('an idle async endpoint: billed around the clock, priced for its busy hours', async () => {
    const g5 = 1.408; // ml.g5.xlarge async in us-east-1, hand-priced
    ce.state = { items: WEEK.map((d) => item(d, 'batch', 'USE1-AsyncInf:ml.g5.xlarge', 24 * g5, 24, 'Hrs')), activeTags: TAGS };
    const c = await compare([spec.deployments.batch!]);
    const batch = c.deployments[0]!;
    expect(batch.withinTolerance).toBe(false);
    const compute = batch.parts.find((p) => p.id === 'compute')!;
    expect(compute.hours?.billed).toBe(168);
    expect(batch.explanations[0]).toMatch(/^Instances: .*168 instance-hours billed against 33\.6 – 67\.2 assumed; the async endpoint stayed up while idle longer than usage\.busyHoursPerMonth assumes \(146 h a month is 4\.8 h a day\)/);
  });

  it('compares only the full days: the day it was created and the day it was deleted are partial', async () => {
    const ran = WEEK.slice(2, 6);
    ce.state = {
      items: [...ran.flatMap((d) => steadyDay(d)), item(WEEK[1]!, 'chat', 'USE1-Host:ml.g5.2xlarge', 5 * HOST, 5, 'Hrs'), item(WEEK[6]!, 'chat', 'USE1-Host:ml.g5.2xlarge', 3 * HOST, 3, 'Hrs')],
      activeTags: TAGS,
    };
    const c = await compare();
    expect(c.deployments[0]!.days).toEqual(['2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04']);
    expect(billCommentLines(c, 'chat')[0]).toMatch(/^4 of the last 7 days: /);
  });

  it('a deployment that has not run a full day yet has no figure, and says why', async () => {
    ce.state = { items: [item(WEEK[6]!, 'chat', 'USE1-Host:ml.g5.2xlarge', 2 * HOST, 2, 'Hrs'), ...WEEK.flatMap((d) => steadyDay(d, 'batch'))], activeTags: TAGS };
    // batch's steady days keep the bill non-empty; chat started yesterday afternoon.
    const c = await compare([spec.deployments.chat!]);
    const chat = c.deployments[0]!;
    expect(chat.days).toEqual([]);
    expect(chat.errorPercent).toBeUndefined();
    expect(chat.note).toMatch(/no full day of chat running in 2026-11-29 to 2026-12-06 yet/);
    expect(billCommentLines(c, 'chat')).toEqual([]);
    expect(billMarkdown(c)).toContain('| chat | 0 | – | – | no full day of chat');
  });

  it('maps usage types to the parts of the estimate', () => {
    expect(billPartOf('USE1-Host:ml.g5.2xlarge').id).toBe('compute');
    expect(billPartOf('BoxUsage:g5.2xlarge').id).toBe('compute');
    expect(billPartOf('USE1-Fargate-vCPU-Hours:perCPU').id).toBe('compute');
    expect(billPartOf('USE1-Fargate-EphemeralStorage-GB-Hours').id).toBe('volumes');
    expect(billPartOf('EBS:VolumeUsage.gp3').id).toBe('volumes');
    expect(billPartOf('USE1-LoadBalancerUsage').id).toBe('load-balancer');
    expect(billPartOf('USE1-NatGateway-Bytes').id).toBe('nat-data');
    expect(billPartOf('USE1-USW2-AWS-Out-Bytes').id).toBe('data-transfer');
    expect(billPartOf('USE1-AWSSecretsManager-Secrets').id).toBe('requests');
    expect(billPartOf('USE1-Build-Min:Linux:g1.small').id).toBe('builds');
    expect(billPartOf('Something-New').id).toBe('other');
  });

  it('the window is the last N full UTC days', () => {
    expect(billWindow(new Date('2026-12-06T00:00:01Z'), 7)).toEqual({ start: '2026-11-29', end: '2026-12-06', days: 7 });
  });
});

describe('the report issue', () => {
  it('the marker is a valid HTML comment whatever the project is called', () => {
    expect(billIssueMarker('a--b', 'dev')).toBe('<!-- model-deploy:cost-report project=a-b environment=dev -->');
  });

  it('the markdown section reads as a table with the breakdown under each deployment', async () => {
    ce.state = { items: WEEK.flatMap((d) => steadyDay(d)), activeTags: TAGS };
    const c: BillComparison = await compare();
    const md = billMarkdown(c);
    expect(md).toMatch(/^### Estimate vs bill, last 7 days \(2026-11-29 to 2026-12-06, end excluded\)/);
    expect(md).toMatch(/\| chat \| 7 \| \$254\.\d\d \| \$254\.\d\d \| ✅ [+-]?\d\.\d% \|/);
    expect(md).toContain('| Instances | `USE1-Host:ml.g5.2xlarge` | $254.52 | $254.52 |');
  });
});

describe('the PR comment', () => {
  it('shows "last 7 days: estimated $X, billed $Y" under the deployments the comment touches, and only those', async () => {
    ce.state = { items: WEEK.flatMap((d) => [...steadyDay(d), ...steadyDay(d, 'batch')]), activeTags: TAGS };
    const c = await compare([spec.deployments.chat!, spec.deployments.batch!]);
    const billed = billedByDeployment(c);
    expect(Object.keys(billed).sort()).toEqual(['batch', 'chat']);
    const report = buildReport({ project: 'test', head: estimateDeployments([spec.deployments.chat!]), prices: [] });
    const body = renderReport(report, { billed });
    expect(body).toContain('**Checked against the bill**\n- chat: last 7 days: estimated $254.80, billed $254.80 (0.0%)\n');
    expect(body).not.toMatch(/- batch:/);
    expect(renderReport(report)).not.toContain('Checked against the bill');
  });
});
