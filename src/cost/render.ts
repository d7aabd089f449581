/**
 * The estimate as markdown: the PR comment (hidden marker, headline, summary table in whole units,
 * what changed old → new, a bar chart of the change, component details old → new in cents,
 * assumptions, price sources), kept under GitHub's 65,536-character body limit (trailing newline
 * included) by dropping details, never totals. Every string from the report is escaped: in comment
 * mode the report comes from an artifact a pull request's job wrote.
 */
import { formatPrice } from '../benchmark/price-performance';
import { Currency, Price, defaultCatalog } from '../prices/catalog';
import type { CostComponent, DeploymentEstimate, ResourceEstimate } from './estimate';
import { FIGURE_LABELS, type BudgetViolation, type CostReport, type CurrencyTotals, type DeploymentChange, type FigureLabel } from './report';
import { Range, formatMoney, formatPercent, formatPercentRange, formatQuantity, formatRange, formatSignedRange, roundTo } from './money';
import { compareText } from '../core/compare';

export const GITHUB_COMMENT_LIMIT = 65536;
/** Deployments in the chart: the largest movers. */
export const CHART_TOP = 6;

export function commentMarker(config: string): string {
  return `<!-- model-deploy:estimate-cost config=${config.replace(/--/g, '-')} -->`;
}

export interface RenderOptions {
  marker?: string;
  violations?: BudgetViolation[];
  limit?: number;
  /** Shown last (a link to the run); dropped like the details when the body must shrink. */
  footer?: string;
  /** Per deployment name, its bill lines ("last 7 days: estimated $X, billed $Y", bill-render.ts). */
  billed?: Record<string, string[]>;
}

const ORIGIN_LABEL: Record<Price['origin'], string> = {
  catalog: 'catalogue',
  derived: 'catalogue, DERIVED estimate',
  'catalog-other-region': 'catalogue, us-east-1 price as estimate',
  live: 'AWS Price List API',
};

/** Invisible, and no autolink, mention or reference pattern matches across it. */
const ZWSP = '\u200b';

