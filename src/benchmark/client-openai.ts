/**
 * An OpenAI-compatible server (vLLM, SGLang, TGI, the ecs/ec2 gateway) over HTTP(S): streaming chat
 * completions on keep-alive connections (http1.ts: a plain HTTP/1.1 client on net/tls sockets, ~800 bytes a
 * token leaner than node:http), `authorization: Bearer <key>`, server-sent events timed in the socket's own
 * read callback. (fetch's web streams cost 3-4x the CPU per token and hand
 * a busy client's reads over late and batched: TTFT read high, ITL collapsed towards 0.) The usage chunk (`stream_options.include_usage`) gives the output token count; without it
 * the chunks that carried content are counted.
 */
import type { ConnectionOptions } from 'tls';
import { DeployError, errorMessage } from '../core/errors';
import { Http1Pool, RequestHandle } from './http1';
import { StreamTimer } from './stream';
import { BenchClient, failedOutcome, redact, RequestOutcome, RequestSpec } from './types';

export interface OpenAiClientOptions {
  /** Base URL of the server: "https://host", "http://127.0.0.1:8000" or ".../v1". */
  baseUrl: string;
  apiKey?: string;
  /** The served model name (vLLM checks it); `discoverModel` asks /v1/models. */
  model: string;
  /** Sent as `ignore_eos` so every answer runs to max_tokens, as a fixed-length benchmark needs (vLLM, SGLang). */
  ignoreEos?: boolean;
  /** One request's own limit, ms (the run's cap aborts earlier). */
  requestTimeoutMs?: number;
  now?: () => number;
  /** Extra TLS options for https (tests: the CA of a test certificate). The host name is always checked. */
  tls?: ConnectionOptions;
}

/** The chat completions URL for a base URL, checked. */
export function chatCompletionsUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new DeployError(`--url "${baseUrl}" is not a URL`, { hint: 'The base URL of an OpenAI-compatible server: https://host or http://127.0.0.1:8000.' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DeployError(`--url "${baseUrl}" is not http(s)`, { hint: 'The base URL of an OpenAI-compatible server: https://host or http://127.0.0.1:8000.' });
  }
  if (url.username || url.password) {
    throw new DeployError('--url carries credentials', { hint: 'Give the key through --api-key-env NAME, never in the URL.' });
  }
  const base = url.toString().replace(/\/+$/, '');
  if (/\/chat\/completions$/.test(base)) return base;
  return /\/v1$/.test(base) ? `${base}/chat/completions` : `${base}/v1/chat/completions`;
}

function headers(apiKey?: string): Record<string, string> {
  const h: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream' };
  if (apiKey) h.authorization = `Bearer ${apiKey}`;
  return h;
}

/** A control character (CR, LF, NUL...): what a header value written by hand must not hold. */
export function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 32 || c === 127) return true;
  }
  return false;
}

/** The first model the server lists (`GET /v1/models`), as vLLM's benchmark does without --model. */
export async function discoverModel(baseUrl: string, apiKey?: string, signal?: AbortSignal): Promise<string> {
  const url = chatCompletionsUrl(baseUrl).replace(/\/chat\/completions$/, '/models');
  let res: Response;
  try {
    res = await fetch(url, { headers: headers(apiKey), signal: signal ?? AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new DeployError(`could not reach ${url}: ${redact(errorMessage(err), [apiKey])}`, { hint: 'Check --url, or give --model NAME.' });
  }
  const body = redact((await res.text()).slice(0, 2000), [apiKey]);
  if (!res.ok) throw new DeployError(`GET ${url} answered HTTP ${res.status}`, { hint: res.status === 401 || res.status === 403 ? 'The server wants a key: --api-key-env NAME.' : 'Give --model NAME.' });
  try {
    const id = (JSON.parse(body) as { data?: { id?: unknown }[] }).data?.[0]?.id;
    if (typeof id === 'string' && id) return id;
  } catch {
    /* fall through */
  }
  throw new DeployError(`GET ${url} listed no model`, { hint: 'Give --model NAME.' });
}

export function chatBody(request: RequestSpec, model: string, options: { stream: boolean; ignoreEos?: boolean }): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model,
    messages: [{ role: 'user', content: request.prompt }],
    temperature: 0,
    max_tokens: request.maxTokens,
    stream: options.stream,
  };
  if (options.stream) body.stream_options = { include_usage: true };
  if (options.ignoreEos) body.ignore_eos = true;
  return body;
}

