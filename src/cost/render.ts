/**
 * The estimate as markdown: the PR comment (hidden marker, headline, per-deployment table with
 * totals, mermaid chart, component details, assumptions, price sources), kept under GitHub's
 * 65,536-character body limit by dropping details, never totals.
 */
import { Currency, Price, defaultCatalog } from './catalog';
import type { DeploymentEstimate } from './estimate';
import type { BudgetViolation, CostReport, CurrencyTotals, DeploymentChange } from './report';
import { formatMoney, formatPercent, formatQuantity, formatRange, formatSignedRange, roundTo } from './money';

export const GITHUB_COMMENT_LIMIT = 65536;

export function commentMarker(config: string): string {
  return `<!-- model-deploy:estimate-cost config=${config.replace(/--/g, '-')} -->`;
}

export interface RenderOptions {
  marker?: string;
  violations?: BudgetViolation[];
  limit?: number;
  /** Shown under the table (a link to the run, the JSON artifact). */
  footer?: string;
}

const ORIGIN_LABEL: Record<Price['origin'], string> = {
  catalog: 'catalogue',
  derived: 'catalogue, DERIVED estimate',
  'catalog-other-region': 'catalogue, us-east-1 price as estimate',
  live: 'AWS Price List API',
};

function escapeCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function headline(t: CurrencyTotals, compared: boolean): string {
  const next = formatRange(t.next, t.currency);
  if (!compared) return `Monthly cost: **${next}** (${t.currency})`;
  const d = roundTo(t.diff.low, 2);
  const dh = roundTo(t.diff.high, 2);
  if (d === 0 && dh === 0) return `Monthly cost **unchanged** at ${next} (${t.currency})`;
  const direction = d > 0 || (d === 0 && dh > 0) ? 'increase' : 'decrease';
  const pct = t.percent === undefined ? '' : ` (${formatPercent(t.percent)})`;
  return `Monthly cost will **${direction} by ${formatRange({ low: Math.abs(t.diff.low), high: Math.abs(t.diff.high) }, t.currency)}**${pct}: ${formatRange(t.past, t.currency)} → **${next}** (${t.currency})`;
}

function changeRow(c: DeploymentChange, compared: boolean): string {
  const d = (c.next ?? c.past)!;
  const what = `${d.target}, ${d.instanceType}, ${d.regions.join(' ')}`;
  const oneTime = c.oneTime === null ? 'unpriced' : formatMoney(c.oneTime, c.currency);
  if (!compared) return `| ${c.name} | ${escapeCell(what)} | ${formatRange(c.monthly, c.currency)} | ${oneTime} |`;
  return `| ${c.name} | ${c.status} | ${escapeCell(what)} | ${formatRange(c.pastMonthly, c.currency)} | ${formatRange(c.monthly, c.currency)} | ${formatSignedRange(c.diff, c.currency)} | ${c.status === 'added' ? 'new' : formatPercent(c.percent)} | ${oneTime} |`;
}

function totalRow(t: CurrencyTotals, compared: boolean): string {
  const oneTime = `${formatMoney(t.oneTime, t.currency)}${t.oneTimeUnpriced ? ` + ${t.oneTimeUnpriced} unpriced` : ''}`;
  if (!compared) return `| **Total (${t.currency})** | | **${formatRange(t.next, t.currency)}** | ${oneTime} |`;
  return `| **Total (${t.currency})** | | | ${formatRange(t.past, t.currency)} | **${formatRange(t.next, t.currency)}** | **${formatSignedRange(t.diff, t.currency)}** | ${t.percent === undefined ? '' : formatPercent(t.percent)} | ${oneTime} |`;
}

/** Mermaid pie of the new monthly cost (minimum figure) by deployment and kind of resource. */
export function mermaidChart(report: CostReport, currency: Currency): string | undefined {
  const slices: [string, number][] = [];
  for (const c of report.changes) {
    if (!c.next || c.currency !== currency) continue;
    const groups = new Map<string, number>();
    for (const r of c.next.resources) {
      const kind = /endpoint|instances|service/i.test(r.name) ? 'instances' : /Load Balancer|NAT/.test(r.name) ? 'network' : 'storage & other';
      const sum = r.components.reduce((a, x) => a + (x.monthlyCost?.low ?? 0), 0);
      groups.set(kind, (groups.get(kind) ?? 0) + sum);
    }
    for (const [kind, sum] of groups) if (roundTo(sum, 2) > 0) slices.push([`${c.name}: ${kind}`, roundTo(sum, 2)]);
  }
  if (slices.length === 0) return undefined;
  const lines = slices.map(([label, v]) => `    "${label.replace(/"/g, "'")}" : ${v.toFixed(2)}`);
  return ['```mermaid', `pie showData title Monthly cost by component (${currency}, minimum)`, ...lines, '```'].join('\n');
}

