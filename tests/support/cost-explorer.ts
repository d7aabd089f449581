/**
 * A loopback Cost Explorer (JSON 1.1, X-Amz-Target AWSInsightsIndexService.*) that answers from line
 * items the way the service does (API reference, GetCostAndUsage and ListCostAllocationTags):
 *  - ResultsByTime: one entry per day of TimePeriod (End exclusive), each with TimePeriod, an empty
 *    Total when grouped, Groups[].Keys (a TAG group as "key$value", "key$" when the cost has no value
 *    for it or the tag is not an active cost allocation tag) and Metrics.{Name: {Amount, Unit}} with
 *    amounts as decimal strings, and Estimated (true for days not final yet);
 *  - GroupDefinitions echoing GroupBy, DimensionValueAttributes (empty: it names linked accounts);
 *  - NextPageToken when more groups remain (a day can continue on the next page);
 *  - a Tags filter matches only active cost allocation tags, as Cost Explorer allocates by them alone.
 * Point the SDK at it with AWS_ENDPOINT_URL_COST_EXPLORER.
 */
import { jsonError, Reply, startLoopback, type Loopback, type RecordedRequest } from './loopback';
import { setEnv } from './env';

export interface CostLineItem {
  day: string;
  tags: Record<string, string>;
  usageType: string;
  recordType?: string;
  /** Decimal string, as Cost Explorer sends it. */
  cost: string;
  quantity: string;
  quantityUnit: string;
}

export interface CostExplorerState {
  items: CostLineItem[];
  /** Tag keys active as cost allocation tags. */
  activeTags: string[];
  /** Tag keys AWS has seen (listed by ListCostAllocationTags; default: the active ones). */
  seenTags?: string[];
  /** Groups per page (default 100). */
  pageSize?: number;
  /** Days from this one on are not final (Estimated: true). */
  estimatedFrom?: string;
  currency?: string;
  /** Answer GetCostAndUsage with DataUnavailableException. */
  dataUnavailable?: boolean;
  /** Deny ListCostAllocationTags (a role with ce:GetCostAndUsage only). */
  denyListTags?: boolean;
  /** Deny GetCostAndUsage (a role without ce:GetCostAndUsage). */
  denyCostAndUsage?: boolean;
}

const denied = (action: string) =>
  jsonError('AccessDeniedException', `User: arn:aws:sts::123456789012:assumed-role/deployer/gha is not authorized to perform: ce:${action} on resource: arn:aws:ce:us-east-1:123456789012:/${action}`);

interface TagExpression {
  Key: string;
  Values?: string[];
}
interface FilterExpression {
  And?: FilterExpression[];
  Tags?: TagExpression;
  Dimensions?: { Key: string; Values: string[] };
}

function matches(item: CostLineItem, f: FilterExpression | undefined, active: Set<string>): boolean {
  if (!f) return true;
  if (f.And) return f.And.every((e) => matches(item, e, active));
  if (f.Tags) return active.has(f.Tags.Key) && (f.Tags.Values ?? []).includes(item.tags[f.Tags.Key] ?? '');
  if (f.Dimensions) {
    const value = f.Dimensions.Key === 'RECORD_TYPE' ? item.recordType ?? 'Usage' : f.Dimensions.Key === 'USAGE_TYPE' ? item.usageType : undefined;
    if (value === undefined) throw new Error(`fake Cost Explorer: dimension ${f.Dimensions.Key} is not modelled`);
    return f.Dimensions.Values.includes(value);
  }
  throw new Error(`fake Cost Explorer: filter ${JSON.stringify(f)} is not modelled`);
}

const addDecimal = (a: string, b: string) => (Number(a) + Number(b)).toFixed(10);

