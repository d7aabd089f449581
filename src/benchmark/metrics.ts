/**
 * Metrics as vLLM's `vllm bench serve` (vllm/benchmarks/serve.py, `calculate_metrics`) defines them,
 * so figures compare one to one:
 * - completed / failed: requests that succeeded / did not (cancelled ones, cut by the duration cap or
 *   an abort, are neither and are counted apart);
 * - request_throughput = completed / duration; output_throughput = Σ output tokens / duration;
 *   total_token_throughput = (Σ prompt tokens + Σ output tokens) / duration; duration is the run's wall time;
 * - TTFT: request sent → first data line with choices; ITL: each later data line's gap to the one before,
 *   pooled over all requests; TPOT per request = (latency − TTFT) / (output tokens − 1), only for requests
 *   with more than one output token; E2EL = latency: request sent → last data line;
 * - mean, median, std (population, numpy's default) and percentiles by linear interpolation (numpy's
 *   default); an empty list gives 0, as `np.mean(xs or 0)` does;
 * - request_goodput = requests meeting every per-request objective / duration (a request is good when
 *   its TTFT ≤ the TTFT objective and its E2EL ≤ the E2EL objective; TPOT counts as 0 for a one-token
 *   answer), null when no objective is set.
 * Field names are vLLM's (`median_ttft_ms`, `p99_itl_ms`, `output_throughput`, ...).
 */
import type { LatencyObjective } from './workload';
import type { RequestOutcome } from './types';

export const DEFAULT_PERCENTILES = [90, 95, 99] as const;

type Stat = 'mean' | 'median' | 'std';
type MetricName = 'ttft' | 'tpot' | 'itl' | 'e2el';
export type LatencyFields = { [K in `${Stat}_${MetricName}_ms`]: number } & Record<`p${number}_${MetricName}_ms`, number>;

export interface BenchmarkMetrics extends LatencyFields {
  duration: number;
  completed: number;
  failed: number;
  /** Requests cut short by the duration cap or an abort (not in vLLM: it has no cap). */
  cancelled: number;
  total_input_tokens: number;
  total_output_tokens: number;
  request_throughput: number;
  request_goodput: number | null;
  output_throughput: number;
  total_token_throughput: number;
  max_output_tokens_per_s: number;
  max_concurrent_requests: number;
  /** SageMaker async: estimated time in the endpoint's queue (absent for streaming targets). */
  mean_queue_time_ms?: number;
  median_queue_time_ms?: number;
  p95_queue_time_ms?: number;
  p99_queue_time_ms?: number;
}

/** numpy.percentile, linear interpolation, of a list sorted ascending. */
export function percentileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = sorted[Math.floor(rank)] ?? 0;
  const hi = sorted[Math.ceil(rank)] ?? lo;
  return lo + (hi - lo) * (rank - Math.floor(rank));
}

