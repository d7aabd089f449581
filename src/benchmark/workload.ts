/** The benchmark's workload: its shape, defaults and checks load with the spec (src/config/workload.ts). */
import type { Workload } from '../config/workload';

export { resolveWorkload, WORKLOAD_DEFAULTS, WORKLOAD_LIMITS } from '../config/workload';
export type { LatencyObjective, Workload, WorkloadContext } from '../config/workload';

/** "c=8, 64 requests, 512→128 tokens" */
export function describeWorkload(w: Workload): string {
  const load = w.concurrencySteps ? `concurrency ${w.concurrencySteps.join('/')}` : w.requestRate !== undefined ? `${w.requestRate} req/s` : `concurrency ${w.concurrency}`;
  return `${load}, ${w.requests} requests (≤ ${w.maxDurationSeconds} s), ${w.promptTokens}→${w.outputTokens} tokens`;
}
