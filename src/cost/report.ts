/**
 * The head estimate against the base: per deployment old and new monthly cost, change and percent,
 * totals per currency (USD and CNY are never added together), the budget guardrails, and the JSON
 * result in a shape close to infracost's.
 */
import { JsonItems } from './result-file';
import { DeployError } from '../core/errors';
import type { Currency, Price } from '../prices/catalog';
import type { CostComponent, DeploymentEstimate, Estimate } from './estimate';
import { Range, ZERO, addRanges, decimalString, percentChange, roundTo } from './money';

export type ChangeStatus = 'added' | 'removed' | 'changed' | 'unchanged';

export interface DeploymentChange {
  name: string;
  /** name, or name (CNY) for the China part of a deployment that spans both. */
  label: string;
  currency: Currency;
  status: ChangeStatus;
  past?: DeploymentEstimate;
  next?: DeploymentEstimate;
  pastMonthly: Range;
  monthly: Range;
  diff: Range;
  /** Percent change of the minimum figure; undefined when the base is zero. */
  percent?: number;
  /** Percent change of the maximum figure (what the guardrails check); undefined when the base is zero. */
  percentMax?: number;
  /** One-time build cost; 0 when the change causes no build; null when unpriced. */
  oneTime: number | null;
  /** Why no build is charged (same image, unchanged, removed). */
  oneTimeNote?: string;
  /** Parts not in the figures: components without a price, and usage-based ones. */
  unpriced: number;
  usageBased: number;
  /** Measured $/1M output tokens of the head configuration, or not measured (benchmarks.ts). */
  benchmark?: ChangeBenchmark;
  /** What qualifies the head's figure (a DERIVED or stale price in it): shown in its row. */
  labels: FigureLabel[];
}

/**
 * What qualifies a figure, shown beside it wherever it appears (a row, a total, the comment's legend,
 * which no trimming drops): a price that is arithmetic on others, or one older than a price cut.
 */
export const FIGURE_LABELS = {
  DERIVED: 'SageMaker price computed as the EC2 price of the same size and region × the SageMaker mark-up observed where both are published; not a list price',
  'stale price': 'the only price known is older than a price cut since; the real price is likely lower',
} as const;
export type FigureLabel = keyof typeof FIGURE_LABELS;

/** The labels a deployment's figures carry, in FIGURE_LABELS order. */
export function figureLabels(d: DeploymentEstimate | undefined): FigureLabel[] {
  if (!d) return [];
  const prices = [...d.resources.flatMap((r) => r.components.map((c) => c.price)), d.oneTime.price];
  const found = new Set<FigureLabel>();
  for (const p of prices) {
    if (p?.origin === 'derived') found.add('DERIVED');
    if (p?.stale) found.add('stale price');
  }
  return (Object.keys(FIGURE_LABELS) as FigureLabel[]).filter((l) => found.has(l));
}

/** What the comment shows for one deployment part: its measured $/1M output tokens, or "not measured". */
export type ChangeBenchmark =
  | { measured: false }
  | { measured: true; perMillionOutputTokens: number | null; currency: Currency; date: string; commit: string };

export interface CurrencyTotals {
  currency: Currency;
  past: Range;
  next: Range;
  diff: Range;
  percent?: number;
  percentMax?: number;
  oneTime: number;
  /** One-time components without a price. */
  oneTimeUnpriced: number;
  /** Monthly components without a price, and usage-based ones, over the new deployments: "+ usage". */
  unpriced: number;
  /** The base's components without a price: more on the head is a change even when the priced figures are equal. */
  pastUnpriced: number;
  usageBased: number;
  /** The base's usage-based components: "+ usage" on the base side too. */
  pastUsageBased: number;
  /** How many of the head's deployment parts carry each label. */
  labels: Partial<Record<FigureLabel, number>>;
}

export interface CostReport {
  project: string;
  hoursPerMonth: number;
  /** False when there was no base to compare with (the offline plan, a push build). */
  compared: boolean;
  baseNote?: string;
  changes: DeploymentChange[];
  totals: CurrencyTotals[];
  prices: Price[];
  assumptions: string[];
  /** Prices came from: catalogue, live, or both (with the reason live was not used). */
  priceNotes: string[];
  /** True when benchmark results were read: the comment shows the $/1M output tokens column. */
  benchmarks?: boolean;
}

