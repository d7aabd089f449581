/**
 * The load generator. A closed loop keeps N requests in flight (a new one starts when one ends), an
 * open loop starts requests at a rate (Poisson arrivals, as vLLM's default burstiness 1) with at most
 * `maxInFlight` outstanding. Either stops at the request count or at the duration cap, whichever
 * comes first (requests still running at the cap are cancelled and counted apart), and at once when
 * the caller's signal aborts. Secrets are registered with the reporter before anything is sent.
 */
import { sleepUntilAborted } from '../core/poll';
import { setMaxListeners } from 'events';
import { monitorEventLoopDelay } from 'perf_hooks';
import { DeployError } from '../core/errors';
import type { Reporter } from '../core/log';
import { BenchmarkMetrics, calculateMetrics } from './metrics';
import { PromptSource, syntheticPrompts } from './prompts';
import type { BenchClient, RequestOutcome, RequestSpec } from './types';
import { describeWorkload, Workload } from './workload';

export interface StepResult {
  /** Closed loop: the concurrency of this step. */
  concurrency?: number;
  /** Open loop: the request rate, per second. */
  requestRate?: number;
  metrics: BenchmarkMetrics;
  stoppedBy: 'requests' | 'duration' | 'abort';
  /** Up to five distinct failure messages (already free of secrets). */
  errors: string[];
  /** How late this process's event loop ran during the level (p99, ms): a busy client reads tokens late. */
  clientLagP99Ms: number;
  /** Why a figure may be off (the client fell behind), in words; empty when nothing is. */
  warnings: string[];
  /** Worker threads the level's streams were spread over (absent: this thread alone). */
  workers?: number;
  /** CPU time of this process, every thread, while the level ran (s): tokens per CPU-second is the client's cost. */
  clientCpuS?: number;
}

export interface LoadLevel {
  /** Closed loop: requests kept in flight. */
  concurrency?: number;
  /** Open loop: requests started per second. */
  requestRate?: number;
}

/** What one event loop observed during a level: raw outcomes, so several loops' merge exactly. */
export interface LevelSamples {
  outcomes: RequestOutcome[];
  stoppedBy: StepResult['stoppedBy'];
  /** This loop's lateness, p99, ms. */
  clientLagP99Ms: number;
}

/**
 * Runs one level somewhere else (worker threads) and returns its result, or undefined to leave the level to
 * this thread; `first`: the run's first level.
 */
export type LevelRunner = (load: LoadLevel, first: boolean, signal: AbortSignal | undefined) => Promise<StepResult | undefined>;

/** The event loop's sampling period; its histogram holds period + lateness. */
const LAG_RESOLUTION_MS = 5;

/**
 * The client fell behind when its own event loop ran late by more than 5 % of the gap it measures between
 * tokens (the accuracy asked of it), and by more than 1 ms (a loop's own jitter).
 */
export function lagWarning(lagP99Ms: number, m: BenchmarkMetrics): string | undefined {
  const scale = m.median_itl_ms > 0 ? m.median_itl_ms : m.median_ttft_ms;
  const limit = Math.max(1, 0.05 * scale);
  if (lagP99Ms <= limit) return undefined;
  return (
    `the benchmark client fell behind: its event loop ran ${lagP99Ms.toFixed(1)} ms late at p99 (more than ${limit.toFixed(1)} ms, ` +
    `5 % of the ${m.median_itl_ms > 0 ? 'median ITL' : 'median TTFT'}), so TTFT and ITL read high and tokens arrive batched; ` +
    'give it more CPU, or spread the streams over more worker threads (model-deploy benchmark --workers N)'
  );
}

export interface BenchmarkRun {
  /** The client's label: "openai http://127.0.0.1:8000" (never a key). */
  target: string;
  workload: Workload;
  startedAt: string;
  /** One per concurrency step; one when the workload does not step. */
  steps: StepResult[];
}

export interface RunOptions {
  client: BenchClient;
  workload: Workload;
  reporter: Reporter;
  /** Credentials the client uses (an API key): masked before the first request. */
  secrets?: (string | undefined)[];
  prompts?: PromptSource;
  signal?: AbortSignal;
  /**
   * Before each load level, send untimed requests (as many at once as the level keeps in flight, so
   * connections and TLS sessions are open before the clock starts, as vLLM's --num-warmups) and stop
   * with the first one's error if none succeeds (default true).
   */
  warmup?: boolean;
  /** Open loop: most requests outstanding at once (default 1024). */
  maxInFlight?: number;
  /** Seeded randomness for arrival times (default: a fixed-seed generator, so runs repeat). */
  random?: () => number;
  now?: () => number;
  /** Runs each level elsewhere (spread over worker threads) instead of on this thread's loop. */
  levelRunner?: LevelRunner;
}

