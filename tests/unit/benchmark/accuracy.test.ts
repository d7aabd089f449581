/**
 * Accuracy of the measurement against a server whose timing is known: TTFT 200 ms, then a token every
 * 20 ms, 32 tokens. The benchmark command runs in its own process, as a user runs it, against the
 * server in another. Measured TTFT (median), TPOT (mean), ITL (median), E2EL (median) and request and
 * output throughput must land within 10% of the configured values at concurrency 1 and at 64.
 *
 * Timing on a shared two-core machine is noisy (another job's build can hold both cores for seconds),
 * so a level gets up to three attempts; a systematic error (a wrong definition, a client that cannot
 * keep up) misses in all three and fails, with every attempt's figures in the message.
 */
import { FakeOpenAi, startFakeOpenAi } from './fake-openai';
import { printedJson, runBenchmarkCli } from './cli-child';

const TTFT = 200;
const ITL = 20;
const TOKENS = 32;
/** One request's duration on the server: the first token, then 31 gaps. */
const REQUEST_MS = TTFT + (TOKENS - 1) * ITL;
const KEY = 'sk-accuracy-5f2b9c1e7d3a4b6c8e0f';
const TOLERANCE = 0.1;
const ATTEMPTS = 3;

function misses(m: Record<string, number>, concurrency: number): string[] {
  const expectedRps = concurrency / (REQUEST_MS / 1000);
  const checks: [string, number, number][] = [
    ['median_ttft_ms', m.median_ttft_ms, TTFT],
    ['mean_tpot_ms', m.mean_tpot_ms, ITL],
    ['median_itl_ms', m.median_itl_ms, ITL],
    ['median_e2el_ms', m.median_e2el_ms, REQUEST_MS],
    // A closed loop of c streams, each request REQUEST_MS long: c / REQUEST_MS requests a second.
    ['request_throughput', m.request_throughput, expectedRps],
    ['output_throughput', m.output_throughput, expectedRps * TOKENS],
  ];
  return checks
    .filter(([, measured, expected]) => Math.abs(measured - expected) / expected > TOLERANCE)
    .map(([name, measured, expected]) => `${name} ${measured.toFixed(2)} vs ${expected.toFixed(2)} (${((Math.abs(measured - expected) / expected) * 100).toFixed(1)}% off)`);
}

describe('measurement accuracy against a loopback server with known timing', () => {
  let server: FakeOpenAi;
  beforeAll(async () => {
    server = await startFakeOpenAi({ ttftMs: TTFT, itlMs: ITL, tokens: TOKENS, apiKey: KEY, record: false });
  });
  afterAll(() => server.close());

  it.each([
    [1, 4],
    [64, 320],
  ])('concurrency %i, %i requests: within 10%% of the configured timing', async (concurrency, requests) => {
    const report: string[] = [];
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const r = await runBenchmarkCli(
        ['--url', server.url, '--api-key-env', 'BENCH_KEY', '--model', 'fake-model', '--concurrency', String(concurrency), '--requests', String(requests), '--prompt-tokens', '64', '--output-tokens', String(TOKENS), '--p95-ttft-ms', '1000', '--json'],
        { BENCH_KEY: KEY },
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain(KEY);
      const m = printedJson(r.stdout) as Record<string, number>;
      // Exact figures: no attempt may get these wrong.
      expect(m.completed).toBe(requests);
      expect(m.failed).toBe(0);
      expect(m.total_output_tokens).toBe(requests * TOKENS);
      expect(m.max_concurrent_requests).toBe(concurrency);
      const missed = misses(m, concurrency);
      if (!missed.length) return;
      report.push(`attempt ${attempt}: ${missed.join('; ')}`);
    }
    throw new Error(`measured timing off by more than 10% in all ${ATTEMPTS} attempts:\n${report.join('\n')}`);
  }, 120_000);
});
