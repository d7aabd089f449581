/** Metrics against hand-computed values, with vLLM's definitions (see src/benchmark/metrics.ts). */
import { calculateMetrics, meetsObjective, percentile, std } from '../../../src/benchmark/metrics';
import type { RequestOutcome } from '../../../src/benchmark/types';

const ok = (o: Partial<RequestOutcome>): RequestOutcome => ({ success: true, promptLen: 0, outputTokens: 0, ttftMs: 0, itlMs: [], latencyMs: 0, startMs: 0, ...o });

// A: 4 tokens; B: 1 token (no TPOT); C: failed; D: 3 tokens, started 100 ms later; E: cancelled at the cap.
const OUTCOMES: RequestOutcome[] = [
  ok({ promptLen: 10, outputTokens: 4, ttftMs: 100, itlMs: [10, 20, 30], latencyMs: 160, startMs: 0 }),
  ok({ promptLen: 20, outputTokens: 1, ttftMs: 50, itlMs: [], latencyMs: 50, startMs: 0 }),
  { ...ok({}), success: false, error: 'HTTP 500' },
  ok({ promptLen: 30, outputTokens: 3, ttftMs: 200, itlMs: [40, 60], latencyMs: 300, startMs: 100 }),
  { ...ok({}), success: false, error: 'aborted', cancelled: true },
];

describe('calculateMetrics', () => {
  const m = calculateMetrics(OUTCOMES, 2, { objective: { p95TtftMs: 150, p95E2elMs: 200 } }) as unknown as Record<string, number>;

  it('counts and throughputs', () => {
    expect(m.completed).toBe(3);
    expect(m.failed).toBe(1);
    expect(m.cancelled).toBe(1);
    expect(m.total_input_tokens).toBe(60);
    expect(m.total_output_tokens).toBe(8);
    expect(m.request_throughput).toBeCloseTo(1.5, 10);
    expect(m.output_throughput).toBeCloseTo(4, 10);
    expect(m.total_token_throughput).toBeCloseTo(34, 10);
  });

  it('TTFT: mean, median, population std, linear percentiles', () => {
    expect(m.mean_ttft_ms).toBeCloseTo(350 / 3, 9);
    expect(m.median_ttft_ms).toBe(100);
    expect(m.std_ttft_ms).toBeCloseTo(Math.sqrt(11666.666666666666 / 3), 9);
    expect(m.p90_ttft_ms).toBeCloseTo(180, 9);
    expect(m.p95_ttft_ms).toBeCloseTo(190, 9);
    expect(m.p99_ttft_ms).toBeCloseTo(198, 9);
  });

  it('TPOT per request is (latency - TTFT) / (tokens - 1), leaving out one-token answers', () => {
    // A: 60 / 3 = 20; D: 100 / 2 = 50.
    expect(m.mean_tpot_ms).toBeCloseTo(35, 9);
    expect(m.median_tpot_ms).toBeCloseTo(35, 9);
    expect(m.std_tpot_ms).toBeCloseTo(15, 9);
    expect(m.p99_tpot_ms).toBeCloseTo(49.7, 9);
  });

  it('ITL pools every gap of every request', () => {
    expect(m.mean_itl_ms).toBeCloseTo(32, 9);
    expect(m.median_itl_ms).toBe(30);
    expect(m.p90_itl_ms).toBeCloseTo(52, 9);
  });

  it('E2EL is the latency', () => {
    expect(m.mean_e2el_ms).toBeCloseTo(170, 9);
    expect(m.median_e2el_ms).toBe(160);
  });

  it('goodput counts requests within every per-request objective', () => {
    // A (100 ms, 160 ms) and B (50, 50) are within 150/200; D's TTFT of 200 ms is not.
    expect(m.request_goodput).toBeCloseTo(1, 10);
  });

  it('peaks as vLLM computes them', () => {
    expect(m.max_concurrent_requests).toBe(2);
    expect(m.max_output_tokens_per_s).toBe(8);
  });

  it('no objective: request_goodput is null; nothing completed: zeros', () => {
    expect(calculateMetrics(OUTCOMES, 2).request_goodput).toBeNull();
    const empty = calculateMetrics([], 1, { objective: { p95TtftMs: 1 } });
    expect(empty.completed).toBe(0);
    expect(empty.mean_ttft_ms).toBe(0);
    expect(empty.request_goodput).toBe(0);
    expect(meetsObjective(empty, { p95TtftMs: 1 })).toBe(false);
  });

  it('a request without a token count counts one output token (vLLM without a tokenizer)', () => {
    const x = calculateMetrics([ok({ outputTokens: 0, ttftMs: 10, latencyMs: 10 })], 1);
    expect(x.total_output_tokens).toBe(1);
    expect(x.mean_tpot_ms).toBe(0);
  });

  it('meetsObjective compares the p95 figures', () => {
    const x = calculateMetrics(OUTCOMES, 2);
    expect(meetsObjective(x, { p95TtftMs: 190 })).toBe(true);
    expect(meetsObjective(x, { p95TtftMs: 189 })).toBe(false);
    expect(meetsObjective(x, { p95TtftMs: 1000, p95E2elMs: 100 })).toBe(false);
  });
});

describe('percentile and std (numpy defaults)', () => {
  it('interpolates linearly between ranks', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([4, 1, 3, 2], 25)).toBe(1.75);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 99)).toBe(0);
  });
  it('std is the population deviation', () => {
    expect(std([2, 4, 4, 4, 5, 5, 7, 9])).toBe(2);
  });
});
