/**
 * The benchmark's load generator is not the bottleneck: against a loopback OpenAI-compatible server in
 * its own process (tests/unit/benchmark/fake-openai-server.js), a closed loop of 256 streams, each
 * streaming a token every 10 ms (25,600 tokens/s offered), must sustain the 256 streams and 20,000 streamed tokens a second, with
 * the timing it measures still matching the server's schedule. The client's own cost per token is the
 * CPU time of this process during the run over the tokens it received.
 */
import { spawn } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import type { BenchRow } from './types';
import { reference } from './reference-client';
import { printedJson, runBenchmarkCli } from '../tests/unit/benchmark/cli-child';

/** Worker threads for the spread run: the CLI's default (cores less one), at least 2 so there is a spread. */
const SPREAD = Math.max(2, os.availableParallelism() - 1);

const STREAMS = 256;
const ITL_MS = 10;
const TTFT_MS = 50;
const TOKENS = 128;
const REQUESTS = STREAMS * 4;

interface ServerStats {
  peakStreams: number;
  tokensSent: number;
  maxLateMs: number;
  cpu: { user: number; system: number };
}

async function startServer(): Promise<{ url: string; stats: () => ServerStats | undefined; stop: () => void }> {
  const script = path.join(__dirname, '..', 'tests', 'unit', 'benchmark', 'fake-openai-server.js');
  const child = spawn(process.execPath, [script], {
    env: { PATH: process.env.PATH ?? '', FAKE_OPENAI: JSON.stringify({ ttftMs: TTFT_MS, itlMs: ITL_MS, tokens: TOKENS }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let last: ServerStats | undefined;
  let buffer = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`loopback server exited (${code})`)));
    child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.startsWith('URL ')) resolve(line.slice(4));
        if (line.startsWith('STATS ')) last = JSON.parse(line.slice(6)) as ServerStats;
      }
    });
  });
  return { url, stats: () => last, stop: () => child.kill('SIGTERM') };
}