function days(start: string, end: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${start}T00:00:00Z`); t < Date.parse(`${end}T00:00:00Z`); t += 86400000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

function getCostAndUsage(state: CostExplorerState, p: Record<string, unknown>): Reply {
  if (state.denyCostAndUsage) return denied('GetCostAndUsage');
  if (state.dataUnavailable) return jsonError('DataUnavailableException', 'Data is not available. Please try to adjust the time period. If you just enabled Cost Explorer, data might not be ingested yet');
  const period = p.TimePeriod as { Start: string; End: string };
  if (p.Granularity !== 'DAILY' || !period?.Start || !period.End) return jsonError('ValidationException', 'fake Cost Explorer models DAILY with a TimePeriod only');
  const metrics = p.Metrics as string[];
  const groupBy = (p.GroupBy as { Type: string; Key: string }[]) ?? [];
  const active = new Set(state.activeTags);
  const unit = state.currency ?? 'USD';
  const groups: { day: string; keys: string[]; metrics: Record<string, { Amount: string; Unit: string }> }[] = [];
  for (const day of days(period.Start, period.End)) {
    const byKeys = new Map<string, (typeof groups)[number]>();
    for (const item of state.items.filter((i) => i.day === day && matches(i, p.Filter as FilterExpression, active))) {
      const keys = groupBy.map((g) => (g.Type === 'TAG' ? `${g.Key}$${active.has(g.Key) ? item.tags[g.Key] ?? '' : ''}` : g.Key === 'USAGE_TYPE' ? item.usageType : 'NoDimension'));
      const id = keys.join('\u0000');
      const g = byKeys.get(id) ?? { day, keys, metrics: {} };
      for (const m of metrics) {
        const [amount, u] = m === 'UsageQuantity' ? [item.quantity, item.quantityUnit] : [item.cost, unit];
        const seen = g.metrics[m];
        // Cost Explorer sums quantities of different units under "N/A".
        g.metrics[m] = { Amount: addDecimal(seen?.Amount ?? '0', amount), Unit: seen && seen.Unit !== u ? 'N/A' : u };
      }
      byKeys.set(id, g);
    }
    groups.push(...byKeys.values());
    if (byKeys.size === 0) groups.push({ day, keys: [], metrics: {} });
  }
  const size = state.pageSize ?? 100;
  const offset = Number(p.NextPageToken ?? 0);
  const page = groups.slice(offset, offset + size);
  const next = offset + size < groups.length ? String(offset + size) : undefined;
  const dayList = [...new Set(page.map((g) => g.day))];
  const end = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 86400000).toISOString().slice(0, 10);
  return {
    headers: { 'content-type': 'application/x-amz-json-1.1' },
    body: {
      ...(next ? { NextPageToken: next } : {}),
      GroupDefinitions: groupBy,
      ResultsByTime: dayList.map((day) => ({
        TimePeriod: { Start: day, End: end(day) },
        Total: {},
        Groups: page.filter((g) => g.day === day && g.keys.length > 0).map((g) => ({ Keys: g.keys, Metrics: g.metrics })),
        Estimated: state.estimatedFrom !== undefined && day >= state.estimatedFrom,
      })),
      DimensionValueAttributes: [],
    },
  };
}

function listCostAllocationTags(state: CostExplorerState, p: Record<string, unknown>): Reply {
  if (state.denyListTags) return denied('ListCostAllocationTags');
  const wanted = (p.TagKeys as string[] | undefined) ?? undefined;
  const seen = state.seenTags ?? state.activeTags;
  const tags = seen
    .filter((k) => !wanted || wanted.includes(k))
    .map((TagKey) => ({ TagKey, Type: 'UserDefined', Status: state.activeTags.includes(TagKey) ? 'Active' : 'Inactive', LastUsedDate: '2026-12-01T00:00:00Z' }));
  return { headers: { 'content-type': 'application/x-amz-json-1.1' }, body: { CostAllocationTags: tags } };
}

export interface FakeCostExplorer extends Loopback {
  state: CostExplorerState;
  /** The GetCostAndUsage requests, in order. */
  queries(): RecordedRequest[];
}

export async function startCostExplorer(state: CostExplorerState = { items: [], activeTags: [] }): Promise<FakeCostExplorer> {
  const fake = { state } as FakeCostExplorer;
  const loop = await startLoopback((req) => {
    if (req.call === 'AWSInsightsIndexService.GetCostAndUsage') return getCostAndUsage(fake.state, req.params);
    if (req.call === 'AWSInsightsIndexService.ListCostAllocationTags') return listCostAllocationTags(fake.state, req.params);
    return undefined;
  });
  return Object.assign(fake, loop, { queries: () => loop.requests.filter((r) => r.operation === 'GetCostAndUsage') });
}

/**
 * For a suite: starts the fake before its tests and points the SDK at it (AWS_ENDPOINT_URL_COST_EXPLORER,
 * loopback credentials, one attempt), then restores the environment and stops it. Returns the running fake.
 */
export function useCostExplorer(): () => FakeCostExplorer {
  let fake: FakeCostExplorer | undefined;
  let restoreEnv = () => {};
  beforeAll(async () => {
    fake = await startCostExplorer();
    const env = { AWS_ENDPOINT_URL_COST_EXPLORER: fake.url, AWS_ACCESS_KEY_ID: 'AKIDLOOPBACK', AWS_SECRET_ACCESS_KEY: 'loopback', AWS_EC2_METADATA_DISABLED: 'true', MODEL_DEPLOY_MAX_ATTEMPTS: '1' };
    restoreEnv = setEnv(env);
  });
  afterAll(async () => {
    restoreEnv();
    await fake?.close();
  });
  beforeEach(() => {
    if (fake) fake.requests.length = 0;
  });
  return () => {
    if (!fake) throw new Error('useCostExplorer: the fake runs only inside the suite');
    return fake;
  };
}