export function openAiClient(options: OpenAiClientOptions): BenchClient {
  const url = new URL(chatCompletionsUrl(options.baseUrl));
  const now = options.now ?? (() => performance.now());
  const arrived = turnClock(now);
  const secrets = [options.apiKey];
  // The key goes into a field line written by hand: a line break in it would end the field (node:http refuses it too).
  if (options.apiKey && hasControlCharacter(options.apiKey)) {
    throw new DeployError('the API key holds a control character (a line break?)', { hint: 'Give the key alone in the variable --api-key-env names, without a trailing newline.' });
  }
  // One connection per stream in flight, kept open between requests (as a load balancer's clients do).
  const pool = new Http1Pool(url, options.tls ? { tls: options.tls } : {});
  // The request's line and fields but its length, written once.
  const head = `POST ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\naccept: text/event-stream\r\n${options.apiKey ? `authorization: Bearer ${options.apiKey}\r\n` : ''}content-length: `;
  const inFlight = new InFlight();
  return {
    label: `openai ${url.origin}`,
    async send(spec: RequestSpec, signal: AbortSignal): Promise<RequestOutcome> {
      const body = JSON.stringify(chatBody(spec, options.model, { stream: true, ignoreEos: options.ignoreEos }));
      const start = now();
      if (signal.aborted) return failedOutcome(spec, start, errorMessage(signal.reason ?? 'aborted'), true);
      const timer = new StreamTimer(start);
      let timedOut = false;
      let handle: RequestHandle | undefined;
      let limit: NodeJS.Timeout | undefined;
      try {
        const failure = await new Promise<string | undefined>((resolve, reject) => {
          let status = 0;
          let text = '';
          handle = pool.request(
            `${head}${Buffer.byteLength(body)}\r\n\r\n${body}`,
            {
              head: (s) => {
                status = s;
              },
              body: (buf, from, to) => {
                if (status === 200) timer.pushRange(buf, from, to, arrived());
                else if (text.length < 200) text += buf.toString('utf8', from, to);
              },
              end: () => {
                if (status !== 200) return resolve(`HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`);
                timer.end(arrived());
                resolve(undefined);
              },
              fail: reject,
            },
            () => timer.sent(now()),
          );
          inFlight.add(signal, handle);
          if (options.requestTimeoutMs) {
            limit = setTimeout(() => {
              timedOut = true;
              handle!.abort(new Error(`request timed out after ${options.requestTimeoutMs} ms`));
            }, options.requestTimeoutMs);
          }
        });
        if (failure) return failedOutcome(spec, start, redact(failure, secrets));
      } catch (err) {
        const why = timedOut ? `no answer within ${options.requestTimeoutMs} ms` : errorMessage(err);
        return failedOutcome(spec, start, redact(why, secrets), signal.aborted);
      } finally {
        clearTimeout(limit);
        if (handle) inFlight.delete(signal, handle);
      }
      const outcome = outcomeOf(timer, spec, timer.startMs);
      // An error event in the stream is the server's text: it could quote the request's headers.
      if (outcome.error) outcome.error = redact(outcome.error, secrets);
      return outcome;
    },
    close: async () => pool.close(),
  };
}

/**
 * When the chunks read in this turn of the event loop arrived: the clock read at the first of them, kept until the
 * turn ends (setImmediate runs after the loop's I/O callbacks). The sockets one wake-up finds readable all held
 * their bytes when it woke; read per chunk, the clock would also count the work on the sockets handled before
 * (64 streams: up to ~1 ms a turn at p99, 256: ~2 ms), which lands on one gap and not the next, as ITL jitter
 * the server never caused. A reading more than `maxTurnMs` after the kept one starts afresh: a long turn may read
 * bytes that came after it began, and a chunk handled outside the I/O phase must not take an older turn's time.
 */
export function turnClock(now: () => number, maxTurnMs = 2): () => number {
  let stamp: number | undefined;
  const clear = () => {
    stamp = undefined;
  };
  return () => {
    const t = now();
    if (stamp !== undefined && t - stamp <= maxTurnMs) return stamp;
    if (stamp === undefined) setImmediate(clear);
    stamp = t;
    return t;
  };
}

/**
 * The requests in flight under each signal, with one abort listener per signal while any is in flight. Before,
 * each request made its own AbortController and put a listener on the run's signal and another (node:http's) on
 * its own: at 32 tokens a request, ~6 % of the client's CPU at 256 streams.
 */
class InFlight {
  private readonly bySignal = new Map<AbortSignal, { requests: Set<RequestHandle>; onAbort: () => void }>();

  add(signal: AbortSignal, req: RequestHandle): void {
    let entry = this.bySignal.get(signal);
    if (!entry) {
      const requests = new Set<RequestHandle>();
      const onAbort = () => {
        const why = signal.reason instanceof Error ? signal.reason : new Error('aborted');
        for (const r of [...requests]) r.abort(why);
      };
      entry = { requests, onAbort };
      this.bySignal.set(signal, entry);
      signal.addEventListener('abort', onAbort, { once: true });
    }
    entry.requests.add(req);
  }

  /** The last request under a signal takes its listener away: a long run does not pile them up. */
  delete(signal: AbortSignal, req: RequestHandle): void {
    const entry = this.bySignal.get(signal);
    if (!entry || !entry.requests.delete(req) || entry.requests.size > 0) return;
    signal.removeEventListener('abort', entry.onAbort);
    this.bySignal.delete(signal);
  }
}

/** A request's outcome once its stream ended. */
export function outcomeOf(timer: StreamTimer, request: RequestSpec, start: number): RequestOutcome {
  if (timer.error) return failedOutcome(request, start, timer.error);
  if (timer.ttftMs === 0) return failedOutcome(request, start, 'the stream carried no token');
  return {
    success: true,
    promptLen: timer.usagePromptTokens ?? request.promptTokens,
    outputTokens: timer.outputTokens,
    ttftMs: timer.ttftMs,
    itlMs: timer.itlMs,
    latencyMs: timer.latencyMs,
    startMs: start,
  };
}
