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
import { Range, formatMoney } from './money';
import type { CostReport, DeploymentChange } from './report';
import { FIGURE_LABELS, buildReport } from './report';

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
const num = { type: 'number' } as const;
// Costs, quantities and minutes: never negative (a "-$30,000 discount" row is refused here).
const amount = { type: 'number', minimum: 0, maximum: 1e12 } as const;
const count = { type: 'integer', minimum: 0 } as const;
const texts = { type: 'array', maxItems: 500, items: text } as const;
const currency = { enum: ['USD', 'CNY'] } as const;
const nullable = (schema: object) => ({ anyOf: [{ type: 'null' }, schema] });
const object = (properties: Record<string, object>, required: string[]) => ({ type: 'object', properties, required, additionalProperties: false });

const range = object({ low: amount, high: amount }, ['low', 'high']);
const price = object(
  {
    service: name,
    key: name,
    region: name,
    currency,
    price: { type: 'string', pattern: '^\\d+(\\.\\d+)?$' },
    unit: text,
    origin: { enum: ['catalog', 'derived', 'catalog-other-region', 'live'] },
    source: text,
    asOf: text,
    note: text,
    stale: text,
  },
  ['service', 'key', 'region', 'currency', 'price', 'unit', 'origin', 'source', 'asOf'],
);
const componentSchema = object({ kind: name, name: text, unit: text, quantity: nullable(range), price: nullable(price), monthlyCost: nullable(range), note: text }, ['kind', 'name', 'unit', 'quantity', 'price', 'monthlyCost']);
// "bedrock-throughput:prod": a resource kind names its environment after a colon.
const resourceKind = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,120}$' } as const;
const resource = object({ kind: resourceKind, name: text, resourceType: name, region: name, components: { type: 'array', maxItems: 50, items: componentSchema } }, ['kind', 'name', 'resourceType', 'region', 'components']);
const oneTime = object({ minutes: amount, computeType: name, cost: nullable(amount), price: nullable(price), note: text, buildKey: { type: 'string', maxLength: 20000 }, imageTag: name }, ['minutes', 'computeType', 'cost', 'price', 'buildKey']);
const estimate = object(
  {
    name,
    target: { enum: ['sagemaker-realtime', 'sagemaker-async', 'ec2', 'ecs', 'bedrock'] },
    instanceType: name,
    count: text,
    engine: text,
    regions: { type: 'array', items: name },
    allRegions: { type: 'array', items: name },
    currency,
    resources: { type: 'array', maxItems: 200, items: resource },
    monthly: range,
    oneTime,
    unpriced: texts,
    usageBased: texts,
    assumptions: texts,
  },
  ['name', 'target', 'instanceType', 'count', 'engine', 'regions', 'allRegions', 'currency', 'resources', 'monthly', 'oneTime', 'unpriced', 'usageBased', 'assumptions'],
);
const change = object(
  {
    name,
    label: name,
    currency,
    status: { enum: ['added', 'removed', 'changed', 'unchanged'] },
    past: estimate,
    next: estimate,
    pastMonthly: range,
    monthly: range,
    diff: object({ low: num, high: num }, ['low', 'high']),
    percent: num,
    percentMax: num,
    oneTime: nullable(amount),
    oneTimeNote: text,
    unpriced: count,
    usageBased: count,
    labels: { type: 'array', maxItems: 10, items: { enum: Object.keys(FIGURE_LABELS) } },
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
  ['name', 'label', 'currency', 'status', 'pastMonthly', 'monthly', 'diff', 'oneTime', 'unpriced', 'usageBased'],
);
const report = object(
  {
    project: name,
    hoursPerMonth: { type: 'number', exclusiveMinimum: 0, maximum: 744 },
    compared: { type: 'boolean' },
    baseNote: text,
    changes: { type: 'array', maxItems: 1000, items: change },
    totals: { type: 'array' },
    prices: { type: 'array', maxItems: 2000, items: price },
    assumptions: texts,
    priceNotes: texts,
    benchmarks: { type: 'boolean' },
  },
  ['project', 'hoursPerMonth', 'compared', 'changes', 'prices', 'assumptions', 'priceNotes'],
);
// Other fields (a body written by an older version, or planted) are ignored: the body is rendered here.
const commentFigures = { ...object({ marker: { type: 'string', pattern: MARKER_PATTERN }, unchanged: { type: 'boolean' }, pullRequest: { type: 'integer', minimum: 1 }, headSha: { type: 'string', pattern: '^[0-9a-f]{40}$' } }, ['marker', 'unchanged']), additionalProperties: true };

/**
 * The part of the result file the comment job reads; other fields (the JSON result, the estimate job's
 * budget, `comment.unchanged`, totals) are ignored: the comment job computes them itself.
 */
export const ARTIFACT_SCHEMA = { type: 'object', properties: { report, comment: commentFigures }, required: ['report', 'comment'] } as const;

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
  private expected(kind: string, d: DeploymentEstimate, region: string, where: string): { service: PriceService; key: string; price: Price | null } | undefined {
    if (kind === 'instance') {
      const service = instanceService(d.target);
      return { service, key: d.instanceType, price: this.book.instanceType(service, d.instanceType, region) };
    }
    if (kind === 'bedrock-model-units') return undefined; // no verified price: always unpriced
    // Own keys only: "toString" is `in` every object.
    if (!Object.prototype.hasOwnProperty.call(SUPPORT_PRICES, kind)) this.fail(where, `unknown component kind "${kind}" (estimate-cost writes ${['instance', ...Object.keys(SUPPORT_PRICES), 'bedrock-model-units'].join(', ')})`);
    const [service, key] = SUPPORT_PRICES[kind as SupportKind];
    return { service, key, price: this.book.support(service, key, region) };
  }

  /** The stated price must be the catalogue's (same service, key, region and value), or absent when the catalogue has none. */
  private price(stated: Price | null, kind: string, d: DeploymentEstimate, region: string, where: string): Price | null {
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

  private component(c: CostComponent, d: DeploymentEstimate, region: string, where: string): CostComponent {
    if (c.quantity && c.quantity.low > c.quantity.high) this.fail(`${where}/quantity`, `low ${c.quantity.low} is above high ${c.quantity.high}`);
    const price = this.price(c.price, c.kind, d, region, where);
    const derived = component(c.kind, c.name, c.unit, c.quantity, price, c.note);
    if (!sameRange(c.monthlyCost, derived.monthlyCost)) {
      const how = c.quantity && price ? `${c.quantity.high} ${c.unit} × ${price.price} ${price.currency} = ${showRange(derived.monthlyCost, d.currency)}` : `${showRange(derived.monthlyCost, d.currency)} (${c.quantity ? 'no price' : 'depends on usage'})`;
      this.fail(`${where}/monthlyCost`, `says ${showRange(c.monthlyCost, d.currency)}; ${how}`);
    }
    return derived;
  }

  private resource(r: ResourceEstimate, d: DeploymentEstimate, where: string): ResourceEstimate {
    if (currencyOf(r.region) !== d.currency) this.fail(`${where}/region`, `${r.region} is billed in ${currencyOf(r.region)}, the part is in ${d.currency}`);
    return { ...r, components: r.components.map((c, i) => this.component(c, d, r.region, `${where}/components/${i}`)) };
  }

  /** The build: minutes × the catalogue's CodeBuild price in the part's first region. */
  private oneTime(o: OneTime, d: DeploymentEstimate, where: string): OneTime {
    const computeType = Object.keys(CODEBUILD_NAMES).find((k) => CODEBUILD_NAMES[k] === o.computeType) ?? o.computeType;
    const region = d.regions[0];
    let price: Price | null = null;
    if (o.minutes > 0 && region) {
      price = this.book.support('codebuild', computeType, region);
      if (o.price && (o.price.service !== 'codebuild' || o.price.key !== computeType || Number(o.price.price) !== Number(price?.price ?? NaN))) {
        this.fail(`${where}/price`, `CodeBuild ${computeType} in ${region} at ${o.price.price} ${o.price.currency}; ${price ? `the catalogue's price is ${price.price} ${price.currency}` : 'the catalogue has no price for it'}`);
      }
    }
    const cost = o.minutes === 0 ? 0 : price ? o.minutes * Number(price.price) : null;
    if (o.minutes > 0 && !region) this.fail(`${where}/minutes`, `${o.minutes} build minutes in a part without a region`);
    if (cost === null ? o.cost !== null : o.cost === null || !same(o.cost, cost)) {
      this.fail(`${where}/cost`, `says ${o.cost === null ? 'unpriced' : formatMoney(o.cost, d.currency)}; ${o.minutes} minutes ${price ? `× ${price.price} ${price.currency} = ${formatMoney(cost ?? 0, d.currency)}` : 'have no verified price'}`);
    }
    return { minutes: o.minutes, computeType: o.computeType, cost, price, note: o.note, buildKey: o.buildKey, imageTag: o.imageTag };
  }

  part(d: DeploymentEstimate, where: string): DeploymentEstimate {
    for (const [i, r] of d.regions.entries()) if (currencyOf(r) !== d.currency) this.fail(`${where}/regions/${i}`, `${r} is billed in ${currencyOf(r)}, the part is in ${d.currency}`);
    const resources = d.resources.map((r, i) => this.resource(r, d, `${where}/resources/${i}`));
    const oneTime = this.oneTime(d.oneTime, d, `${where}/oneTime`);
    const derived = deploymentEstimate(
      { name: d.name, target: d.target, instanceType: d.instanceType, count: d.count, engine: d.engine, regions: d.regions, allRegions: d.allRegions, currency: d.currency, assumptions: d.assumptions },
      resources,
      oneTime,
    );
    if (!sameRange(d.monthly, derived.monthly)) this.fail(`${where}/monthly`, `says ${showRange(d.monthly, d.currency)}; its components sum to ${showRange(derived.monthly, d.currency)}`);
    return derived;
  }
}

/** The change a re-derived report has for the file's change, and the figures the file states for it. */
function checkChange(file: string, stated: DeploymentChange, derived: DeploymentChange | undefined, where: string): void {
  if (!derived) throw refuse(file, where, `${stated.name} (${stated.currency}) appears twice`);
  const figures: [keyof DeploymentChange, Range, Range][] = [
    ['pastMonthly', stated.pastMonthly, derived.pastMonthly],
    ['monthly', stated.monthly, derived.monthly],
    ['diff', stated.diff, derived.diff],
  ];
  for (const [field, a, b] of figures) if (!sameRange(a, b)) throw refuse(file, `${where}/${field}`, `says ${showRange(a, stated.currency)}; re-derived from the components: ${showRange(b, stated.currency)}`);
  if (stated.status !== derived.status) throw refuse(file, `${where}/status`, `says ${stated.status}; the components say ${derived.status}`);
  if (stated.oneTime === null ? derived.oneTime !== null : derived.oneTime === null || !same(stated.oneTime, derived.oneTime)) {
    throw refuse(file, `${where}/oneTime`, `says ${stated.oneTime === null ? 'unpriced' : formatMoney(stated.oneTime, stated.currency)}; re-derived: ${derived.oneTime === null ? 'unpriced' : formatMoney(derived.oneTime, stated.currency)}`);
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
    throw refuse(file, first?.instancePath || '/', first?.message ?? 'schema mismatch');
  }
  const a = value as Artifact;
  const r = a.report;
  if (r.hoursPerMonth !== trusted.hoursPerMonth) {
    throw new DeployError(`${file} was priced with hours-per-month ${r.hoursPerMonth}; this job's hours-per-month is ${trusted.hoursPerMonth}`, {
      title: 'Invalid estimate result',
      hint: 'Give cost-comment.yml and cost-comment-post.yml the same hours-per-month (the comment job\'s own input decides). Nothing was posted.',
    });
  }
  const rederive = new Rederive(file, new PriceBook());
  const head: Estimate = { hoursPerMonth: r.hoursPerMonth, deployments: [] };
  const base: Estimate = { hoursPerMonth: r.hoursPerMonth, deployments: [] };
  for (const [i, c] of r.changes.entries()) {
    const where = `/report/changes/${i}`;
    // A part is named once per currency, and its label's currency is its own.
    for (const side of ['next', 'past'] as const) {
      const d = c[side];
      if (!d) continue;
      if (d.name !== c.name || d.currency !== c.currency) throw refuse(file, `${where}/${side}`, `is ${d.name} (${d.currency}) in the change of ${c.name} (${c.currency})`);
      (side === 'next' ? head : base).deployments.push(rederive.part(d, `${where}/${side}`));
    }
    if (!c.next && !c.past) throw refuse(file, where, 'has neither a base nor a new estimate');
    if (!r.compared && c.past) throw refuse(file, `${where}/past`, 'a base in a report that compares with none');
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
  for (const [i, c] of r.changes.entries()) {
    checkChange(file, c, derived.get(key(c)), `/report/changes/${i}`);
    derived.delete(key(c));
  }
  return { report, comment: a.comment };
}
