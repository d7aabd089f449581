/** Price-performance arithmetic, by hand. */
import { calculateMetrics, BenchmarkMetrics } from '../../../src/benchmark/metrics';
import { bestStep, formatPrice, pricePerformance } from '../../../src/benchmark/price-performance';
import type { StepResult } from '../../../src/benchmark/runner';

/** Metrics with the throughputs given and p95 TTFT/E2EL of `p95` ms. */
function metrics(requestRps: number, outputTps: number, goodput: number | null, p95 = 500): BenchmarkMetrics {
  const base = calculateMetrics([{ success: true, promptLen: 1, outputTokens: 2, ttftMs: p95, itlMs: [1], latencyMs: p95, startMs: 0 }], 1);
  return { ...base, request_throughput: requestRps, output_throughput: outputTps, request_goodput: goodput };
}

describe('pricePerformance', () => {
  it('prices tokens and requests, and sizes the target load on the goodput', () => {
    // $3.60 an hour = $0.001 a second. 1,000 tokens/s -> $1 per 1M tokens; 2 req/s -> $0.50 per 1,000.
    // 1.5 good req/s = 90 req/min per instance; 300 req/min needs ceil(3.33) = 4 instances: 4 x 3.6 x 730.
    const p = pricePerformance(metrics(2, 1000, 1.5), { amount: 3.6, currency: 'USD' }, { targetRequestsPerMinute: 300, objective: { p95TtftMs: 1000 } });
    expect(p.perMillionOutputTokens).toBeCloseTo(1, 10);
    expect(p.perThousandRequests).toBeCloseTo(0.5, 10);
    expect(p.goodRequestsPerMinutePerInstance).toBeCloseTo(90, 10);
    expect(p.instancesForTarget).toBe(4);
    expect(p.monthlyCostForTarget).toBeCloseTo(10512, 6);
    expect(p.objectiveMet).toBe(true);
    expect(p.currency).toBe('USD');
  });

  it('keeps the currency of the price (CNY stays CNY)', () => {
    const p = pricePerformance(metrics(2, 1000, 1.5), { amount: 25.2, currency: 'CNY' }, { targetRequestsPerMinute: 90, objective: { p95TtftMs: 1000 } });
    expect(p.currency).toBe('CNY');
    expect(p.perMillionOutputTokens).toBeCloseTo(7, 10);
    expect(p.instancesForTarget).toBe(1);
    expect(p.monthlyCostForTarget).toBeCloseTo(25.2 * 730, 6);
    expect(formatPrice(p.monthlyCostForTarget, 'CNY')).toBe('¥18,396.00');
  });

  it('divides by the instances measured', () => {
    const p = pricePerformance(metrics(2, 1000, 2), { amount: 3.6, currency: 'USD' }, { targetRequestsPerMinute: 120, objective: { p95TtftMs: 1000 }, instances: 2 });
    expect(p.perMillionOutputTokens).toBeCloseTo(2, 10);
    expect(p.goodRequestsPerMinutePerInstance).toBeCloseTo(60, 10);
    expect(p.instancesForTarget).toBe(2);
  });

  it('has no instance count when the run missed the objective at p95', () => {
    const p = pricePerformance(metrics(2, 1000, 1.5, 5000), { amount: 3.6, currency: 'USD' }, { targetRequestsPerMinute: 300, objective: { p95TtftMs: 1000 } });
    expect(p.objectiveMet).toBe(false);
    expect(p.instancesForTarget).toBeNull();
    expect(p.monthlyCostForTarget).toBeNull();
    expect(p.perMillionOutputTokens).toBeCloseTo(1, 10);
  });

  it('without an objective sizes on the throughput', () => {
    const p = pricePerformance(metrics(1, 100, null), { amount: 1, currency: 'USD' }, { targetRequestsPerMinute: 61 });
    expect(p.instancesForTarget).toBe(2);
  });

  it('nothing produced: no per-token price', () => {
    const p = pricePerformance(metrics(0, 0, 0), { amount: 1, currency: 'USD' }, { targetRequestsPerMinute: 1, objective: { p95TtftMs: 1000 } });
    expect(p.perMillionOutputTokens).toBeNull();
    expect(p.perThousandRequests).toBeNull();
    expect(formatPrice(null, 'USD')).toBe('–');
  });

  it('formats small amounts with three significant digits', () => {
    expect(formatPrice(0.000123, 'USD')).toBe('$0.000123');
    expect(formatPrice(1234.5, 'USD')).toBe('$1,234.50');
  });
});

describe('bestStep', () => {
  const step = (concurrency: number, goodput: number, p95: number): StepResult => ({ concurrency, metrics: metrics(goodput, goodput * 100, goodput, p95), stoppedBy: 'requests', errors: [], clientLagP99Ms: 0, warnings: [] });
  it('picks the level with the most goodput among those meeting the objective', () => {
    const steps = [step(1, 1, 200), step(4, 3.5, 400), step(16, 9, 1500)];
    expect(bestStep(steps, { p95TtftMs: 1000 })?.concurrency).toBe(4);
  });
  it('falls back to the lowest level when none meets it', () => {
    expect(bestStep([step(1, 1, 2000), step(4, 3, 3000)], { p95TtftMs: 1000 })?.concurrency).toBe(1);
  });
});
