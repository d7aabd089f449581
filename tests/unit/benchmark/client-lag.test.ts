/**
 * A client that falls behind says so: the load generator watches its own event loop during a level and
 * puts a warning in the result (and the reporter) when the loop ran late by more than the accuracy asked of
 * the figures (5 % of the median ITL). Here a client that blocks the loop 40 ms per request, against token
 * gaps of 10 ms.
 */
import { lagWarning, runBenchmark } from '../../../src/benchmark/runner';
import { benchmarkJson } from '../../../src/benchmark/render';
import { calculateMetrics } from '../../../src/benchmark/metrics';
import type { BenchClient } from '../../../src/benchmark/types';
import { resolveWorkload } from '../../../src/benchmark/workload';
import { memoryReporter } from '../../../src/core/log';

function blockFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    /* a client busy parsing: nothing else runs on this loop meanwhile */
  }
}

const busyClient: BenchClient = {
  label: 'busy',
  async send(request) {
    await new Promise((r) => setImmediate(r));
    blockFor(40);
    return { success: true, promptLen: request.promptTokens, outputTokens: 4, ttftMs: 50, itlMs: [10, 10, 10], latencyMs: 80, startMs: performance.now() };
  },
};

describe('the client watches its own lateness', () => {
  it('warns in the result and the log when its event loop ran late', async () => {
    const reporter = memoryReporter();
    const run = await runBenchmark({ client: busyClient, workload: resolveWorkload({ concurrency: 2, requests: 12, outputTokens: 4 }), reporter, warmup: false });
    const step = run.steps[0];
    expect(step.clientLagP99Ms).toBeGreaterThan(1);
    expect(step.warnings).toHaveLength(1);
    expect(step.warnings[0]).toMatch(/the benchmark client fell behind: its event loop ran [\d.]+ ms late at p99/);
    expect(reporter.allText()).toContain('the benchmark client fell behind');
    const json = benchmarkJson(run);
    expect(json.warnings).toEqual(step.warnings);
    expect(typeof json.client_lag_p99_ms).toBe('number');
  });

  it('measures lateness against the gaps it reports: 5 % of the median ITL, at least 1 ms', () => {
    const m = calculateMetrics([{ success: true, promptLen: 1, outputTokens: 3, ttftMs: 100, itlMs: [40, 40], latencyMs: 180, startMs: 0 }], 1);
    expect(lagWarning(1.9, m)).toBeUndefined();
    expect(lagWarning(2.1, m)).toMatch(/more than 2.0 ms, 5 % of the median ITL/);
    const single = calculateMetrics([{ success: true, promptLen: 1, outputTokens: 1, ttftMs: 10, itlMs: [], latencyMs: 10, startMs: 0 }], 1);
    expect(lagWarning(0.9, single)).toBeUndefined();
    expect(lagWarning(1.1, single)).toMatch(/median TTFT/);
  });
});
