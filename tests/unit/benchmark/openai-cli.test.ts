/**
 * The OpenAI client, the load generator's bounds and the benchmark command, against the loopback
 * server; and the key: never in any captured output, even when the server quotes it back.
 */
import { getEventListeners } from 'events';
import { benchmarkCommand } from '../../../src/benchmark/cli';
import { chatCompletionsUrl, openAiClient } from '../../../src/benchmark/client-openai';
import { runBenchmark } from '../../../src/benchmark/runner';
import { resolveWorkload } from '../../../src/benchmark/workload';
import { DeployError } from '../../../src/core/errors';
import { memoryReporter } from '../../../src/core/log';
import { startFakeOpenAi } from './fake-openai';

const KEY = 'sk-md-test-7Hq2LmVx9Rk3Pz8Wn4Tb6Yc1';

function jsonOf(reporter: ReturnType<typeof memoryReporter>): Record<string, unknown> {
  const line = reporter.captured.lines.find((l) => l.startsWith('{'));
  if (!line) throw new Error(`no JSON printed:\n${reporter.allText()}`);
  return JSON.parse(line) as Record<string, unknown>;
}

describe('chatCompletionsUrl', () => {
  it.each([
    ['http://127.0.0.1:8000', 'http://127.0.0.1:8000/v1/chat/completions'],
    ['https://llm.example.com/', 'https://llm.example.com/v1/chat/completions'],
    ['https://llm.example.com/v1', 'https://llm.example.com/v1/chat/completions'],
    ['http://h/prefix/v1/chat/completions', 'http://h/prefix/v1/chat/completions'],
  ])('%s -> %s', (base, url) => expect(chatCompletionsUrl(base)).toBe(url));
  it('refuses other schemes and credentials in the URL', () => {
    expect(() => chatCompletionsUrl('ftp://h')).toThrow(DeployError);
    expect(() => chatCompletionsUrl('https://user:pw@h')).toThrow('--url carries credentials');
    expect(() => chatCompletionsUrl('not a url')).toThrow('is not a URL');
  });
});

