/**
 * A level spread over worker threads, when one event loop cannot read every stream's tokens on time (a loop
 * that falls behind reads tokens late and in batches: TTFT high, ITL towards 0). Each worker (worker.ts) keeps
 * its share of the streams on its own loop and connections; this thread only starts them, starts the clock
 * once every worker has warmed up, and merges what they observed: the raw outcomes pooled, so the metrics are
 * those of one run (never a median of medians); the lateness is the latest worker's.
 *
 * The worker runs the same file as this process (the CLI bundle: its entry sees `isBenchmarkWorker()`), so the
 * single-file bundle needs no second file.
 */
import { availableParallelism } from 'os';
import { Worker } from 'worker_threads';
import { DeployError } from '../core/errors';
import type { OpenAiClientOptions } from './client-openai';
import { cpuSeconds, LevelRunner, LevelSamples, StepResult, stepResult } from './runner';
import { WORKER_MARK, WorkerInput, WorkerMessage } from './worker';
import type { Workload } from './workload';

/** Most worker threads: one per core but the one this thread and the rest of the machine keep. */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism() - 1);
}

/**
 * Streams one thread reads on time without help. Measured (docs/benchmark.md): one thread kept 256 streams of a
 * token every 20 ms (12,800 tokens/s) within 5 % at the median and fell behind at 1024 (25,000 tokens/s read).
 * Without --workers, a level gets one thread per this many streams, up to defaultWorkers(): more threads than
 * that cost CPU per token (each reads fewer tokens per wake-up) and buy nothing.
 */
export const STREAMS_PER_WORKER = 256;

/** Splits `total` into `parts` near-equal whole shares (the first ones one larger), dropping empty ones. */
export function shares(total: number, parts: number): number[] {
  const n = Math.max(1, Math.min(parts, total));
  return Array.from({ length: n }, (_, i) => Math.floor(total / n) + (i < total % n ? 1 : 0));
}

export interface SpreadOptions {
  /** Most worker threads for a level. */
  workers: number;
  /** The user asked for `workers` (--workers): use that many whatever the level. Else one per STREAMS_PER_WORKER streams. */
  exact?: boolean;
  client: Omit<OpenAiClientOptions, 'now'>;
  workload: Workload;
  promptsFile?: string;
  cwd: string;
  warmup?: boolean;
  maxInFlight?: number;
  /** The file a worker thread runs: one that calls runBenchmarkWorker() when isBenchmarkWorker() (default: this process's main script). */
  script?: string;
  /** Starts a worker (tests pass a stand-in). */
  start?: (script: string, input: WorkerInput) => WorkerLike;
}

/** What this thread needs of a worker: its messages, a way to talk to it, and to end it. */
export interface WorkerLike {
  on(event: 'message', listener: (m: WorkerMessage) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  postMessage(message: { type: 'go' | 'abort' }): void;
  terminate(): Promise<number> | void;
}

/**
 * A worker's young generation may grow to this (V8's default semi-space cap is 16 MB on 64-bit). A worker reads
 * fewer tokens per wake-up than one thread would, so the scavenges it pays for its allocation weigh more; a
 * larger young generation has fewer of them (their cost is the live objects, not the dead).
 */
export const WORKER_YOUNG_GENERATION_MB = 64;

const startThread = (script: string, input: WorkerInput): WorkerLike =>
  new Worker(script, { workerData: input, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } }) as unknown as WorkerLike;

/** The level runner that spreads each level over `workers` threads. */
export function spreadOverWorkers(options: SpreadOptions): LevelRunner {
  const script = options.script ?? process.argv[1];
  if (!script) throw new DeployError('cannot start worker threads: this process has no script file', { hint: 'Run with --workers 1.' });
  const start = options.start ?? startThread;
  return async (load, first, signal) => {
    const { workload } = options;
    // An open loop's streams are its most outstanding requests.
    const streams = load.concurrency !== undefined ? Math.min(load.concurrency, workload.requests) : Math.min(options.maxInFlight ?? 1024, workload.requests);
    const threads = options.exact ? options.workers : Math.min(options.workers, Math.ceil(streams / STREAMS_PER_WORKER));
    if (threads <= 1) return undefined;
    const loops = load.concurrency !== undefined ? shares(streams, threads) : shares(threads, threads);
    const counter = new SharedArrayBuffer(4);
    const perWorkerRequests = Math.ceil(workload.requests / loops.length);
    const inputs: WorkerInput[] = loops.map((n, i) => ({
      [WORKER_MARK]: true,
      client: options.client,
      workload,
      ...(options.promptsFile ? { promptsFile: options.promptsFile } : {}),
      cwd: options.cwd,
      load: load.concurrency !== undefined ? { concurrency: n } : { requestRate: load.requestRate! / loops.length },
      maxInFlight: Math.ceil((options.maxInFlight ?? 1024) / loops.length),
      counter,
      timeOrigin: performance.timeOrigin,
      warmup: options.warmup !== false,
      warmupParallel: Math.min(load.concurrency !== undefined ? n : Math.min(64, Math.max(1, Math.ceil(load.requestRate! / loops.length))), perWorkerRequests),
      seed: 0x5eed + i,
    }));
    const workers = inputs.map((input) => start(script, input));
    const onAbort = () => workers.forEach((w) => w.postMessage({ type: 'abort' }));
    signal?.addEventListener('abort', onAbort, { once: true });
    let clockStart = 0;
    let cpuStart = process.cpuUsage();
    try {
      const ready: { ok: boolean; error?: string }[] = [];
      const parts: LevelSamples[] = [];
      await new Promise<void>((resolve, reject) => {
        workers.forEach((w, i) => {
          w.on('message', (m) => {
            if (m.type === 'ready') {
              ready[i] = m;
              if (ready.filter(Boolean).length < workers.length) return;
              if (first && !ready.some((r) => r.ok) && !signal?.aborted) {
                reject(
                  new DeployError(`the first request to ${options.client.baseUrl} failed: ${ready[0]?.error ?? 'no answer'}`, {
                    title: 'Benchmark could not start',
                    hint: 'Check the URL, the model name and the key; the benchmark sends nothing more until one request succeeds.',
                  }),
                );
                return;
              }
              // Every worker's connections are open: the level's clock starts now, for all of them.
              clockStart = performance.now();
              cpuStart = process.cpuUsage();
              workers.forEach((other) => other.postMessage({ type: signal?.aborted ? 'abort' : 'go' }));
            } else if (m.type === 'done') {
              parts[i] = m;
              if (parts.filter(Boolean).length === workers.length) resolve();
            } else {
              reject(new Error(`benchmark worker ${i + 1} failed: ${m.error}`));
            }
          });
          w.on('error', (err) => reject(new Error(`benchmark worker ${i + 1} (${script}) failed: ${err.message}`)));
          w.on('exit', (code) => {
            if (!parts[i]) reject(new Error(`benchmark worker ${i + 1} (${script}) exited (code ${code}) before its results; run with --workers 1`));
          });
        });
      });
      const durationS = (performance.now() - clockStart) / 1000;
      // process.cpuUsage() counts every thread: the workers' streaming and this thread's waiting.
      const cpuS = cpuSeconds(process.cpuUsage(cpuStart));
      return withWorkerLag(stepResult(load, parts, durationS, workload, { cpuS, workers: workers.length }));
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await Promise.all(workers.map((w) => w.terminate()));
    }
  };
}

/** The lateness figure is the latest worker's: say so in the warning. */
function withWorkerLag(step: StepResult): StepResult {
  return { ...step, warnings: step.warnings.map((w) => w.replace('its event loop ran', 'its latest worker thread ran')) };
}