function signature(d: DeploymentEstimate): string {
  const round = (r: Range | null) => (r ? `${roundTo(r.low, 6)}/${roundTo(r.high, 6)}` : 'null');
  return JSON.stringify([d.target, d.instanceType, d.count, d.engine, d.oneTime.buildKey, d.regions, d.resources.map((r) => [r.name, r.region, r.components.map((c) => [c.name, round(c.quantity), c.price?.price, round(c.monthlyCost)])]), d.oneTime.cost]);
}

export interface ReportInput {
  project: string;
  head: Estimate;
  base?: Estimate;
  baseNote?: string;
  prices: Price[];
  priceNotes?: string[];
}

const partKey = (d: DeploymentEstimate) => `${d.name}|${d.currency}`;

/** The one-time build a change causes: none when the image tag (the build's content hash) is the base's. */
function buildCost(status: ChangeStatus, past?: DeploymentEstimate, next?: DeploymentEstimate): { cost: number | null; note?: string } {
  if (!next) return { cost: 0, note: 'no build: removed' };
  if (status === 'unchanged') return { cost: 0, note: 'no build: unchanged' };
  if (past && past.oneTime.buildKey === next.oneTime.buildKey) return { cost: 0, note: 'no build: same build inputs, same image' };
  const tag = next.oneTime.imageTag;
  if (past && tag !== undefined && tag === past.oneTime.imageTag) return { cost: 0, note: `no build: same image tag ${tag.slice(0, 15)}…` };
  return { cost: next.oneTime.cost };
}

function change(key: string, head: Estimate, base: Estimate | undefined, multi: Set<string>): DeploymentChange {
  const next = head.deployments.find((d) => partKey(d) === key);
  const past = base?.deployments.find((d) => partKey(d) === key);
  const either = next ?? past;
  if (!either) throw new Error(`no estimate for ${key}`);
  const monthly = next?.monthly ?? ZERO;
  const pastMonthly = past?.monthly ?? ZERO;
  const status: ChangeStatus = !past ? 'added' : !next ? 'removed' : signature(past) === signature(next) ? 'unchanged' : 'changed';
  const build = buildCost(status, past, next);
  return {
    name: either.name,
    label: multi.has(either.name) ? `${either.name} (${either.currency})` : either.name,
    currency: either.currency,
    status,
    past,
    next,
    pastMonthly,
    monthly,
    diff: { low: monthly.low - pastMonthly.low, high: monthly.high - pastMonthly.high },
    percent: percentChange(pastMonthly.low, monthly.low),
    percentMax: percentChange(pastMonthly.high, monthly.high),
    oneTime: build.cost,
    oneTimeNote: build.note,
    unpriced: next ? next.unpriced.length : 0,
    usageBased: next ? next.usageBased.length : 0,
    labels: figureLabels(next),
  };
}

export function currencyTotals(currency: Currency, changes: DeploymentChange[]): CurrencyTotals {
  const mine = changes.filter((c) => c.currency === currency);
  const past = mine.reduce((acc, c) => addRanges(acc, c.pastMonthly), ZERO);
  const next = mine.reduce((acc, c) => addRanges(acc, c.monthly), ZERO);
  return {
    currency,
    past,
    next,
    diff: { low: next.low - past.low, high: next.high - past.high },
    percent: percentChange(past.low, next.low),
    percentMax: percentChange(past.high, next.high),
    oneTime: mine.reduce((acc, c) => acc + (c.oneTime ?? 0), 0),
    oneTimeUnpriced: mine.filter((c) => c.oneTime === null).length,
    unpriced: mine.reduce((acc, c) => acc + c.unpriced, 0),
    pastUnpriced: mine.reduce((acc, c) => acc + (c.past?.unpriced.length ?? 0), 0),
    usageBased: mine.reduce((acc, c) => acc + c.usageBased, 0),
    pastUsageBased: mine.reduce((acc, c) => acc + (c.past?.usageBased.length ?? 0), 0),
    labels: countLabels(mine),
  };
}

function countLabels(changes: DeploymentChange[]): Partial<Record<FigureLabel, number>> {
  const out: Partial<Record<FigureLabel, number>> = {};
  for (const c of changes) for (const l of c.labels) out[l] = (out[l] ?? 0) + 1;
  return out;
}

function reportAssumptions(head: Estimate): string[] {
  const assumptions = [
    `${head.hoursPerMonth} hours a month${head.hoursPerMonth === 730 ? ' (the AWS pricing calculator convention)' : ''}.`,
    'List prices: on-demand, no Savings Plans, Reserved Instances or free tier, tax excluded.',
  ];
  for (const d of head.deployments) for (const a of d.assumptions) if (!assumptions.includes(a)) assumptions.push(a.startsWith('Scales') || a.startsWith('Autoscaling') ? `${d.name}: ${a}` : a);
  if (head.deployments.some((d) => d.oneTime.minutes > 0)) assumptions.push('One build per deployment and currency, in its first region, only when the image changes; images and weights are stored in every region it serves.');
  return assumptions;
}