/** Runs the workload: every concurrency step in turn, or the one configured load. */
export async function runBenchmark(options: RunOptions): Promise<BenchmarkRun> {
  for (const s of options.secrets ?? []) if (s) options.reporter.setSecret(s);
  const { workload, client, reporter } = options;
  const prompts = options.prompts ?? syntheticPrompts(workload.promptTokens);
  const startedAt = new Date().toISOString();
  reporter.info(`Benchmark of ${client.label}: ${describeWorkload(workload)}`);
  const steps: StepResult[] = [];
  const loads: LoadLevel[] = workload.concurrencySteps
    ? workload.concurrencySteps.map((c) => ({ concurrency: c }))
    : [workload.requestRate !== undefined ? { requestRate: workload.requestRate } : { concurrency: workload.concurrency ?? 1 }];
  for (const load of loads) {
    if (options.signal?.aborted) break;
    const spread = options.levelRunner ? await options.levelRunner(load, steps.length === 0, options.signal) : undefined;
    if (spread) {
      const step = spread;
      report(reporter, load, step);
      steps.push(step);
      if (step.stoppedBy === 'abort') break;
      continue;
    }
    if (options.warmup !== false) {
      const parallel = load.concurrency ?? Math.min(64, Math.max(1, Math.ceil(load.requestRate ?? 1)));
      // Only the first level's warm-up decides whether the endpoint answers at all; a later level that
      // overloads it is a result (failed requests), not a setup error that would discard the levels measured.
      await warmup(client, workload, prompts, Math.min(parallel, workload.requests), options.signal, steps.length === 0);
    }
    const step = await runStep({ ...options, prompts }, load);
    report(reporter, load, step);
    steps.push(step);
    if (step.stoppedBy === 'abort') break;
  }
  return { target: client.label, workload, startedAt, steps };
}

function report(reporter: Reporter, load: LoadLevel, step: StepResult): void {
  const m = step.metrics;
  reporter.info(
    `${load.concurrency !== undefined ? `concurrency ${load.concurrency}` : `${load.requestRate} req/s`}: ${m.completed} completed, ${m.failed} failed` +
      `${m.cancelled ? `, ${m.cancelled} cancelled` : ''} in ${m.duration.toFixed(2)} s (stopped by ${step.stoppedBy})` +
      `${step.workers ? ` over ${step.workers} worker threads` : ''}`,
  );
  for (const e of step.errors) reporter.warning(`request failed: ${e}`);
  for (const w of step.warnings) reporter.warning(w);
}

