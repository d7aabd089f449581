/**
 * The estimate checked against the bill: what Cost Explorer says a deployment was charged over the last
 * N full days, next to what the estimate says those days cost, and where a gap larger than the
 * tolerance comes from (each usage type mapped to the part of the estimate that prices it).
 *
 * One GetCostAndUsage query (paged) for every deployment: DAILY, filtered on the project's ownership
 * tags, grouped by the deployment tag and USAGE_TYPE. The metric is UnblendedCost of the records of
 * type Usage and SavingsPlanCoveredUsage: the usage at the on-demand rate, which is what the estimate
 * prices. AmortizedCost would spread upfront Savings Plan and reservation fees over the usage (a
 * purchasing decision, not an estimate error), and credits, refunds, tax and Savings Plan negation
 * lines are not the deployment's usage; docs/bill.md says so.
 */
import { CostExplorerClient, GetCostAndUsageCommand, ListCostAllocationTagsCommand, type Expression, type GetCostAndUsageCommandInput, type ResultByTime } from '@aws-sdk/client-cost-explorer';
import { awsClient, partitionOf, type Credentials } from '../core/aws';
import { DeployError, errorName, explainAwsError } from '../core/errors';
import { DEPLOYMENT_TAG, ownershipMarks } from '../config/names';
import { regionsFor } from '../config/regions';
import type { Deployment, EnvironmentSpec, Spec } from '../config/types';
import type { Currency } from '../prices/currency';
import { DEFAULT_HOURS_PER_MONTH, estimateDeployment, type CostComponent, type DeploymentEstimate } from './estimate';
import { formatMoney, roundTo, type Range } from './money';

/** The estimate is on target when the bill is within this share of it (the issue's goal for a steady endpoint). */
export const BILL_TOLERANCE_PERCENT = 10;
export const DEFAULT_BILL_DAYS = 7;
export const MAX_BILL_DAYS = 90;
export const BILL_METRIC = 'UnblendedCost';
/** The record types that are usage at the on-demand rate (see the file comment). */
export const BILL_RECORD_TYPES = ['Usage', 'SavingsPlanCoveredUsage'];
/** Every page of GetCostAndUsage is billed ($0.01): a runaway token loop stops here. */
const MAX_PAGES = 50;

/**
 * Cost Explorer has one endpoint per partition: us-east-1, and cn-northwest-1 for China. GovCloud
 * accounts are billed through their commercial account, where Cost Explorer sees them.
 */
export function costExplorerRegion(region: string): string {
  const partition = partitionOf(region);
  if (partition === 'aws-cn') return 'cn-northwest-1';
  if (partition === 'aws-us-gov') {
    throw new DeployError(`Cost Explorer does not answer in ${region}: a GovCloud account's costs are read in its associated commercial account`, {
      title: 'No Cost Explorer in GovCloud',
      hint: 'Run the bill comparison with credentials of the standard account the GovCloud account is linked to.',
    });
  }
  return 'us-east-1';
}

/**
 * A part of the bill: the usage types (region prefix dropped) it covers, and the estimate's component
 * kinds that price them. A part no component prices carries the reason the estimate leaves it out.
 * Order matters: the first pattern that matches a usage type takes it.
 */
interface BillPart {
  id: string;
  label: string;
  pattern: RegExp;
  kinds: readonly string[];
  unestimated?: string;
}

