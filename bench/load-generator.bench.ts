/**
 * The load generator's timing (moved out of tests/unit/benchmark/openai-cli.test.ts, which keeps the
 * stop reasons and counts): how soon after its 1 s cap a capped run returns, and how long an open-loop run
 * of 20 arrivals at 40/s takes, each against a plain timer of the nominal time measured in the same run
 * (so a loaded machine delays both alike).
 */
import type { BenchRow } from './types';
import { openAiClient } from '../src/benchmark/client-openai';
import { runBenchmark } from '../src/benchmark/runner';
import { resolveWorkload } from '../src/benchmark/workload';
import { memoryReporter } from '../src/core/log';
import { startFakeOpenAi } from '../tests/unit/benchmark/fake-openai';

async function plainTimer(ms: number): Promise<number> {
  const start = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  return performance.now() - start;
}

export default async function (): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  // Duration cap: 40 tokens 50 ms apart (2.05 s a request) against a 1 s cap.
  const slow = await startFakeOpenAi({ ttftMs: 100, itlMs: 50, tokens: 40, record: false });
  try {
    const reference = await plainTimer(1000);
    const started = performance.now();
    const run = await runBenchmark({ client: openAiClient({ baseUrl: slow.url, model: 'm' }), workload: resolveWorkload({ concurrency: 3, requests: 100, outputTokens: 40, maxDurationSeconds: 1 }), reporter: memoryReporter() });
    const elapsed = performance.now() - started;
    const duration = run.steps[0].metrics.duration * 1000;
    rows.push({ name: 'duration cap 1 s: measured duration / plain 1 s timer', value: Number((duration / reference).toFixed(3)), unit: `x (${duration.toFixed(0)} vs ${reference.toFixed(0)} ms)`, target: '< 1.5x', ok: duration / reference < 1.5 });
    rows.push({ name: 'duration cap 1 s: runBenchmark returned / plain 1 s timer', value: Number((elapsed / reference).toFixed(3)), unit: `x (${elapsed.toFixed(0)} vs ${reference.toFixed(0)} ms)`, target: '< 5x', ok: elapsed / reference < 5 });
  } finally {
    await slow.close();
  }
  // Open loop: 20 arrivals at 40/s (seeded Poisson), each request ~8 ms; nominally half a second.
  const quick = await startFakeOpenAi({ ttftMs: 5, itlMs: 1, tokens: 4, record: false });
  try {
    const reference = await plainTimer(500);
    const run = await runBenchmark({ client: openAiClient({ baseUrl: quick.url, model: 'm' }), workload: resolveWorkload({ requestRate: 40, requests: 20, outputTokens: 4 }), reporter: memoryReporter() });
    const duration = run.steps[0].metrics.duration * 1000;
    rows.push({ name: 'open loop 20 at 40/s: duration / plain 0.5 s timer', value: Number((duration / reference).toFixed(3)), unit: `x (${duration.toFixed(0)} vs ${reference.toFixed(0)} ms)`, target: '< 4x', ok: duration / reference < 4 });
  } finally {
    await quick.close();
  }
  return rows;
}
