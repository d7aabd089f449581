/**
 * The cost model: per deployment and region, the monthly cost of what the rendered stack creates
 * (read from renderStack's parameters: instances or Fargate tasks, the volumes the template asks for,
 * load balancer, KMS key, SNS topics) plus what the deploy stores (image, weights, API-key secret),
 * and the one-time cost of the build. Synchronous: prices come from a PriceBook resolved beforehand.
 * A deployment whose regions span China and elsewhere is estimated as one part per currency.
 */
import { DeployError } from '../core/errors';
import { estimateBuildMinutes } from '../image/estimate';
import type { BedrockDeployment, Deployment, EnvironmentSpec, Spec } from '../config/types';
import { bedrockThroughputTargets, regionsFor } from '../config/regions';
import { parseBedrockModelArn } from '../config/bedrock';
import { stackParameters as renderParameters } from '../deploy/render';
import { targetNames } from '../config/select';
import { vpcFor } from '../config/region-truth';
import { renderBuild, rendersOtherImage } from '../image/render';
import { Catalog, Currency, Price, PriceService, REFERENCE_REGION, currencyOf, defaultCatalog } from '../prices/catalog';
import { Range, ZERO, addRanges } from './money';
import { compareText } from '../core/compare';

export const DEFAULT_HOURS_PER_MONTH = 730;
/** Used when usage.imageSizeGb is not given: vLLM/TGI/LMI serving images are 8-15 GB. */
export const ASSUMED_IMAGE_GB = 10;
/** Used when model.sizeGb is not given (the build estimate assumes the same). */
export const ASSUMED_WEIGHTS_GB = 15;

export interface CostComponent {
  /** Stable identity across base and head (the name carries the instance type, which may change). */
  kind: string;
  name: string;
  /** The unit the price is quoted in ("hours", "GB-month", "1M requests"). */
  unit: string;
  /** Monthly quantity in `unit`; null when it depends on usage the spec does not give. */
  quantity: Range | null;
  price: Price | null;
  /** null: unpriced (no known price) or usage unknown: never counted as zero silently. */
  monthlyCost: Range | null;
  /** Why this is a figure and not another: the usage assumption. */
  note?: string;
}

export interface ResourceEstimate {
  /** Stable identity across base and head. */
  kind: string;
  name: string;
  resourceType: string;
  region: string;
  components: CostComponent[];
}

export interface DeploymentEstimate {
  name: string;
  /** bedrock: a target: bedrock deployment's part (its provisioned throughput), with no instance. */
  target: Deployment['target'] | BedrockDeployment['target'];
  instanceType: string;
  /** "1 instance", "1–3 instances": the count range, for old → new. */
  count: string;
  /** Engine and version ("vllm 0.6.3"), or the prebuilt image. */
  engine: string;
  /** The regions of this part (one currency); `allRegions` when the deployment spans several currencies. */
  regions: string[];
  allRegions: string[];
  currency: Currency;
  resources: ResourceEstimate[];
  /** Sum of the priced monthly components (unpriced and usage-based parts are not in it: see the flags). */
  monthly: Range;
  oneTime: OneTime;
  /** Components without a price (shown as unpriced, never as $0). */
  unpriced: string[];
  /** Components whose cost depends on usage the spec does not give. */
  usageBased: string[];
  assumptions: string[];
}

export interface OneTime {
  minutes: number;
  computeType: string;
  cost: number | null;
  price: Price | null;
  note?: string;
  /**
   * What renderBuild reads (model, engine, build, name; the region): equal keys give the same image,
   * so no build. Cheap; the tag itself is computed only where the keys differ (resolveImageTags).
   */
  buildKey: string;
  /** The image tag the build would produce (renderBuild's content hash, md-<sha>), where resolved. */
  imageTag?: string;
}

export interface Estimate {
  hoursPerMonth: number;
  deployments: DeploymentEstimate[];
}

/** Who prices a target's instance-hours. */
export function instanceService(target: DeploymentEstimate['target']): PriceService {
  return target.startsWith('sagemaker') ? 'sagemaker-hosting' : 'ec2';
}

/** Prices the estimate can use: live prices (when asked for) over the catalogue. */
export class PriceBook {
  private readonly used = new Map<string, Price>();
  constructor(readonly catalog: Catalog = defaultCatalog(), private readonly live: Map<string, Price> = new Map()) {}