const BILL_PARTS: readonly BillPart[] = [
  { id: 'nat-data', label: 'NAT gateway data', pattern: /^NatGateway-Bytes/, kinds: ['nat-data'] },
  { id: 'nat-hours', label: 'NAT gateway hours', pattern: /^NatGateway-Hours/, kinds: [], unestimated: "the NAT gateway belongs to the VPC, not to the stack: the estimate counts only the traffic sent through it" },
  { id: 'builds', label: 'Image builds', pattern: /Build-Min/, kinds: [], unestimated: 'a build ran in the window: a one-time cost, not part of the monthly estimate' },
  { id: 'logs', label: 'CloudWatch Logs', pattern: /^(DataProcessing-Bytes|VendedLog|Logs-)/, kinds: [], unestimated: 'log ingestion is not in the estimate (it grows with the request log volume)' },
  { id: 'data-transfer', label: 'Data transfer', pattern: /DataTransfer|(In|Out)-Bytes|Bytes-(In|Out)|Data-Bytes/, kinds: [], unestimated: 'data transfer is not in the estimate: traffic to the internet and across regions or zones is billed per GB' },
  { id: 'snapshots', label: 'EBS snapshots', pattern: /SnapshotUsage/, kinds: [], unestimated: 'snapshots are not created by the stack and are not in the estimate' },
  { id: 'volumes', label: 'Volumes', pattern: /VolumeUsage|EphemeralStorage|ML-?Storage/i, kinds: ['ml-storage', 'root-volume', 'fargate-storage'] },
  { id: 'compute', label: 'Instances', pattern: /^(Host|AsyncInf|BoxUsage|SpotUsage|DedicatedUsage|HeavyUsage)(:|$)|Fargate-(vCPU|GB)-Hours/, kinds: ['instance', 'fargate-vcpu', 'fargate-memory'] },
  { id: 'load-balancer', label: 'Load balancer', pattern: /LoadBalancerUsage|LCUUsage/, kinds: ['alb-hours', 'alb-lcu'] },
  { id: 'storage', label: 'Image and weights storage (ECR, S3)', pattern: /TimedStorage|StorageUsage/, kinds: ['ecr-storage', 's3-storage'] },
  { id: 'requests', label: 'Secret, key, notifications and requests', pattern: /Secret|KMS|Requests|Notification|SNS/i, kinds: ['secret', 'secret-calls', 'kms-key', 'sns-requests'] },
  { id: 'other', label: 'Other', pattern: /./, kinds: [], unestimated: 'no part of the estimate prices these usage types' },
];

/** "USE1-Host:ml.g5.xlarge" → "Host:ml.g5.xlarge"; us-east-1's EC2 types have no prefix ("BoxUsage:g5.xlarge"). */
function withoutRegionPrefix(usageType: string): string {
  return usageType.replace(/^[A-Z]{2,4}\d?-(?=[A-Za-z])/, '');
}

/** The part of the bill a usage type belongs to. */
export function billPartOf(usageType: string): BillPart {
  const bare = withoutRegionPrefix(usageType);
  return BILL_PARTS.find((p) => p.pattern.test(bare)) ?? (BILL_PARTS[BILL_PARTS.length - 1] as BillPart);
}

/** One group of one day: a deployment's cost for one usage type. */
export interface BilledLine {
  day: string;
  deployment: string;
  usageType: string;
  amount: number;
  currency: string;
  quantity: number;
  quantityUnit: string;
  /** Cost Explorer has not finalised the day (it still changes). */
  estimated: boolean;
}

export interface BillWindow {
  /** First day (inclusive) and the day after the last (exclusive), YYYY-MM-DD in UTC. */
  start: string;
  end: string;
  days: number;
}

/** The last `days` full days before `now` (UTC): Cost Explorer's day ends at midnight UTC. */
export function billWindow(now: Date, days: number): BillWindow {
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const start = new Date(end.getTime() - days * 86400000);
  return { start: isoDay(start), end: isoDay(end), days };
}

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export interface BillQuery {
  /** Any deployment of the project: its ownership tags (but the deployment's own) filter the query. */
  deployment: Deployment;
  environment?: string;
  window: BillWindow;
  /** Where the deployment runs: picks Cost Explorer's partition endpoint. */
  region: string;
  credentials?: Credentials;
}

export type BillReading =
  | { state: 'billed'; lines: BilledLine[] }
  /** Every group came back with an empty deployment tag value ("model-deploy:deployment$"). */
  | { state: 'tags-inactive'; message: string }
  | { state: 'no-data'; message: string };

const TAGS_HINT =
  'Activate the user-defined cost allocation tags model-deploy:project, model-deploy:deployment and model-deploy:environment in the payer account (Billing and Cost Management → Cost allocation tags, or `aws ce update-cost-allocation-tags-status`). AWS lists a tag there up to 24 hours after it first tags a resource, and costs carry it only from activation on.';

