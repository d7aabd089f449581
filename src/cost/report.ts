/**
 * The head estimate against the base: per deployment old and new monthly cost, change and percent,
 * totals per currency (USD and CNY are never added together), the budget guardrails, and the JSON
 * result in a shape close to infracost's.
 */
import { DeployError } from '../core/errors';
import type { Currency, Price } from './catalog';
import type { CostComponent, DeploymentEstimate, Estimate } from './estimate';
import { Range, ZERO, addRanges, decimalString, percentChange, roundTo } from './money';

export type ChangeStatus = 'added' | 'removed' | 'changed' | 'unchanged';

export interface DeploymentChange {
  name: string;
  currency: Currency;
  status: ChangeStatus;
  past?: DeploymentEstimate;
  next?: DeploymentEstimate;
  pastMonthly: Range;
  monthly: Range;
  diff: Range;
  /** Percent change of the minimum figure; undefined when the base is zero. */
  percent?: number;
  oneTime: number | null;
}

export interface CurrencyTotals {
  currency: Currency;
  past: Range;
  next: Range;
  diff: Range;
  percent?: number;
  oneTime: number;
  /** One-time components without a price. */
  oneTimeUnpriced: number;
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
}

function signature(d: DeploymentEstimate): string {
  const round = (r: Range | null) => (r ? `${roundTo(r.low, 6)}/${roundTo(r.high, 6)}` : 'null');
  return JSON.stringify([d.instanceType, d.regions, d.resources.map((r) => [r.name, r.region, r.components.map((c) => [c.name, round(c.quantity), c.price?.price, round(c.monthlyCost)])]), d.oneTime.cost]);
}

export interface ReportInput {
  project: string;
  head: Estimate;
  base?: Estimate;
  baseNote?: string;
  prices: Price[];
  priceNotes?: string[];
}

export function buildReport(input: ReportInput): CostReport {
  const { head, base } = input;
  const names = [...head.deployments.map((d) => d.name), ...(base?.deployments ?? []).map((d) => d.name)].filter((n, i, all) => all.indexOf(n) === i);
  const changes: DeploymentChange[] = names.map((name) => {
    const next = head.deployments.find((d) => d.name === name);
    const past = base?.deployments.find((d) => d.name === name);
    const monthly = next?.monthly ?? ZERO;
    const pastMonthly = past?.monthly ?? ZERO;
    const status: ChangeStatus = !past ? 'added' : !next ? 'removed' : signature(past) === signature(next) ? 'unchanged' : 'changed';
    return {
      name,
      currency: (next ?? past)!.currency,
      status,
      past,
      next,
      pastMonthly,
      monthly,
      diff: { low: monthly.low - pastMonthly.low, high: monthly.high - pastMonthly.high },
      percent: percentChange(pastMonthly.low, monthly.low),
      oneTime: next ? next.oneTime.cost : 0,
    };
  });
  const currencies = [...new Set(changes.map((c) => c.currency))].sort((a, b) => (a === 'USD' ? -1 : b === 'USD' ? 1 : a.localeCompare(b)));
  const totals = currencies.map((currency): CurrencyTotals => {
    const mine = changes.filter((c) => c.currency === currency);
    const past = mine.reduce((acc, c) => addRanges(acc, c.pastMonthly), ZERO);
    const next = mine.reduce((acc, c) => addRanges(acc, c.monthly), ZERO);
    return {
      currency,
      past,
      next,
      diff: { low: next.low - past.low, high: next.high - past.high },
      percent: percentChange(past.low, next.low),
      oneTime: mine.reduce((acc, c) => acc + (c.oneTime ?? 0), 0),
      oneTimeUnpriced: mine.filter((c) => c.oneTime === null).length,
    };
  });
  const assumptions = [
    `${head.hoursPerMonth} hours a month${head.hoursPerMonth === 730 ? ' (the AWS pricing calculator convention)' : ''}.`,
    'List prices: on-demand, no Savings Plans, Reserved Instances or free tier, tax excluded.',
  ];
  for (const d of head.deployments) for (const a of d.assumptions) if (!assumptions.includes(a)) assumptions.push(a.startsWith('Scales') || a.startsWith('Autoscaling') ? `${d.name}: ${a}` : a);
  if (head.deployments.some((d) => d.oneTime.minutes > 0)) assumptions.push('One build per deployment, in its first region; images and weights are stored in every region it serves.');
  return {
    project: input.project,
    hoursPerMonth: head.hoursPerMonth,
    compared: base !== undefined,
    baseNote: input.baseNote,
    changes,
    totals,
    prices: input.prices,
    assumptions,
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
}

/** Parses the budget inputs; a value that is not a number (or a percent) is an input error. */
export function parseBudget(maxMonthlyCost: string | undefined, maxIncrease: string | undefined): Budget {
  const budget: Budget = {};
  const amount = /^\d+(\.\d+)?$/;
  if (maxMonthlyCost !== undefined && maxMonthlyCost.trim() !== '') {
    const v = maxMonthlyCost.trim().replace(/,/g, '');
    if (!amount.test(v)) {
      throw new DeployError(`input \`max-monthly-cost\` is "${maxMonthlyCost}", which is not valid: it must be an amount like 500 or 1250.50`, { title: 'Invalid input', hint: 'The largest monthly cost one deployment may have, in its currency (USD, or CNY for China regions).' });
    }
    budget.maxMonthlyCost = Number(v);
  }
  if (maxIncrease !== undefined && maxIncrease.trim() !== '') {
    const v = maxIncrease.trim().replace(/,/g, '');
    const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(v);
    if (!m) {
      throw new DeployError(`input \`max-monthly-increase\` is "${maxIncrease}", which is not valid: it must be an amount (100) or a percent (10%)`, { title: 'Invalid input', hint: 'The largest allowed monthly increase of one deployment against the base branch.' });
    }
    budget.maxIncrease = m[2] ? { percent: Number(m[1]) } : { amount: Number(m[1]) };
  }
  return budget;
}

export interface BudgetViolation {
  deployment: string;
  message: string;
}

/** Checks the worst case (the maximum of an autoscaling range) of each deployment. */
export function checkBudget(report: CostReport, budget: Budget, format: (n: number, c: Currency) => string): BudgetViolation[] {
  const out: BudgetViolation[] = [];
  for (const c of report.changes) {
    if (!c.next) continue;
    if (budget.maxMonthlyCost !== undefined && roundTo(c.monthly.high, 2) > budget.maxMonthlyCost) {
      out.push({
        deployment: c.name,
        message: `${c.name} costs up to ${format(c.monthly.high, c.currency)} a month, above max-monthly-cost ${format(budget.maxMonthlyCost, c.currency)}`,
      });
    }
    const inc = budget.maxIncrease;
    const diff = roundTo(c.monthly.high - c.pastMonthly.high, 2);
    if (inc?.amount !== undefined && diff > inc.amount) {
      out.push({
        deployment: c.name,
        message: `${c.name} increases by up to ${format(diff, c.currency)} a month (${format(c.pastMonthly.high, c.currency)} → ${format(c.monthly.high, c.currency)}), above max-monthly-increase ${format(inc.amount, c.currency)}`,
      });
    }
    if (inc?.percent !== undefined && roundTo(c.pastMonthly.high, 2) > 0) {
      const pct = roundTo((diff / c.pastMonthly.high) * 100, 1);
      if (pct > inc.percent) {
        out.push({
          deployment: c.name,
          message: `${c.name} increases by ${pct.toFixed(1)}% a month (${format(c.pastMonthly.high, c.currency)} → ${format(c.monthly.high, c.currency)}), above max-monthly-increase ${inc.percent}%`,
        });
      }
    }
  }
  return out;
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
    priceSource: c.price ? { origin: c.price.origin, source: c.price.source, asOf: c.price.asOf, region: c.price.region, currency: c.price.currency } : null,
    ...(c.note ? { note: c.note } : {}),
  };
}