export function percentile(values: readonly number[], p: number): number {
  return percentileSorted([...values].sort((a, b) => a - b), p);
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return 0;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** Population standard deviation (numpy.std with ddof=0). */
export function std(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const m = mean(values);
  let s = 0;
  for (const v of values) s += (v - m) * (v - m);
  return Math.sqrt(s / values.length);
}

/** "99" for 99, "99.9" for 99.9: vLLM's p_word. */
export function percentileWord(p: number): string {
  return String(p);
}

export interface MetricsOptions {
  percentiles?: readonly number[];
  /** Per-request objective for request_goodput; absent or empty: request_goodput is null. */
  objective?: LatencyObjective & { tpotMs?: number };
}

function stats(out: Record<string, number>, name: string, valuesMs: number[], percentiles: readonly number[]): void {
  const sorted = [...valuesMs].sort((a, b) => a - b);
  out[`mean_${name}_ms`] = mean(valuesMs);
  out[`median_${name}_ms`] = percentileSorted(sorted, 50);
  out[`std_${name}_ms`] = std(valuesMs);
  for (const p of percentiles) out[`p${percentileWord(p)}_${name}_ms`] = percentileSorted(sorted, p);
}

/** A request meets every per-request objective set (vLLM's goodput: TTFT, TPOT and E2EL each within theirs). */
function isGood(o: RequestOutcome, tpot: number, objective: MetricsOptions['objective']): boolean {
  if (!objective) return false;
  if (objective.p95TtftMs !== undefined && o.ttftMs > objective.p95TtftMs) return false;
  if (objective.tpotMs !== undefined && tpot > objective.tpotMs) return false;
  if (objective.p95E2elMs !== undefined && o.latencyMs > objective.p95E2elMs) return false;
  return true;
}

/** The run's metrics from its outcomes and wall time (seconds). */
export function calculateMetrics(outcomes: readonly RequestOutcome[], durationS: number, options: MetricsOptions = {}): BenchmarkMetrics {
  const percentiles = options.percentiles ?? DEFAULT_PERCENTILES;
  let completed = 0;
  let failed = 0;
  let cancelled = 0;
  let totalInput = 0;
  let totalOutput = 0;
  const ttfts: number[] = [];
  const tpots: number[] = [];
  let good = 0;
  const itls: number[] = [];
  const e2els: number[] = [];
  const queues: number[] = [];
  const ok: RequestOutcome[] = [];
  for (const o of outcomes) {
    if (!o.success) {
      if (o.cancelled) cancelled++;
      else failed++;
      continue;
    }
    ok.push(o);
    completed++;
    // vLLM: no token count and no tokenizer → 1.
    const outputLen = o.outputTokens > 0 ? o.outputTokens : 1;
    totalOutput += outputLen;
    totalInput += o.promptLen;
    let tpot = 0;
    if (outputLen > 1) {
      tpot = (o.latencyMs - o.ttftMs) / (outputLen - 1);
      tpots.push(tpot);
    }
    if (isGood(o, tpot, options.objective)) good++;
    for (const x of o.itlMs) itls.push(x);
    ttfts.push(o.ttftMs);
    e2els.push(o.latencyMs);
    if (o.queueMs !== undefined) queues.push(o.queueMs);
  }

  const objective = options.objective ?? {};
  const hasObjective = objective.p95TtftMs !== undefined || objective.tpotMs !== undefined || objective.p95E2elMs !== undefined;

  const dur = durationS > 0 ? durationS : Number.NaN;
  const m: Record<string, number | null> = {
    duration: durationS,
    completed,
    failed,
    cancelled,
    total_input_tokens: totalInput,
    total_output_tokens: totalOutput,
    request_throughput: completed / dur || 0,
    request_goodput: hasObjective ? good / dur || 0 : null,
    output_throughput: totalOutput / dur || 0,
    total_token_throughput: (totalInput + totalOutput) / dur || 0,
    ...peaks(ok),
  };
  const latency: Record<string, number> = {};
  stats(latency, 'ttft', ttfts, percentiles);
  stats(latency, 'tpot', tpots, percentiles);
  stats(latency, 'itl', itls, percentiles);
  stats(latency, 'e2el', e2els, percentiles);
  if (queues.length) {
    const sorted = [...queues].sort((a, b) => a - b);
    latency.mean_queue_time_ms = mean(queues);
    latency.median_queue_time_ms = percentileSorted(sorted, 50);
    latency.p95_queue_time_ms = percentileSorted(sorted, 95);
    latency.p99_queue_time_ms = percentileSorted(sorted, 99);
  }
  return { ...m, ...latency } as unknown as BenchmarkMetrics;
}

/** vLLM's max_output_tokens_per_s (tokens in the busiest one-second bucket) and max_concurrent_requests (sweep line). */
function peaks(ok: readonly RequestOutcome[]): { max_output_tokens_per_s: number; max_concurrent_requests: number } {
  if (!ok.length) return { max_output_tokens_per_s: 0, max_concurrent_requests: 0 };
  let start = Infinity;
  let end = -Infinity;
  for (const o of ok) {
    start = Math.min(start, o.startMs);
    end = Math.max(end, o.startMs + o.latencyMs);
  }
  const size = Math.ceil((end - start) / 1000) + 1;
  const buckets = new Map<number, number>();
  const count = (t: number) => {
    const b = Math.floor((t - start) / 1000);
    if (b >= 0 && b < size) buckets.set(b, (buckets.get(b) ?? 0) + 1);
  };
  for (const o of ok) {
    let t = o.startMs + o.ttftMs;
    count(t);
    for (const gap of o.itlMs) {
      t += gap;
      count(t);
    }
  }
  const events: [number, number][] = [];
  for (const o of ok) events.push([o.startMs, 1], [o.startMs + o.latencyMs, -1]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  let peak = 0;
  for (const [, d] of events) {
    cur += d;
    if (cur > peak) peak = cur;
  }
  return { max_output_tokens_per_s: Math.max(0, ...buckets.values()), max_concurrent_requests: peak };
}

/** Whether the run met the latency objective at p95 (the objective's own terms). */
export function meetsObjective(m: BenchmarkMetrics, objective: LatencyObjective): boolean {
  if (m.completed === 0) return false;
  if (objective.p95TtftMs !== undefined && p95(m, 'ttft') > objective.p95TtftMs) return false;
  if (objective.p95E2elMs !== undefined && p95(m, 'e2el') > objective.p95E2elMs) return false;
  return true;
}

/** The p95 figure of a metric (our objective's percentile; present with the default percentiles). */
export function p95(m: BenchmarkMetrics, name: 'ttft' | 'tpot' | 'itl' | 'e2el'): number {
  const v = (m as unknown as Record<string, number>)[`p95_${name}_ms`];
  return typeof v === 'number' ? v : 0;
}