export default async function (): Promise<BenchRow[]> {
  const { openAiClient } = await import('../src/benchmark/client-openai');
  const { runBenchmark } = await import('../src/benchmark/runner');
  const { resolveWorkload } = await import('../src/benchmark/workload');
  const { memoryReporter } = await import('../src/core/log');
  const server = await startServer();
  try {
    const client = openAiClient({ baseUrl: server.url, model: 'fake-model', requestTimeoutMs: 60_000 });
    const workload = resolveWorkload({ concurrency: STREAMS, requests: REQUESTS, promptTokens: 128, outputTokens: TOKENS, maxDurationSeconds: 120, objective: { p95TtftMs: 1000 } });
    // The warm-up (256 short requests) opens the connections; then the measured run, timed for CPU.
    let cpuStart = process.cpuUsage();
    let wallStart = performance.now();
    const original = client.send.bind(client);
    let measuring = false;
    let serverAtStart: ServerStats | undefined;
    client.send = (request, signal) => {
      if (!measuring && request.index >= 0) {
        measuring = true;
        serverAtStart = server.stats();
        cpuStart = process.cpuUsage();
        wallStart = performance.now();
      }
      return original(request, signal);
    };
    // The server's first figures come a second after it starts: without them the server's CPU cannot be measured.
    for (let i = 0; i < 30 && !server.stats(); i++) await new Promise((r) => setTimeout(r, 100));
    const run = await runBenchmark({ client, workload, reporter: memoryReporter() });
    const cpu = process.cpuUsage(cpuStart);
    const wallS = (performance.now() - wallStart) / 1000;
    const m = run.steps[0].metrics;
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const perTokenUs = (cpuMs * 1000) / m.total_output_tokens;
    await new Promise((r) => setTimeout(r, 1100)); // the server reports its figures every second
    const s = server.stats();
    // The loopback system's CPU per token (client + server, from the server's figures before and after
    // the run; the server's include up to a second of idling): what 20,000 tokens/s costs on dedicated cores.
    const serverCpuMs = s && serverAtStart ? (s.cpu.user + s.cpu.system - serverAtStart.cpu.user - serverAtStart.cpu.system) / 1000 : NaN;
    const systemPerTokenUs = ((cpuMs + serverCpuMs) * 1000) / m.total_output_tokens;
    const coresFor20k = (systemPerTokenUs * 20000) / 1e6;
    const tpotError = Math.abs(m.mean_tpot_ms - ITL_MS) / ITL_MS;
    // The reference: a minimal node:http SSE reader, same server, same load, same process, right after.
    const refCpuStart = process.cpuUsage();
    const ref = await reference(server.url, '', TOKENS, STREAMS, REQUESTS);
    const refCpu = process.cpuUsage(refCpuStart);
    const refTokensPerCpuS = ref.tokens / ((refCpu.user + refCpu.system) / 1e6);
    const tokensPerCpuS = m.total_output_tokens / (cpuMs / 1000);
    const perCpu = tokensPerCpuS / refTokensPerCpuS;
    // The command as a user runs it (its own process), on one thread and spread over worker threads: its CPU
    // during the level, every thread (process.cpuUsage), against the same reference.
    const commandRows = [];
    for (const workers of [1, SPREAD]) {
      const r = await runBenchmarkCli(
        ['--url', server.url, '--model', 'fake-model', '--concurrency', String(STREAMS), '--requests', String(REQUESTS), '--prompt-tokens', '128', '--output-tokens', String(TOKENS), '--workers', String(workers), '--json'],
        {},
        300_000,
      );
      if (r.code !== 0) throw new Error(`benchmark command exited ${r.code}: ${r.stderr.slice(-500)}`);
      const c = printedJson(r.stdout) as Record<string, number>;
      const perCpuS = c.total_output_tokens / c.client_cpu_s;
      commandRows.push({
        name: `generator: tokens per CPU-second, the command with --workers ${workers} (all threads) / minimal node:http reader`,
        value: Number((perCpuS / refTokensPerCpuS).toFixed(2)),
        unit: `x (${Math.round(perCpuS)} vs ${Math.round(refTokensPerCpuS)} tokens per CPU-s; ${Math.round(c.output_throughput)} tokens/s, lateness p99 ${c.client_lag_p99_ms.toFixed(1)} ms)`,
        target: '>= 0.8x',
        ok: perCpuS / refTokensPerCpuS >= 0.8,
      });
    }
    return [
      ...commandRows,
      { name: `generator: concurrent streams sustained (server saw ${s?.peakStreams ?? '?'})`, value: m.max_concurrent_requests, unit: 'streams', target: `>= ${STREAMS}`, ok: m.max_concurrent_requests >= STREAMS && m.failed === 0 },
      { name: `generator: streamed tokens/s on loopback (${m.completed} requests x ${TOKENS} tokens in ${m.duration.toFixed(2)} s)`, value: Math.round(m.output_throughput), unit: 'tokens/s', target: '>= 20,000', ok: m.output_throughput >= 20000 },
      { name: 'generator: client CPU per streamed token (this process, user+system)', value: Number(perTokenUs.toFixed(2)), unit: 'µs/token' },
      { name: 'generator: tokens per CPU-second, client / minimal node:http reader (same load, same run)', value: Number(perCpu.toFixed(2)), unit: `x (${Math.round(tokensPerCpuS)} vs ${Math.round(refTokensPerCpuS)} tokens per CPU-s)`, target: '>= 0.8x', ok: perCpu >= 0.8 },
      { name: 'generator: client CPU during the run', value: Number((cpuMs / 1000 / wallS).toFixed(2)), unit: 'cores' },
      // What one core of client could stream at that cost: the generator's own ceiling, whatever the server gets.
      { name: 'generator: client capacity at that cost (1 core / CPU per token)', value: Math.round(1e6 / perTokenUs), unit: 'tokens/s per core', target: '>= 20,000', ok: 1e6 / perTokenUs >= 20000 },
      { name: 'generator: loopback server CPU per streamed token (its own process)', value: Number(((serverCpuMs * 1000) / m.total_output_tokens).toFixed(2)), unit: 'µs/token' },
      { name: 'generator: client + server CPU for 20,000 tokens/s (dedicated cores)', value: Number(coresFor20k.toFixed(2)), unit: 'cores', target: '<= 2 cores', ok: coresFor20k <= 2 },
      // ITL is informational: when the server falls behind its schedule it sends the overdue tokens
      // together, and tokens that arrive in one read have a gap of 0 (vLLM records the same).
      { name: `generator: mean / median ITL at ${STREAMS} streams (server schedule ${ITL_MS} ms)`, value: Number(m.mean_itl_ms.toFixed(2)), unit: `ms mean, ${m.median_itl_ms.toFixed(2)} ms median` },
      { name: `generator: mean TPOT at ${STREAMS} streams (server schedule ${ITL_MS} ms)`, value: Number(m.mean_tpot_ms.toFixed(2)), unit: 'ms', target: 'within 10%', ok: tpotError <= 0.1 },
      { name: `generator: median / p99 TTFT at ${STREAMS} streams (server schedule ${TTFT_MS} ms)`, value: Number(m.median_ttft_ms.toFixed(1)), unit: `ms median, ${((m as unknown as Record<string, number>).p99_ttft_ms).toFixed(1)} ms p99` },
      // When the machine is shared (other jobs on the two cores), the server falls behind its schedule and
      // every figure above drops with it; these two say how much.
      { name: 'generator: server lateness against its own schedule (worst token)', value: s ? Number(s.maxLateMs.toFixed(1)) : NaN, unit: 'ms' },
      { name: 'generator: machine load average (1 min) after the run', value: Number(os.loadavg()[0].toFixed(2)), unit: `(${os.cpus().length} cores)` },
    ];
  } finally {
    server.stop();
  }
}