function deploymentDetails(d: DeploymentEstimate): string {
  const rows = [`#### ${d.name} (${d.target}, ${d.instanceType}, ${d.regions.join(', ')})`, '', '| Resource | Component | Monthly quantity | Unit | Price | Monthly cost |', '|---|---|--:|---|--:|--:|'];
  for (const r of d.resources) {
    for (const c of r.components) {
      const qty = c.quantity ? (roundTo(c.quantity.low, 4) === roundTo(c.quantity.high, 4) ? formatQuantity(c.quantity.low) : `${formatQuantity(c.quantity.low)} – ${formatQuantity(c.quantity.high)}`) : 'depends on usage';
      const price = c.price ? `${c.price.price} ${c.price.currency}${c.price.origin !== 'catalog' ? ` (${ORIGIN_LABEL[c.price.origin]})` : ''}` : 'no known price';
      const cost = c.monthlyCost ? formatRange(c.monthlyCost, d.currency) : c.price ? 'depends on usage' : 'unpriced';
      rows.push(`| ${escapeCell(`${r.name} (${r.region})`)} | ${escapeCell(c.name)} | ${qty} | ${c.unit} | ${price} | ${cost} |`);
    }
  }
  const ot = d.oneTime;
  if (ot.minutes > 0) {
    rows.push(`| ${d.name} build (one-time) | CodeBuild ${ot.computeType} | ${formatQuantity(ot.minutes)} | build-minutes | ${ot.price ? `${ot.price.price} ${ot.price.currency}` : 'no verified price'} | ${ot.cost === null ? 'unpriced' : `${formatMoney(ot.cost, d.currency)} once`} |`);
  }
  const notes = d.resources.flatMap((r) => r.components.filter((c) => c.note).map((c) => `- ${escapeCell(c.name)}: ${c.note}`));
  const unique = notes.filter((n, i) => notes.indexOf(n) === i);
  return [...rows, ...(unique.length ? ['', ...unique] : []), ...(d.unpriced.length ? ['', `Not in the total (no price or usage): ${d.unpriced.join('; ')}.`] : [])].join('\n');
}

function priceTable(prices: Price[]): string {
  const rows = ['| Price | Value | Unit | Region | From | Source | As of |', '|---|--:|---|---|---|---|---|'];
  const sources = defaultCatalog().sources;
  for (const p of prices) {
    const src = p.source.replace(/^(S[\w-]+)/, (k) => (sources[k] ? `${k}: ${sources[k].repository}` : k));
    rows.push(`| ${p.service} ${p.key} | ${p.price} ${p.currency} | ${p.unit} | ${p.region} | ${ORIGIN_LABEL[p.origin]} | ${escapeCell(src)} | ${p.asOf} |`);
  }
  return rows.join('\n');
}

function fits(parts: string[], limit: number): boolean {
  return parts.join('\n\n').length <= limit;
}

/** The markdown body; details are dropped (with a note) until it fits under the limit. */
export function renderReport(report: CostReport, options: RenderOptions = {}): string {
  const limit = options.limit ?? GITHUB_COMMENT_LIMIT;
  const compared = report.compared;
  const head: string[] = [];
  if (options.marker) head.push(options.marker);
  head.push(`### Cost estimate: ${report.project}`);
  head.push(report.totals.map((t) => headline(t, compared)).join('  \n'));
  if (report.baseNote) head.push(`> ${report.baseNote}`);
  if (options.violations?.length) {
    head.push(['> [!CAUTION]', '> **Over budget**', ...options.violations.map((v) => `> - ${v.message}`)].join('\n'));
  }
  const tableHeader = compared
    ? ['| Deployment | Status | Runs on | Base monthly | New monthly | Change | % | One-time |', '|---|---|---|--:|--:|--:|--:|--:|']
    : ['| Deployment | Runs on | Monthly | One-time |', '|---|---|--:|--:|'];
  const totalRows = report.totals.map((t) => totalRow(t, compared));
  const table = (shown: number) => {
    const rows = report.changes.slice(0, shown).map((c) => changeRow(c, compared));
    if (shown < report.changes.length) rows.push(`| … ${report.changes.length - shown} more deployment(s) not shown (see the JSON result) |${compared ? ' | | | | | | |' : ' | | |'}`);
    return [...tableHeader, ...rows, ...totalRows].join('\n');
  };
  const noteOmitted = "_Details omitted to stay under GitHub's comment size limit: see the job summary or the JSON result._";
  // Totals are never cut: with too many deployments, rows go first and the total rows stay.
  let shown = report.changes.length;
  while (shown > 0 && !fits([...head, table(shown), noteOmitted], limit)) shown -= Math.max(1, Math.floor(shown / 10));
  const required = [...head, table(shown)];
  const optional: string[] = [];
  for (const t of report.totals) {
    const chart = mermaidChart(report, t.currency);
    if (chart) optional.push(chart);
  }
  optional.push(['**Assumptions**', ...report.assumptions.map((a) => `- ${a}`), ...report.priceNotes.map((n) => `- ${n}`)].join('\n'));
  for (const c of report.changes) {
    if (c.next) optional.push(`<details><summary>${c.name}: cost components</summary>\n\n${deploymentDetails(c.next)}\n\n</details>`);
  }
  optional.push(`<details><summary>Prices used (${report.prices.length})</summary>\n\n${priceTable(report.prices)}\n\n</details>`);
  if (options.footer) optional.push(options.footer);

  const body = [...required];
  let omitted = shown < report.changes.length;
  for (const part of optional) {
    if (fits([...body, part, noteOmitted], limit)) body.push(part);
    else omitted = true;
  }
  if (omitted) body.push(noteOmitted);
  return body.join('\n\n') + '\n';
}

/** One-line figures for the plan's summary and the log. */
export function summaryLines(report: CostReport): string[] {
  return report.totals.map((t) => {
    const base = `cost: ${formatRange(t.next, t.currency)} a month (${t.currency}, ${report.hoursPerMonth} h), one-time ${formatMoney(t.oneTime, t.currency)}`;
    return report.compared ? `${base}; change ${formatSignedRange(t.diff, t.currency)} from ${formatRange(t.past, t.currency)}` : base;
  });
}
