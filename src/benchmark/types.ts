/**
 * The seam between the load generator and the clients: what one request asks for and what was
 * observed while it ran. Times are milliseconds from `performance.now()` (monotonic); the metrics
 * module converts them to vLLM's units.
 */

export interface RequestSpec {
  /** Index of the request in the run (0-based). */
  index: number;
  prompt: string;
  /** Prompt length in tokens as the workload states it (synthetic prompts are built to it). */
  promptTokens: number;
  /** max_tokens asked for. */
  maxTokens: number;
}

export interface RequestOutcome {
  success: boolean;
  /** Why it failed: short, never containing a credential. */
  error?: string;
  /** Prompt tokens: the server's usage when it reports it, else the workload's figure. */
  promptLen: number;
  /** Output tokens: the server's usage (completion_tokens) when present, else the number of content chunks. */
  outputTokens: number;
  /** Time to first token, ms (0 when no token arrived). */
  ttftMs: number;
  /** Gaps between successive chunks after the first, ms (vLLM's `itl`). */
  itlMs: number[];
  /** Request sent to last chunk received, ms (vLLM's `latency`). */
  latencyMs: number;
  /** When the request was sent, ms on the run's clock (performance.now()). */
  startMs: number;
  /** SageMaker async only: estimated time in the endpoint's queue, ms. */
  queueMs?: number;
  /** True when the run's duration cap or an abort ended the request before it finished. */
  cancelled?: boolean;
}

/** One way of sending a request and timing its answer (OpenAI HTTP, SageMaker stream, SageMaker async). */
export interface BenchClient {
  /** "openai http://127.0.0.1:8000", "sagemaker-realtime my-endpoint": for messages, never containing a key. */
  readonly label: string;
  send(request: RequestSpec, signal: AbortSignal): Promise<RequestOutcome>;
  /** Estimated queue times need the whole run (SageMaker async); others leave outcomes as they are. */
  finish?(outcomes: RequestOutcome[]): void;
  close?(): Promise<void>;
}

export function failedOutcome(request: RequestSpec, startMs: number, error: string, cancelled = false): RequestOutcome {
  return { success: false, error, promptLen: request.promptTokens, outputTokens: 0, ttftMs: 0, itlMs: [], latencyMs: 0, startMs, cancelled };
}

/** Replaces every occurrence of the secrets in a message (error text from a server may echo a header). */
export function redact(text: string, secrets: (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}