export function buildReport(input: ReportInput): CostReport {
  const { head, base } = input;
  const all = [...head.deployments, ...(base?.deployments ?? [])];
  const keys = [...new Set(all.map(partKey))];
  // A deployment billed in two currencies shows as two rows, one per currency.
  const multi = new Set(all.filter((d) => all.some((o) => o.name === d.name && o.currency !== d.currency)).map((d) => d.name));
  const changes = keys.map((k) => change(k, head, base, multi));
  const currencies = [...new Set(changes.map((c) => c.currency))].sort((a, b) => (a === b ? 0 : a === 'USD' ? -1 : 1));
  return {
    project: input.project,
    hoursPerMonth: head.hoursPerMonth,
    compared: base !== undefined,
    baseNote: input.baseNote,
    changes,
    totals: currencies.map((c) => currencyTotals(c, changes)),
    prices: input.prices,
    assumptions: reportAssumptions(head),
    priceNotes: input.priceNotes ?? [],
  };
}

/** True when nothing changed against the base (for skip-if-unchanged). */
export function isUnchanged(report: CostReport): boolean {
  return report.compared && report.changes.every((c) => c.status === 'unchanged');
}

// ---- guardrails -------------------------------------------------------------------------------

export interface Budget {
  maxMonthlyCost?: number;
  maxIncrease?: { amount?: number; percent?: number };
  /** 'total' (default): the limits apply to each currency's total; 'deployment': to each deployment. */
  scope?: BudgetScope;
}

export const BUDGET_SCOPES = ['total', 'deployment'] as const;
export type BudgetScope = (typeof BUDGET_SCOPES)[number];

/** Parses the budget inputs; a value that is not a number (or a percent) is an input error. */
export function parseBudget(maxMonthlyCost: string | undefined, maxIncrease: string | undefined, scope: BudgetScope = 'total'): Budget {
  const budget: Budget = { scope };
  const amount = /^\d+(\.\d+)?$/;
  if (maxMonthlyCost !== undefined && maxMonthlyCost.trim() !== '') {
    const v = maxMonthlyCost.trim().replace(/,/g, '');
    if (!amount.test(v)) {
      throw new DeployError(`input \`max-monthly-cost\` is "${maxMonthlyCost}", which is not valid: it must be an amount like 500 or 1250.50`, { title: 'Invalid input', hint: 'The largest monthly total, per currency (USD, or CNY for China regions).' });
    }
    budget.maxMonthlyCost = Number(v);
  }
  if (maxIncrease !== undefined && maxIncrease.trim() !== '') {
    const v = maxIncrease.trim().replace(/,/g, '');
    const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(v);
    if (!m) {
      throw new DeployError(`input \`max-monthly-increase\` is "${maxIncrease}", which is not valid: it must be an amount (100) or a percent (10%)`, { title: 'Invalid input', hint: 'The largest allowed increase of the monthly total (per currency) against the base branch.' });
    }
    budget.maxIncrease = m[2] ? { percent: Number(m[1]) } : { amount: Number(m[1]) };
  }
  return budget;
}

export interface BudgetViolation {
  /** The deployment, or "total (USD)" for a currency's total. */
  deployment: string;
  message: string;
}

/** What a guardrail looks at: a deployment or a currency's total, base and new maximum. */
interface Subject {
  label: string;
  currency: Currency;
  past: number;
  next: number;
}

function violations(s: Subject, budget: Budget, format: (n: number, c: Currency) => string): BudgetViolation[] {
  const out: BudgetViolation[] = [];
  const fig = `(${format(s.past, s.currency)} → ${format(s.next, s.currency)})`;
  if (budget.maxMonthlyCost !== undefined && roundTo(s.next, 2) > budget.maxMonthlyCost) {
    out.push({ deployment: s.label, message: `${s.label} costs up to ${format(s.next, s.currency)} a month, above max-monthly-cost ${format(budget.maxMonthlyCost, s.currency)}` });
  }
  const inc = budget.maxIncrease;
  const diff = roundTo(s.next - s.past, 2);
  if (inc?.amount !== undefined && diff > inc.amount) {
    out.push({ deployment: s.label, message: `${s.label} increases by up to ${format(diff, s.currency)} a month ${fig}, above max-monthly-increase ${format(inc.amount, s.currency)}` });
  }
  if (inc?.percent !== undefined && diff > 0) {
    // The percentage the comment shows at the maximum end (percentChange); from nothing, any increase is above every percent limit.
    const pct = percentChange(s.past, s.next);
    if (pct === undefined) {
      out.push({ deployment: s.label, message: `${s.label} rises from nothing to ${format(s.next, s.currency)} a month, above max-monthly-increase ${inc.percent}%: a percent limit allows no increase from nothing` });
    } else if (pct > inc.percent) {
      out.push({ deployment: s.label, message: `${s.label} increases by ${pct.toFixed(1)}% a month at the maximum ${fig}, above max-monthly-increase ${inc.percent}%` });
    }
  }
  return out;
}