/** The GetCostAndUsage request: one query for every deployment of the project (and environment). */
export function billRequest(q: BillQuery): GetCostAndUsageCommandInput {
  const marks = Object.entries(ownershipMarks(q.deployment, q.environment)).filter(([key]) => key !== DEPLOYMENT_TAG);
  const filters: Expression[] = [
    ...marks.map(([Key, value]): Expression => ({ Tags: { Key, Values: [value], MatchOptions: ['EQUALS'] } })),
    { Dimensions: { Key: 'RECORD_TYPE', Values: BILL_RECORD_TYPES } },
  ];
  return {
    TimePeriod: { Start: q.window.start, End: q.window.end },
    Granularity: 'DAILY',
    Metrics: [BILL_METRIC, 'UsageQuantity'],
    Filter: { And: filters },
    GroupBy: [
      { Type: 'TAG', Key: DEPLOYMENT_TAG },
      { Type: 'DIMENSION', Key: 'USAGE_TYPE' },
    ],
  };
}

/** "model-deploy:deployment$qwen-chat" → "qwen-chat"; an untagged cost comes back as "model-deploy:deployment$". */
function tagValue(key: string | undefined): string {
  const at = key?.indexOf('$') ?? -1;
  return key && at >= 0 ? key.slice(at + 1) : '';
}

function linesOf(results: ResultByTime[]): { lines: BilledLine[]; untagged: number } {
  const lines: BilledLine[] = [];
  let untagged = 0;
  for (const r of results) {
    for (const g of r.Groups ?? []) {
      const [tag, usageType = ''] = g.Keys ?? [];
      const cost = g.Metrics?.[BILL_METRIC];
      const amount = Number(cost?.Amount ?? 0);
      const deployment = tagValue(tag);
      if (!deployment) {
        untagged += amount;
        continue;
      }
      lines.push({
        day: r.TimePeriod?.Start ?? '',
        deployment,
        usageType,
        amount,
        currency: cost?.Unit ?? 'USD',
        quantity: Number(g.Metrics?.UsageQuantity?.Amount ?? 0),
        quantityUnit: g.Metrics?.UsageQuantity?.Unit ?? '',
        estimated: r.Estimated === true,
      });
    }
  }
  return { lines, untagged };
}

/** The tag keys Cost Explorer does not allocate costs by: inactive, or never seen. Undefined when it cannot be asked. */
async function inactiveTags(client: CostExplorerClient, keys: string[]): Promise<string[] | undefined> {
  try {
    const res = await client.send(new ListCostAllocationTagsCommand({ TagKeys: keys, Type: 'UserDefined' }));
    const active = new Set((res.CostAllocationTags ?? []).filter((t) => t.Status === 'Active').map((t) => t.TagKey));
    return keys.filter((k) => !active.has(k));
  } catch (err) {
    if (/AccessDenied/.test(errorName(err))) return undefined;
    throw explainAwsError(err, 'Listing the cost allocation tags (ListCostAllocationTags)');
  }
}

/** Reads the project's daily costs by deployment and usage type, every page. */
export async function readBill(q: BillQuery): Promise<BillReading> {
  const client = awsClient(CostExplorerClient, { region: costExplorerRegion(q.region), credentials: q.credentials });
  const request = billRequest(q);
  const results: ResultByTime[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const res = await client.send(new GetCostAndUsageCommand({ ...request, NextPageToken: token })).catch((err: unknown) => {
      if (errorName(err) === 'DataUnavailableException') return undefined;
      throw explainAwsError(err, 'Reading the bill from Cost Explorer (GetCostAndUsage)');
    });
    if (!res) return { state: 'no-data', message: `Cost Explorer has no data for ${q.window.start} to ${q.window.end} yet (DataUnavailableException): it is enabled for the account but has not processed these days.` };
    results.push(...(res.ResultsByTime ?? []));
    token = res.NextPageToken || undefined;
    if (++pages >= MAX_PAGES && token) throw new DeployError(`Cost Explorer answered ${MAX_PAGES} pages for ${q.window.days} days and still had more`, { title: 'Bill too large to read', hint: 'Ask for fewer days.' });
  } while (token);
  const { lines, untagged } = linesOf(results);
  if (lines.length > 0) return { state: 'billed', lines };
  const scope = `project ${q.deployment.project}${q.environment ? `, environment ${q.environment}` : ''}`;
  if (untagged > 0) {
    return { state: 'tags-inactive', message: `Cost Explorer has costs for ${scope} but none carries a ${DEPLOYMENT_TAG} value: the tag is not activated as a cost allocation tag. ${TAGS_HINT}` };
  }
  const keys = Object.keys(ownershipMarks(q.deployment, q.environment));
  const inactive = await inactiveTags(client, keys);
  if (inactive && inactive.length > 0) {
    return { state: 'tags-inactive', message: `Cost Explorer allocates no cost to ${scope}: the cost allocation tag${inactive.length > 1 ? 's' : ''} ${inactive.join(', ')} ${inactive.length > 1 ? 'are' : 'is'} not active. ${TAGS_HINT}` };
  }
  return {
    state: 'no-data',
    message:
      `Cost Explorer has no cost for ${scope} from ${q.window.start} to ${q.window.end} yet: it shows usage about 24 hours after it happens, so a deployment less than a day old has no bill to compare.` +
      (inactive === undefined ? ` (The role may not call ce:ListCostAllocationTags, so whether the tags are active was not checked. ${TAGS_HINT})` : ''),
  };
}