  static liveKey(service: PriceService, key: string, region: string): string {
    return `${service}|${region}|${key}`;
  }

  private remember(p: Price): Price {
    this.used.set(`${p.origin}|${p.service}|${p.region}|${p.key}`, p);
    return p;
  }

  /** Every price an estimate used, for the "prices used" table. */
  usedPrices(): Price[] {
    return [...this.used.values()].sort((a, b) => compareText(a.service, b.service) || compareText(a.region, b.region) || compareText(a.key, b.key));
  }

  /** Instance-hour price, or null (unpriced) with `missing` saying what is known instead. */
  instance(d: Deployment, region: string): Price | null {
    return this.instanceType(instanceService(d.target), d.instanceType, region);
  }

  /** The same by service and type (the comment job re-prices a result file's components with it). */
  instanceType(service: PriceService, instanceType: string, region: string): Price | null {
    const live = this.live.get(PriceBook.liveKey(service, instanceType, region));
    if (live) return this.remember(live);
    const found = this.catalog.find(service, instanceType, region);
    if (found && !found.stale) return this.remember(found);
    const derived = service === 'sagemaker-hosting' ? this.catalog.derivedSageMaker(instanceType, region) : undefined;
    // A list price older than a cut gives way to today's EC2 price × the mark-up; kept (labelled stale) when there is none.
    if (derived && found) derived.note = `${derived.note} The catalogue's ${found.price} ${found.currency}/h (${found.asOf}) predates the ${found.stale} price cut.`;
    const chosen = derived ?? found;
    return chosen ? this.remember(chosen) : null;
  }

  private readonly missingNotes = new Map<string, string>();

  /** Why an instance type has no price, and what is priced instead (for the row's note); once per type and region. */
  missing(d: Deployment, region: string): string {
    const service = instanceService(d.target);
    const key = PriceBook.liveKey(service, d.instanceType, region);
    const known = this.missingNotes.get(key);
    if (known) return known;
    const note = this.missingNote(service, d.instanceType, region);
    this.missingNotes.set(key, note);
    return note;
  }

  private missingNote(service: PriceService, instanceType: string, region: string): string {
    const label = service === 'ec2' ? 'EC2' : 'SageMaker hosting';
    const regions = this.catalog.regions(service, instanceType);
    const near = this.catalog.nearestKeys(service, instanceType, region);
    return (
      `No known ${label} price for ${instanceType} in ${region}.` +
      (regions.length > 0 ? ` Priced in: ${regions.join(', ')}.` : '') +
      ` Nearest priced types: ${near.join(', ')}. Add a VERIFIED price to src/prices/catalog/prices.json (docs/cost.md) or run with live-prices: true.`
    );
  }

  /** A supporting-service price; a USD region without one borrows us-east-1's (labelled). Null: unpriced. */
  support(service: PriceService, key: string, region: string): Price | null {
    const live = this.live.get(PriceBook.liveKey(service, key, region));
    if (live) return this.remember(live);
    const found = this.catalog.find(service, key, region);
    if (found) return this.remember(found);
    if (currencyOf(region) === 'USD') {
      const ref = this.catalog.find(service, key, REFERENCE_REGION);
      if (ref) {
        return this.remember({
          ...ref,
          region,
          origin: 'catalog-other-region',
          note: `Estimate: the ${REFERENCE_REGION} price, no verified price for ${region}.`,
        });
      }
    }
    return null;
  }
}

export interface EstimateOptions {
  hoursPerMonth?: number;
  environment?: EnvironmentSpec;
  /** The priced environment's name in `spec` (Bedrock throughput is bought per target environment). */
  environmentName?: string;
  prices?: PriceBook;
  spec?: Spec;
  /** The target: bedrock deployments priced with these (their provisioned throughput in the priced environment). */
  bedrock?: BedrockDeployment[];
}

const per = (range: Range, f: (n: number) => number): Range => ({ low: f(range.low), high: f(range.high) });

export function component(kind: string, name: string, unit: string, quantity: Range | null, price: Price | null, note?: string): CostComponent {
  const monthlyCost = quantity && price ? per(quantity, (q) => q * Number(price.price)) : null;
  return { kind, name, unit, quantity, price, monthlyCost, note };
}

