/**
 * `--workers N` with real worker threads: the command runs in its own process from the transpiled sources
 * (as the CLI bundle holds them: the same file is the command and, in a worker thread, the worker), against
 * the loopback server. The workers together send exactly the level's requests (one shared counter), and the
 * result is one run's: every request, every token, the streams held at the level's concurrency.
 */
import { printedJson, runBenchmarkCli } from './cli-child';
import { startFakeOpenAi } from './fake-openai';

const KEY = 'sk-workers-test-2Fh8Lq4Zx7Nc';

describe('benchmark --workers', () => {
  it('spreads the streams over worker threads and merges them into one result, the key never printed', async () => {
    const server = await startFakeOpenAi({ ttftMs: 30, itlMs: 5, tokens: 8, apiKey: KEY, model: 'served' });
    try {
      const r = await runBenchmarkCli(
        ['--url', server.url, '--api-key-env', 'BENCH_KEY', '--model', 'served', '--concurrency', '6', '--requests', '30', '--prompt-tokens', '16', '--output-tokens', '8', '--workers', '3', '--json'],
        { BENCH_KEY: KEY },
      );
      expect(`${r.stdout}${r.stderr}`).not.toContain(KEY);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('over 3 worker threads');
      const json = printedJson(r.stdout);
      expect(json).toMatchObject({ completed: 30, failed: 0, cancelled: 0, total_output_tokens: 240, max_concurrency: 6, client_workers: 3 });
      // Start times are on one clock: the streams in flight at once are the level's concurrency, no more.
      expect(json.max_concurrent_requests).toBeLessThanOrEqual(6);
      expect(json.max_concurrent_requests).toBeGreaterThanOrEqual(3);
      expect(typeof json.client_cpu_s).toBe('number');
      const stats = await server.stats();
      // 6 warm-up requests (2 per worker, max_tokens 8 → min(8, 16)), then exactly the 30 measured ones.
      expect(stats.requests).toHaveLength(36);
      expect(stats.peakStreams).toBeLessThanOrEqual(6);
    } finally {
      await server.close();
    }
  });
});