/** One part of the comparison: what the estimate says and what was billed over the compared days. */
export interface BillPartComparison {
  id: string;
  label: string;
  estimated: Range | null;
  billed: number;
  /** The usage types billed under it, largest first. */
  usageTypes: { usageType: string; amount: number; quantity: number; unit: string }[];
  /** Components of the estimate without a price in this part. */
  unpriced: string[];
  /** Instance-hours (or vCPU-hours) the estimate assumed and the bill counted, for the compute part. */
  hours?: { estimated: Range; billed: number };
}

export interface DeploymentBill {
  deployment: string;
  currency: Currency;
  /** The days compared: full days the deployment ran (the first and last day of a run can be partial). */
  days: string[];
  /** Some compared day is not final in Cost Explorer yet. */
  provisional: boolean;
  estimated: Range;
  billed: number;
  /** Billed against the estimate, in %: 0 inside an autoscaling range; undefined with nothing estimated. */
  errorPercent: number | undefined;
  withinTolerance: boolean;
  parts: BillPartComparison[];
  /** Why the bill differs from the estimate, largest gap first (empty within the tolerance). */
  explanations: string[];
  /** Why no figure is given (no day ran in full, no estimate for the currency). */
  note?: string;
}

export interface BillComparison {
  window: BillWindow;
  metric: string;
  /** Set when nothing could be compared: the tags are not activated or there is no data yet. */
  notice?: { state: 'tags-inactive' | 'no-data'; message: string };
  deployments: DeploymentBill[];
}

const scale = (r: Range, f: number): Range => ({ low: r.low * f, high: r.high * f });
const sumRanges = (rs: Range[]): Range => rs.reduce((a, b) => ({ low: a.low + b.low, high: a.high + b.high }), { low: 0, high: 0 });

/** How far `billed` is outside `range`, signed (0 inside it). */
function gapTo(range: Range, billed: number): number {
  if (billed < range.low) return billed - range.low;
  if (billed > range.high) return billed - range.high;
  return 0;
}

/** The error in % of the nearest end of the estimated range; undefined when nothing was estimated. */
export function billError(estimated: Range, billed: number): number | undefined {
  const gap = gapTo(estimated, billed);
  const base = gap < 0 ? estimated.low : estimated.high;
  if (roundTo(base, 2) === 0) return undefined;
  return roundTo((gap / base) * 100, 1);
}

/** Instance-hours of a compute usage type ("Host:", "AsyncInf:", "BoxUsage:" in Hrs). */
function instanceHoursOf(l: BilledLine): number {
  return /Hrs|Hours/i.test(l.quantityUnit) && /^(Host|AsyncInf|BoxUsage|SpotUsage)/.test(withoutRegionPrefix(l.usageType)) ? l.quantity : 0;
}

/**
 * The days a deployment ran in full: compute was billed that day and the days either side (the day
 * it was created or deleted is partial). A day at the window's edge has no neighbour to ask: it counts
 * when its instance-hours reach half of what the estimate runs a day.
 */
