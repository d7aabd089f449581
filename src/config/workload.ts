/**
 * The workload a benchmark runs: how long the prompts and answers are, how much load (a fixed number
 * of concurrent streams, or an arrival rate), how many requests and for how long at most, the latency
 * objective, and the load the service must carry. Every run is bounded in requests and in time.
 * It lives in config because the spec's `workload:` is resolved (defaults, checks) when the spec
 * loads; the benchmark (src/benchmark/) and the CLI resolve theirs with the same function.
 */
import { DeployError, SourceLocation, throwIfAny } from '../core/errors';
import type { LatencyObjective, WorkloadFields } from './spec-types.generated';

export type { LatencyObjective };

/** Fields resolveWorkload always gives a value (a default when the spec leaves them out). */
type Defaulted = 'promptTokens' | 'outputTokens' | 'requests' | 'maxDurationSeconds' | 'objective' | 'targetRequestsPerMinute';

/** A resolved workload: the schema's fields (./spec-types.generated.ts), defaults applied. */
export interface Workload extends Omit<WorkloadFields, Defaulted>, Required<Pick<WorkloadFields, Defaulted>> {}

export const WORKLOAD_DEFAULTS = {
  promptTokens: 512,
  outputTokens: 128,
  concurrency: 8,
  requests: 64,
  maxDurationSeconds: 300,
  objective: { p95TtftMs: 2000 } as LatencyObjective,
  targetRequestsPerMinute: 60,
} as const;

export const WORKLOAD_LIMITS = {
  promptTokens: [1, 131072],
  outputTokens: [1, 32768],
  concurrency: [1, 1024],
  requestRate: [0.01, 1000],
  requests: [1, 100000],
  maxDurationSeconds: [1, 3600],
  objectiveMs: [1, 3_600_000],
  targetRequestsPerMinute: [0.001, 10_000_000],
  steps: 16,
} as const;

const FIELDS = ['promptTokens', 'outputTokens', 'concurrency', 'requestRate', 'requests', 'maxDurationSeconds', 'objective', 'targetRequestsPerMinute', 'promptsFile', 'concurrencySteps'];
const OBJECTIVE_FIELDS = ['p95TtftMs', 'p95E2elMs'];

export interface WorkloadContext {
  /** Prefix of field names in messages: "deployments.chat.workload". */
  path?: string;
  location?: SourceLocation;
}

/**
 * Applies defaults and checks every field, reporting all problems at once. `input` is what the spec
 * (or the CLI) gave: absent fields take their defaults.
 */
