/** Money arithmetic and formatting: amounts round half-up to cents for display, decimals as strings in JSON. */
import { CURRENCY_SYMBOL, type Currency } from '../prices/currency';

/** Rounds half-up at `digits` decimals, on the decimal representation (so 1.005 → 1.01). */
export function roundTo(value: number, digits: number): number {
  if (!Number.isFinite(value)) return value;
  const scale = 10 ** digits;
  const x = Math.abs(value) * scale;
  // 15 significant digits drop the binary noise (1.005 × 100 = 100.49999999999999 → 100.5) before
  // rounding. Below 1e9 they move x by under 5e-6, so away from a half the plain round is the same
  // (and a report rounds thousands of figures: toPrecision is the slow part).
  const clearOfHalf = Math.abs(x - Math.floor(x) - 0.5) > 1e-5 && x < 1e9;
  const rounded = Math.round(clearOfHalf ? x : Number(x.toPrecision(15))) / scale;
  return value < 0 ? -rounded : rounded;
}

/** A JSON decimal string: up to 10 decimals, trailing zeros dropped (float noise removed). */
export function decimalString(value: number): string {
  if (Number.isInteger(value)) return Object.is(value, -0) ? '0' : String(value);
  const r = roundTo(value, 10);
  if (Object.is(r, -0) || r === 0) return '0';
  const s = r.toFixed(10).replace(/0+$/, '').replace(/\.$/, '');
  return s;
}

/** "1234567" → "1,234,567". */
function groupThousands(whole: string): string {
  return whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Cents (2, the details) or whole units (0, the summary table). */
export type Digits = 0 | 2;

/** "$1,234.56", "-$12.00", "¥537.57"; with digits 0: "$1,235". */
export function formatMoney(value: number, currency: Currency, digits: Digits = 2): string {
  const rounded = roundTo(value, digits);
  const sign = rounded < 0 ? '-' : '';
  const [whole = '', frac] = Math.abs(rounded).toFixed(digits).split('.');
  return `${sign}${CURRENCY_SYMBOL[currency]}${groupThousands(whole)}${frac ? `.${frac}` : ''}`;
}

/** "+$12.00" / "-$3.10" / "$0.00". */
export function formatSigned(value: number, currency: Currency, digits: Digits = 2): string {
  const rounded = roundTo(value, digits);
  return rounded > 0 ? `+${formatMoney(rounded, currency, digits)}` : formatMoney(rounded, currency, digits);
}

/** A figure that may be a range (autoscaling between a minimum and maximum count). */
export interface Range {
  low: number;
  high: number;
}

export const ZERO: Range = { low: 0, high: 0 };

export function addRanges(a: Range, b: Range): Range {
  return { low: a.low + b.low, high: a.high + b.high };
}

export function formatRange(r: Range, currency: Currency, digits: Digits = 2): string {
  return roundTo(r.low, digits) === roundTo(r.high, digits) ? formatMoney(r.low, currency, digits) : `${formatMoney(r.low, currency, digits)} – ${formatMoney(r.high, currency, digits)}`;
}

export function formatSignedRange(r: Range, currency: Currency, digits: Digits = 2): string {
  return roundTo(r.low, digits) === roundTo(r.high, digits) ? formatSigned(r.low, currency, digits) : `${formatSigned(r.low, currency, digits)} – ${formatSigned(r.high, currency, digits)}`;
}

/** Change in percent of the base, one decimal; undefined when the base is zero. */
export function percentChange(past: number, next: number): number | undefined {
  if (roundTo(past, 2) === 0) return undefined;
  return roundTo(((next - past) / past) * 100, 1);
}

export function formatPercent(p: number | undefined): string {
  if (p === undefined) return 'new';
  return `${p > 0 ? '+' : ''}${p.toFixed(1)}%`;
}

/** The change in percent at both ends of a range ("+100.0% – 0.0%"), one figure when they agree. */
export function formatPercentRange(low: number | undefined, high: number | undefined): string {
  return low === high ? formatPercent(low) : `${formatPercent(low)} – ${formatPercent(high)}`;
}

/** A quantity for tables: up to 4 decimals, thousands separators. */
export function formatQuantity(value: number): string {
  const r = roundTo(value, 4);
  const [whole = '', frac] = String(r).split('.');
  return `${groupThousands(whole)}${frac ? `.${frac}` : ''}`;
}
