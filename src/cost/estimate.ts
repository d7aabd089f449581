/**
 * The cost model: per deployment and region, the monthly cost of what the stack runs (instances,
 * storage, load balancer, NAT gateway, image, weights, API-key secret, SNS, KMS key) and the
 * one-time cost of the build. Pure and synchronous: prices come from a PriceBook resolved beforehand.
 */
import { DeployError } from '../core/errors';
import { estimateBuildMinutes } from '../image/estimate';
import type { Deployment, EnvironmentSpec, Spec } from '../config/types';
import { regionsFor } from '../config/load';
import { Catalog, Currency, Price, PriceService, REFERENCE_REGION, currencyOf, defaultCatalog } from './catalog';
import { Range, ZERO, addRanges } from './money';

export const DEFAULT_HOURS_PER_MONTH = 730;
/** Used when usage.imageSizeGb is not given: vLLM/TGI/LMI serving images are 8-15 GB. */
export const ASSUMED_IMAGE_GB = 10;
/** Used when model.sizeGb is not given (the build estimate assumes the same). */
export const ASSUMED_WEIGHTS_GB = 15;

export interface CostComponent {
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
  name: string;
  resourceType: string;
  region: string;
  components: CostComponent[];
}

export interface DeploymentEstimate {
  name: string;
  target: Deployment['target'];
  instanceType: string;
  regions: string[];
  currency: Currency;
  resources: ResourceEstimate[];
  /** Sum of the priced monthly components. */
  monthly: Range;
  oneTime: { minutes: number; computeType: string; cost: number | null; price: Price | null; note?: string };
  /** Components without a price or usage figure (shown, not silently $0). */
  unpriced: string[];
  assumptions: string[];
}

export interface Estimate {
  hoursPerMonth: number;
  deployments: DeploymentEstimate[];
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
    return [...this.used.values()].sort((a, b) => a.service.localeCompare(b.service) || a.region.localeCompare(b.region) || a.key.localeCompare(b.key));
  }

  /** Instance-hour price; an unknown type or region is an error naming what is known. */
  instance(d: Deployment, region: string, spec?: Spec): Price {
    const service: PriceService = d.target.startsWith('sagemaker') ? 'sagemaker-hosting' : 'ec2';
    const live = this.live.get(PriceBook.liveKey(service, d.instanceType, region));
    if (live) return this.remember(live);
    const found = this.catalog.find(service, d.instanceType, region);
    if (found) return this.remember(found);
    if (service === 'sagemaker-hosting') {
      const derived = this.catalog.derivedSageMaker(d.instanceType, region);
      if (derived) return this.remember(derived);
    }
    const label = service === 'ec2' ? 'EC2' : 'SageMaker hosting';
    const near = this.catalog.nearestKeys(service, d.instanceType, region);
    const regions = this.catalog.regions(service, d.instanceType);
    const where = spec ? spec.locate(['deployments', d.name, 'instanceType']) : { file: d.source.file, line: d.source.line };
    throw new DeployError(`deployments.${d.name}: no known ${label} price for ${d.instanceType} in ${region}`, {
      location: where,
      title: 'No price',
      hint:
        (regions.length > 0 ? `${d.instanceType} is priced in: ${regions.join(', ')}. ` : '') +
        `Nearest priced types${this.catalog.keys(service, region).length > 0 ? ` in ${region}` : ''}: ${near.join(', ')}. ` +
        'To add a price, put it in src/cost/catalog/prices.json with its unit, region, source and date (docs/cost.md), or run with live-prices: true.',
    });
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
  prices?: PriceBook;
  spec?: Spec;
}

const per = (range: Range, f: (n: number) => number): Range => ({ low: f(range.low), high: f(range.high) });

function component(name: string, unit: string, quantity: Range | null, price: Price | null, note?: string): CostComponent {
  const monthlyCost = quantity && price ? per(quantity, (q) => q * Number(price.price)) : null;
  return { name, unit, quantity, price, monthlyCost, note };
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
  assumptions: string[];
}

const TARGET_KIND: Record<Deployment['target'], string> = {
  'sagemaker-realtime': 'SageMaker real-time endpoint',
  'sagemaker-async': 'SageMaker async endpoint',
  ec2: 'EC2 instances',
  ecs: 'ECS service (EC2 launch type)',
};

function resource(x: RegionContext, name: string, resourceType: string, components: CostComponent[]): ResourceEstimate {
  return { name: `${x.d.name} ${name}`, resourceType, region: x.region, components };
}