function fullDays(lines: BilledLine[], window: BillWindow, dailyHours: number | undefined): string[] {
  const compute = lines.filter((l) => billPartOf(l.usageType).id === 'compute' && l.amount > 0);
  const running = new Set((compute.length > 0 ? compute : lines.filter((l) => l.amount > 0)).map((l) => l.day));
  const shift = (day: string, n: number) => isoDay(new Date(Date.parse(`${day}T00:00:00Z`) + n * 86400000));
  const lastDay = shift(window.end, -1);
  const hours = (day: string) => compute.filter((l) => l.day === day).reduce((s, l) => s + instanceHoursOf(l), 0);
  const fullAtEdge = (day: string) => !dailyHours || hours(day) >= dailyHours / 2;
  return [...running]
    .sort()
    .filter((d) => (d === window.start ? fullAtEdge(d) : running.has(shift(d, -1))) && (d === lastDay ? fullAtEdge(d) : running.has(shift(d, 1))));
}

function componentsOf(estimate: DeploymentEstimate): CostComponent[] {
  return estimate.resources.flatMap((r) => r.components);
}

function explain(part: BillPartComparison, gap: number, d: Deployment, currency: Currency, hoursPerMonth: number): string {
  const format = formatMoney;
  const types = part.usageTypes.slice(0, 3).map((u) => u.usageType).join(', ');
  const billed = `${format(part.billed, currency)} billed`;
  const def = BILL_PARTS.find((p) => p.id === part.id);
  if (def?.unestimated) return `${part.label}: ${billed} (${types}); ${def.unestimated}.`;
  if (part.unpriced.length > 0 && (part.estimated === null || part.estimated.high === 0)) return `${part.label}: ${billed} (${types}); unpriced in the estimate (${part.unpriced.join('; ')}).`;
  const est = part.estimated ? format(part.estimated.low, currency) + (part.estimated.high !== part.estimated.low ? ` – ${format(part.estimated.high, currency)}` : '') : 'nothing';
  if (part.hours) {
    const h = part.hours;
    const assumed = h.estimated.low === h.estimated.high ? `${roundTo(h.estimated.low, 1)}` : `${roundTo(h.estimated.low, 1)} – ${roundTo(h.estimated.high, 1)}`;
    const why =
      gap > 0 && d.target === 'sagemaker-async' && d.autoscaling?.min === 0
        ? `the async endpoint stayed up while idle longer than usage.busyHoursPerMonth assumes (${d.usage.busyHoursPerMonth ?? '?'} h a month is ${roundTo(((d.usage.busyHoursPerMonth ?? 0) * 24) / hoursPerMonth, 1)} h a day)`
        : gap > 0
          ? 'more instances ran than the spec says (a scale-out, a replacement, or a second copy)'
          : 'fewer instance-hours ran than the spec says (stopped, scaled in, or failing health checks)';
    return `${part.label}: ${billed}, estimated ${est}: ${roundTo(h.billed, 1)} instance-hours billed against ${assumed} assumed; ${why}.`;
  }
  return `${part.label}: ${billed}, estimated ${est} (${types}): the usage differs from the spec's usage figures.`;
}

export interface CompareOptions {
  /** hours per month of the estimate (730). */
  hoursPerMonth?: number;
}