function breakdownJson(d: DeploymentEstimate | undefined, hours: number) {
  if (!d) return { resources: [], totalMonthlyCost: '0', totalMonthlyCostMax: '0', totalOneTimeCost: '0' };
  return {
    resources: d.resources.map((r) => ({
      name: r.name,
      resourceType: r.resourceType,
      metadata: { region: r.region },
      monthlyCost: dec(r.components.reduce((a, c) => a + (c.monthlyCost?.low ?? 0), 0)),
      costComponents: r.components.map((c) => componentJson(c, hours)),
    })),
    totalMonthlyCost: dec(d.monthly.low),
    totalMonthlyCostMax: dec(d.monthly.high),
    totalOneTimeCost: dec(d.oneTime.cost),
    oneTime: { buildMinutes: d.oneTime.minutes, computeType: d.oneTime.computeType, price: d.oneTime.price?.price ?? null, note: d.oneTime.note },
    unpriced: d.unpriced,
  };
}

export function reportJson(report: CostReport) {
  const totalsJson = report.totals.map((t) => ({
    currency: t.currency,
    totalMonthlyCost: dec(t.next.low),
    totalMonthlyCostMax: dec(t.next.high),
    pastTotalMonthlyCost: report.compared ? dec(t.past.low) : null,
    pastTotalMonthlyCostMax: report.compared ? dec(t.past.high) : null,
    diffTotalMonthlyCost: report.compared ? dec(t.diff.low) : null,
    diffTotalMonthlyCostMax: report.compared ? dec(t.diff.high) : null,
    diffPercent: report.compared && t.percent !== undefined ? t.percent.toFixed(1) : null,
    totalOneTimeCost: dec(t.oneTime),
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
    totalOneTimeCost: single?.totalOneTimeCost ?? null,
    totalsByCurrency: totalsJson,
    hoursPerMonth: report.hoursPerMonth,
    projects: report.changes.map((c) => ({
      name: `${report.project}/${c.name}`,
      metadata: { deployment: c.name, status: c.status, currency: c.currency, target: (c.next ?? c.past)!.target, instanceType: (c.next ?? c.past)!.instanceType, regions: (c.next ?? c.past)!.regions },
      pastBreakdown: report.compared ? breakdownJson(c.past, report.hoursPerMonth) : null,
      breakdown: breakdownJson(c.next, report.hoursPerMonth),
      diff: report.compared ? { totalMonthlyCost: dec(c.diff.low), totalMonthlyCostMax: dec(c.diff.high), percent: c.percent === undefined ? null : c.percent.toFixed(1) } : null,
    })),
    prices: report.prices.map((p) => ({ service: p.service, key: p.key, region: p.region, price: p.price, currency: p.currency, unit: p.unit, origin: p.origin, source: p.source, asOf: p.asOf, ...(p.note ? { note: p.note } : {}) })),
    assumptions: report.assumptions,
    priceNotes: report.priceNotes,
    ...(report.baseNote ? { baseNote: report.baseNote } : {}),
  };
}

export type ReportJson = ReturnType<typeof reportJson>;