/** Caveats of pricing async inference at the hosting rate (prices.md 1d). */
function asyncNote(x: RegionContext, instance: CostComponent): void {
  instance.note = [instance.note, 'Async inference is priced at the real-time hosting rate: AWS bills it under a separate AsyncInf usage type whose rate matched Hosting wherever it was seen, but no data file confirms it (prices.md 1d).'].filter(Boolean).join(' ');
  if (!x.assumptions.some((a) => a.startsWith('Async'))) x.assumptions.push('Async inference priced at the real-time hosting rate (not confirmed by a data file, prices.md 1d).');
  if (x.d.instanceType === 'ml.g4dn.xlarge') x.assumptions.push('ml.g4dn.xlarge is reportedly not offered for async inference; the smallest g4dn there is 2xlarge.');
}

function computeResource(x: RegionContext, spec?: Spec): ResourceEstimate {
  const { d, run } = x;
  const sagemaker = d.target.startsWith('sagemaker');
  const instance = component(`Instance usage (${d.instanceType}, ${countLabel(d)})`, 'hours', run.hours, x.book.instance(d, x.region, spec), run.note);
  if (d.target === 'sagemaker-async') asyncNote(x, instance);
  const compute: CostComponent[] = [instance];
  const volume = d.volumeSizeGb;
  if (volume !== undefined) {
    const gbMonths = per(run.hours, (h) => (volume * h) / x.hours);
    compute.push(
      sagemaker
        ? component(`ML storage volume (${volume} GB per instance)`, 'GB-month', gbMonths, x.book.support('sagemaker-storage', 'ml-storage', x.region))
        : component(`EBS gp3 volume (${volume} GB per instance)`, 'GB-month', gbMonths, x.book.support('ebs', 'gp3-storage', x.region)),
    );
  }
  const type = sagemaker ? 'aws_sagemaker_endpoint' : d.target === 'ecs' ? 'aws_ecs_service' : 'aws_instance';
  return resource(x, TARGET_KIND[d.target], type, compute);
}

function loadBalancerResource(x: RegionContext): ResourceEstimate {
  const lcu = x.d.usage.lcuPerHour;
  return resource(x, 'Application Load Balancer', 'aws_lb', [
    component('Application load balancer', 'hours', { low: x.hours, high: x.hours }, x.book.support('elb', 'alb-hours', x.region)),
    component('Load balancer capacity units', 'LCU-hours', { low: lcu * x.hours, high: lcu * x.hours }, x.book.support('elb', 'alb-lcu', x.region), `usage.lcuPerHour = ${lcu}`),
  ]);
}

function natResource(x: RegionContext): ResourceEstimate {
  const gb = x.d.usage.natDataGbPerMonth;
  return resource(x, 'NAT gateway', 'aws_nat_gateway', [
    component('NAT gateway', 'hours', { low: x.hours, high: x.hours }, x.book.support('vpc', 'nat-hours', x.region)),
    component('Data processed', 'GB', { low: gb, high: gb }, x.book.support('vpc', 'nat-data', x.region), `usage.natDataGbPerMonth = ${gb}`),
  ]);
}

function imageResource(x: RegionContext): ResourceEstimate {
  const { d } = x;
  const imageGb = (d.usage.imageSizeGb ?? ASSUMED_IMAGE_GB) + (d.model.bakeIntoImage ? d.model.sizeGb ?? ASSUMED_WEIGHTS_GB : 0);
  const note = d.usage.imageSizeGb === undefined ? `Image size assumed ${ASSUMED_IMAGE_GB} GB (set usage.imageSizeGb).` : undefined;
  if (note) x.assumptions.push(`${d.name}: ${note}`);
  return resource(x, 'ECR repository', 'aws_ecr_repository', [
    component('Image storage', 'GB-month', { low: imageGb, high: imageGb }, x.book.support('ecr', 'storage', x.region), note ?? 'Layers are shared between kept images: one image counted.'),
  ]);
}

function weightsResource(x: RegionContext): ResourceEstimate {
  const { d } = x;
  const gb = d.model.sizeGb ?? ASSUMED_WEIGHTS_GB;
  const note = d.model.sizeGb === undefined ? `Weights assumed ${ASSUMED_WEIGHTS_GB} GB (set model.sizeGb).` : undefined;
  if (note) x.assumptions.push(`${d.name}: ${note}`);
  return resource(x, 'model artifacts (S3)', 'aws_s3_object', [component('Storage (S3 Standard)', 'GB-month', { low: gb, high: gb }, x.book.support('s3', 'standard-storage', x.region), note)]);
}

function apiKeyResource(x: RegionContext): ResourceEstimate {
  const calls = per(x.run.hours, (h) => h / 10000);
  return resource(x, 'API-key secret', 'aws_secretsmanager_secret', [
    component('Secret', 'months', { low: 1, high: 1 }, x.book.support('secretsmanager', 'secret', x.region)),
    component('API calls', '10k requests', calls, x.book.support('secretsmanager', 'api-calls', x.region), 'One key refresh per instance-hour.'),
  ]);
}