/** Compares one deployment's estimate (the part in the bill's currency) with its billed lines. */
export function compareDeployment(d: Deployment, estimates: DeploymentEstimate[], lines: BilledLine[], window: BillWindow, o: CompareOptions): DeploymentBill {
  const hoursPerMonth = o.hoursPerMonth ?? DEFAULT_HOURS_PER_MONTH;
  const currency = (lines[0]?.currency ?? estimates[0]?.currency ?? 'USD') as Currency;
  const estimate = estimates.find((e) => e.currency === currency);
  const instance = estimate && componentsOf(estimate).find((c) => c.kind === 'instance' && c.quantity);
  const days = fullDays(lines, window, instance?.quantity ? (instance.quantity.low * 24) / hoursPerMonth : undefined);
  const compared = lines.filter((l) => days.includes(l.day));
  const dayShare = (days.length * 24) / hoursPerMonth;
  const components = estimate ? componentsOf(estimate) : [];
  const parts: BillPartComparison[] = BILL_PARTS.map((p) => {
    const own = compared.filter((l) => billPartOf(l.usageType).id === p.id);
    const byType = new Map<string, BillPartComparison['usageTypes'][number]>();
    for (const l of own) {
      const t = byType.get(l.usageType) ?? { usageType: l.usageType, amount: 0, quantity: 0, unit: l.quantityUnit };
      t.amount += l.amount;
      t.quantity += l.quantity;
      byType.set(l.usageType, t);
    }
    const mine = components.filter((c) => p.kinds.includes(c.kind));
    const priced = mine.filter((c) => c.monthlyCost);
    const part: BillPartComparison = {
      id: p.id,
      label: p.label,
      estimated: priced.length > 0 ? scale(sumRanges(priced.map((c) => c.monthlyCost as Range)), dayShare) : null,
      billed: own.reduce((s, l) => s + l.amount, 0),
      usageTypes: [...byType.values()].sort((a, b) => b.amount - a.amount),
      unpriced: mine.filter((c) => !c.monthlyCost).map((c) => c.name),
    };
    if (p.id === 'compute' && instance?.quantity) part.hours = { estimated: scale(instance.quantity, dayShare), billed: own.reduce((s, l) => s + instanceHoursOf(l), 0) };
    return part;
  }).filter((p) => p.billed !== 0 || (p.estimated && p.estimated.high !== 0));
  const estimated = sumRanges(parts.map((p) => p.estimated ?? { low: 0, high: 0 }));
  const billed = compared.reduce((s, l) => s + l.amount, 0);
  const errorPercent = days.length > 0 ? billError(estimated, billed) : undefined;
  const withinTolerance = errorPercent !== undefined && Math.abs(errorPercent) <= BILL_TOLERANCE_PERCENT;
  const note =
    days.length === 0
      ? `no full day of ${d.name} running in ${window.start} to ${window.end} yet (the first and last day of a run are partial and not compared)`
      : !estimate
        ? `billed in ${currency}, which the estimate has no part in`
        : undefined;
  // A part is named when it carries at least 5 % of the whole gap (parts can offset each other).
  const floor = Math.max(0.005, Math.abs(gapTo(estimated, billed)) * 0.05);
  const explanations =
    withinTolerance || days.length === 0
      ? []
      : parts
          .map((p) => ({ p, gap: gapTo(p.estimated ?? { low: 0, high: 0 }, p.billed) }))
          .filter(({ gap }) => Math.abs(gap) >= floor)
          .sort((a, b) => Math.abs(b.gap) - Math.abs(a.gap))
          .map(({ p, gap }) => explain(p, gap, d, currency, hoursPerMonth));
  return {
    deployment: d.name,
    currency,
    days,
    provisional: compared.some((l) => l.estimated),
    estimated,
    billed,
    errorPercent,
    withinTolerance,
    parts,
    explanations,
    note,
  };
}

export interface BillTarget {
  spec: Spec;
  /** The deployments to compare (default: every deployment of the spec). */
  deployments: Deployment[];
  environmentName?: string;
  environment?: EnvironmentSpec;
}

export interface BillRequest {
  days: number;
  now: Date;
  hoursPerMonth?: number;
  credentials?: Credentials;
}

/** The door: every deployment of the target, its estimate against Cost Explorer's last `days` full days. */
export async function compareWithBill(target: BillTarget, request: BillRequest): Promise<BillComparison> {
  if (!Number.isInteger(request.days) || request.days < 1 || request.days > MAX_BILL_DAYS) {
    throw new DeployError(`the bill comparison covers ${request.days} days, which is not valid: a whole number of days from 1 to ${MAX_BILL_DAYS}`, { title: 'Invalid input', hint: 'Cost Explorer keeps daily costs for the last 14 months; longer windows cost more pages.' });
  }
  const window = billWindow(request.now, request.days);
  const [first] = target.deployments;
  if (!first) return { window, metric: BILL_METRIC, deployments: [] };
  const [region = 'us-east-1'] = regionsFor(first, target.environment);
  const reading = await readBill({ deployment: first, environment: target.environmentName, window, region, credentials: request.credentials });
  if (reading.state !== 'billed') return { window, metric: BILL_METRIC, notice: reading, deployments: [] };
  const deployments = target.deployments.map((d) => {
    const estimates = estimateDeployment(d, { environment: target.environment, environmentName: target.environmentName, spec: target.spec, hoursPerMonth: request.hoursPerMonth });
    return compareDeployment(
      d,
      estimates,
      reading.lines.filter((l) => l.deployment === d.name),
      window,
      { hoursPerMonth: request.hoursPerMonth },
    );
  });
  return { window, metric: BILL_METRIC, deployments };
}
