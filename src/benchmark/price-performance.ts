/**
 * What the measured throughput costs: from the run's output throughput and request throughput and the
 * instance's hourly price, the price of a million output tokens and of a thousand requests; and, from
 * the throughput that met the latency objective (request_goodput), how many instances the target load
 * needs and what that count costs a month (730 hours, the AWS calculator's month). The currency is the
 * price's own: a region priced in CNY gives CNY figures.
 */
import type { BenchmarkMetrics } from './metrics';
import { meetsObjective } from './metrics';
import type { StepResult } from './runner';
import type { LatencyObjective } from './workload';
import { CURRENCY_SYMBOL, type Currency } from '../prices/currency';

export interface HourlyPrice {
  amount: number;
  currency: Currency;
}

export const HOURS_PER_MONTH = 730;

export interface PricePerformance {
  currency: Currency;
  /** The price of one instance-hour. */
  hourlyPrice: number;
  /** Instances that served the measured run. */
  measuredInstances: number;
  /** Price of one million output tokens at the measured output throughput; null when nothing was produced. */
  perMillionOutputTokens: number | null;
  /** Price of 1,000 requests at the measured request throughput; null when none completed. */
  perThousandRequests: number | null;
  /** Requests per minute one instance carries within the objective (goodput, or throughput without an objective). */
  goodRequestsPerMinutePerInstance: number;
  targetRequestsPerMinute: number;
  /** Instances needed for the target load at the objective; null when no request met the objective. */
  instancesForTarget: number | null;
  /** Monthly cost of that many instances. */
  monthlyCostForTarget: number | null;
  hoursPerMonth: number;
  /** Whether the run met the objective at p95. */
  objectiveMet: boolean;
}

export interface PricePerformanceOptions {
  targetRequestsPerMinute: number;
  objective?: LatencyObjective;
  /** Instances behind the endpoint during the run (default 1). */
  instances?: number;
  hoursPerMonth?: number;
}

export function pricePerformance(m: BenchmarkMetrics, price: HourlyPrice, options: PricePerformanceOptions): PricePerformance {
  if (!(price.amount >= 0) || !Number.isFinite(price.amount)) throw new RangeError(`hourly price ${price.amount} is not a non-negative number`);
  const instances = options.instances ?? 1;
  const hours = options.hoursPerMonth ?? HOURS_PER_MONTH;
  const perSecond = (price.amount * instances) / 3600;
  const perMillion = m.output_throughput > 0 ? (perSecond / m.output_throughput) * 1e6 : null;
  const perThousand = m.request_throughput > 0 ? (perSecond / m.request_throughput) * 1000 : null;
  const objective = options.objective ?? {};
  const hasObjective = objective.p95TtftMs !== undefined || objective.p95E2elMs !== undefined;
  const objectiveMet = hasObjective ? meetsObjective(m, objective) : m.completed > 0;
  // Capacity at the objective: the requests that met it, per second, per instance. A run whose p95
  // misses the objective still has a goodput, but sizing on it would promise a p95 it did not show.
  const goodPerSecond = hasObjective ? (objectiveMet ? (m.request_goodput ?? m.request_throughput) : 0) : m.request_throughput;
  const perInstancePerMinute = (goodPerSecond * 60) / instances;
  const count = perInstancePerMinute > 0 ? Math.max(1, Math.ceil(options.targetRequestsPerMinute / perInstancePerMinute - 1e-9)) : null;
  return {
    currency: price.currency,
    hourlyPrice: price.amount,
    measuredInstances: instances,
    perMillionOutputTokens: perMillion,
    perThousandRequests: perThousand,
    goodRequestsPerMinutePerInstance: perInstancePerMinute,
    targetRequestsPerMinute: options.targetRequestsPerMinute,
    instancesForTarget: count,
    monthlyCostForTarget: count === null ? null : count * price.amount * hours,
    hoursPerMonth: hours,
    objectiveMet,
  };
}

/**
 * The load level to price when the run stepped the concurrency: the one with the most goodput among
 * those meeting the objective at p95 (the cheapest way to carry load at the promised latency); when
 * none meets it, the lowest level (the closest to meeting it).
 */
export function bestStep(steps: readonly StepResult[], objective: LatencyObjective): StepResult | undefined {
  const passing = steps.filter((s) => meetsObjective(s.metrics, objective));
  if (!passing.length) return steps[0];
  return passing.reduce((a, b) => ((b.metrics.request_goodput ?? b.metrics.request_throughput) > (a.metrics.request_goodput ?? a.metrics.request_throughput) ? b : a));
}

/** "$1,234.56", "¥0.0123": two decimals, or three significant digits below one cent. */
export function formatPrice(value: number | null, currency: Currency): string {
  if (value === null || !Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  const text = abs > 0 && abs < 0.01 ? abs.toPrecision(3) : abs.toFixed(2).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${value < 0 ? '-' : ''}${CURRENCY_SYMBOL[currency]}${text}`;
}
