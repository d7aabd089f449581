/**
 * The bill comparison as text: a section for a job summary or the scheduled report's issue, and the
 * one line per deployment the PR cost comment shows ("last 7 days: estimated $X, billed $Y").
 */
import type { BillComparison, DeploymentBill } from './bill';
import { BILL_TOLERANCE_PERCENT } from './bill';
import { escapeText } from './render';
import { formatMoney, formatPercent, formatRange, type Range } from './money';
import type { Currency } from '../prices/currency';

/** The hidden line the scheduled report's issue is found by. */
export function billIssueMarker(project: string, environment?: string): string {
  // "--" may not occur inside an HTML comment.
  const safe = (s: string) => s.replace(/-{2,}/g, '-');
  return `<!-- model-deploy:cost-report project=${safe(project)}${environment ? ` environment=${safe(environment)}` : ''} -->`;
}

function money(n: number, currency: Currency): string {
  return formatMoney(n, currency);
}

function estimated(r: Range, currency: Currency): string {
  return formatRange(r, currency);
}

function errorText(b: DeploymentBill): string {
  if (b.errorPercent === undefined) return '–';
  const mark = b.withinTolerance ? '✅' : '⚠️';
  return `${mark} ${formatPercent(b.errorPercent)}`;
}

/** "last 7 days: estimated $X, billed $Y (+4.2 %)"; undefined when nothing was compared. */
export function billLine(b: DeploymentBill, window: BillComparison['window']): string | undefined {
  if (b.days.length === 0) return undefined;
  const span = b.days.length === window.days ? `last ${window.days} days` : `${b.days.length} of the last ${window.days} days`;
  const error = b.errorPercent === undefined ? '' : ` (${formatPercent(b.errorPercent)}${b.withinTolerance ? '' : `, outside ±${BILL_TOLERANCE_PERCENT}%`})`;
  return `${span}: estimated ${estimated(b.estimated, b.currency)}, billed ${money(b.billed, b.currency)}${error}${b.provisional ? ', not final yet' : ''}`;
}

/** The lines the PR comment shows for a deployment it touches (empty when the bill has nothing for it). */
export function billCommentLines(c: BillComparison, deployment: string): string[] {
  const b = c.deployments.find((d) => d.deployment === deployment);
  const line = b && billLine(b, c.window);
  return line ? [line] : [];
}

/** Every compared deployment's lines, by name: what the PR comment's `billed` option takes. */
export function billedByDeployment(c: BillComparison): Record<string, string[]> {
  const entries = c.deployments.map((d): [string, string[]] => [d.deployment, billCommentLines(c, d.deployment)]);
  return Object.fromEntries(entries.filter(([, lines]) => lines.length > 0));
}

function partRows(b: DeploymentBill): string[] {
  return b.parts.map((p) => {
    const types = p.usageTypes.slice(0, 4).map((u) => `\`${escapeText(u.usageType)}\``).join(', ') + (p.usageTypes.length > 4 ? `, and ${p.usageTypes.length - 4} more` : '');
    const est = p.estimated ? estimated(p.estimated, b.currency) : p.unpriced.length > 0 ? 'unpriced' : 'not estimated';
    return `| ${p.label} | ${types || '–'} | ${est} | ${money(p.billed, b.currency)} |`;
  });
}

function deploymentDetails(b: DeploymentBill, window: BillComparison['window']): string[] {
  if (b.days.length === 0) return [];
  const lines = [
    `<details><summary>${escapeText(b.deployment)}: ${billLine(b, window) ?? ''}</summary>`,
    '',
    `Days compared: ${b.days[0]} to ${b.days[b.days.length - 1]} (${b.days.length}).`,
    '',
    '| Part | Usage types | Estimated | Billed |',
    '|---|---|--:|--:|',
    ...partRows(b),
    '',
  ];
  if (b.explanations.length > 0) lines.push('Where the gap comes from:', '', ...b.explanations.map((e) => `- ${escapeText(e)}`), '');
  lines.push('</details>', '');
  return lines;
}

/** A markdown section: one row per deployment, the breakdown and the explanation under each. */
export function billMarkdown(c: BillComparison, heading = '###'): string {
  const title = `${heading} Estimate vs bill, last ${c.window.days} days (${c.window.start} to ${c.window.end}, end excluded)`;
  if (c.notice) return [title, '', `> [!NOTE]`, `> ${escapeText(c.notice.message)}`, ''].join('\n');
  const rows = c.deployments.map((b) =>
    b.days.length === 0
      ? `| ${escapeText(b.deployment)} | 0 | – | – | ${escapeText(b.note ?? '')} |`
      : `| ${escapeText(b.deployment)} | ${b.days.length} | ${estimated(b.estimated, b.currency)} | ${money(b.billed, b.currency)}${b.provisional ? ' (not final)' : ''} | ${errorText(b)} |`,
  );
  return [
    title,
    '',
    '| Deployment | Days | Estimated | Billed | Error |',
    '|---|--:|--:|--:|---|',
    ...rows,
    '',
    ...c.deployments.flatMap((b) => deploymentDetails(b, c.window)),
    `Billed: Cost Explorer's ${c.metric} of the usage the deployment's tags carry, at the on-demand rate (Savings Plans, credits and tax aside). Target: within ±${BILL_TOLERANCE_PERCENT}% for a steady endpoint.`,
    '',
  ].join('\n');
}
