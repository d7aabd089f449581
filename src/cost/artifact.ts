/**
 * The figures the estimate job hands to the comment job (the workflow_run path for pull requests
 * from forks). The file comes from a pull request's job, which a fork controls entirely, so the
 * comment job believes no figure in it: it validates the shape (JSON Schema), prices every component
 * again from the catalogue (src/prices) by the same rules as the estimate (SUPPORT_PRICES, the
 * instance's own type), re-derives every sum with the estimate's own code (deploymentEstimate,
 * buildReport), and refuses the file when any figure it states differs from the one re-derived.
 * What it keeps from the file: the quantities (non-negative, shown beside every figure), names and
 * notes (rendered inert by render.ts), and where to post. The budget is the comment job's own input.
 */
import type { ValidateFunction } from 'ajv';
import { DeployError } from '../core/errors';
import { Currency, Price, PriceService, currencyOf } from '../prices/catalog';
import type { CostComponent, DeploymentEstimate, Estimate, OneTime, ResourceEstimate } from './estimate';
import { CODEBUILD_NAMES, PriceBook, SUPPORT_PRICES, SupportKind, component, deploymentEstimate, instanceService } from './estimate';
import { Range, ZERO, formatMoney } from './money';
import type { CostReport, DeploymentChange } from './report';
import { buildReport } from './report';

export const MARKER_PATTERN = '^<!-- model-deploy:estimate-cost config=[^\\n<>]* -->$';

/** What the comment job needs besides the report. */
export interface CommentFigures {
  marker: string;
  unchanged: boolean;
  pullRequest?: number;
  headSha?: string;
}

export interface Artifact {
  report: CostReport;
  comment: CommentFigures;
}

// ---- the schema --------------------------------------------------------------------------------

const text = { type: 'string', maxLength: 2000 } as const;
const name = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._ ()-]{0,80}$' } as const;
// Costs, quantities and minutes: never negative (a "-$30,000 discount" row is refused here).
const amount = { type: 'number', minimum: 0, maximum: 1e12 } as const;
const texts = { type: 'array', maxItems: 500, items: text } as const;
const currency = { enum: ['USD', 'CNY'] } as const;
const nullable = (schema: object) => ({ anyOf: [{ type: 'null' }, schema] });
const object = (properties: Record<string, object>, required: string[]) => ({ type: 'object', properties, required, additionalProperties: false });