/** Instances running on average: a range with autoscaling, busy hours for an async endpoint at zero. */
function instanceHours(d: Deployment, hours: number, spec?: Spec): { hours: Range; note?: string } {
  const a = d.autoscaling;
  if (d.instanceCount < 0 || (a && (a.min < 0 || a.max < 0))) {
    throw new DeployError(`deployments.${d.name}: instance counts cannot be negative`, {
      location: spec?.locate(['deployments', d.name]) ?? { file: d.source.file, line: d.source.line },
      title: 'Invalid deployment spec',
    });
  }
  if (!a) return { hours: { low: d.instanceCount * hours, high: d.instanceCount * hours } };
  if (a.min === 0) {
    const busy = d.usage.busyHoursPerMonth;
    if (busy === undefined) {
      throw new DeployError(`deployments.${d.name}: scales to zero, so its cost depends on how many hours a month it is busy: set usage.busyHoursPerMonth`, {
        location: spec?.locate(['deployments', d.name, 'autoscaling']) ?? { file: d.source.file, line: d.source.line },
        title: 'Usage needed for the estimate',
        hint: 'Set usage.busyHoursPerMonth (hours a month with at least one instance running, for example 120).',
      });
    }
    const b = Math.min(busy, hours);
    return {
      hours: { low: b, high: b * a.max },
      note: `Scales to zero: priced for ${b} busy hours a month (usage.busyHoursPerMonth) at 1 to ${a.max} instances.`,
    };
  }
  return { hours: { low: a.min * hours, high: a.max * hours }, note: `Autoscaling: ${a.min} to ${a.max} instances.` };
}

function countLabel(d: Deployment): string {
  const a = d.autoscaling;
  if (!a) return `${d.instanceCount} instance${d.instanceCount === 1 ? '' : 's'}`;
  return `${a.min === 0 ? 1 : a.min}–${a.max} instances`;
}

interface RegionContext {
  d: Deployment;
  region: string;
  hours: number;
  book: PriceBook;
  run: { hours: Range; note?: string };
  /** The parameters renderStack gives the template for this region: what the stack creates. */
  stack: Record<string, string>;
  assumptions: string[];
}

const TARGET_KIND: Record<Deployment['target'], string> = {
  'sagemaker-realtime': 'SageMaker real-time endpoint',
  'sagemaker-async': 'SageMaker async endpoint',
  ec2: 'EC2 instances',
  ecs: 'ECS service (EC2 launch type)',
};

/**
 * What prices each supporting component, by its kind (a key into the catalogue). The comment job
 * re-prices a result file's components by the same table (artifact.ts), so the two cannot drift.
 */
export const SUPPORT_PRICES = {
  'ml-storage': ['sagemaker-storage', 'ml-storage'],
  'root-volume': ['ebs', 'gp3-storage'],
  'fargate-vcpu': ['fargate', 'vcpu-hours'],
  'fargate-memory': ['fargate', 'memory-gb-hours'],
  'fargate-storage': ['fargate', 'storage-gb-hours'],
  'alb-hours': ['elb', 'alb-hours'],
  'alb-lcu': ['elb', 'alb-lcu'],
  'nat-data': ['vpc', 'nat-data'],
  'ecr-storage': ['ecr', 'storage'],
  's3-storage': ['s3', 'standard-storage'],
  'secret': ['secretsmanager', 'secret'],
  'secret-calls': ['secretsmanager', 'api-calls'],
  'sns-requests': ['sns', 'requests'],
  'kms-key': ['kms', 'customer-managed-key'],
} as const satisfies Record<string, readonly [PriceService, string]>;
export type SupportKind = keyof typeof SUPPORT_PRICES;

function supportComponent(x: RegionContext, kind: SupportKind, name: string, unit: string, quantity: Range | null, note?: string): CostComponent {
  const [service, key] = SUPPORT_PRICES[kind];
  return component(kind, name, unit, quantity, x.book.support(service, key, x.region), note);
}

function resource(x: RegionContext, kind: string, name: string, resourceType: string, components: CostComponent[]): ResourceEstimate {
  return { kind, name: `${x.d.name} ${name}`, resourceType, region: x.region, components };
}

