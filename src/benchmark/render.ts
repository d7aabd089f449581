/**
 * The benchmark for people: a markdown table for the job summary (with a mermaid chart of p95 latency
 * against load when the run stepped the concurrency), a plain-text block for a terminal (laid out as
 * vLLM prints its own), and the JSON with vLLM's field names.
 */
import type { BenchmarkMetrics } from './metrics';
import { formatPrice, PricePerformance } from './price-performance';
import type { BenchmarkRun, StepResult } from './runner';
import type { Workload } from './workload';

const f = (v: number | null | undefined, digits = 2) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const get = (m: BenchmarkMetrics, key: string): number | undefined => (m as unknown as Record<string, number | undefined>)[key];

function loadLabel(s: StepResult): string {
  return s.concurrency !== undefined ? `${s.concurrency}` : `${s.requestRate} req/s`;
}

/** Markdown: escapes what could break a table or inject markup (the target label comes from a flag). */
function md(text: string): string {
  return text.replace(/[|\\`*_<>[\]]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ');
}

function objectiveText(w: Workload): string {
  const parts: string[] = [];
  if (w.objective.p95TtftMs !== undefined) parts.push(`p95 TTFT ≤ ${w.objective.p95TtftMs} ms`);
  if (w.objective.p95E2elMs !== undefined) parts.push(`p95 end-to-end ≤ ${w.objective.p95E2elMs} ms`);
  return parts.join(', ') || 'none';
}

export interface RenderOptions {
  /** Price-performance of the priced step (see bestStep). */
  price?: PricePerformance;
  /** The step the price is for. */
  pricedStep?: StepResult;
}

/** The job summary: workload, one row per load level, price-performance, and the chart when stepping. */
export function renderMarkdown(run: BenchmarkRun, options: RenderOptions = {}): string {
  const w = run.workload;
  const lines: string[] = [];
  lines.push(`### Benchmark: ${md(run.target)}`, '');
  lines.push(
    `Workload: ${w.promptTokens} prompt tokens → ${w.outputTokens} output tokens, ${w.requests} requests per level (≤ ${w.maxDurationSeconds} s); objective ${objectiveText(w)}. Started ${run.startedAt}.`,
    '',
  );
  const rate = run.steps.some((s) => s.requestRate !== undefined);
  lines.push(
    `| ${rate ? 'request rate' : 'concurrency'} | completed | failed | req/s | output tok/s | median TTFT ms | p95 TTFT ms | median TPOT ms | median ITL ms | p95 E2EL ms | goodput req/s |`,
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const s of run.steps) {
    const m = s.metrics;
    lines.push(
      `| ${loadLabel(s)} | ${m.completed} | ${m.failed}${m.cancelled ? ` (+${m.cancelled} cancelled)` : ''} | ${f(m.request_throughput)} | ${f(m.output_throughput, 1)} | ${f(m.median_ttft_ms, 1)} | ${f(get(m, 'p95_ttft_ms'), 1)} | ${f(m.median_tpot_ms, 1)} | ${f(m.median_itl_ms, 1)} | ${f(get(m, 'p95_e2el_ms'), 1)} | ${f(m.request_goodput)} |`,
    );
  }
  if (options.price) {
    const p = options.price;
    const at = options.pricedStep ? ` at ${options.pricedStep.concurrency !== undefined ? `concurrency ${options.pricedStep.concurrency}` : `${options.pricedStep.requestRate} req/s`}` : '';
    lines.push('', `**Price-performance**${at} (${formatPrice(p.hourlyPrice, p.currency)} per instance-hour, ${p.measuredInstances} instance${p.measuredInstances === 1 ? '' : 's'} measured):`, '');
    lines.push('| per 1M output tokens | per 1,000 requests | objective met | instances for ' + `${p.targetRequestsPerMinute} req/min | monthly cost (${p.hoursPerMonth} h) |`, '|---:|---:|:---:|---:|---:|');
    lines.push(
      `| ${formatPrice(p.perMillionOutputTokens, p.currency)} | ${formatPrice(p.perThousandRequests, p.currency)} | ${p.objectiveMet ? 'yes' : 'no'} | ${p.instancesForTarget ?? 'not reachable at the objective'} | ${formatPrice(p.monthlyCostForTarget, p.currency)} |`,
    );
  }
  const chart = renderLatencyChart(run);
  if (chart) lines.push('', chart);
  return lines.join('\n') + '\n';
}

/**
 * A mermaid xychart of p95 latency against the concurrency, when the run stepped it (two levels or
 * more). The first line is p95 TTFT, the second p95 end-to-end latency (xychart-beta draws no legend,
 * so the caption says which is which).
 */
export function renderLatencyChart(run: BenchmarkRun): string | undefined {
  const steps = run.steps.filter((s) => s.concurrency !== undefined && s.metrics.completed > 0);
  if (steps.length < 2) return undefined;
  const ttft = steps.map((s) => Math.round(get(s.metrics, 'p95_ttft_ms') ?? 0));
  const e2el = steps.map((s) => Math.round(get(s.metrics, 'p95_e2el_ms') ?? 0));
  const top = Math.max(...ttft, ...e2el, 1);
  return [
    '```mermaid',
    'xychart-beta',
    '  title "p95 latency (ms) against concurrent requests"',
    `  x-axis "concurrent requests" [${steps.map((s) => `"${s.concurrency}"`).join(', ')}]`,
    `  y-axis "ms" 0 --> ${Math.ceil(top * 1.1)}`,
    `  line [${ttft.join(', ')}]`,
    `  line [${e2el.join(', ')}]`,
    '```',
    '',
    '_Lower line: p95 time to first token; upper line: p95 end-to-end latency._',
  ].join('\n');
}

/** A terminal block per load level, as `vllm bench serve` prints it. */
export function renderText(run: BenchmarkRun, options: RenderOptions = {}): string {
  const out: string[] = [];
  const row = (label: string, value: string | number) => out.push(`${label.padEnd(40)} ${value}`);
  const rule = (title: string, c = '-') => out.push(` ${title} `.padStart(25 + Math.ceil((title.length + 2) / 2), c).padEnd(50, c));
  for (const s of run.steps) {
    const m = s.metrics;
    rule('Serving Benchmark Result', '=');
    row('Target:', run.target);
    if (s.concurrency !== undefined) row('Maximum request concurrency:', s.concurrency);
    if (s.requestRate !== undefined) row('Request rate configured (RPS):', f(s.requestRate));
    row('Successful requests:', m.completed);
    row('Failed requests:', m.failed);
    if (m.cancelled) row('Cancelled at the duration cap:', m.cancelled);
    row('Benchmark duration (s):', f(m.duration));
    row('Total input tokens:', m.total_input_tokens);
    row('Total generated tokens:', m.total_output_tokens);
    row('Request throughput (req/s):', f(m.request_throughput));
    if (m.request_goodput !== null) row('Request goodput (req/s):', f(m.request_goodput));
    row('Output token throughput (tok/s):', f(m.output_throughput));
    row('Peak output token throughput (tok/s):', f(m.max_output_tokens_per_s));
    row('Peak concurrent requests:', m.max_concurrent_requests);
    row('Total token throughput (tok/s):', f(m.total_token_throughput));
    const block = (name: string, label: string, title: string) => {
      rule(title);
      row(`Mean ${label} (ms):`, f(get(m, `mean_${name}_ms`)));
      row(`Median ${label} (ms):`, f(get(m, `median_${name}_ms`)));
      for (const p of ['90', '95', '99']) if (get(m, `p${p}_${name}_ms`) !== undefined) row(`P${p} ${label} (ms):`, f(get(m, `p${p}_${name}_ms`)));
    };
    block('ttft', 'TTFT', 'Time to First Token');
    block('tpot', 'TPOT', 'Time per Output Token (excl. 1st token)');
    block('itl', 'ITL', 'Inter-token Latency');
    block('e2el', 'E2EL', 'End-to-end Latency');
    row('Client event-loop lateness p99 (ms):', f(s.clientLagP99Ms));
    if (s.workers) row('Client worker threads:', s.workers);
    for (const w of s.warnings) out.push(`WARNING: ${w}`);
    if (m.mean_queue_time_ms !== undefined) {
      rule('Queue time (estimated)');
      row('Mean queue time (ms):', f(m.mean_queue_time_ms));
      row('P95 queue time (ms):', f(m.p95_queue_time_ms));
    }
  }
  if (options.price) {
    const p = options.price;
    rule('Price-performance');
    const at = options.pricedStep;
    if (at) row('Priced at:', at.concurrency !== undefined ? `concurrency ${at.concurrency}` : `${at.requestRate} req/s`);
    row('Instance price (per hour):', formatPrice(p.hourlyPrice, p.currency));
    row('Per 1M output tokens:', formatPrice(p.perMillionOutputTokens, p.currency));
    row('Per 1,000 requests:', formatPrice(p.perThousandRequests, p.currency));
    row('Objective met (p95):', p.objectiveMet ? 'yes' : 'no');
    row(`Instances for ${p.targetRequestsPerMinute} req/min:`, p.instancesForTarget ?? 'not reachable at the objective');
    row(`Monthly cost of those (${p.hoursPerMonth} h):`, formatPrice(p.monthlyCostForTarget, p.currency));
  }
  out.push('='.repeat(50));
  return out.join('\n') + '\n';
}

/** One load level in vLLM's result-JSON terms. */
export function stepJson(s: StepResult): Record<string, unknown> {
  return {
    max_concurrency: s.concurrency ?? null,
    request_rate: s.requestRate ?? 'inf',
    burstiness: 1.0,
    ...s.metrics,
    stopped_by: s.stoppedBy,
    errors: s.errors,
    client_lag_p99_ms: s.clientLagP99Ms,
    client_workers: s.workers ?? 1,
    client_cpu_s: s.clientCpuS ?? null,
    warnings: s.warnings,
  };
}

/**
 * The run as JSON: vLLM's field names for every figure. With one load level its fields are also at the
 * top level (`jq .median_ttft_ms`); every level is in `results`.
 */
export function benchmarkJson(run: BenchmarkRun, options: RenderOptions & { backend?: string; model?: string } = {}): Record<string, unknown> {
  const results = run.steps.map(stepJson);
  return {
    date: run.startedAt,
    backend: options.backend ?? 'openai-chat',
    model_id: options.model ?? null,
    target: run.target,
    num_prompts: run.workload.requests,
    workload: run.workload,
    ...(results.length === 1 ? results[0] : {}),
    results,
    ...(options.price ? { price_performance: options.price } : {}),
  };
}
