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

/**
 * The URL the keys are probed at: `endpoint-url` when given, else the stack's URL output. Both keys travel to it,
 * so it must be https (no key in clear on the network) and name the stack's own host and port (a mistyped or
 * planted input must not collect them); no user name, password, query or fragment. Checked before anything
 * changes. Messages show the origin at most: a user name or password in the input is never printed.
 */
export function probeUrl(input: string | undefined, stackUrl: string | undefined, stack: string): string | undefined {
  const own = stackUrl === undefined ? undefined : checkedHttps(stackUrl, `the URL output of stack ${stack}`, false, 'Redeploy the endpoint with deploy-endpoint: its templates output https://HOSTNAME.');
  if (input === undefined || input === '') return own?.href;
  const use = own ? `Use ${own.origin}, or leave endpoint-url empty to use the stack's URL.` : 'Leave endpoint-url empty to use the stack\'s URL.';
  const url = checkedHttps(input, 'input `endpoint-url`', true, use);
  const refuse = (problem: string, hint = use) => new DeployError(`input \`endpoint-url\` ${problem}`, { title: 'Invalid input', hint: `Nothing was changed. ${hint}` });
  if (!own) throw refuse(`cannot be checked: stack ${stack} has no URL output to compare its host with`, 'Redeploy the endpoint with deploy-endpoint, which outputs EndpointUrl.');
  const hostOf = (u: URL) => u.hostname.toLowerCase().replace(/\.$/, '');
  if (hostOf(url) !== hostOf(own)) {
    throw refuse(
      `names host ${url.hostname}, but stack ${stack} serves at ${own.hostname}: rotate-key sends the keys only to the stack's own host`,
      `${use} To call the endpoint by another name, set security.hostname in the spec and deploy: the stack then serves at that name.`,
    );
  }
  if (url.port !== own.port) throw refuse(`names port ${url.port || '443'}, but stack ${stack} serves at port ${own.port || '443'} of ${own.hostname}`);
  return url.href;
}

/** The form of input `endpoint-url` alone (https, no credentials, query or fragment): checked before any AWS call. */
export function checkEndpointUrlInput(input: string): void {
  checkedHttps(input, 'input `endpoint-url`', true, "Leave endpoint-url empty to use the stack's URL.");
}

/** `text` as an https URL without credentials, query or fragment, or a DeployError naming `what`. */
function checkedHttps(text: string, what: string, isInput: boolean, hint: string): URL {
  const refuse = (problem: string) => new DeployError(`${what} ${problem}`, { title: isInput ? 'Invalid input' : 'Unexpected stack', hint: `Nothing was changed. ${hint}` });
  const form = 'expected https://HOST[:PORT][/PATH]';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw refuse(`is not a URL: ${form}`);
  }
  if (url.username || url.password) throw refuse(`carries a user name or password: ${form}`);
  if (url.protocol !== 'https:') throw refuse(`(${url.origin}) must be https, not ${url.protocol.replace(/:$/, '')}: rotate-key sends both API keys to it`);
  if (url.search || url.hash) throw refuse(`(${url.origin}) has a query or fragment: ${form}`);
  return url;
}