// The figures as the result file writes them: decimal strings (report.ts), never negative but for a difference.
const decimal = { type: 'string', pattern: '^\\d+(\\.\\d+)?$' } as const;
const signedDecimal = { type: 'string', pattern: '^-?\\d+(\\.\\d+)?$' } as const;
const priceSource = object(
  { origin: { enum: ['catalog', 'derived', 'catalog-other-region', 'live'] }, source: text, asOf: text, region: name, currency, service: name, key: name },
  ['origin', 'source', 'asOf', 'region', 'currency', 'service', 'key'],
);
const componentSchema = object(
  {
    kind: name,
    name: text,
    unit: text,
    hourlyQuantity: nullable(decimal),
    monthlyQuantity: nullable(decimal),
    monthlyQuantityMax: nullable(decimal),
    price: nullable(decimal),
    hourlyCost: nullable(decimal),
    monthlyCost: nullable(decimal),
    monthlyCostMax: nullable(decimal),
    priceSource: nullable(priceSource),
    note: text,
  },
  ['kind', 'name', 'unit', 'monthlyQuantity', 'monthlyQuantityMax', 'price', 'monthlyCost', 'monthlyCostMax', 'priceSource'],
);
// "bedrock-throughput:prod": a resource kind names its environment after a colon.
const resourceKind = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,120}$' } as const;
const resource = object(
  { kind: resourceKind, name: text, resourceType: name, metadata: object({ region: name }, ['region']), monthlyCost: nullable(decimal), costComponents: { type: 'array', maxItems: 50, items: componentSchema } },
  ['kind', 'name', 'resourceType', 'metadata', 'costComponents'],
);
const oneTime = object(
  { buildMinutes: amount, computeType: name, price: nullable(decimal), priceSource: nullable(priceSource), note: text, buildKey: { type: 'string', maxLength: 20000 }, imageTag: name },
  ['buildMinutes', 'computeType', 'price', 'priceSource', 'buildKey'],
);
const target = { enum: ['sagemaker-realtime', 'sagemaker-async', 'ec2', 'ecs', 'bedrock'] } as const;
const part = object(
  { target, instanceType: name, count: text, engine: text, regions: { type: 'array', items: name }, allRegions: { type: 'array', items: name }, assumptions: texts },
  ['target', 'instanceType', 'count', 'engine', 'regions', 'allRegions', 'assumptions'],
);
const breakdown = object(
  {
    part: nullable(part),
    resources: { type: 'array', maxItems: 200, items: resource },
    totalMonthlyCost: decimal,
    totalMonthlyCostMax: decimal,
    totalOneTimeCost: nullable(decimal),
    oneTime,
    unpriced: texts,
    usageBased: texts,
  },
  ['part', 'resources', 'totalMonthlyCost', 'totalMonthlyCostMax', 'totalOneTimeCost'],
);
const project = object(
  {
    name: text,
    metadata: object(
      {
        deployment: name,
        label: name,
        status: { enum: ['added', 'removed', 'changed', 'unchanged'] },
        currency,
        target,
        instanceType: name,
        regions: { type: 'array', items: name },
        oneTimeCost: nullable(decimal),
        oneTimeNote: text,
        // Shown by the estimate job only (the comment job cannot tell which configuration was measured); still held to its shape.
        benchmark: {
          anyOf: [
            object({ measured: { const: false } }, ['measured']),
            object(
              { measured: { const: true }, perMillionOutputTokens: nullable({ type: 'number', minimum: 0 }), currency, date: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' }, commit: { type: 'string', pattern: '^[0-9a-f]{7}$' } },
              ['measured', 'perMillionOutputTokens', 'currency', 'date', 'commit'],
            ),
          ],
        },
      },
      ['deployment', 'label', 'status', 'currency', 'oneTimeCost'],
    ),
    pastBreakdown: nullable(breakdown),
    breakdown,
    diff: nullable(object({ totalMonthlyCost: signedDecimal, totalMonthlyCostMax: signedDecimal, percent: nullable(text), percentMax: nullable(text) }, ['totalMonthlyCost', 'totalMonthlyCostMax'])),
  },
  ['name', 'metadata', 'pastBreakdown', 'breakdown', 'diff'],
);
// Other fields (a body written by an older version, or planted) are ignored: the body is rendered here.
const commentFigures = { ...object({ marker: { type: 'string', pattern: MARKER_PATTERN }, unchanged: { type: 'boolean' }, pullRequest: { type: 'integer', minimum: 1 }, headSha: { type: 'string', pattern: '^[0-9a-f]{40}$' } }, ['marker', 'unchanged']), additionalProperties: true };

/**
 * The part of the result file the comment job reads: the infracost-like JSON result (one form of the
 * report, as the file's readers see it) and where to post. Other fields (totals, prices, notes, the estimate
 * job's budget, `comment.unchanged`) are ignored: the comment job computes them itself.
 */
export const ARTIFACT_SCHEMA = {
  type: 'object',
  properties: {
    project: name,
    hoursPerMonth: { type: 'number', exclusiveMinimum: 0, maximum: 744 },
    compared: { type: 'boolean' },
    baseNote: text,
    projects: { type: 'array', maxItems: 1000, items: project },
    comment: commentFigures,
  },
  required: ['project', 'hoursPerMonth', 'compared', 'projects', 'comment'],
} as const;

let validator: ValidateFunction | undefined;

/** Compiled on first use: only comment mode needs it (and, in the bundle, loads Ajv as a chunk). */
async function validate(value: unknown): Promise<ValidateFunction['errors']> {
  if (!validator) {
    const { default: Ajv } = await import('ajv');
    validator = new Ajv({ allErrors: false, strict: false }).compile(ARTIFACT_SCHEMA);
  }
  return validator(value) ? null : validator.errors ?? [];
}

/** What the comment job itself decides, never the file: its own hours-per-month input. */
export interface TrustedInputs {
  hoursPerMonth: number;
}

const HINT = 'The comment job posts only figures it re-derives from the catalogue; nothing was posted. A result file from another version of estimate-cost, or one a pull request altered, is refused.';

function refuse(file: string, where: string, what: string): DeployError {
  return new DeployError(`${file} is not a valid estimate-cost result: ${where}: ${what}`, { title: 'Invalid estimate result', hint: HINT });
}

/** Two figures agree to half a cent (the file went through JSON; anything larger is a different figure). */
const same = (a: number, b: number) => Math.abs(a - b) < 0.005;
const sameRange = (a: Range | null, b: Range | null) => (a === null || b === null ? a === b : same(a.low, b.low) && same(a.high, b.high));

function showRange(r: Range | null, currency: Currency): string {
  if (!r) return 'none';
  return same(r.low, r.high) ? formatMoney(r.low, currency) : `${formatMoney(r.low, currency)} – ${formatMoney(r.high, currency)}`;
}

// ---- the file's form (report.ts's JSON result), as the schema above checks it --------------------

type Dec = string;
interface PriceSourceJson {
  origin: Price['origin'];
  source: string;
  asOf: string;
  region: string;
  currency: Currency;
  service: PriceService;
  key: string;
}
interface ComponentJson {
  kind: string;
  name: string;
  unit: string;
  monthlyQuantity: Dec | null;
  monthlyQuantityMax: Dec | null;
  price: Dec | null;
  monthlyCost: Dec | null;
  monthlyCostMax: Dec | null;
  priceSource: PriceSourceJson | null;
  note?: string;
}
interface BreakdownJson {
  part: Pick<DeploymentEstimate, 'target' | 'instanceType' | 'count' | 'engine' | 'regions' | 'allRegions' | 'assumptions'> | null;
  resources: { kind: string; name: string; resourceType: string; metadata: { region: string }; costComponents: ComponentJson[] }[];
  totalMonthlyCost: Dec;
  totalMonthlyCostMax: Dec;
  totalOneTimeCost: Dec | null;
  oneTime?: { buildMinutes: number; computeType: string; price: Dec | null; priceSource: PriceSourceJson | null; note?: string; buildKey: string; imageTag?: string };
  unpriced?: string[];
  usageBased?: string[];
}
interface ProjectJson {
  metadata: { deployment: string; label: string; status: DeploymentChange['status']; currency: Currency; oneTimeCost: Dec | null };
  pastBreakdown: BreakdownJson | null;
  breakdown: BreakdownJson;
  diff: { totalMonthlyCost: Dec; totalMonthlyCostMax: Dec } | null;
}
interface ResultJson {
  project: string;
  hoursPerMonth: number;
  compared: boolean;
  baseNote?: string;
  projects: ProjectJson[];
  comment: CommentFigures;
}

const range = (low: Dec | null, high: Dec | null): Range | null => (low === null || high === null ? null : { low: Number(low), high: Number(high) });
/** A price as the file states it (the value and where it says it is from). */
const statedPrice = (value: Dec | null, source: PriceSourceJson | null, unit: string): Price | null =>
  value === null || source === null ? null : { service: source.service, key: source.key, region: source.region, currency: source.currency, price: value, unit, origin: source.origin, source: source.source, asOf: source.asOf };

/** Re-derives a result file's figures for one deployment part, refusing any stated figure that differs. */
class Rederive {
  constructor(
    private readonly file: string,
    readonly book: PriceBook,
  ) {}

  private fail(where: string, what: string): never {
    throw refuse(this.file, where, what);
  }

  /** The price a component of `kind` has in `region` by the estimate's rules: the catalogue's, or none. */
  private expected(kind: string, d: PartOf, region: string, where: string): { service: PriceService; key: string; price: Price | null } | undefined {
    if (kind === 'instance') {
      const service = instanceService(d.target);
      return { service, key: d.instanceType, price: this.book.instanceType(service, d.instanceType, region) };
    }
    if (kind === 'bedrock-model-units') return undefined; // no verified price: always unpriced
    // Own keys only: "toString" is `in` every object.
    if (!Object.prototype.hasOwnProperty.call(SUPPORT_PRICES, kind)) this.fail(`${where}/kind`, `unknown component kind "${kind}" (estimate-cost writes ${['instance', ...Object.keys(SUPPORT_PRICES), 'bedrock-model-units'].join(', ')})`);
    const [service, key] = SUPPORT_PRICES[kind as SupportKind];
    return { service, key, price: this.book.support(service, key, region) };
  }

  /** The stated price must be the catalogue's (same service, key, region and value), or absent when the catalogue has none. */
  private price(stated: Price | null, kind: string, d: PartOf, region: string, where: string): Price | null {
    const want = this.expected(kind, d, region, where);
    if (!want) {
      if (stated) this.fail(`${where}/price`, `a ${kind} component has no verified price, the file gives ${stated.price} ${stated.currency}`);
      return null;
    }
    const label = `${want.service} ${want.key} in ${region}`;
    if (stated && (stated.service !== want.service || stated.key !== want.key)) {
      this.fail(`${where}/price`, `a ${kind} component of ${d.name} is priced as ${stated.service} ${stated.key}; its price is ${label}`);
    }
    if (stated && stated.origin === 'live') {
      this.fail(`${where}/price`, `${label} is a live Price List API price, which the comment job cannot check; estimate with live-prices: false (cost-comment.yml does)`);
    }
    if (stated && (!want.price || stated.region !== region || stated.currency !== want.price.currency || Number(stated.price) !== Number(want.price.price))) {
      const catalogue = want.price ? `the catalogue's price is ${want.price.price} ${want.price.currency}` : 'the catalogue has no price for it';
      this.fail(`${where}/price`, `${label} at ${stated.price} ${stated.currency} (region ${stated.region}); ${catalogue}`);
    }
    if (!stated && want.price) this.fail(`${where}/price`, `${label} is left unpriced; the catalogue's price is ${want.price.price} ${want.price.currency}`);
    return want.price;
  }

  private component(c: ComponentJson, d: PartOf, region: string, where: string): CostComponent {
    const quantity = range(c.monthlyQuantity, c.monthlyQuantityMax);
    if (quantity && quantity.low > quantity.high) this.fail(`${where}/monthlyQuantity`, `low ${quantity.low} is above high ${quantity.high}`);
    const price = this.price(statedPrice(c.price, c.priceSource, c.unit), c.kind, d, region, where);
    const derived = component(c.kind, c.name, c.unit, quantity, price, c.note);
    const stated = range(c.monthlyCost, c.monthlyCostMax);
    if (!sameRange(stated, derived.monthlyCost)) {
      const how = quantity && price ? `${quantity.high} ${c.unit} × ${price.price} ${price.currency} = ${showRange(derived.monthlyCost, d.currency)}` : `${showRange(derived.monthlyCost, d.currency)} (${quantity ? 'no price' : 'depends on usage'})`;
      this.fail(`${where}/monthlyCost`, `says ${showRange(stated, d.currency)}; ${how}`);
    }
    return derived;
  }

  private resource(r: BreakdownJson['resources'][number], d: PartOf, where: string): ResourceEstimate {
    const region = r.metadata.region;
    if (currencyOf(region) !== d.currency) this.fail(`${where}/metadata/region`, `${region} is billed in ${currencyOf(region)}, the part is in ${d.currency}`);
    return { kind: r.kind, name: r.name, resourceType: r.resourceType, region, components: r.costComponents.map((c, i) => this.component(c, d, region, `${where}/costComponents/${i}`)) };
  }

  /** The build: minutes × the catalogue's CodeBuild price in the part's first region. */
  private oneTime(b: BreakdownJson, d: PartOf, where: string): OneTime {
    const o = b.oneTime;
    if (!o) this.fail(where, 'a deployment part without its oneTime (the build)');
    const computeType = Object.keys(CODEBUILD_NAMES).find((k) => CODEBUILD_NAMES[k] === o.computeType) ?? o.computeType;
    const region = d.regions[0];
    const stated = statedPrice(o.price, o.priceSource, 'minute');
    const statedCost = b.totalOneTimeCost === null ? null : Number(b.totalOneTimeCost);
    let price: Price | null = null;
    if (o.buildMinutes > 0 && region) {
      price = this.book.support('codebuild', computeType, region);
      if (o.price !== null && (stated?.service !== 'codebuild' || stated.key !== computeType || Number(o.price) !== Number(price?.price ?? NaN))) {
        this.fail(`${where}/oneTime/price`, `CodeBuild ${computeType} in ${region} at ${o.price} ${stated?.currency ?? d.currency}; ${price ? `the catalogue's price is ${price.price} ${price.currency}` : 'the catalogue has no price for it'}`);
      }
    }
    const cost = o.buildMinutes === 0 ? 0 : price ? o.buildMinutes * Number(price.price) : null;
    if (o.buildMinutes > 0 && !region) this.fail(`${where}/oneTime/buildMinutes`, `${o.buildMinutes} build minutes in a part without a region`);
    if (cost === null ? statedCost !== null : statedCost === null || !same(statedCost, cost)) {
      this.fail(`${where}/totalOneTimeCost`, `says ${statedCost === null ? 'unpriced' : formatMoney(statedCost, d.currency)}; ${o.buildMinutes} minutes ${price ? `× ${price.price} ${price.currency} = ${formatMoney(cost ?? 0, d.currency)}` : 'have no verified price'}`);
    }
    return { minutes: o.buildMinutes, computeType: o.computeType, cost, price, note: o.note, buildKey: o.buildKey, imageTag: o.imageTag };
  }

  /** One side of a change (`breakdown` or `pastBreakdown`); undefined where the side has no part (stated as zero). */
  part(b: BreakdownJson | null, p: ProjectJson, where: string): DeploymentEstimate | undefined {
    const stated = range(b?.totalMonthlyCost ?? '0', b?.totalMonthlyCostMax ?? '0') as Range;
    if (!b?.part) {
      if (b && (b.resources.length > 0 || !sameRange(stated, ZERO))) this.fail(`${where}/part`, 'figures for a side with no deployment part');
      return undefined;
    }
    const d: PartOf = { ...b.part, name: p.metadata.deployment, currency: p.metadata.currency };
    for (const [i, r] of d.regions.entries()) if (currencyOf(r) !== d.currency) this.fail(`${where}/part/regions/${i}`, `${r} is billed in ${currencyOf(r)}, the part is in ${d.currency}`);
    const resources = b.resources.map((r, i) => this.resource(r, d, `${where}/resources/${i}`));
    const oneTime = this.oneTime(b, d, where);
    const derived = deploymentEstimate(
      { name: d.name, target: d.target, instanceType: d.instanceType, count: d.count, engine: d.engine, regions: d.regions, allRegions: d.allRegions, currency: d.currency, assumptions: d.assumptions },
      resources,
      oneTime,
    );
    if (!sameRange(stated, derived.monthly)) this.fail(`${where}/totalMonthlyCost`, `says ${showRange(stated, d.currency)}; its components sum to ${showRange(derived.monthly, d.currency)}`);
    return derived;
  }
}

/** A part's identity, as the checks above use it. */
type PartOf = NonNullable<BreakdownJson['part']> & { name: string; currency: Currency };

/** The change a re-derived report has for the file's project, and the figures the file states for it. */
function checkChange(file: string, stated: ProjectJson, derived: DeploymentChange | undefined, where: string): void {
  const m = stated.metadata;
  if (!derived) throw refuse(file, where, `${m.deployment} (${m.currency}) appears twice`);
  if (stated.diff) {
    const diff = range(stated.diff.totalMonthlyCost, stated.diff.totalMonthlyCostMax) as Range;
    if (!sameRange(diff, derived.diff)) throw refuse(file, `${where}/diff`, `says ${showRange(diff, m.currency)}; re-derived from the components: ${showRange(derived.diff, m.currency)}`);
  }
  if (m.status !== derived.status) throw refuse(file, `${where}/metadata/status`, `says ${m.status}; the components say ${derived.status}`);
  const oneTime = m.oneTimeCost === null ? null : Number(m.oneTimeCost);
  if (oneTime === null ? derived.oneTime !== null : derived.oneTime === null || !same(oneTime, derived.oneTime)) {
    throw refuse(file, `${where}/metadata/oneTimeCost`, `says ${oneTime === null ? 'unpriced' : formatMoney(oneTime, m.currency)}; re-derived: ${derived.oneTime === null ? 'unpriced' : formatMoney(derived.oneTime, m.currency)}`);
  }
}

/**
 * The result file, validated and re-derived: a report computed here from catalogue prices and the
 * file's quantities, or a refusal naming the first figure the file states differently.
 */
export async function readArtifact(value: unknown, file: string, trusted: TrustedInputs): Promise<Artifact> {
  const errors = await validate(value);
  if (errors) {
    // The most specific error: for "null or a range", the range's own ("low must be >= 0"), not "must be null".
    const first = [...errors].filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'type').sort((a, b) => b.instancePath.length - a.instancePath.length)[0] ?? errors[0];
    // A figure is a decimal string: "must match pattern ^\d+…" says less than what would be valid.
    const pattern = (first?.params as { pattern?: string } | undefined)?.pattern;
    const message = pattern === decimal.pattern ? 'must be a non-negative decimal such as "12.5" (costs, quantities and prices are never negative)' : pattern === signedDecimal.pattern ? 'must be a decimal such as "-12.5"' : first?.message;
    throw refuse(file, first?.instancePath || '/', message ?? 'schema mismatch');
  }
  const r = value as ResultJson;
  if (r.hoursPerMonth !== trusted.hoursPerMonth) {
    throw new DeployError(`${file} was priced with hours-per-month ${r.hoursPerMonth}; this job's hours-per-month is ${trusted.hoursPerMonth}`, {
      title: 'Invalid estimate result',
      hint: 'Give cost-comment.yml and cost-comment-post.yml the same hours-per-month (the comment job\'s own input decides). Nothing was posted.',
    });
  }
  const rederive = new Rederive(file, new PriceBook());
  const head: Estimate = { hoursPerMonth: r.hoursPerMonth, deployments: [] };
  const base: Estimate = { hoursPerMonth: r.hoursPerMonth, deployments: [] };
  for (const [i, p] of r.projects.entries()) {
    const where = `/projects/${i}`;
    if (!r.compared && (p.pastBreakdown || p.diff)) throw refuse(file, `${where}/pastBreakdown`, 'a base in a report that compares with none');
    if (r.compared && (!p.pastBreakdown || !p.diff)) throw refuse(file, `${where}/pastBreakdown`, 'no base in a report that compares with one');
    const next = rederive.part(p.breakdown, p, `${where}/breakdown`);
    const past = rederive.part(p.pastBreakdown, p, `${where}/pastBreakdown`);
    if (!next && !past) throw refuse(file, where, 'has neither a base nor a new estimate');
    if (next) head.deployments.push(next);
    if (past) base.deployments.push(past);
  }
  const report = buildReport({
    project: r.project,
    head,
    base: r.compared ? base : undefined,
    baseNote: r.baseNote,
    prices: rederive.book.usedPrices(),
    priceNotes: ['Every figure re-derived by the comment job from the catalogue in model-deploy-actions and the quantities the estimate job wrote.'],
  });
  const key = (c: { name: string; currency: Currency }) => `${c.name}|${c.currency}`;
  const derived = new Map(report.changes.map((c) => [key(c), c]));
  for (const [i, p] of r.projects.entries()) {
    const k = key({ name: p.metadata.deployment, currency: p.metadata.currency });
    checkChange(file, p, derived.get(k), `/projects/${i}`);
    derived.delete(k);
  }
  return { report, comment: r.comment };
}
