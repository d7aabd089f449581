/**
 * Waiting on AWS: a poller with exponential back-off and full jitter that treats throttling as
 * back-pressure (it slows down instead of failing), stops at a deadline, and can be cancelled.
 */
import { awsCause, DeployError, errorName, httpStatus } from './errors';

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'SlowDown',
  'PriorRequestNotComplete',
]);

/** Whether an AWS error (or the one a DeployError wraps: core/stack.ts explains what it reads) is throttling. */
export function isThrottling(err: unknown): boolean {
  const cause = awsCause(err);
  if (THROTTLING.has(errorName(cause))) return true;
  const msg = cause instanceof Error ? cause.message : '';
  return /rate exceeded/i.test(msg) || httpStatus(cause) === 429;
}

const NETWORK = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED', 'TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

/**
 * A look that failed on the way, not on its answer: a connection reset or timed out mid-poll, or a 5xx
 * server fault, after the SDK's own retries. A poll looks again later; a run of them still ends at the deadline.
 */
export function isTransient(err: unknown): boolean {
  const cause = awsCause(err) as { code?: string; $fault?: string } | undefined;
  if (NETWORK.has(errorName(cause)) || NETWORK.has(cause?.code ?? '')) return true;
  const msg = cause instanceof Error ? cause.message : '';
  if (/socket hang up|ECONNRESET|ETIMEDOUT/i.test(msg)) return true;
  const status = httpStatus(cause);
  return status !== undefined && status >= 500 && status !== 501;
}

/** Consecutive transient failures a poll absorbs before it reports the last one. */
const MAX_TRANSIENT_IN_A_ROW = 20;

export interface PollOptions<T> {
  /** One look at the world. Throttling errors are absorbed; any other error ends the poll. */
  check: () => Promise<T>;
  /** True when the value is final. */
  done: (value: T) => boolean;
  /** What we are waiting for, used in the timeout message. */
  what: string;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Growth of the delay while nothing changes. */
  factor?: number;
  timeoutMs?: number;
  /** Tells the poller that the value changed, which resets the delay to its initial value. */
  progressed?: (value: T, previous: T | undefined) => boolean;
  signal?: AbortSignal;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  now?: () => number;
  /** Called after each check (for streaming logs, progress). */
  onValue?: (value: T) => void | Promise<void>;
  /**
   * A line for a silent wait: called when nothing progressed for `everyMs` (default a minute), with the
   * time since the poll began; the sleep is cut short so it comes on time.
   */
  heartbeat?: { everyMs?: number; say: (elapsedMs: number) => void };
}

/** How long a silent wait may go without a line (#23.5). */
export const HEARTBEAT_MS = 60_000;

/** Waits `ms`, ending early (resolved, not rejected) when `signal` aborts: for loops that then see the abort themselves. */
export function sleepUntilAborted(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Waits `ms`; rejects with the abort reason when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason;
  return reason instanceof Error ? reason : new DeployError('Cancelled.');
}

/** Full jitter: a random delay between half and all of the nominal one (never zero, never a herd). */
export function jittered(ms: number, random: () => number = Math.random): number {
  return Math.round(ms / 2 + (random() * ms) / 2);
}

const TIMED_OUT = 'Timed out';

/** A poll that reached its deadline (the operation it watched may still be running in AWS). */
export function isPollTimeout(err: unknown): err is DeployError {
  return err instanceof DeployError && err.title === TIMED_OUT;
}

export interface PollResult<T> {
  value: T;
  checks: number;
  throttled: number;
}

export async function poll<T>(options: PollOptions<T>): Promise<PollResult<T>> {
  const initial = options.initialDelayMs ?? 2000;
  const max = options.maxDelayMs ?? 30000;
  const factor = options.factor ?? 1.5;
  const now = options.now ?? Date.now;
  const wait = options.sleep ?? sleep;
  const random = options.random ?? Math.random;
  const deadline = options.timeoutMs === undefined ? Infinity : now() + options.timeoutMs;
  let delay = initial;
  let previous: T | undefined;
  let checks = 0;
  let throttled = 0;
  let transientInARow = 0;
  const began = now();
  const beatEvery = options.heartbeat?.everyMs ?? HEARTBEAT_MS;
  let lastSaid = began;
  for (;;) {
    if (options.signal?.aborted) throw abortError(options.signal);
    let value: T | undefined;
    let gotValue = false;
    try {
      checks++;
      value = await options.check();
      gotValue = true;
      transientInARow = 0;
    } catch (err) {
      if (isThrottling(err)) throttled++;
      else if (!isTransient(err) || ++transientInARow > MAX_TRANSIENT_IN_A_ROW) throw err;
      // Back-pressure: double the wait, up to twice the normal ceiling.
      delay = Math.min(delay * 2, max * 2);
    }
    if (gotValue) {
      const v = value as T;
      if (options.onValue) await options.onValue(v);
      if (options.done(v)) return { value: v, checks, throttled };
      const moved = options.progressed ? options.progressed(v, previous) : false;
      delay = moved ? initial : Math.min(Math.round(delay * factor), max);
      if (moved) lastSaid = now();
      previous = v;
    }
    const remaining = deadline - now();
    if (remaining <= 0) {
      throw new DeployError(`Timed out after ${Math.round((options.timeoutMs ?? 0) / 60000)} minutes waiting for ${options.what}.`, {
        title: TIMED_OUT,
        hint: 'Raise the timeout input if this is expected to take longer; the operation itself may still be running in AWS.',
      });
    }
    let pause = Math.min(jittered(delay, random), remaining);
    if (options.heartbeat) {
      if (now() - lastSaid >= beatEvery) {
        options.heartbeat.say(now() - began);
        lastSaid = now();
      }
      pause = Math.max(1, Math.min(pause, lastSaid + beatEvery - now()));
    }
    await wait(pause, options.signal);
  }
}

/** Retries one call on throttling and transient network errors (for calls outside a poll loop). */
export async function withRetries<T>(
  fn: () => Promise<T>,
  options: { attempts?: number; baseDelayMs?: number; retryable?: (err: unknown) => boolean; sleep?: (ms: number) => Promise<void> } = {},
): Promise<T> {
  const attempts = options.attempts ?? 5;
  const base = options.baseDelayMs ?? 1000;
  const retryable = options.retryable ?? isThrottling;
  const wait = options.sleep ?? ((ms: number) => sleep(ms));
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || !retryable(err)) throw err;
      await wait(jittered(base * 2 ** (attempt - 1)));
    }
  }
}