/**
 * Checks the worst case (the maximum of an autoscaling range): of each currency's total by default,
 * new deployments included; of each deployment with scope 'deployment'.
 */
export function checkBudget(report: CostReport, budget: Budget, format: (n: number, c: Currency) => string): BudgetViolation[] {
  // No base (or an unknown one): there is no increase to measure, only the cost itself.
  if (!report.compared) budget = { ...budget, maxIncrease: undefined };
  if (budget.scope === 'deployment') {
    return report.changes.filter((c) => c.next).flatMap((c) => violations({ label: c.label, currency: c.currency, past: c.pastMonthly.high, next: c.monthly.high }, budget, format));
  }
  return report.totals.flatMap((t) => violations({ label: `the ${t.currency} total`, currency: t.currency, past: t.past.high, next: t.next.high }, budget, format));
}

// ---- JSON (close to infracost's output) -------------------------------------------------------

const dec = (n: number | null | undefined) => (n === null || n === undefined ? null : decimalString(n));

function componentJson(c: CostComponent, hours: number) {
  return {
    name: c.name,
    unit: c.unit,
    hourlyQuantity: c.quantity ? dec(c.quantity.low / hours) : null,
    monthlyQuantity: c.quantity ? dec(c.quantity.low) : null,
    monthlyQuantityMax: c.quantity ? dec(c.quantity.high) : null,
    price: c.price?.price ?? null,
    hourlyCost: c.monthlyCost ? dec(c.monthlyCost.low / hours) : null,
    monthlyCost: c.monthlyCost ? dec(c.monthlyCost.low) : null,
    monthlyCostMax: c.monthlyCost ? dec(c.monthlyCost.high) : null,
    priceSource: priceSourceJson(c.price),
    // What the fork-safe comment job prices the component by (artifact.ts): its kind.
    kind: c.kind,
    ...(c.note ? { note: c.note } : {}),
  };
}

/** Where a price comes from; `service` and `key` are what the comment job looks it up by in the catalogue. */
function priceSourceJson(p: Price | null) {
  return p ? { origin: p.origin, source: p.source, asOf: p.asOf, region: p.region, currency: p.currency, service: p.service, key: p.key } : null;
}

function breakdownJson(d: DeploymentEstimate | undefined, hours: number) {
  if (!d) return { part: null, resources: [], totalMonthlyCost: '0', totalMonthlyCostMax: '0', totalOneTimeCost: '0' };
  return {
    // The deployment part this breakdown prices (a side of a change may differ in all of these).
    part: { target: d.target, instanceType: d.instanceType, count: d.count, engine: d.engine, regions: d.regions, allRegions: d.allRegions, assumptions: d.assumptions },
    resources: d.resources.map((r) => ({
      kind: r.kind,
      name: r.name,
      resourceType: r.resourceType,
      metadata: { region: r.region },
      // A resource with no priced component has no figure (never "0": unpriced is not free).
      monthlyCost: r.components.some((c) => c.monthlyCost) ? dec(r.components.reduce((a, c) => a + (c.monthlyCost?.low ?? 0), 0)) : null,
      costComponents: r.components.map((c) => componentJson(c, hours)),
    })),
    totalMonthlyCost: dec(d.monthly.low),
    totalMonthlyCostMax: dec(d.monthly.high),
    totalOneTimeCost: dec(d.oneTime.cost),
    oneTime: {
      buildMinutes: d.oneTime.minutes,
      computeType: d.oneTime.computeType,
      price: d.oneTime.price?.price ?? null,
      priceSource: priceSourceJson(d.oneTime.price),
      note: d.oneTime.note,
      buildKey: d.oneTime.buildKey,
      ...(d.oneTime.imageTag ? { imageTag: d.oneTime.imageTag } : {}),
    },
    unpriced: d.unpriced,
    usageBased: d.usageBased,
  };
}

