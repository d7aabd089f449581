/**
 * testSecret: calls the endpoint with each key and checks the answer. Keys travel only in the
 * Authorization header; nothing about a request that could contain one is ever printed.
 */
import { randomBytes } from 'crypto';
import { DeployError, errorMessage } from '../core/errors';
import { sleep } from '../core/poll';

export interface KeyExpectation {
  /** Words for messages: "the pending key". Never the key. */
  label: string;
  key: string;
  accepted: boolean;
}

export interface ProbeOptions {
  url: string;
  /** Body sent to POST /invocations (the spec's smokeTest payload, or a one-token chat). */
  payload: unknown;
  contentType: string;
  /** Requests per key: behind a load balancer each may reach another server. */
  rounds?: number;
  timeoutMs?: number;
  /** Retries of a transient answer (5xx, network error) before giving up. */
  retries?: number;
  retryDelayMs?: number;
  signal?: AbortSignal;
}

export const DEFAULT_PROBE_PAYLOAD = { messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 };

/** A key that no server accepts: same alphabet and length as real ones. */
export function wrongKey(): string {
  return randomBytes(36).toString('base64').replace(/[^A-Za-z0-9]/g, 'x').slice(0, 48);
}

function invocationsUrl(base: string): string {
  return `${base.replace(/\/+$/, '')}/invocations`;
}

async function once(options: ProbeOptions, key: string): Promise<number> {
  const body = typeof options.payload === 'string' ? options.payload : JSON.stringify(options.payload);
  const signals = [AbortSignal.timeout(options.timeoutMs ?? 60_000), ...(options.signal ? [options.signal] : [])];
  const res = await fetch(invocationsUrl(options.url), {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': options.contentType },
    body,
    signal: signals.length > 1 ? anySignal(signals) : signals[0],
  });
  await res.arrayBuffer().catch(() => undefined);
  return res.status;
}

function anySignal(signals: AbortSignal[]): AbortSignal {
  const controller = new AbortController();
  for (const s of signals) {
    if (s.aborted) controller.abort(s.reason);
    else s.addEventListener('abort', () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}

/** One key, one verdict: accepted (2xx), refused (401), or a DeployError saying what came back. */
async function statusFor(options: ProbeOptions, expectation: KeyExpectation): Promise<number> {
  const retries = options.retries ?? 4;
  let last = '';
  for (let attempt = 0; attempt <= retries; attempt++) {
    try {
      const status = await once(options, expectation.key);
      if (status < 500) return status;
      last = `HTTP ${status}`;
    } catch (err) {
      if (options.signal?.aborted) throw err;
      // fetch errors name the URL and the cause, never the headers.
      last = errorMessage(err);
    }
    if (attempt < retries) await sleep((options.retryDelayMs ?? 2000) * (attempt + 1), options.signal);
  }
  throw new DeployError(`${options.url} did not answer the request with ${expectation.label}: ${last}`, { title: 'Endpoint unreachable' });
}

export async function probeKeys(options: ProbeOptions, expectations: KeyExpectation[]): Promise<string[]> {
  const lines: string[] = [];
  for (let round = 0; round < (options.rounds ?? 2); round++) {
    for (const e of expectations) {
      const status = await statusFor(options, e);
      const ok = e.accepted ? status >= 200 && status < 300 : status === 401;
      if (!ok) {
        throw new DeployError(
          e.accepted
            ? `POST ${invocationsUrl(options.url)} with ${e.label} answered ${status}, expected a 2xx${status === 401 ? ': the serving side does not accept it' : ''}`
            : `POST ${invocationsUrl(options.url)} with ${e.label} answered ${status}, expected 401: the serving side does not check keys`,
          { title: 'Key test failed' },
        );
      }
      if (round === 0) lines.push(`${e.label}: ${status} (${e.accepted ? 'accepted' : 'refused'}, as expected)`);
    }
  }
  return lines;
}
