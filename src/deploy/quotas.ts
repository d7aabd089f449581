/**
 * Service Quotas before deploying: a SageMaker endpoint on a type whose quota is 0 (the default for
 * many GPU types) fails after twenty minutes with ResourceLimitExceeded; we fail in seconds instead,
 * naming the quota, the figures and the command that asks for more.
 */
import type { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { DeployError, errorName, explainAwsError, isNotFound } from '../core/errors';
import type { Reporter } from '../core/log';
import { awsClient, Credentials } from '../core/aws';
import { mapLimit } from '../core/concurrency';
import { isAccelerated } from '../config/instance-types';
import type { Deployment } from '../config/types';
import * as sdk from '@aws-sdk/client-service-quotas';
import { DescribeEndpointCommand, DescribeEndpointConfigCommand, ListEndpointsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';

export interface QuotaRef {
  serviceCode: string;
  quotaCode?: string;
  name: string;
  unit: 'instances' | 'vCPUs';
}

/** EC2 on-demand quotas count vCPUs per instance family group. */
const EC2_GROUPS: { test: RegExp; code: string; name: string }[] = [
  { test: /^(g|vt)/, code: 'L-DB2E81BA', name: 'Running On-Demand G and VT instances' },
  { test: /^p/, code: 'L-417A185B', name: 'Running On-Demand P instances' },
  { test: /^inf/, code: 'L-1945791B', name: 'Running On-Demand Inf instances' },
  { test: /^trn/, code: 'L-2C3B7624', name: 'Running On-Demand Trn instances' },
  { test: /^f/, code: 'L-74FC7D96', name: 'Running On-Demand F instances' },
  { test: /^x/, code: 'L-7295265B', name: 'Running On-Demand X instances' },
  { test: /^[acdhimrtz]/, code: 'L-1216C47A', name: 'Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances' },
];

const FARGATE: QuotaRef = { serviceCode: 'fargate', quotaCode: 'L-3032A538', name: 'Fargate On-Demand vCPU resource count', unit: 'vCPUs' };

/** vCPUs of an instance size: large 2, xlarge 4, Nxlarge 4N (true for every family we support). */
export function vcpusOf(instanceType: string): number {
  const size = instanceType.replace(/^ml\./, '').split('.')[1] ?? '';
  if (size === 'medium') return 1;
  if (size === 'large') return 2;
  if (size === 'xlarge') return 4;
  const m = /^(\d+)xlarge$/.exec(size);
  if (m) return 4 * Number(m[1]);
  throw new DeployError(`Cannot tell how many vCPUs ${instanceType} has.`, { hint: 'Set the skip-quota-check input to deploy anyway.' });
}

/** The quota that limits a deployment's instances, and how much of it the deploy needs. */
export function quotaFor(d: Deployment): QuotaRef {
  if (d.target.startsWith('sagemaker')) {
    return { serviceCode: 'sagemaker', name: `${d.instanceType} for endpoint usage`, unit: 'instances' };
  }
  if (d.target === 'ecs' && !isAccelerated(d.instanceType)) return FARGATE;
  const family = d.instanceType.split('.')[0] ?? d.instanceType;
  const group = EC2_GROUPS.find((g) => g.test.test(family));
  if (!group) throw new DeployError(`No EC2 quota known for instance family ${family}.`, { hint: 'Set the skip-quota-check input to deploy anyway.' });
  return { serviceCode: 'ec2', quotaCode: group.code, name: group.name, unit: 'vCPUs' };
}

export interface QuotaNeed {
  /** What this deploy must be able to run at once. */
  needed: number;
  /** What autoscaling may reach (warned about, not enforced). */
  peak: number;
}

/**
 * SageMaker blue/green updates run the new fleet beside the old one until traffic moves, so an update
 * that replaces the endpoint config needs twice the instances for a while.
 */
export function quotaNeed(d: Deployment, quota: QuotaRef, replacesFleet: boolean): QuotaNeed {
  const per = quota.unit === 'vCPUs' ? vcpusOf(d.instanceType) : 1;
  const count = Math.max(d.instanceCount, d.autoscaling?.min ?? 0, 1);
  const fleets = replacesFleet && d.target.startsWith('sagemaker') ? 2 : 1;
  return { needed: count * per * fleets, peak: Math.max(count, d.autoscaling?.max ?? 0) * per };
}

export interface QuotaValue {
  value: number;
  quotaCode?: string;
  adjustable?: boolean;
}

async function readQuota(sq: ServiceQuotasClient, ref: QuotaRef): Promise<QuotaValue | undefined> {
  if (ref.quotaCode) {
    try {
      const out = await sq.send(new sdk.GetServiceQuotaCommand({ ServiceCode: ref.serviceCode, QuotaCode: ref.quotaCode }));
      if (out.Quota?.Value !== undefined) return { value: out.Quota.Value, quotaCode: ref.quotaCode, adjustable: out.Quota.Adjustable };
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    // Never changed in this account: the AWS default applies.
    const def = await sq.send(new sdk.GetAWSDefaultServiceQuotaCommand({ ServiceCode: ref.serviceCode, QuotaCode: ref.quotaCode }));
    return def.Quota?.Value === undefined ? undefined : { value: def.Quota.Value, quotaCode: ref.quotaCode, adjustable: def.Quota.Adjustable };
  }
  // SageMaker has one quota per instance type and use: find it by name. Types never requested may
  // only appear among the defaults.
  const list = { ServiceCode: ref.serviceCode, MaxResults: 100 };
  return (
    (await quotaByName(ref.name, (NextToken) => sq.send(new sdk.ListServiceQuotasCommand({ ...list, NextToken })))) ??
    (await quotaByName(ref.name, (NextToken) => sq.send(new sdk.ListAWSDefaultServiceQuotasCommand({ ...list, NextToken }))))
  );
}

/** The quota named `name` in the pages of one list call. */
async function quotaByName(name: string, page: (next: string | undefined) => Promise<{ Quotas?: sdk.ServiceQuota[]; NextToken?: string }>): Promise<QuotaValue | undefined> {
  let next: string | undefined;
  do {
    const out = await page(next);
    const hit = out.Quotas?.find((q) => q.QuotaName === name);
    if (hit?.Value !== undefined) return { value: hit.Value, quotaCode: hit.QuotaCode, adjustable: hit.Adjustable };
    next = out.NextToken;
  } while (next);
  return undefined;
}

/** What other resources already hold of the quota. */
export interface QuotaUsage {
  used: number;
  /** Who holds it, for the message. */
  holders: string[];
}

/** Endpoints in these states hold no instances. */
const IDLE_ENDPOINT = new Set(['OutOfService', 'Failed', 'Deleting']);

/**
 * Instances of one type that the account's SageMaker endpoints run now, this deployment's own endpoint
 * left out (the need counts it: blue/green runs its old fleet beside the new one).
 */
export async function sagemakerUsage(sm: SageMakerClient, instanceType: string, ownEndpoint: string): Promise<QuotaUsage> {
  const names: string[] = [];
  let next: string | undefined;
  do {
    const page = await sm.send(new ListEndpointsCommand({ NextToken: next, MaxResults: 100 }));
    for (const e of page.Endpoints ?? []) {
      if (e.EndpointName && e.EndpointName !== ownEndpoint && !IDLE_ENDPOINT.has(e.EndpointStatus ?? '')) names.push(e.EndpointName);
    }
    next = page.NextToken;
  } while (next);
  const counts = await Promise.all(names.map(async (name) => ({ name, instances: await endpointInstances(sm, name, instanceType) })));
  const holders = counts.filter((c) => c.instances > 0);
  return { used: holders.reduce((sum, c) => sum + c.instances, 0), holders: holders.map((c) => `${c.name} (${c.instances})`) };
}

/** Instances of the type in one endpoint's variants: the type is in its config, the count on the endpoint. */
async function endpointInstances(sm: SageMakerClient, endpointName: string, instanceType: string): Promise<number> {
  const endpoint = await sm.send(new DescribeEndpointCommand({ EndpointName: endpointName }));
  if (!endpoint.EndpointConfigName) return 0;
  const config = await sm.send(new DescribeEndpointConfigCommand({ EndpointConfigName: endpoint.EndpointConfigName }));
  const ofType = new Set((config.ProductionVariants ?? []).filter((v) => v.InstanceType === instanceType).map((v) => v.VariantName));
  return (endpoint.ProductionVariants ?? [])
    .filter((v) => ofType.has(v.VariantName))
    .reduce((sum, v) => sum + Math.max(v.CurrentInstanceCount ?? 0, v.DesiredInstanceCount ?? 0), 0);
}

export interface QuotaCheckOptions {
  sq: ServiceQuotasClient;
  deployment: Deployment;
  region: string;
  replacesFleet: boolean;
  reporter: Reporter;
  /** What others hold of the quota now; absent where usage is not counted. */
  usage?: () => Promise<QuotaUsage>;
}

export interface QuotaCheck {
  quota: QuotaRef;
  value?: number;
  needed: number;
}

export function raiseCommand(ref: QuotaRef, quotaCode: string | undefined, desired: number, region: string): string {
  return `aws service-quotas request-service-quota-increase --service-code ${ref.serviceCode} --quota-code ${quotaCode ?? '<code of this quota>'} --desired-value ${desired} --region ${region}`;
}

export async function checkQuotas(options: QuotaCheckOptions): Promise<QuotaCheck> {
  const { deployment: d, region, reporter } = options;
  const ref = quotaFor(d);
  const need = quotaNeed(d, ref, options.replacesFleet);
  let quota: QuotaValue | undefined;
  try {
    quota = await readQuota(options.sq, ref);
  } catch (err) {
    const name = errorName(err);
    if (name === 'AccessDeniedException' || isNotFound(err)) {
      reporter.warning(`Could not read the quota "${ref.name}" in ${region} (${name}); deploying without the check. Allow servicequotas:GetServiceQuota, GetAWSDefaultServiceQuota and ListServiceQuotas to check first.`, undefined, 'Quota not checked');
      return { quota: ref, needed: need.needed };
    }
    throw explainAwsError(err, `Reading the Service Quotas of ${ref.serviceCode} in ${region}`);
  }
  if (!quota) {
    reporter.warning(`Service Quotas has no quota named "${ref.name}" in ${region}: the instance type may not be offered there.`, undefined, 'Quota not found');
    return { quota: ref, needed: need.needed };
  }
  const usage = await readUsage(options, ref);
  const free = quota.value - usage.used;
  const inUse = usage.used > 0 ? `; ${usage.used} are in use by ${usage.holders.join(', ')}` : '';
  const figures = `${need.needed} ${ref.unit}${need.needed !== d.instanceCount ? ` (${d.instanceCount} × ${d.instanceType}${options.replacesFleet && d.target.startsWith('sagemaker') ? ', twice while blue/green moves traffic' : ''})` : ''}`;
  if (free < need.needed) {
    const console = `https://console.aws.amazon.com/servicequotas/home/services/${ref.serviceCode}/quotas${quota.quotaCode ? `/${quota.quotaCode}` : ''}`;
    throw new DeployError(
      `The quota "${ref.name}" is ${quota.value} ${ref.unit} in ${region}${inUse}, and this deploy needs ${figures}.`,
      {
        title: 'Service quota too low',
        hint:
          `Request at least ${usage.used + Math.max(need.needed, need.peak)}: ${raiseCommand(ref, quota.quotaCode, usage.used + Math.max(need.needed, need.peak), region)}\n` +
          `or ${console} (${quota.adjustable === false ? 'this quota is not adjustable: choose another instance type or region' : 'increases for GPU types can take a day or more'}). ` +
          'Other endpoints or instances of this kind in the account count against it too.',
      },
    );
  }
  reporter.info(`Quota "${ref.name}" in ${region}: ${quota.value} ${ref.unit}${inUse}, this deploy needs ${figures}.`);
  if (need.peak > free) {
    reporter.warning(
      `Autoscaling may reach ${need.peak} ${ref.unit} but the quota "${ref.name}" is ${quota.value} in ${region}${inUse}: scaling out will stop there. ${raiseCommand(ref, quota.quotaCode, usage.used + need.peak, region)}`,
      undefined,
      'Quota below autoscaling maximum',
    );
  }
  return { quota: ref, value: quota.value, needed: need.needed };
}

/** Usage that cannot be read is a warning: the quota value alone is still checked. */
async function readUsage(options: QuotaCheckOptions, ref: QuotaRef): Promise<QuotaUsage> {
  if (!options.usage) return { used: 0, holders: [] };
  try {
    return await options.usage();
  } catch (err) {
    const name = errorName(err);
    if (name !== 'AccessDeniedException' && name !== 'AccessDenied') throw explainAwsError(err, `Counting what already uses "${ref.name}" in ${options.region}`);
    options.reporter.warning(`Could not count the instances already using "${ref.name}" (${name}): checking the quota value alone. Allow sagemaker:ListEndpoints, DescribeEndpoint and DescribeEndpointConfig to count them.`, undefined, 'Quota usage not counted');
    return { used: 0, holders: [] };
  }
}

// ---- before merge: the applied quota against every deployment's autoscaling maximum ------------

/** What one deployment may hold of its quota at its peak: the autoscaling maximum, twice on SageMaker while blue/green runs both fleets. */
export function peakNeed(d: Deployment, ref: QuotaRef): number {
  const per = ref.unit === 'vCPUs' ? vcpusOf(d.instanceType) : 1;
  const max = Math.max(d.instanceCount, d.autoscaling?.max ?? 0, 1);
  return max * per * (d.target.startsWith('sagemaker') ? 2 : 1);
}

/** One quota in one region, and every deployment of the estimate that draws on it. */
export interface QuotaHeadroom {
  region: string;
  quota: QuotaRef;
  users: { name: string; need: number }[];
  need: number;
  /** The applied value; undefined when it could not be read (see `note`). */
  value?: number;
  quotaCode?: string;
  note?: string;
}

export interface HeadroomOptions {
  /** Each deployment with the regions it deploys to. */
  placed: { deployment: Deployment; regions: readonly string[] }[];
  credentials?: Credentials;
  /** The Service Quotas client of a region (a seam for tests). */
  client?: (region: string) => ServiceQuotasClient;
}

/** Reads each quota the deployments share, per region, and sums their peak needs against it. */
export async function quotaHeadroom(o: HeadroomOptions): Promise<QuotaHeadroom[]> {
  const groups = new Map<string, QuotaHeadroom>();
  for (const { deployment: d, regions } of o.placed) {
    const quota = quotaFor(d);
    for (const region of regions) {
      const key = `${region}\u0000${quota.serviceCode}\u0000${quota.name}`;
      const group = groups.get(key) ?? { region, quota, users: [], need: 0 };
      const need = peakNeed(d, quota);
      group.users.push({ name: d.name, need });
      group.need += need;
      groups.set(key, group);
    }
  }
  const client = o.client ?? ((region: string) => awsClient(sdk.ServiceQuotasClient, { region, credentials: o.credentials }));
  return mapLimit([...groups.values()], 4, async (g) => {
    try {
      const read = await readQuota(client(g.region), g.quota);
      return read ? { ...g, value: read.value, quotaCode: read.quotaCode } : { ...g, note: 'no such quota in this region: the type may not be offered there' };
    } catch (err) {
      const name = errorName(err);
      if (name === 'AccessDeniedException' || name === 'NoSuchResourceException' || isNotFound(err)) return { ...g, note: `not checked (${name})` };
      throw explainAwsError(err, `Reading the Service Quotas of ${g.quota.serviceCode} in ${g.region}`);
    }
  });
}

/** One line per quota for the estimate: the applied value, the need at the maximum, the headroom or the shortfall. */
export function headroomLine(h: QuotaHeadroom): string {
  const who = h.users.map((u) => `${u.name} ${u.need}`).join(', ');
  const head = `Quota "${h.quota.name}" in ${h.region}`;
  if (h.value === undefined) return `${head}: ${h.note ?? 'not checked'}; needed at the autoscaling maximum: ${h.need} ${h.quota.unit} (${who}).`;
  const need = `needed at the autoscaling maximum ${h.need} ${h.quota.unit} (${who}${h.quota.serviceCode === 'sagemaker' ? '; SageMaker counts twice while a blue/green update runs both fleets' : ''})`;
  if (h.value >= h.need) return `${head}: ${h.value} applied, ${need}: headroom ${h.value - h.need}.`;
  return `${head}: ${h.value} applied, ${need}: short by ${h.need - h.value}. Request more before merging: ${raiseCommand(h.quota, h.quotaCode, h.need, h.region)}`;
}
