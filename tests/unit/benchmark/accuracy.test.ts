/**
 * The benchmark command against a server whose output is known (32 tokens an answer): run in its own
 * process, as a user runs it, against the server in another, at concurrency 1 and 64. The counts it
 * reports must be exact. How close its timing figures come to the server's schedule is measured by
 * `npm run bench` (bench/accuracy.bench.ts), against a reference client in the same run: timing on a
 * shared machine is not a pass/fail question for jest.
 */
import { FakeOpenAi, startFakeOpenAi } from './fake-openai';
import { printedJson, runBenchmarkCli } from './cli-child';

const TOKENS = 32;
const KEY = 'sk-accuracy-5f2b9c1e7d3a4b6c8e0f';

describe('measurement counts against a loopback server', () => {
  let server: FakeOpenAi;
  beforeAll(async () => {
    server = await startFakeOpenAi({ ttftMs: 200, itlMs: 20, tokens: TOKENS, apiKey: KEY, record: false });
  });
  afterAll(() => server.close());

  it.each([
    [1, 4],
    [64, 320],
  ])('concurrency %i, %i requests: every request, every token, the concurrency asked for', async (concurrency, requests) => {
    const r = await runBenchmarkCli(
      ['--url', server.url, '--api-key-env', 'BENCH_KEY', '--model', 'fake-model', '--concurrency', String(concurrency), '--requests', String(requests), '--prompt-tokens', '64', '--output-tokens', String(TOKENS), '--p95-ttft-ms', '1000', '--json'],
      { BENCH_KEY: KEY },
      110_000,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain(KEY);
    const m = printedJson(r.stdout) as Record<string, number>;
    expect(m.completed).toBe(requests);
    expect(m.failed).toBe(0);
    expect(m.total_output_tokens).toBe(requests * TOKENS);
    expect(m.max_concurrent_requests).toBe(concurrency);
    for (const figure of ['median_ttft_ms', 'mean_tpot_ms', 'median_itl_ms', 'median_e2el_ms', 'request_throughput', 'output_throughput']) {
      // Present and not negative; an ITL may be 0 (tokens that arrive in one read), and how close each comes to the schedule is the bench's.
      expect({ figure, measured: Number.isFinite(m[figure]) && m[figure] >= 0 }).toEqual({ figure, measured: true });
    }
  }, 120_000);
});