/** The stack's parameters (the same function renderStack takes them from), by name. */
function stackParameters(d: Deployment, region: string, environment?: EnvironmentSpec): Record<string, string> {
  const { params } = renderParameters({ deployment: d, names: targetNames(d), region, environment });
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)]));
}

/** Caveats of pricing async inference at the hosting rate (the price reference has no async rate). */
function asyncNote(x: RegionContext, instance: CostComponent): void {
  instance.note = [instance.note, 'Async inference is priced at the real-time hosting rate: AWS bills it under a separate AsyncInf usage type whose rate matched Hosting wherever it was seen, but no data file confirms it (docs/cost.md, "Async inference price").'].filter(Boolean).join(' ');
  if (!x.assumptions.some((a) => a.startsWith('Async'))) x.assumptions.push('Async inference priced at the real-time hosting rate (not confirmed by a data file; docs/cost.md, "Async inference price").');
  if (x.d.instanceType === 'ml.g4dn.xlarge') x.assumptions.push('ml.g4dn.xlarge is reportedly not offered for async inference; the smallest g4dn there is 2xlarge.');
}

function instanceComponent(x: RegionContext): CostComponent {
  const { d, run } = x;
  const price = x.book.instance(d, x.region);
  const note = price ? run.note : [x.book.missing(d, x.region), run.note].filter(Boolean).join(' ');
  const instance = component('instance', `Instance usage (${d.instanceType}, ${countLabel(d)})`, 'hours', run.hours, price, note);
  if (d.target === 'sagemaker-async') asyncNote(x, instance);
  return instance;
}

/** GB-months of a volume of `gb` on each running instance. */
function volumeMonths(x: RegionContext, gb: number): Range {
  return per(x.run.hours, (h) => (gb * h) / x.hours);
}

function sagemakerResource(x: RegionContext): ResourceEstimate {
  const compute = [instanceComponent(x)];
  // VolumeSizeGb is 0 for instance-store families (g4dn, g5, g6 ...): the endpoint gets no EBS volume.
  const gb = Number(x.stack.VolumeSizeGb ?? 0);
  if (gb > 0) compute.push(supportComponent(x, 'ml-storage', `ML storage volume (${gb} GB per instance)`, 'GB-month', volumeMonths(x, gb)));
  return resource(x, 'compute', TARGET_KIND[x.d.target], 'aws_sagemaker_endpoint', compute);
}

/** EC2 instances (target ec2, or ECS on GPU instances): instance-hours and the gp3 root volume. */
function instanceResource(x: RegionContext, name: string, resourceType: string): ResourceEstimate {
  const gb = Number(x.stack.RootVolumeGb ?? 0);
  return resource(x, 'compute', name, resourceType, [
    instanceComponent(x),
    supportComponent(x, 'root-volume', `EBS gp3 root volume (${gb} GB per instance)`, 'GB-month', volumeMonths(x, gb)),
  ]);
}

/** ECS on a CPU instance type runs on Fargate: vCPU-hours and GB-hours (no verified Fargate price yet). */
function fargateResource(x: RegionContext): ResourceEstimate {
  const vcpu = Number(x.stack.TaskCpu ?? 0) / 1024;
  const gib = Number(x.stack.TaskMemory ?? 0) / 1024;
  const storage = Number(x.stack.EphemeralStorageGb ?? 21);
  const size = `${vcpu} vCPU, ${gib} GiB per task`;
  const components = [
    supportComponent(x, 'fargate-vcpu', `Fargate vCPU (${size})`, 'vCPU-hours', per(x.run.hours, (h) => h * vcpu)),
    supportComponent(x, 'fargate-memory', `Fargate memory (${size})`, 'GB-hours', per(x.run.hours, (h) => h * gib)),
  ];
  // The first 20 GB of task storage are included.
  if (storage > 20) components.push(supportComponent(x, 'fargate-storage', `Fargate task storage above 20 GB (${storage - 20} GB per task)`, 'GB-hours', per(x.run.hours, (h) => h * (storage - 20))));
  return resource(x, 'compute', 'ECS service (Fargate)', 'aws_ecs_service', components);
}

function computeResource(x: RegionContext): ResourceEstimate {
  if (x.d.target.startsWith('sagemaker')) return sagemakerResource(x);
  if (x.d.target === 'ec2') return instanceResource(x, TARGET_KIND.ec2, 'aws_instance');
  return x.stack.Compute === 'fargate' ? fargateResource(x) : instanceResource(x, TARGET_KIND.ecs, 'aws_ecs_service');
}