/** One deployment's entry of `projects`. */
function projectJson(report: CostReport, c: DeploymentChange) {
  return {
    name: `${report.project}/${c.name}`,
    metadata: {
      deployment: c.name,
      label: c.label,
      status: c.status,
      currency: c.currency,
      target: (c.next ?? c.past)!.target,
      instanceType: (c.next ?? c.past)!.instanceType,
      regions: (c.next ?? c.past)!.regions,
      // The build this change causes (0 when it reuses the image, null when unpriced), and why none.
      oneTimeCost: dec(c.oneTime),
      ...(c.oneTimeNote ? { oneTimeNote: c.oneTimeNote } : {}),
      // The measured $/1M output tokens of the head configuration (benchmarks.ts); the comment job does not show it.
      ...(c.benchmark ? { benchmark: c.benchmark } : {}),
    },
    pastBreakdown: report.compared ? breakdownJson(c.past, report.hoursPerMonth) : null,
    breakdown: breakdownJson(c.next, report.hoursPerMonth),
    diff: report.compared ? { totalMonthlyCost: dec(c.diff.low), totalMonthlyCostMax: dec(c.diff.high), percent: c.percent === undefined ? null : c.percent.toFixed(1), percentMax: c.percentMax === undefined ? null : c.percentMax.toFixed(1) } : null,
  };
}

/**
 * reportJson with `projects` made one deployment at a time as the result file is written
 * (writeJsonFile): at 1000 deployments x 6 regions the whole array is ~21 MB of JSON, more as objects.
 */
export function reportJsonStreamed(report: CostReport): Omit<ReportJson, 'projects'> & { projects: JsonItems<ReturnType<typeof projectJson>, DeploymentChange> } {
  return { ...reportJson(report, false), projects: new JsonItems(report.changes, (c) => projectJson(report, c)) };
}

export function reportJson(report: CostReport, withProjects = true) {
  const totalsJson = report.totals.map((t) => ({
    currency: t.currency,
    totalMonthlyCost: dec(t.next.low),
    totalMonthlyCostMax: dec(t.next.high),
    pastTotalMonthlyCost: report.compared ? dec(t.past.low) : null,
    pastTotalMonthlyCostMax: report.compared ? dec(t.past.high) : null,
    diffTotalMonthlyCost: report.compared ? dec(t.diff.low) : null,
    diffTotalMonthlyCostMax: report.compared ? dec(t.diff.high) : null,
    diffPercent: report.compared && t.percent !== undefined ? t.percent.toFixed(1) : null,
    diffPercentMax: report.compared && t.percentMax !== undefined ? t.percentMax.toFixed(1) : null,
    totalOneTimeCost: dec(t.oneTime),
    // Parts not in the figures: no price, or a cost that depends on usage.
    unpricedComponents: t.unpriced,
    usageBasedComponents: t.usageBased,
  }));
  const single = totalsJson.length === 1 ? totalsJson[0] : undefined;
  return {
    version: '0.2',
    generator: 'model-deploy estimate-cost',
    project: report.project,
    // One currency: the totals at the top, like infracost. Several: only per currency (never mixed).
    currency: single?.currency ?? null,
    totalMonthlyCost: single?.totalMonthlyCost ?? null,
    totalMonthlyCostMax: single?.totalMonthlyCostMax ?? null,
    pastTotalMonthlyCost: single?.pastTotalMonthlyCost ?? null,
    diffTotalMonthlyCost: single?.diffTotalMonthlyCost ?? null,
    diffPercent: single?.diffPercent ?? null,
    diffPercentMax: single?.diffPercentMax ?? null,
    totalOneTimeCost: single?.totalOneTimeCost ?? null,
    totalsByCurrency: totalsJson,
    hoursPerMonth: report.hoursPerMonth,
    // Whether a base was priced (pastBreakdown and diff are null when not).
    compared: report.compared,
    projects: withProjects ? report.changes.map((c) => projectJson(report, c)) : [],
    prices: report.prices.map((p) => ({ service: p.service, key: p.key, region: p.region, price: p.price, currency: p.currency, unit: p.unit, origin: p.origin, source: p.source, asOf: p.asOf, ...(p.note ? { note: p.note } : {}) })),
    assumptions: report.assumptions,
    priceNotes: report.priceNotes,
    ...(report.baseNote ? { baseNote: report.baseNote } : {}),
  };
}

export type ReportJson = ReturnType<typeof reportJson>;