export function resolveWorkload(input: unknown, context: WorkloadContext = {}): Workload {
  const prefix = context.path ?? 'workload';
  const errors: DeployError[] = [];
  const fail = (field: string, message: string, hint: string) =>
    errors.push(new DeployError(`${prefix}.${field} ${message}`, { location: context.location, hint, title: 'Invalid benchmark workload' }));
  if (input !== undefined && input !== null && (typeof input !== 'object' || Array.isArray(input))) {
    throw new DeployError(`${prefix} must be a mapping of workload fields`, { location: context.location, hint: `Fields: ${FIELDS.join(', ')}.` });
  }
  const w = (input ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(w)) {
    if (!FIELDS.includes(key)) fail(key, 'is not a workload field', `Workload fields: ${FIELDS.join(', ')}.`);
  }
  const int = (field: string, [min, max]: readonly [number, number], fallback?: number): number | undefined => {
    const v = w[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      fail(field, `is ${JSON.stringify(v)}, which is not valid`, `A whole number from ${min} to ${max}.`);
      return fallback;
    }
    return v;
  };
  const num = (obj: Record<string, unknown>, field: string, label: string, [min, max]: readonly [number, number], fallback?: number): number | undefined => {
    const v = obj[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      fail(label, `is ${JSON.stringify(v)}, which is not valid`, `A number from ${min} to ${max}.`);
      return fallback;
    }
    return v;
  };

  const promptTokens = int('promptTokens', WORKLOAD_LIMITS.promptTokens, WORKLOAD_DEFAULTS.promptTokens)!;
  const outputTokens = int('outputTokens', WORKLOAD_LIMITS.outputTokens, WORKLOAD_DEFAULTS.outputTokens)!;
  const requests = int('requests', WORKLOAD_LIMITS.requests, WORKLOAD_DEFAULTS.requests)!;
  const maxDurationSeconds = num(w, 'maxDurationSeconds', 'maxDurationSeconds', WORKLOAD_LIMITS.maxDurationSeconds, WORKLOAD_DEFAULTS.maxDurationSeconds)!;
  const targetRequestsPerMinute = num(w, 'targetRequestsPerMinute', 'targetRequestsPerMinute', WORKLOAD_LIMITS.targetRequestsPerMinute, WORKLOAD_DEFAULTS.targetRequestsPerMinute)!;
  const requestRate = num(w, 'requestRate', 'requestRate', WORKLOAD_LIMITS.requestRate);
  let concurrency = int('concurrency', WORKLOAD_LIMITS.concurrency);
  if (requestRate !== undefined && concurrency !== undefined) {
    fail('requestRate', 'and concurrency are both set', 'Give either concurrency (a closed loop of N streams) or requestRate (requests per second arriving whatever the latency), not both.');
  }
  const stepping = w.concurrencySteps !== undefined && w.concurrencySteps !== null;
  if (stepping && w.concurrency !== undefined && w.concurrency !== null) {
    fail('concurrencySteps', 'and concurrency are both set', 'Give either concurrency (one level) or concurrencySteps (one run per level), not both.');
  }
  if (requestRate === undefined && concurrency === undefined && !stepping) concurrency = WORKLOAD_DEFAULTS.concurrency;

  let objective: LatencyObjective = { ...WORKLOAD_DEFAULTS.objective };
  const o = w.objective;
  if (o !== undefined && o !== null) {
    if (typeof o !== 'object' || Array.isArray(o)) {
      fail('objective', 'must be a mapping', `Fields: ${OBJECTIVE_FIELDS.join(', ')} (milliseconds).`);
    } else {
      const ob = o as Record<string, unknown>;
      for (const key of Object.keys(ob)) {
        if (!OBJECTIVE_FIELDS.includes(key)) fail(`objective.${key}`, 'is not an objective field', `Objective fields: ${OBJECTIVE_FIELDS.join(', ')} (milliseconds).`);
      }
      objective = {};
      const ttft = num(ob, 'p95TtftMs', 'objective.p95TtftMs', WORKLOAD_LIMITS.objectiveMs);
      const e2el = num(ob, 'p95E2elMs', 'objective.p95E2elMs', WORKLOAD_LIMITS.objectiveMs);
      if (ttft !== undefined) objective.p95TtftMs = ttft;
      if (e2el !== undefined) objective.p95E2elMs = e2el;
      if (ttft === undefined && e2el === undefined && Object.keys(ob).every((k) => OBJECTIVE_FIELDS.includes(k) && ob[k] === undefined)) {
        fail('objective', 'names no latency', 'Set p95TtftMs and/or p95E2elMs (milliseconds), or leave objective out for the default (p95 TTFT 2000 ms).');
      }
    }
  }

  let promptsFile: string | undefined;
  if (w.promptsFile !== undefined && w.promptsFile !== null) {
    const p = w.promptsFile;
    if (typeof p !== 'string' || !p.trim() || p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.split(/[\\/]/).includes('..')) {
      fail('promptsFile', `is ${JSON.stringify(p)}, which is not valid`, 'A path relative to the repository root, inside it (no leading / and no ..).');
    } else promptsFile = p;
  }

  let concurrencySteps: number[] | undefined;
  if (w.concurrencySteps !== undefined && w.concurrencySteps !== null) {
    const s = w.concurrencySteps;
    const [min, max] = WORKLOAD_LIMITS.concurrency;
    const ok =
      Array.isArray(s) &&
      s.length >= 1 &&
      s.length <= WORKLOAD_LIMITS.steps &&
      s.every((x, i) => typeof x === 'number' && Number.isInteger(x) && x >= min && x <= max && (i === 0 || x > (s[i - 1] as number)));
    if (!ok) {
      fail('concurrencySteps', `is ${JSON.stringify(s)}, which is not valid`, `A list of 1 to ${WORKLOAD_LIMITS.steps} whole numbers from ${min} to ${max}, ascending: [1, 4, 16, 64].`);
    } else if (requestRate !== undefined) {
      fail('concurrencySteps', 'steps the concurrency, but requestRate sets an open loop', 'Use concurrency steps with a closed loop (leave requestRate out).');
    } else concurrencySteps = s as number[];
  }

  throwIfAny(errors);
  const out: Workload = { promptTokens, outputTokens, requests, maxDurationSeconds, objective, targetRequestsPerMinute };
  if (concurrency !== undefined) out.concurrency = concurrency;
  if (requestRate !== undefined) out.requestRate = requestRate;
  if (promptsFile) out.promptsFile = promptsFile;
  if (concurrencySteps) out.concurrencySteps = concurrencySteps;
  return out;
}