/** Untimed requests before a level (see RunOptions.warmup); `fatal`: throw when none succeeds. */
export async function warmup(client: BenchClient, workload: Workload, prompts: PromptSource, parallel: number, signal: AbortSignal | undefined, fatal: boolean): Promise<void> {
  const controller = new AbortController();
  // Every request in flight listens on the signal (fetch does): as many listeners as requests.
  setMaxListeners(parallel + 16, controller.signal);
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  // Its own bound: a cold endpoint may take longer than a short run's cap to answer at all.
  const limitS = Math.min(600, Math.max(60, workload.maxDurationSeconds));
  const timer = setTimeout(() => controller.abort(new Error(`warm-up: no answer within ${limitS} s`)), limitS * 1000);
  try {
    const maxTokens = Math.min(workload.outputTokens, 16);
    const outs = await Promise.all(
      Array.from({ length: parallel }, (_, i) => client.send({ index: -1 - i, prompt: prompts.prompt(i), promptTokens: prompts.tokens(i), maxTokens }, controller.signal)),
    );
    if (fatal && !outs.some((o) => o.success) && !signal?.aborted) {
      throw new DeployError(`the first request to ${client.label} failed: ${outs[0]?.error ?? 'no answer'}`, {
        title: 'Benchmark could not start',
        hint: 'Check the URL (or endpoint name), the model name and the key; the benchmark sends nothing more until one request succeeds.',
      });
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** mulberry32: a small seeded generator, so arrival times repeat from run to run. */
export function seededRandom(seed = 0x5eed): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One load level on this thread: a closed loop at `concurrency` or an open loop at `requestRate`. */
export async function runStep(options: RunOptions & { prompts: PromptSource }, load: LoadLevel): Promise<StepResult> {
  const now = options.now ?? (() => performance.now());
  const start = now();
  const cpu = process.cpuUsage();
  const samples = await runLoad(options, load);
  const durationS = (now() - start) / 1000;
  const cpuS = cpuSeconds(process.cpuUsage(cpu));
  options.client.finish?.(samples.outcomes);
  return stepResult(load, [samples], durationS, options.workload, { cpuS });
}

/**
 * Drives one level on this thread's loop and returns what it observed. `take` hands out request indices
 * (default: 0 to requests − 1 in turn); worker threads share one counter, so together they send exactly
 * the level's requests.
 */
export async function runLoad(
  options: Pick<RunOptions, 'client' | 'workload' | 'signal' | 'maxInFlight' | 'random' | 'now'> & { prompts: PromptSource },
  load: LoadLevel, take?: () => number | undefined): Promise<LevelSamples> {
  const { client, workload, prompts } = options;
  const now = options.now ?? (() => performance.now());
  let counter = 0;
  const nextIndex = take ?? (() => (counter < workload.requests ? counter++ : undefined));
  const stop = new AbortController();
  setMaxListeners(Math.max(load.concurrency ?? 0, options.maxInFlight ?? 1024) * 2 + 16, stop.signal);
  let stoppedBy: StepResult['stoppedBy'] = 'requests';
  const onAbort = () => {
    stoppedBy = 'abort';
    stop.abort(options.signal?.reason ?? new Error('aborted'));
  };
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  const cap = setTimeout(() => {
    stoppedBy = 'duration';
    stop.abort(new Error(`duration cap of ${workload.maxDurationSeconds} s reached`));
  }, workload.maxDurationSeconds * 1000);

  const outcomes: RequestOutcome[] = [];
  const spec = (index: number): RequestSpec => ({ index, prompt: prompts.prompt(index), promptTokens: prompts.tokens(index), maxTokens: workload.outputTokens });
  const one = async (index: number) => {
    try {
      outcomes.push(await client.send(spec(index), stop.signal));
    } catch (err) {
      // Clients return failures; a throw is a bug or an abort, recorded rather than ending the run.
      outcomes.push({ success: false, error: err instanceof Error ? err.message : String(err), promptLen: workload.promptTokens, outputTokens: 0, ttftMs: 0, itlMs: [], latencyMs: 0, startMs: now(), cancelled: stop.signal.aborted });
    }
  };

  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  lag.enable();
  const start = now();
  try {
    if (load.concurrency !== undefined) {
      const loop = async () => {
        for (let i = stop.signal.aborted ? undefined : nextIndex(); i !== undefined; i = stop.signal.aborted ? undefined : nextIndex()) await one(i);
      };
      await Promise.all(Array.from({ length: Math.min(load.concurrency, workload.requests) }, loop));
    } else {
      const rate = load.requestRate!;
      const random = options.random ?? seededRandom();
      const maxInFlight = options.maxInFlight ?? 1024;
      const inFlight = new Set<Promise<void>>();
      let arrival = start;
      for (let i = nextIndex(); i !== undefined && !stop.signal.aborted; i = nextIndex()) {
        arrival += (-Math.log(1 - random()) / rate) * 1000;
        await sleepUntilAborted(arrival - now(), stop.signal);
        if (stop.signal.aborted) break;
        while (inFlight.size >= maxInFlight && !stop.signal.aborted) await Promise.race(inFlight);
        if (stop.signal.aborted) break;
        const p: Promise<void> = one(i).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await Promise.all(inFlight);
    }
  } finally {
    lag.disable();
    clearTimeout(cap);
    options.signal?.removeEventListener('abort', onAbort);
  }
  const clientLagP99Ms = lag.count ? Math.max(0, lag.percentile(99) / 1e6 - LAG_RESOLUTION_MS) : 0;
  return { outcomes, stoppedBy, clientLagP99Ms };
}

const STOP_ORDER: StepResult['stoppedBy'][] = ['requests', 'duration', 'abort'];

/**
 * A level's result from what one or more loops observed: their outcomes pooled (the metrics are computed
 * once, from every raw sample, never averaged from per-loop figures) and the latest loop's lateness.
 */
export function stepResult(load: LoadLevel, parts: readonly LevelSamples[], durationS: number, workload: Workload, client: { cpuS?: number; workers?: number } = {}): StepResult {
  const outcomes = parts.length === 1 ? parts[0]!.outcomes : parts.flatMap((p) => p.outcomes);
  const stoppedBy = parts.reduce<StepResult['stoppedBy']>((a, p) => (STOP_ORDER.indexOf(p.stoppedBy) > STOP_ORDER.indexOf(a) ? p.stoppedBy : a), 'requests');
  const clientLagP99Ms = Math.max(0, ...parts.map((p) => p.clientLagP99Ms));
  const metrics = calculateMetrics(outcomes, durationS, { objective: workload.objective });
  const errors = [...new Set(outcomes.filter((o) => !o.success && !o.cancelled && o.error).map((o) => o.error!))].slice(0, 5);
  const warning = lagWarning(clientLagP99Ms, metrics);
  return {
    ...load,
    metrics,
    stoppedBy,
    errors,
    clientLagP99Ms,
    warnings: warning ? [warning] : [],
    ...(client.workers ? { workers: client.workers } : {}),
    ...(client.cpuS !== undefined ? { clientCpuS: client.cpuS } : {}),
  };
}

/** process.cpuUsage() (µs, user + system, every thread of the process) in seconds. */
export function cpuSeconds(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1e6;
}