// A character or sequence one of escapeText's replacements acts on; a text with none (most cells: names,
// figures, units) is returned as it is, without ten passes over it.
const ESCAPED = /[\r\n&<>\\`*_[\]|!#~@]|:\/\/|www\.|gh-\d|[0-9a-f]{7}/i;

/**
 * Text from the report as inert markdown: no HTML, links, images or table breaks (escaped), and
 * nothing GitHub links by itself after rendering, where escapes are gone (a zero-width space breaks
 * the pattern): URLs (`://`, `www.`), @mentions and e-mail addresses, `#12`, `org/repo#12`, `GH-12`,
 * commit SHAs. `&` first, so `&#64;` cannot come back as an @.
 */
export function escapeText(s: string): string {
  if (!ESCAPED.test(s)) return s;
  return s
    .replace(/[\r\n]+/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]|!#~]/g, (c) => `\\${c}`)
    .replace(/[@#]/g, (c) => `${c}${ZWSP}`)
    .replace(/:\/\//g, `:${ZWSP}//`)
    .replace(/\b(www)\./gi, `$1${ZWSP}.`)
    .replace(/\b(gh)-(?=\d)/gi, `$1${ZWSP}-`)
    .replace(/\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{7,}\b/gi, (sha) => `${sha.slice(0, 6)}${ZWSP}${sha.slice(6)}`);
}

/** " + unpriced + usage": what the figure leaves out, shown beside it (not only in the details). */
function gapFlags(unpriced: number, usageBased: number): string {
  return `${unpriced > 0 ? ' + unpriced' : ''}${usageBased > 0 ? ' + usage' : ''}`;
}

/** " (DERIVED, stale price)": what qualifies a figure, in its own cell. */
function labelFlags(labels: readonly FigureLabel[]): string {
  return labels.length ? ` (${labels.join(', ')})` : '';
}

/** The labels of a total, and the legend line that says what each means (kept whatever is trimmed). */
function totalLabels(t: CurrencyTotals): FigureLabel[] {
  return (Object.keys(FIGURE_LABELS) as FigureLabel[]).filter((l) => (t.labels[l] ?? 0) > 0);
}

function labelLegend(report: CostReport): string | undefined {
  const lines: string[] = [];
  for (const t of report.totals) {
    for (const l of totalLabels(t)) {
      const n = t.labels[l] ?? 0;
      lines.push(`> **${l}** (${n} deployment${n > 1 ? 's' : ''}${report.totals.length > 1 ? `, ${t.currency}` : ''}): ${FIGURE_LABELS[l]}.`);
    }
  }
  return lines.length ? lines.join('\n') : undefined;
}

/** Both ends of a range moved, in opposite directions. */
function movesBothWays(r: Range): boolean {
  const lo = roundTo(r.low, 2);
  const hi = roundTo(r.high, 2);
  return (lo < 0 && hi > 0) || (lo > 0 && hi < 0);
}

function headline(t: CurrencyTotals, compared: boolean): string {
  const flags = gapFlags(t.unpriced, t.usageBased);
  const next = `${formatRange(t.next, t.currency)}${flags}`;
  if (!compared) return `Monthly cost: **${next}** (${t.currency})`;
  const lo = roundTo(t.diff.low, 2);
  const hi = roundTo(t.diff.high, 2);
  if (lo === 0 && hi === 0) {
    // Equal priced figures, but something new without a price (Bedrock provisioned throughput): not "unchanged".
    const added = t.unpriced - t.pastUnpriced;
    if (added > 0) return `Priced monthly cost unchanged at ${next} (${t.currency}): **${added} new unpriced component${added > 1 ? 's' : ''}**, see the details`;
    return `Monthly cost **unchanged** at ${next} (${t.currency})`;
  }
  const from = `${formatRange(t.past, t.currency)}${gapFlags(t.pastUnpriced, t.pastUsageBased)} → **${next}** (${t.currency})`;
  if (movesBothWays(t.diff)) {
    const [down, up] = lo < 0 ? ['minimum', 'maximum'] : ['maximum', 'minimum'];
    return `Monthly cost **moves both ways**: the ${down} falls and the ${up} rises (${formatSignedRange(t.diff, t.currency)}): ${from}`;
  }
  const direction = lo > 0 || hi > 0 ? 'increase' : 'decrease';
  const pct = headlinePercent(t);
  return `Monthly cost will **${direction} by ${formatRange({ low: Math.abs(t.diff.low), high: Math.abs(t.diff.high) }, t.currency)}**${pct}: ${from}`;
}

/** " (+5.0%)", or both ends when a range moves by different shares: the guardrails check the maximum. */
function headlinePercent(t: CurrencyTotals): string {
  if (t.percent === undefined && t.percentMax === undefined) return '';
  if (t.percent === t.percentMax) return ` (${formatPercent(t.percent)})`;
  return ` (${formatPercent(t.percent)} at the minimum, ${formatPercent(t.percentMax)} at the maximum)`;
}

function runsOn(d: DeploymentEstimate): string {
  return `${d.target}, ${d.instanceType}, ${d.regions.join(' ')}`;
}

const TARGET_SHORT: Record<DeploymentEstimate['target'], string> = { 'sagemaker-realtime': 'SageMaker', 'sagemaker-async': 'SageMaker async', ecs: 'ECS', ec2: 'EC2', bedrock: 'Bedrock' };

/** "SageMaker ml.g5.xlarge, us-east-1 +5": non-breaking inside each half, so the cell wraps once at most. */
function runsOnCell(d: DeploymentEstimate): string {
  const nb = (s: string) => s.replace(/ /g, '\u00a0');
  const where = d.regions.length > 1 ? `${d.regions[0]} +${d.regions.length - 1}` : (d.regions[0] ?? '');
  return `${nb(`${TARGET_SHORT[d.target]} ${d.instanceType}`)}, ${nb(where)}`;
}

/** One-time figures keep their cents under 10 (a $0.20 build is not "$0"). */
function oneTimeMoney(value: number, currency: Currency): string {
  return formatMoney(value, currency, value !== 0 && Math.abs(roundTo(value, 2)) < 10 ? 2 : 0);
}

function oneTimeCell(c: DeploymentChange): string {
  if (c.oneTime === null) return 'unpriced';
  if (c.oneTime === 0 && c.oneTimeNote) return `${formatMoney(0, c.currency, 0)} (no build)`;
  return oneTimeMoney(c.oneTime, c.currency);
}

function changeRow(c: DeploymentChange, compared: boolean): string {
  const d = c.next ?? c.past;
  const what = d ? escapeText(runsOnCell(d)) : '';
  const monthly = `${formatRange(c.monthly, c.currency, 0)}${gapFlags(c.unpriced, c.usageBased)}${labelFlags(c.labels)}`;
  const name = escapeText(c.label);
  if (!compared) return `| ${name} | ${what} | ${monthly} | ${oneTimeCell(c)} |`;
  const pct = c.status === 'added' ? 'new' : formatPercentRange(c.percent, c.percentMax);
  const pastFlags = c.past ? gapFlags(c.past.unpriced.length, c.past.usageBased.length) : '';
  return `| ${name} | ${c.status} | ${what} | ${formatRange(c.pastMonthly, c.currency, 0)}${pastFlags} | ${monthly} | ${formatSignedRange(c.diff, c.currency, 0)} | ${pct} | ${oneTimeCell(c)} |`;
}

function totalRow(t: CurrencyTotals, compared: boolean): string {
  const oneTime = `${oneTimeMoney(t.oneTime, t.currency)}${t.oneTimeUnpriced ? ` + ${t.oneTimeUnpriced} unpriced` : ''}`;
  const next = `**${formatRange(t.next, t.currency, 0)}${gapFlags(t.unpriced, t.usageBased)}**${labelFlags(totalLabels(t))}`;
  if (!compared) return `| **Total (${t.currency})** | | ${next} | ${oneTime} |`;
  const pct = t.percent === undefined && t.percentMax === undefined ? '' : formatPercentRange(t.percent, t.percentMax);
  return `| **Total (${t.currency})** | | | ${formatRange(t.past, t.currency, 0)}${gapFlags(t.pastUnpriced, t.pastUsageBased)} | ${next} | **${formatSignedRange(t.diff, t.currency, 0)}** | ${pct} | ${oneTime} |`;
}

/** Per changed deployment: instance type, count range, engine, regions, target as old → new. */
export function whatChanged(c: DeploymentChange): string | undefined {
  const { past, next } = c;
  if (!past || !next || c.status !== 'changed') return undefined;
  const fields: [string, string, string][] = [
    ['target', past.target, next.target],
    ['instance type', past.instanceType, next.instanceType],
    ['count', past.count, next.count],
    ['engine', past.engine, next.engine],
    ['regions', past.allRegions.join(', '), next.allRegions.join(', ')],
    ['unpriced components', String(past.unpriced.length), String(next.unpriced.length)],
  ];
  const moved = fields.filter(([, a, b]) => a !== b).map(([f, a, b]) => `${f} ${escapeText(a)} → ${escapeText(b)}`);
  const cost = `${formatRange(c.pastMonthly, c.currency)} → ${formatRange(c.monthly, c.currency)} (${formatSignedRange(c.diff, c.currency)})`;
  return `- **${escapeText(c.label)}**: ${moved.length ? moved.join('; ') : 'settings or usage'}; ${cost} a month`;
}

const chartText = (s: string) => `"${s.replace(/["\\]/g, "'")}"`;
const CHART_COLOR = '#0969da';

/** Short labels keep a horizontal chart's bars wide. */
const chartLabel = (s: string) => (s.length > 28 ? `${s.slice(0, 27)}…` : s);
const chartValue = (n: number) => String(roundTo(n, 2));

/** The axis maximum: the largest bar rounded up to a round figure (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × a power of ten). */
function axisMax(largest: number): number {
  if (!(largest > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(largest));
  const step = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((m) => m * power >= largest) ?? 10;
  return roundTo(step * power, 2);
}

/** How far a deployment moved: both ends of its range. */
const movement = (c: DeploymentChange) => Math.abs(c.diff.high) + Math.abs(c.diff.low);

/**
 * Mermaid bar chart of the deployments whose cost moves most: base and this PR side by side for each, as
 * adjacent labelled bars of one series (mermaid overlays series: a second one would put its zero bars,
 * drawn from the plot's edge to 0, over the first), on a value axis from 0, horizontal so names stay readable. Without a base: the most
 * costly deployments. None where it adds nothing to the table and "What changed": one deployment, or fewer
 * than two that moved.
 */
export function mermaidChart(report: CostReport, currency: Currency): { chart: string; more: number } | undefined {
  const mine = report.changes.filter((c) => c.currency === currency && (c.next || c.past));
  if (mine.length < 2) return undefined;
  const ranked = report.compared
    ? mine.filter((c) => roundTo(movement(c), 2) > 0).sort((a, b) => movement(b) - movement(a) || compareText(a.label, b.label))
    : [...mine].sort((a, b) => b.monthly.high - a.monthly.high || compareText(a.label, b.label));
  if (ranked.length < 2) return undefined;
  const shown = ranked.slice(0, CHART_TOP);
  const labels = report.compared ? shown.flatMap((c) => [`${chartLabel(c.label)} · base`, `${chartLabel(c.label)} · this PR`]) : shown.map((c) => chartLabel(c.label));
  const bars = report.compared ? shown.flatMap((c) => [c.pastMonthly.high, c.monthly.high]) : shown.map((c) => c.monthly.high);
  const title = report.compared ? `Monthly cost, base vs this PR (${currency}, maximum of each range)` : `Monthly cost (${currency}, maximum of each range)`;
  const lines = [
    '```mermaid',
    // One strong colour, readable on GitHub's light and dark themes (the default pastel is faint on white).
    '---',
    'config:',
    '  themeVariables:',
    '    xyChart:',
    `      plotColorPalette: "${CHART_COLOR}"`,
    '---',
    'xychart-beta horizontal',
    `    title ${chartText(title)}`,
    `    x-axis [${labels.map(chartText).join(', ')}]`,
    `    y-axis "${currency} per month" 0 --> ${axisMax(Math.max(...bars))}`,
    `    bar [${bars.map(chartValue).join(', ')}]`,
    '```',
  ];
  return { chart: lines.join('\n'), more: ranked.length - shown.length };
}

/** The chart with the line that says what it leaves out. */
function chartSection(report: CostReport, currency: Currency): string | undefined {
  const c = mermaidChart(report, currency);
  if (!c) return undefined;
  const what = report.compared ? 'whose monthly cost moves most' : 'that cost most';
  const more = c.more > 0 ? `; and ${c.more} more in the table` : '';
  return `${c.chart}\n\n<sub>Chart: the ${currency} deployments ${what}, the maximum of each range${more}.</sub>`;
}

function quantityCell(c: CostComponent): string {
  if (!c.quantity) return 'depends on usage';
  return roundTo(c.quantity.low, 4) === roundTo(c.quantity.high, 4) ? formatQuantity(c.quantity.low) : `${formatQuantity(c.quantity.low)} – ${formatQuantity(c.quantity.high)}`;
}

function costCell(c: CostComponent | undefined, currency: Currency): string {
  if (!c) return '–';
  if (c.monthlyCost) return formatRange(c.monthlyCost, currency);
  return c.price ? 'usage-based' : 'unpriced';
}

function priceCell(c: CostComponent): string {
  if (!c.price) return 'no known price';
  return `${c.price.price} ${c.price.currency}${c.price.origin !== 'catalog' ? ` (${ORIGIN_LABEL[c.price.origin]})` : ''}`;
}

type Line = { resource: ResourceEstimate; component: CostComponent };
const lineKey = (l: Line) => `${l.resource.region}|${l.resource.kind}|${l.component.kind}`;
const linesOf = (d: DeploymentEstimate | undefined): Line[] => (d ? d.resources.flatMap((resource) => resource.components.map((component) => ({ resource, component }))) : []);

function componentRows(past: DeploymentEstimate | undefined, next: DeploymentEstimate, compared: boolean): string[] {
  const before = new Map(linesOf(past).map((l) => [lineKey(l), l]));
  const rows: string[] = [];
  for (const l of linesOf(next)) {
    const c = l.component;
    const where = escapeText(`${l.resource.name} (${l.resource.region})`);
    const head = `| ${where} | ${escapeText(c.name)} | ${quantityCell(c)} | ${escapeText(c.unit)} | ${escapeText(priceCell(c))} |`;
    if (!compared) {
      rows.push(`${head} ${costCell(c, next.currency)} |`);
      continue;
    }
    const old = before.get(lineKey(l));
    before.delete(lineKey(l));
    const diff = old?.component.monthlyCost && c.monthlyCost ? formatSignedRange({ low: c.monthlyCost.low - old.component.monthlyCost.low, high: c.monthlyCost.high - old.component.monthlyCost.high }, next.currency) : old ? '' : 'new';
    rows.push(`${head} ${costCell(old?.component, next.currency)} | ${costCell(c, next.currency)} | ${diff} |`);
  }
  for (const l of before.values()) {
    rows.push(`| ${escapeText(`${l.resource.name} (${l.resource.region})`)} | ${escapeText(l.component.name)} | | | | ${costCell(l.component, next.currency)} | – | removed |`);
  }
  return rows;
}

function deploymentDetails(c: DeploymentChange, compared: boolean): string {
  const d = c.next;
  if (!d) return '';
  const header = compared
    ? ['| Resource | Component | Monthly quantity | Unit | Price | Base monthly | New monthly | Change |', '|---|---|--:|---|--:|--:|--:|--:|']
    : ['| Resource | Component | Monthly quantity | Unit | Price | Monthly cost |', '|---|---|--:|---|--:|--:|'];
  const rows = [`#### ${escapeText(c.label)} (${escapeText(runsOn(d))})`, '', ...header, ...componentRows(compared ? c.past : undefined, d, compared)];
  const ot = d.oneTime;
  if (ot.minutes > 0) {
    const cost = c.oneTime === null ? 'unpriced' : c.oneTime === 0 && c.oneTimeNote ? escapeText(c.oneTimeNote) : `${formatMoney(c.oneTime, d.currency)} once`;
    const price = ot.price ? `${ot.price.price} ${ot.price.currency}` : 'no verified price';
    rows.push(`| ${escapeText(d.name)} build (one-time) | CodeBuild ${escapeText(ot.computeType)} | ${formatQuantity(ot.minutes)} | build-minutes | ${escapeText(price)} |${compared ? ' | ' : ''} ${cost} |${compared ? ' |' : ''}`);
  }
  const notes = d.resources.flatMap((r) => r.components.filter((x) => x.note).map((x) => `- ${escapeText(x.name)}: ${escapeText(x.note ?? '')}`));
  const unique = notes.filter((n, i) => notes.indexOf(n) === i);
  const gaps = [...d.unpriced, ...d.usageBased];
  return [...rows, ...(unique.length ? ['', ...unique] : []), ...(gaps.length ? ['', `Not in the total: ${escapeText(gaps.join('; '))}.`] : [])].join('\n');
}

function priceTable(prices: Price[]): string {
  const rows = ['| Price | Value | Unit | Region | From | Source | As of |', '|---|--:|---|---|---|---|---|'];
  const sources = defaultCatalog().sources;
  for (const p of prices) {
    const src = p.source.replace(/^(S[\w-]+)/, (k) => (sources[k] ? `${k}: ${sources[k].repository}` : k));
    rows.push(`| ${escapeText(`${p.service} ${p.key}`)} | ${escapeText(`${p.price} ${p.currency}`)} | ${escapeText(p.unit)} | ${escapeText(p.region)} | ${ORIGIN_LABEL[p.origin]} | ${escapeText(src)} | ${escapeText(p.asOf)} |`);
  }
  return rows.join('\n');
}

function headSection(report: CostReport, options: RenderOptions): string[] {
  const head: string[] = [];
  if (options.marker) head.push(options.marker);
  head.push(`### Cost estimate: ${escapeText(report.project)}`);
  head.push(report.totals.map((t) => headline(t, report.compared)).join('  \n'));
  const legend = labelLegend(report);
  if (legend) head.push(legend);
  if (report.baseNote) head.push(`> ${escapeText(report.baseNote)}`);
  if (options.violations?.length) {
    head.push(['> [!CAUTION]', '> **Over budget**', ...options.violations.map((v) => `> - ${escapeText(v.message)}`)].join('\n'));
  }
  return head;
}

/** The summary table's pieces, each rendered once: header, one row per deployment part, total rows. */
interface SummaryTable {
  header: string[];
  rows: string[];
  totals: string[];
}

function summaryTable(report: CostReport): SummaryTable {
  const compared = report.compared;
  const header = compared
    ? ['| Deployment | Status | Runs on | Base monthly | New monthly | Change | % | One-time |', '|---|---|---|--:|--:|--:|--:|--:|']
    : ['| Deployment | Runs on | Monthly | One-time |', '|---|---|--:|--:|'];
  if (report.benchmarks) header.splice(0, 2, `${header[0]} Per 1M output tokens |`, `${header[1]}--:|`);
  const rows = report.changes.map((c) => changeRow(c, compared) + (report.benchmarks ? ` ${benchmarkCell(c)} |` : ''));
  const totals = report.totals.map((t) => totalRow(t, compared) + (report.benchmarks ? ' |' : ''));
  return { header, rows, totals };
}

/** The row that stands for the rows left out, with how many of them carry each label (trimming never hides one). */
function moreRow(report: CostReport, shown: number): string {
  const hidden = report.changes.slice(shown);
  const counts = (Object.keys(FIGURE_LABELS) as FigureLabel[]).map((l) => [l, hidden.filter((c) => c.labels.includes(l)).length] as const).filter(([, n]) => n > 0);
  const qualified = counts.length ? `; ${counts.map(([l, n]) => `${l}: ${n}`).join(', ')}` : '';
  return `| … ${hidden.length} more deployment(s) not shown (see the job summary or the JSON result${qualified}) |${report.compared ? ' | | | | | | |' : ' | | |'}${report.benchmarks ? ' |' : ''}`;
}

/** The table with its first `shown` rows; the total rows always. */
function tableText(report: CostReport, t: SummaryTable, shown: number): string {
  const more = shown < t.rows.length ? [moreRow(report, shown)] : [];
  return [...t.header, ...t.rows.slice(0, shown), ...more, ...t.totals].join('\n');
}

/** Measured $/1M output tokens of the head configuration (figures and patterned strings only), or "not measured". */
function benchmarkCell(c: DeploymentChange): string {
  const b = c.benchmark;
  if (!c.next) return '';
  if (!b || !b.measured) return 'not measured';
  return `${formatPrice(b.perMillionOutputTokens, b.currency)} (measured ${b.date} at ${b.commit})`;
}

/** The sections that go, in order, when a body must shrink (after the table, before the footer). */
function optionalSections(report: CostReport, billedLines: RenderOptions['billed']): string[] {
  const optional: string[] = [];
  const changed = report.changes.map(whatChanged).filter((x): x is string => x !== undefined);
  if (changed.length) optional.push(['**What changed**', ...changed].join('\n'));
  const billed = report.changes.flatMap((c) => (c.next ? billedLines?.[c.name] ?? [] : []).map((l: string) => `- ${escapeText(c.label)}: ${escapeText(l)}`));
  if (billed.length) optional.push(['**Checked against the bill**', ...billed].join('\n'));
  for (const t of report.totals) {
    const chart = chartSection(report, t.currency);
    if (chart) optional.push(chart);
  }
  optional.push(['**Assumptions**', ...report.assumptions.map((a) => `- ${escapeText(a)}`), ...report.priceNotes.map((n) => `- ${escapeText(n)}`)].join('\n'));
  for (const c of report.changes) {
    if (c.next) optional.push(`<details><summary>${escapeText(c.label)}: cost components${report.compared ? ', base → new' : ''}</summary>\n\n${deploymentDetails(c, report.compared)}\n\n</details>`);
  }
  optional.push(`<details><summary>Prices used (${report.prices.length})</summary>\n\n${priceTable(report.prices)}\n\n</details>`);
  return optional;
}

const NOTE_OMITTED = "_Details omitted to stay under GitHub's comment size limit: see the job summary or the JSON result._";

/** A report rendered once, to be cut to any number of limits (the job summary and the comment share it). */
export interface RenderedParts {
  report: CostReport;
  /** The head without the marker (headline, labels' legend, base note, over-budget block). */
  head: string[];
  table: SummaryTable;
  optional: string[];
}

export function renderParts(report: CostReport, options: Pick<RenderOptions, 'violations' | 'billed'> = {}): RenderedParts {
  return { report, head: headSection(report, { violations: options.violations }), table: summaryTable(report), optional: optionalSections(report, options.billed) };
}

/**
 * The body under `limit` characters (the trailing newline counted): rows go first when the table alone is
 * too long (never the totals), then each optional section that does not fit, with a note. Lengths are
 * summed as parts are added, never re-joined.
 */
export function assembleBody(parts: RenderedParts, options: Pick<RenderOptions, 'marker' | 'footer' | 'limit'> = {}): string {
  const limit = options.limit ?? GITHUB_COMMENT_LIMIT;
  const fixed = [...(options.marker ? [options.marker] : []), ...parts.head];
  const joined = (xs: string[]) => xs.reduce((n, x) => n + x.length, 0) + 2 * Math.max(0, xs.length - 1);
  // Each part after the first adds its length and a blank line; the body ends in one newline.
  const room = (used: number, extra: number) => used + 2 + extra + 1 <= limit;
  const { table } = parts;
  const rowsLength = [0];
  for (const r of table.rows) rowsLength.push((rowsLength[rowsLength.length - 1] ?? 0) + r.length + 1);
  const tableLength = (shown: number) => {
    const more = shown < table.rows.length ? moreRow(parts.report, shown).length + 1 : 0;
    return [...table.header, ...table.totals].reduce((n, x) => n + x.length + 1, 0) - 1 + (rowsLength[shown] ?? 0) + more;
  };
  const base = joined(fixed) + (fixed.length > 0 ? 2 : 0);
  let shown = table.rows.length;
  while (shown > 0 && !room(base + tableLength(shown), NOTE_OMITTED.length)) shown -= Math.max(1, Math.floor(shown / 10));
  const body = [...fixed, tableText(parts.report, table, shown)];
  let used = base + tableLength(shown);
  let omitted = shown < table.rows.length;
  const optional = options.footer ? [...parts.optional, options.footer] : parts.optional;
  for (const part of optional) {
    if (room(used + 2 + part.length, NOTE_OMITTED.length)) {
      body.push(part);
      used += 2 + part.length;
    } else omitted = true;
  }
  if (omitted) body.push(NOTE_OMITTED);
  return body.join('\n\n') + '\n';
}

/** The markdown body; details are dropped (with a note) until it fits under the limit. */
export function renderReport(report: CostReport, options: RenderOptions = {}): string {
  return assembleBody(renderParts(report, options), options);
}

/** One-line figures for the plan's summary and the log. */
export function summaryLines(report: CostReport): string[] {
  return report.totals.map((t) => {
    const flags = gapFlags(t.unpriced, t.usageBased);
    const oneTime = t.oneTimeUnpriced > 0 ? (t.oneTime > 0 ? `${formatMoney(t.oneTime, t.currency)} + ${t.oneTimeUnpriced} unpriced` : 'unpriced') : formatMoney(t.oneTime, t.currency);
    const base = `cost: ${formatRange(t.next, t.currency)}${flags} a month (${t.currency}, ${report.hoursPerMonth} h), one-time ${oneTime}`;
    return report.compared ? `${base}; change ${formatSignedRange(t.diff, t.currency)} from ${formatRange(t.past, t.currency)}` : base;
  });
}