function loadBalancerResource(x: RegionContext): ResourceEstimate {
  const lcu = x.d.usage.lcuPerHour;
  return resource(x, 'alb', 'Application Load Balancer', 'aws_lb', [
    supportComponent(x, 'alb-hours', 'Application load balancer', 'hours', { low: x.hours, high: x.hours }),
    supportComponent(x, 'alb-lcu', 'Load balancer capacity units', 'LCU-hours', { low: lcu * x.hours, high: lcu * x.hours }, `usage.lcuPerHour = ${lcu}`),
  ]);
}

/** The stack creates no NAT gateway: only the traffic it sends through the VPC's own is counted. */
function natResource(x: RegionContext): ResourceEstimate {
  const gb = x.d.usage.natDataGbPerMonth;
  return resource(x, 'nat', 'traffic through the VPC NAT gateway', 'aws_nat_gateway', [
    supportComponent(x, 'nat-data', 'Data processed', 'GB', { low: gb, high: gb }, `usage.natDataGbPerMonth = ${gb}; the gateway itself belongs to the VPC, not to this stack.`),
  ]);
}

function imageResource(x: RegionContext): ResourceEstimate {
  const { d } = x;
  const imageGb = (d.usage.imageSizeGb ?? ASSUMED_IMAGE_GB) + (d.model.bakeIntoImage ? d.model.sizeGb ?? ASSUMED_WEIGHTS_GB : 0);
  const note = d.usage.imageSizeGb === undefined ? `Image size assumed ${ASSUMED_IMAGE_GB} GB (set usage.imageSizeGb).` : undefined;
  if (note) x.assumptions.push(`${d.name}: ${note}`);
  return resource(x, 'ecr', 'ECR repository', 'aws_ecr_repository', [
    supportComponent(x, 'ecr-storage', 'Image storage', 'GB-month', { low: imageGb, high: imageGb }, note ?? 'Layers are shared between kept images: one image counted.'),
  ]);
}

function weightsResource(x: RegionContext): ResourceEstimate {
  const { d } = x;
  const gb = d.model.sizeGb ?? ASSUMED_WEIGHTS_GB;
  const note = d.model.sizeGb === undefined ? `Weights assumed ${ASSUMED_WEIGHTS_GB} GB (set model.sizeGb).` : undefined;
  if (note) x.assumptions.push(`${d.name}: ${note}`);
  return resource(x, 'weights', 'model artifacts (S3)', 'aws_s3_object', [supportComponent(x, 's3-storage', 'Storage (S3 Standard)', 'GB-month', { low: gb, high: gb }, note)]);
}

function apiKeyResource(x: RegionContext): ResourceEstimate {
  const calls = per(x.run.hours, (h) => h / 10000);
  return resource(x, 'secret', 'API-key secret', 'aws_secretsmanager_secret', [
    supportComponent(x, 'secret', 'Secret', 'months', { low: 1, high: 1 }),
    supportComponent(x, 'secret-calls', 'API calls', '10k requests', calls, 'One key refresh per instance-hour.'),
  ]);
}

function notificationResource(x: RegionContext): ResourceEstimate {
  const requests = x.d.usage.requestsPerMonth;
  const quantity = requests === undefined ? null : { low: requests / 1e6, high: requests / 1e6 };
  const note = requests === undefined ? 'Depends on usage: set usage.requestsPerMonth.' : 'One notification per request; free tier not applied.';
  return resource(x, 'sns', 'SNS topics (success, error)', 'aws_sns_topic', [supportComponent(x, 'sns-requests', 'Notifications published', '1M requests', quantity, note)]);
}

function kmsResource(x: RegionContext): ResourceEstimate {
  return resource(x, 'kms', 'KMS key', 'aws_kms_key', [supportComponent(x, 'kms-key', 'Customer managed key', 'months', { low: 1, high: 1 })]);
}

