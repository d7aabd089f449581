/** The job summary's table and chart, and the terminal block. */
import { calculateMetrics } from '../../../src/benchmark/metrics';
import { pricePerformance } from '../../../src/benchmark/price-performance';
import { benchmarkJson, renderLatencyChart, renderMarkdown, renderText } from '../../../src/benchmark/render';
import type { BenchmarkRun, StepResult } from '../../../src/benchmark/runner';
import { resolveWorkload } from '../../../src/benchmark/workload';

function step(concurrency: number, ttft: number, e2el: number): StepResult {
  const outcomes = Array.from({ length: 10 }, () => ({ success: true, promptLen: 100, outputTokens: 11, ttftMs: ttft, itlMs: Array(10).fill(10), latencyMs: e2el, startMs: 0 }));
  return { concurrency, metrics: calculateMetrics(outcomes, 2, { objective: { p95TtftMs: 500 } }), stoppedBy: 'requests', errors: [], clientLagP99Ms: 0, warnings: [] };
}

const workload = resolveWorkload({ concurrencySteps: [1, 4, 16], requests: 10, objective: { p95TtftMs: 500 } });
const run: BenchmarkRun = { target: 'openai https://llm.example.com', workload, startedAt: '2026-11-24T08:00:00.000Z', steps: [step(1, 100, 200), step(4, 180, 320), step(16, 640, 900)] };

describe('renderMarkdown', () => {
  it('has a row per level, the price and a mermaid chart of p95 latency against concurrency', () => {
    const price = pricePerformance(run.steps[1].metrics, { amount: 1.212, currency: 'USD' }, { targetRequestsPerMinute: 600, objective: workload.objective });
    const md = renderMarkdown(run, { price, pricedStep: run.steps[1] });
    expect(md).toContain('| concurrency | completed | failed | req/s | output tok/s | median TTFT ms | p95 TTFT ms |');
    expect(md).toContain('| 4 | 10 | 0 | 5.00 | 55.0 | 180.0 | 180.0 | 14.0 | 10.0 | 320.0 | 5.00 |');
    // TPOT (320 - 180) / 10 = 14 ms; at 16 the TTFT of 640 ms misses the 500 ms objective: no goodput.
    expect(md).toContain('| 16 | 10 | 0 | 5.00 | 55.0 | 640.0 | 640.0 | 26.0 | 10.0 | 900.0 | 0.00 |');
    expect(md).toContain('**Price-performance** at concurrency 4 ($1.21 per instance-hour, 1 instance measured)');
    // $1.212/h over 55 tok/s: 1.212 / 3600 / 55 * 1e6 = $6.12 per 1M; 600 req/min over 300 req/min: 2 instances.
    expect(md).toContain('| $6.12 | $0.07 | yes | 2 | $1,769.52 |');
    expect(md).toContain('```mermaid\nxychart-beta');
    expect(md).toContain('x-axis "concurrent requests" ["1", "4", "16"]');
    expect(md).toContain('line [100, 180, 640]');
    expect(md).toContain('line [200, 320, 900]');
  });

  it('draws no chart for one level, and escapes the target label', () => {
    const single: BenchmarkRun = { ...run, target: 'openai http://x|<b>', steps: [run.steps[0]] };
    expect(renderLatencyChart(single)).toBeUndefined();
    const md = renderMarkdown(single);
    expect(md).not.toContain('mermaid');
    expect(md).toContain('openai http://x\\|\\<b\\>');
  });
});

describe('renderText and benchmarkJson', () => {
  it('prints vLLM-style blocks', () => {
    const text = renderText({ ...run, steps: [run.steps[0]] });
    expect(text).toContain('============ Serving Benchmark Result ============');
    expect(text).toContain('Maximum request concurrency:             1');
    expect(text).toContain('Mean TPOT (ms):                          10.00');
    expect(text).toContain('P99 E2EL (ms):                           200.00');
  });
  it('puts a single level at the top level, every level in results', () => {
    const one = benchmarkJson({ ...run, steps: [run.steps[0]] });
    expect(one).toMatchObject({ max_concurrency: 1, request_rate: 'inf', completed: 10, median_ttft_ms: 100 });
    const all = benchmarkJson(run);
    expect(all.median_ttft_ms).toBeUndefined();
    expect((all.results as { max_concurrency: number }[]).map((r) => r.max_concurrency)).toEqual([1, 4, 16]);
  });
});