describe('the benchmark command', () => {
  it('runs, prints the table and vLLM-named JSON, and sends a Bearer key on lower-case headers', async () => {
    const server = await startFakeOpenAi({ ttftMs: 20, itlMs: 2, tokens: 8, apiKey: KEY, model: 'served-model' });
    try {
      const reporter = memoryReporter();
      const code = await benchmarkCommand(['--url', server.url, '--api-key-env', 'MY_KEY', '--concurrency', '4', '--requests', '12', '--prompt-tokens', '16', '--output-tokens', '8', '--json'], reporter, { env: { MY_KEY: KEY } });
      expect(reporter.allText()).not.toContain(KEY);
      expect(reporter.captured.secrets).toContain(KEY);
      expect(code).toBe(0);
      const text = reporter.captured.lines.join('\n');
      expect(text).toContain('Successful requests:                     12');
      expect(text).toContain('Median TTFT (ms):');
      const json = jsonOf(reporter);
      expect(json).toMatchObject({ completed: 12, failed: 0, total_output_tokens: 96, max_concurrency: 4, model_id: 'served-model', backend: 'openai-chat' });
      for (const field of ['request_throughput', 'output_throughput', 'total_token_throughput', 'mean_ttft_ms', 'median_ttft_ms', 'std_ttft_ms', 'p99_ttft_ms', 'mean_tpot_ms', 'p90_tpot_ms', 'mean_itl_ms', 'median_itl_ms', 'mean_e2el_ms', 'p99_e2el_ms', 'request_goodput']) {
        expect(typeof json[field]).toBe('number');
      }
      const stats = await server.stats();
      // /v1/models (no --model), 4 warm-up requests, 12 measured.
      expect(stats.requests).toHaveLength(16);
      const first = stats.requests[0];
      expect(first.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(first.body).toMatchObject({ model: 'served-model', stream: true, stream_options: { include_usage: true }, max_tokens: 8, ignore_eos: true });
      const prompt = (first.body.messages as { content: string }[])[0].content;
      expect(prompt.split(' ')).toHaveLength(16);
    } finally {
      await server.close();
    }
  });

  it('never prints the key when the server quotes it back in a refusal', async () => {
    const server = await startFakeOpenAi({ ttftMs: 5, itlMs: 1, tokens: 4, apiKey: 'the-right-key', echoAuth: true });
    try {
      const reporter = memoryReporter();
      const code = await benchmarkCommand(['--url', server.url, '--api-key-env', 'K', '--model', 'm', '--concurrency', '2', '--requests', '4'], reporter, { env: { K: KEY } });
      expect(code).toBe(2);
      const all = reporter.allText();
      expect(all).toContain('the first request to openai');
      expect(all).toContain('HTTP 401');
      expect(all).toContain('unauthorized: Bearer ***');
      expect(all).not.toContain(KEY);
    } finally {
      await server.close();
    }
  });

  it('never prints a key that fetch itself refuses (it quotes invalid header values)', async () => {
    const bad = `${KEY}\nx`;
    const reporter = memoryReporter();
    const code = await benchmarkCommand(['--url', 'http://127.0.0.1:9', '--api-key-env', 'K', '--model', 'm', '--requests', '1'], reporter, { env: { K: bad } });
    expect(code).toBe(2);
    expect(reporter.allText()).not.toContain(KEY);
  });

  it('counts chunks when the server sends no usage, and parses events split mid-line', async () => {
    const server = await startFakeOpenAi({ ttftMs: 5, itlMs: 1, tokens: 6, usage: false, splitEvents: true });
    try {
      const reporter = memoryReporter();
      expect(await benchmarkCommand(['--url', `${server.url}/v1`, '--model', 'm', '--concurrency', '2', '--requests', '4', '--output-tokens', '6', '--json'], reporter)).toBe(0);
      expect(jsonOf(reporter)).toMatchObject({ completed: 4, total_output_tokens: 24 });
    } finally {
      await server.close();
    }
  });

  it('steps the concurrency and prices the best level', async () => {
    const server = await startFakeOpenAi({ ttftMs: 10, itlMs: 1, tokens: 4 });
    try {
      const reporter = memoryReporter();
      const code = await benchmarkCommand(
        ['--url', server.url, '--model', 'm', '--concurrency-steps', '1,2', '--requests', '4', '--output-tokens', '4', '--price-per-hour', '1.5', '--currency', 'CNY', '--target-rpm', '600', '--json'],
        reporter,
      );
      expect(code).toBe(0);
      const json = jsonOf(reporter);
      expect((json.results as unknown[]).length).toBe(2);
      expect(json.price_performance).toMatchObject({ currency: 'CNY', hourlyPrice: 1.5, targetRequestsPerMinute: 600 });
      expect(reporter.captured.lines.join('\n')).toContain('Per 1M output tokens:                    ¥');
    } finally {
      await server.close();
    }
  });

  it.each([
    [[], '--url is required'],
    [['--url', 'http://127.0.0.1:1', '--api-key-env', 'NOPE'], '--api-key-env NOPE: the variable is not set or empty'],
    [['--url', 'http://127.0.0.1:1', '--api-key-env', 'sk-123'], 'is not an environment variable name'],
    [['--url', 'http://127.0.0.1:1', '--concurrency', 'many'], '--concurrency is "many", which is not a number'],
    [['--url', 'http://127.0.0.1:1', '--concurrency', '0'], 'benchmark.concurrency is 0, which is not valid'],
    [['--url', 'http://127.0.0.1:1', '--api-key', 'sk-1'], 'unknown flag --api-key'],
    [['--url', 'http://127.0.0.1:1', '--currency', 'EUR'], '--currency is "EUR"'],
    [['--url', 'http://127.0.0.1:1', '--workers', '0'], '--workers is "0"'],
    [['--url', 'http://127.0.0.1:1', '--workers', '1.5'], 'a whole number from 1 to 64'],
  ])('%j is a usage error', async (args, message) => {
    const reporter = memoryReporter();
    expect(await benchmarkCommand(args, reporter, { env: {} })).toBe(2);
    expect(reporter.allText()).toContain(message);
  });

  it('refuses a key with a line break before sending anything, and never prints the key', async () => {
    const reporter = memoryReporter();
    // Port 1: nothing listens; a request sent would fail differently.
    expect(await benchmarkCommand(['--url', 'http://127.0.0.1:1', '--api-key-env', 'KEY'], reporter, { env: { KEY: 'sk-secret\n' } })).toBe(2);
    expect(reporter.allText()).toContain('--api-key-env KEY: the key holds a control character');
    expect(reporter.allText()).not.toContain('sk-secret');
  });

  it('--help prints the usage', async () => {
    const reporter = memoryReporter();
    expect(await benchmarkCommand(['--help'], reporter)).toBe(0);
    expect(reporter.allText()).toContain('model-deploy benchmark --url URL');
  });
});

describe('the load generator stays within its bounds', () => {
  it('stops at the duration cap and counts the cut requests as cancelled', async () => {
    // 40 tokens 50 ms apart: 2.05 s a request, against a 1 s cap. (Warm-up asks 16 tokens: 0.85 s.)
    const server = await startFakeOpenAi({ ttftMs: 100, itlMs: 50, tokens: 40 });
    try {
      const client = openAiClient({ baseUrl: server.url, model: 'm' });
      const run = await runBenchmark({ client, workload: resolveWorkload({ concurrency: 3, requests: 100, outputTokens: 40, maxDurationSeconds: 1 }), reporter: memoryReporter() });
      const step = run.steps[0];
      expect(step.stoppedBy).toBe('duration');
      expect(step.metrics).toMatchObject({ completed: 0, failed: 0, cancelled: 3 });
      // Not before the cap; how soon after it is a figure of npm run bench (bench/load-generator.bench.ts).
      expect(step.metrics.duration).toBeGreaterThanOrEqual(0.99);
    } finally {
      await server.close();
    }
  });

  it('stops when the caller aborts', async () => {
    const server = await startFakeOpenAi({ ttftMs: 10, itlMs: 20, tokens: 20 });
    try {
      const controller = new AbortController();
      const client = openAiClient({ baseUrl: server.url, model: 'm' });
      setTimeout(() => controller.abort(), 600);
      const run = await runBenchmark({ client, workload: resolveWorkload({ concurrency: 2, requests: 1000, outputTokens: 20 }), reporter: memoryReporter(), signal: controller.signal });
      expect(run.steps[0].stoppedBy).toBe('abort');
      expect(run.steps[0].metrics.completed).toBeLessThan(10);
    } finally {
      await server.close();
    }
  });

  it('open loop: starts the requests at the rate and completes them', async () => {
    const server = await startFakeOpenAi({ ttftMs: 5, itlMs: 1, tokens: 4 });
    try {
      const run = await runBenchmark({ client: openAiClient({ baseUrl: server.url, model: 'm' }), workload: resolveWorkload({ requestRate: 40, requests: 20, outputTokens: 4 }), reporter: memoryReporter() });
      const m = run.steps[0].metrics;
      expect(run.steps[0].requestRate).toBe(40);
      expect(m.completed).toBe(20);
      // 20 arrivals at 40/s: about half a second (Poisson: seeded, so the same every run).
      expect(m.duration).toBeGreaterThan(0.2);
      // Its upper end is a figure of npm run bench (bench/load-generator.bench.ts), against the arrivals' own schedule.
    } finally {
      await server.close();
    }
  });

  it('fails a request that exceeds its own time limit, and leaves no listener behind', async () => {
    const server = await startFakeOpenAi({ ttftMs: 3000, itlMs: 1, tokens: 2 });
    try {
      const client = openAiClient({ baseUrl: server.url, model: 'm', requestTimeoutMs: 200 });
      const parent = new AbortController();
      const out = await client.send({ index: 0, prompt: 'p', promptTokens: 1, maxTokens: 2 }, parent.signal);
      expect(out).toMatchObject({ success: false, error: 'no answer within 200 ms', cancelled: false });
      expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
    } finally {
      await server.close();
    }
  });

  it('keeps the levels measured when a higher one overloads the server', async () => {
    const server = await startFakeOpenAi({ ttftMs: 20, itlMs: 2, tokens: 4, maxStreams: 2 });
    try {
      const run = await runBenchmark({ client: openAiClient({ baseUrl: server.url, model: 'm' }), workload: resolveWorkload({ concurrencySteps: [1, 8], requests: 8, outputTokens: 4 }), reporter: memoryReporter() });
      expect(run.steps.map((s) => s.concurrency)).toEqual([1, 8]);
      expect(run.steps[0].metrics).toMatchObject({ completed: 8, failed: 0 });
      expect(run.steps[1].metrics.failed).toBeGreaterThan(0);
      expect(run.steps[1].errors).toEqual(['HTTP 503: {"error":{"message":"overloaded"}}']);
    } finally {
      await server.close();
    }
  });

  it('counts server errors as failed, with the message', async () => {
    const server = await startFakeOpenAi({ ttftMs: 5, itlMs: 1, tokens: 4, failWith: 503 });
    try {
      await expect(runBenchmark({ client: openAiClient({ baseUrl: server.url, model: 'm' }), workload: resolveWorkload({ concurrency: 1, requests: 2 }), reporter: memoryReporter() })).rejects.toThrow(
        /the first request to openai http:\/\/127\.0\.0\.1:\d+ failed: HTTP 503: \{"error":\{"message":"failing on purpose"\}\}/,
      );
      const reporter = memoryReporter();
      const run = await runBenchmark({ client: openAiClient({ baseUrl: server.url, model: 'm' }), workload: resolveWorkload({ concurrency: 1, requests: 2 }), reporter, warmup: false });
      expect(run.steps[0].metrics).toMatchObject({ completed: 0, failed: 2 });
      expect(run.steps[0].errors).toEqual(['HTTP 503: {"error":{"message":"failing on purpose"}}']);
      expect(reporter.captured.annotations.map((a) => a.message)).toContain('request failed: HTTP 503: {"error":{"message":"failing on purpose"}}');
    } finally {
      await server.close();
    }
  });
});