/** The resources one region of a deployment runs, each a named step, read from the rendered stack. */
function estimateRegion(d: Deployment, region: string, stack: Record<string, string>, o: GroupOptions): { resources: ResourceEstimate[]; assumptions: string[] } {
  const run = instanceHours(d, o.hours, o.spec);
  const x: RegionContext = { d, region, hours: o.hours, book: o.book, run, stack, assumptions: run.note ? [run.note] : [] };
  const resources = [computeResource(x)];
  if (!d.target.startsWith('sagemaker')) resources.push(loadBalancerResource(x));
  if (vpcFor(d.security, o.environmentName, region).vpc?.natGateway) resources.push(natResource(x));
  if (!d.model.image) resources.push(imageResource(x));
  if (d.model.huggingface && !d.model.bakeIntoImage) resources.push(weightsResource(x));
  if (!d.target.startsWith('sagemaker') && d.apiKey.enabled) resources.push(apiKeyResource(x));
  if (d.target === 'sagemaker-async') resources.push(notificationResource(x));
  if (stack.CreateKmsKey === 'true') resources.push(kmsResource(x));
  return { resources, assumptions: x.assumptions };
}

/** A region where promote-model buys a Bedrock deployment's provisioned throughput, and the environment it is in. */
interface ThroughputRegion {
  environment: string;
  region: string;
}

const BEDROCK_PRICING = 'https://aws.amazon.com/bedrock/pricing/';

/** The priced environment's regions when it is a target of bedrockThroughput, else (no environment priced) every target's. */
function throughputRegions(b: BedrockDeployment, environmentName: string | undefined, spec: Spec | undefined): ThroughputRegion[] {
  const environments = spec?.environments;
  if (!b.bedrockThroughput || !environments) return [];
  return bedrockThroughputTargets(b, environments)
    .filter((t) => environmentName === undefined || t.environment === environmentName)
    .flatMap((t) => t.regions.map((region) => ({ environment: t.environment, region })));
}

/** Model-unit hours, unpriced: no verified rate (it depends on the base model, the region and the term). */
function throughputResource(b: BedrockDeployment, at: ThroughputRegion, hours: number): ResourceEstimate {
  const t = b.bedrockThroughput;
  const units = t?.modelUnits ?? 0;
  const months = t?.commitment === 'SixMonths' ? 6 : t?.commitment === 'OneMonth' ? 1 : 0;
  const term = months
    ? `${t?.commitment} is committed spend: ${months} month${months > 1 ? 's' : ''} × ${units} model unit${units > 1 ? 's' : ''} × the hourly rate are owed even if it is deleted before the term ends.`
    : 'No commitment: billed per model-unit hour until it is deleted.';
  const note = `No verified Bedrock provisioned-throughput price (the catalogue has none): the hourly rate per model unit depends on the base model, the region and the term (${BEDROCK_PRICING}). ${term}`;
  const quantity = { low: units * hours, high: units * hours };
  return {
    kind: `bedrock-throughput:${at.environment}`,
    name: `${b.name} Bedrock provisioned throughput (${at.environment})`,
    resourceType: 'aws_bedrock_provisioned_model_throughput',
    region: at.region,
    components: [component('bedrock-model-units', `Model units (${units}, commitment ${t?.commitment ?? 'none'})`, 'model-unit hours', quantity, null, note)],
  };
}

/**
 * A target: bedrock deployment's parts, one per currency: the provisioned throughput it buys in the priced
 * environment's regions (none bought there: no part). No instance, build or storage of ours: Bedrock serves the copy.
 */
function estimateBedrock(b: BedrockDeployment, hours: number, environmentName: string | undefined, spec: Spec | undefined): DeploymentEstimate[] {
  const at = throughputRegions(b, environmentName, spec);
  const all = [...new Set(at.map((a) => a.region))];
  const units = b.bedrockThroughput?.modelUnits ?? 0;
  const oneTime: OneTime = { minutes: 0, computeType: 'none', cost: 0, price: null, note: 'Bedrock custom model: nothing is built.', buildKey: JSON.stringify([b.name, b.model]) };
  const model = parseBedrockModelArn(b.model.bedrock);
  const facts = { name: b.name, target: b.target, instanceType: 'provisioned throughput', count: `${units} model unit${units === 1 ? '' : 's'}`, engine: `Bedrock ${model?.baseModel ?? 'custom model'}` };
  if (at.length === 0) {
    // Nothing bought where this estimate looks: a row that says so, at the model's own region, rather than no row.
    const where = model?.region ?? REFERENCE_REGION;
    const elsewhere = spec && b.bedrockThroughput ? bedrockThroughputTargets(b, spec.environments).map((x) => x.environment) : [];
    const why = `${b.name}: no Bedrock provisioned throughput is bought ${environmentName ? `in ${environmentName}` : 'anywhere'} (${elsewhere.length ? `bedrockThroughput is bought in ${elsewhere.join(', ')}` : 'no bedrockThroughput'}).`;
    return [deploymentEstimate({ ...facts, count: '0 model units', regions: [where], allRegions: [where], currency: currencyOf(where), assumptions: [why] }, [], oneTime)];
  }
  return regionsByCurrency(all).map(([currency, regions]) =>
    deploymentEstimate({ ...facts, regions, allRegions: all, currency, assumptions: [] }, at.filter((a) => currencyOf(a.region) === currency).map((a) => throughputResource(b, a, hours)), oneTime),
  );
}