function notificationResource(x: RegionContext): ResourceEstimate {
  const requests = x.d.usage.requestsPerMonth;
  const quantity = requests === undefined ? null : { low: requests / 1e6, high: requests / 1e6 };
  const note = requests === undefined ? 'Depends on usage: set usage.requestsPerMonth.' : 'One notification per request; free tier not applied.';
  return resource(x, 'SNS topics (success, error)', 'aws_sns_topic', [component('Notifications published', '1M requests', quantity, x.book.support('sns', 'requests', x.region), note)]);
}

function kmsResource(x: RegionContext): ResourceEstimate {
  return resource(x, 'KMS key', 'aws_kms_key', [component('Customer managed key', 'months', { low: 1, high: 1 }, x.book.support('kms', 'customer-managed-key', x.region))]);
}

/** The resources one region of a deployment runs, each a named step. */
function estimateRegion(d: Deployment, region: string, hours: number, book: PriceBook, spec?: Spec): { resources: ResourceEstimate[]; assumptions: string[] } {
  const run = instanceHours(d, hours, spec);
  const x: RegionContext = { d, region, hours, book, run, assumptions: run.note ? [run.note] : [] };
  const sagemaker = d.target.startsWith('sagemaker');
  const resources = [computeResource(x, spec)];
  if (!sagemaker) resources.push(loadBalancerResource(x));
  if (d.security.vpc?.natGateway) resources.push(natResource(x));
  if (!d.model.image) resources.push(imageResource(x));
  if (d.model.huggingface && !d.model.bakeIntoImage) resources.push(weightsResource(x));
  if (!sagemaker && d.apiKey.enabled) resources.push(apiKeyResource(x));
  if (d.target === 'sagemaker-async') resources.push(notificationResource(x));
  if (d.security.createKmsKey) resources.push(kmsResource(x));
  return { resources, assumptions: x.assumptions };
}

const CODEBUILD_NAMES: Record<string, string> = {
  BUILD_GENERAL1_SMALL: 'general1.small',
  BUILD_GENERAL1_MEDIUM: 'general1.medium',
  BUILD_GENERAL1_LARGE: 'general1.large',
  BUILD_GENERAL1_XLARGE: 'general1.xlarge',
  BUILD_GENERAL1_2XLARGE: 'general1.2xlarge',
};

export function estimateDeployment(d: Deployment, options: EstimateOptions = {}): DeploymentEstimate {
  const hours = options.hoursPerMonth ?? DEFAULT_HOURS_PER_MONTH;
  const book = options.prices ?? new PriceBook();
  const regions = regionsFor(d, options.environment);
  const first = regions[0] ?? REFERENCE_REGION;
  const currency = currencyOf(first);
  const resources: ResourceEstimate[] = [];
  const assumptions: string[] = [];
  for (const region of regions) {
    const part = estimateRegion(d, region, hours, book, options.spec);
    resources.push(...part.resources);
    for (const a of part.assumptions) if (!assumptions.includes(a)) assumptions.push(a);
  }
  let monthly = ZERO;
  const unpriced: string[] = [];
  for (const r of resources) {
    for (const c of r.components) {
      if (c.monthlyCost) monthly = addRanges(monthly, c.monthlyCost);
      else unpriced.push(`${r.name} (${r.region}): ${c.name}${c.price ? ' (usage not given)' : ' (no known price)'}`);
    }
  }
  const minutes = estimateBuildMinutes(d);
  const buildPrice = minutes > 0 ? book.support('codebuild', d.build.computeType, first) : null;
  const computeName = CODEBUILD_NAMES[d.build.computeType] ?? d.build.computeType;
  if (minutes > 0 && !buildPrice) unpriced.push(`CodeBuild ${computeName} build minutes (no verified price)`);
  return {
    name: d.name,
    target: d.target,
    instanceType: d.instanceType,
    regions,
    currency,
    resources,
    monthly,
    oneTime: {
      minutes,
      computeType: computeName,
      price: buildPrice,
      cost: buildPrice ? minutes * Number(buildPrice.price) : minutes === 0 ? 0 : null,
      note: minutes === 0 ? 'Prebuilt image: no build.' : d.build.estimatedMinutes !== undefined ? 'build.estimatedMinutes from the spec.' : "build-model's estimate of its minutes.",
    },
    unpriced,
    assumptions,
  };
}

export function estimateDeployments(deployments: Deployment[], options: EstimateOptions = {}): Estimate {
  const hours = options.hoursPerMonth ?? DEFAULT_HOURS_PER_MONTH;
  if (!(hours > 0 && hours <= 744)) {
    throw new DeployError(`hours per month is ${hours}, which is not valid`, { title: 'Invalid input', hint: 'A number of hours from 1 to 744 (730 is the AWS calculator convention, some teams use 720).' });
  }
  const prices = options.prices ?? new PriceBook();
  return { hoursPerMonth: hours, deployments: deployments.map((d) => estimateDeployment(d, { ...options, prices, hoursPerMonth: hours })) };
}