export const CODEBUILD_NAMES: Record<string, string> = {
  BUILD_GENERAL1_SMALL: 'general1.small',
  BUILD_GENERAL1_MEDIUM: 'general1.medium',
  BUILD_GENERAL1_LARGE: 'general1.large',
  BUILD_GENERAL1_XLARGE: 'general1.xlarge',
  BUILD_GENERAL1_2XLARGE: 'general1.2xlarge',
};

interface GroupOptions {
  hours: number;
  book: PriceBook;
  environment?: EnvironmentSpec;
  environmentName?: string;
  spec?: Spec;
}

/** Regions grouped by currency, USD first: China and elsewhere are never summed together. */
export function regionsByCurrency(regions: string[]): [Currency, string[]][] {
  const groups = new Map<Currency, string[]>();
  for (const r of regions) groups.set(currencyOf(r), [...(groups.get(currencyOf(r)) ?? []), r]);
  return [...groups.entries()].sort(([a], [b]) => (a === b ? 0 : a === 'USD' ? -1 : 1));
}

/** The inputs renderBuild reads: equal inputs, equal image tag (it is a pure function of them). */
function buildKey(d: Deployment, region: string): string {
  return JSON.stringify([d.name, d.model, d.engine ?? null, d.build, region]);
}

/** The content hash build-model tags the image with (md-<sha>); undefined when the build cannot be rendered. */
function imageTag(d: Deployment, region: string, spec?: Spec): string | undefined {
  try {
    return renderBuild(d, { region, locate: spec ? (p) => spec.locate(p) : undefined }).tag;
  } catch {
    return undefined;
  }
}

/**
 * Where a deployment's build inputs differ between base and head, the image tags of both, so a
 * change that renders the same image (a new build.estimatedMinutes) causes no build. A change of
 * engine or weights is a new image without rendering (no tags: the build is charged).
 */
export function resolveImageTags(head: Estimate, base: Estimate, deployments: { head: Deployment[]; base: Deployment[]; headSpec?: Spec; baseSpec?: Spec }): void {
  for (const next of head.deployments) {
    const past = base.deployments.find((p) => p.name === next.name && p.currency === next.currency);
    if (!past || past.oneTime.buildKey === next.oneTime.buildKey || next.oneTime.minutes === 0) continue;
    const n = deployments.head.find((d) => d.name === next.name);
    const p = deployments.base.find((d) => d.name === past.name);
    const region = next.regions[0];
    if (!n || !p || !region || rendersOtherImage(n, p)) continue;
    next.oneTime.imageTag = imageTag(n, region, deployments.headSpec);
    past.oneTime.imageTag = imageTag(p, past.regions[0] ?? region, deployments.baseSpec);
  }
}

function oneTimeCost(d: Deployment, region: string, o: GroupOptions): OneTime {
  const minutes = estimateBuildMinutes(d);
  const computeType = CODEBUILD_NAMES[d.build.computeType] ?? d.build.computeType;
  if (minutes === 0) return { minutes, computeType, price: null, cost: 0, note: 'Prebuilt image: no build.', buildKey: buildKey(d, region) };
  const price = o.book.support('codebuild', d.build.computeType, region);
  const note = d.build.estimatedMinutes !== undefined ? 'build.estimatedMinutes from the spec.' : "build-model's estimate of its minutes.";
  return { minutes, computeType, price, cost: price ? minutes * Number(price.price) : null, note, buildKey: buildKey(d, region) };
}

/** Components without a price, and those whose cost depends on usage the spec does not give. */
function gaps(resources: ResourceEstimate[]): { unpriced: string[]; usageBased: string[] } {
  const unpriced: string[] = [];
  const usageBased: string[] = [];
  for (const r of resources) {
    for (const c of r.components) {
      if (c.monthlyCost) continue;
      if (c.price) usageBased.push(`${r.name} (${r.region}): ${c.name} (depends on usage)`);
      else unpriced.push(`${r.name} (${r.region}): ${c.name} (no known price)`);
    }
  }
  return { unpriced, usageBased };
}

function engineLabel(d: Deployment): string {
  if (d.model.image && !d.engine) return 'prebuilt image';
  const e = d.engine;
  return e ? `${e.name}${e.version ? ` ${e.version}` : ''}` : 'default engine';
}

/** One currency's part of a deployment: its regions, their resources, the build. */
function estimateGroup(d: Deployment, currency: Currency, regions: string[], all: string[], o: GroupOptions): DeploymentEstimate {
  const resources: ResourceEstimate[] = [];
  const assumptions: string[] = [];
  // What the template creates does not depend on the region (names and ARNs do): render it once.
  const stack = stackParameters(d, regions[0] ?? REFERENCE_REGION, o.environment);
  for (const region of regions) {
    const part = estimateRegion(d, region, stack, o);
    resources.push(...part.resources);
    for (const a of part.assumptions) if (!assumptions.includes(a)) assumptions.push(a);
  }
  const oneTime = oneTimeCost(d, regions[0] ?? REFERENCE_REGION, o);
  return deploymentEstimate({ name: d.name, target: d.target, instanceType: d.instanceType, count: countLabel(d), engine: engineLabel(d), regions, allRegions: all, currency, assumptions }, resources, oneTime);
}

/** What a deployment's part is besides its priced resources (names, labels, regions). */
export type DeploymentFacts = Omit<DeploymentEstimate, 'resources' | 'monthly' | 'oneTime' | 'unpriced' | 'usageBased'>;

/** A part's totals from its components: the monthly sum and what it leaves out (also how the comment job re-derives a result file). */
export function deploymentEstimate(facts: DeploymentFacts, resources: ResourceEstimate[], oneTime: OneTime): DeploymentEstimate {
  const monthly = resources.reduce((acc, r) => r.components.reduce((m, c) => (c.monthlyCost ? addRanges(m, c.monthlyCost) : m), acc), ZERO);
  const { unpriced, usageBased } = gaps(resources);
  if (oneTime.minutes > 0 && !oneTime.price) unpriced.push(`CodeBuild ${oneTime.computeType} build minutes (no verified price)`);
  return { ...facts, resources, monthly, oneTime, unpriced, usageBased };
}

/** A deployment's estimate: one part per currency its regions are billed in (usually one). */
export function estimateDeployment(d: Deployment, options: EstimateOptions = {}): DeploymentEstimate[] {
  const o: GroupOptions = { hours: options.hoursPerMonth ?? DEFAULT_HOURS_PER_MONTH, book: options.prices ?? new PriceBook(), environment: options.environment, environmentName: options.environmentName, spec: options.spec };
  const regions = regionsFor(d, options.environment);
  return regionsByCurrency(regions).map(([currency, inCurrency]) => estimateGroup(d, currency, inCurrency, regions, o));
}

export function estimateDeployments(deployments: Deployment[], options: EstimateOptions = {}): Estimate {
  const hours = options.hoursPerMonth ?? DEFAULT_HOURS_PER_MONTH;
  if (!(hours > 0 && hours <= 744)) {
    throw new DeployError(`hours per month is ${hours}, which is not valid`, { title: 'Invalid input', hint: 'A number of hours from 1 to 744 (730 is the AWS calculator convention, some teams use 720).' });
  }
  const prices = options.prices ?? new PriceBook();
  const bedrock = (options.bedrock ?? []).flatMap((b) => estimateBedrock(b, hours, options.environmentName, options.spec));
  return { hoursPerMonth: hours, deployments: [...deployments.flatMap((d) => estimateDeployment(d, { ...options, prices, hoursPerMonth: hours })), ...bedrock] };
}
