/**
 * The GitHub REST client: @actions/github's getOctokit (Octokit core + REST endpoint methods +
 * pagination). Its fetch goes through @actions/http-client's proxy dispatcher, so HTTPS_PROXY,
 * HTTP_PROXY and NO_PROXY (either case) apply as on the runner; Node's own fetch ignores them.
 *
 * @actions/github chooses proxy or direct once, when it is loaded, for GITHUB_API_URL. A base URL that
 * must be reached directly (NO_PROXY, loopback) while a proxy is set gets Node's fetch, which connects
 * directly; otherwise the client is getOctokit's own.
 *
 * Imported when a client is made, not when this module is: loading @actions/github builds its proxy
 * agents (@actions/http-client, undici), ~35 ms that a run which never calls GitHub should not pay;
 * in the bundles it is a chunk of its own, not even parsed by such a run.
 */
import type { getOctokit } from '@actions/github';
import { loadHttpClient } from './http-client';
import { proxyConfigured, proxyFor, proxyRequestHandler } from './proxy';
import { PROJECT, VERSION } from './version';

export type GitHubClient = ReturnType<typeof getOctokit>;

export async function githubClient(token: string, baseUrl = process.env.GITHUB_API_URL || 'https://api.github.com'): Promise<GitHubClient> {
  // @actions/github builds its proxy agents with it as it loads; proxyFor asks its NO_PROXY rule.
  await loadHttpClient();
  const url = baseUrl.replace(/\/$/, '');
  const options: NonNullable<Parameters<typeof getOctokit>[1]> = { baseUrl: url, userAgent: `${PROJECT}/${VERSION}` };
  if (proxyConfigured() && !proxyFor(url)) options.request = { fetch: globalThis.fetch };
  const github = await import('@actions/github');
  return github.getOctokit(token, options);
}

/**
 * The small REST client of the PR-comment path (the comment's list/create/update/delete, the base spec
 * and benchmark results at the base commit, the pull request check): node:http(s), already part of
 * Node, with keep-alive so parallel requests share connections. Why not getOctokit there: loading
 * @actions/github and the undici under it is 130-200 ms of a run whose whole job is 3-5 requests
 * (issue #26: the PR-comment run is measured against bare node). getOctokit stays the client where
 * its breadth is used (deployments, the bill issue, the context). Same network rules: GITHUB_API_URL,
 * proxies and NO_PROXY through src/core/proxy.ts, and GitHub's rate-limit answers honoured.
 */
export interface GitHubResponse<T = unknown> {
  status: number;
  data: T;
  headers: Record<string, string | string[] | undefined>;
}

/** A non-2xx answer: `status` and GitHub's `message` (never the token). */
export class GitHubHttpError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly headers: Record<string, string | string[] | undefined> = {},
  ) {
    super(message);
    this.name = 'GitHubHttpError';
  }
}

export interface GitHubApi {
  /** One call, retried on GitHub's transient and rate-limit answers. `route` is a path with its query. */
  request<T = unknown>(method: string, route: string, options?: { body?: unknown; accept?: string }): Promise<GitHubResponse<T>>;
  /** Every page of a list (the Link header's rel="next"). */
  paginate<T>(route: string): Promise<T[]>;
  /** POST to the GraphQL endpoint; GraphQL errors in a 200 answer are thrown. */
  graphql<T = unknown>(query: string, variables: Record<string, unknown>): Promise<T>;
}

export interface GitHubApiOptions {
  /** First back-off step (default 1 s); tests make it short. */
  retryBaseMs?: number;
  attempts?: number;
  /** The longest single wait a rate limit may ask for before the call fails instead (default 5 minutes). */
  maxWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const header = (headers: GitHubResponse['headers'], name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * How long to wait before retrying this answer, or undefined when it is not to be retried. GitHub's
 * rules (REST "Rate limits", "Exceeding the rate limit"): 403 or 429 with x-ratelimit-remaining 0 →
 * not before x-ratelimit-reset (epoch seconds); a secondary limit → retry-after seconds when given,
 * else at least a minute; 5xx and other 429s → exponential back-off.
 */
export function gitHubRetryDelay(err: unknown, attempt: number, baseMs: number, now = Date.now()): number | undefined {
  const status = (err as { status?: number }).status;
  const headers = (err as { headers?: GitHubResponse['headers'] }).headers ?? {};
  const backoff = baseMs * 2 ** (attempt - 1);
  if (status === undefined) return (err as { code?: string }).code && /^(ECONNRESET|ETIMEDOUT|EPIPE|ECONNREFUSED|EAI_AGAIN)$/.test(String((err as { code?: string }).code)) ? backoff : undefined;
  const retryAfter = Number(header(headers, 'retry-after'));
  const limited = status === 429 || (status === 403 && (header(headers, 'x-ratelimit-remaining') === '0' || /rate limit/i.test(errorText(err))));
  if (limited) {
    if (Number.isFinite(retryAfter) && retryAfter >= 0) return Math.max(retryAfter * 1000, backoff);
    const reset = Number(header(headers, 'x-ratelimit-reset'));
    if (header(headers, 'x-ratelimit-remaining') === '0' && Number.isFinite(reset)) return Math.max(reset * 1000 - now, backoff);
    // A secondary limit without retry-after: "wait for at least one minute" (60 back-off steps: 1 min at the default 1 s).
    return status === 403 ? Math.max(60 * baseMs, backoff) : backoff;
  }
  return status >= 500 ? backoff : undefined;
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** GraphQL's URL for a REST base: api.github.com/graphql, or https://HOST/api/graphql for GitHub Enterprise Server's /api/v3. */
function graphqlUrl(base: string): string {
  return /\/api\/v3$/.test(base) ? base.replace(/\/api\/v3$/, '/api/graphql') : `${base}/graphql`;
}

export async function gitHubApi(token: string, baseUrl = process.env.GITHUB_API_URL || 'https://api.github.com', options: GitHubApiOptions = {}): Promise<GitHubApi> {
  const base = baseUrl.replace(/\/$/, '');
  const secure = base.startsWith('https:');
  /* eslint-disable @typescript-eslint/no-require-imports */
  const transport = (secure ? require('https') : require('http')) as typeof import('https');
  /* eslint-enable @typescript-eslint/no-require-imports */
  let agent: import('http').Agent;
  if (proxyConfigured()) {
    // proxyFor asks @actions/http-client's NO_PROXY rule: loaded only when a proxy is set.
    await loadHttpClient();
    const routed = proxyRequestHandler();
    agent = (secure ? routed?.httpsAgent : routed?.httpAgent) as import('http').Agent;
  } else {
    agent = new transport.Agent({ keepAlive: true, maxSockets: 10 });
  }
  const attempts = options.attempts ?? 5;
  const baseMs = options.retryBaseMs ?? 1000;
  const maxWaitMs = options.maxWaitMs ?? 5 * 60_000;
  const wait = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  const once = <T>(method: string, url: string, body: unknown, accept: string): Promise<GitHubResponse<T>> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = transport.request(
        url,
        {
          method,
          agent,
          headers: {
            accept,
            // No token: an anonymous call (public data, such as a public repository's ids).
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            'user-agent': `${PROJECT}/${VERSION}`,
            'x-github-api-version': '2022-11-28',
            ...(payload ? { 'content-type': 'application/json; charset=utf-8', 'content-length': String(payload.length) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            // A raw answer is the file itself, even when GitHub labels it +json; an error is GitHub's JSON.
            const ok = status >= 200 && status < 300;
            const json = /json/.test(String(res.headers['content-type'] ?? '')) && (!ok || !/raw/.test(accept));
            let data: unknown = text;
            if (json && text) {
              try {
                data = JSON.parse(text);
              } catch {
                data = text;
              }
            }
            if (ok) return resolve({ status, data: data as T, headers: res.headers });
            const message = typeof data === 'object' && data && typeof (data as { message?: unknown }).message === 'string' ? (data as { message: string }).message : text.slice(0, 200) || `HTTP ${status}`;
            reject(new GitHubHttpError(message, status, res.headers));
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });

  const request = async <T>(method: string, route: string, o: { body?: unknown; accept?: string } = {}): Promise<GitHubResponse<T>> => {
    const url = /^https?:\/\//.test(route) ? route : `${base}${route}`;
    for (let attempt = 1; ; attempt++) {
      try {
        return await once<T>(method, url, o.body, o.accept ?? 'application/vnd.github+json');
      } catch (err) {
        const delay = attempt < attempts ? gitHubRetryDelay(err, attempt, baseMs) : undefined;
        if (delay === undefined) throw err;
        if (delay > maxWaitMs) {
          throw new GitHubHttpError(`${errorText(err)} (GitHub asks to wait ${Math.ceil(delay / 1000)} s before the next request, longer than this step waits)`, (err as GitHubHttpError).status, (err as GitHubHttpError).headers);
        }
        await wait(delay);
      }
    }
  };

  return {
    request,
    async paginate<T>(route: string): Promise<T[]> {
      const all: T[] = [];
      let next: string | undefined = route;
      while (next) {
        const res: GitHubResponse<T[]> = await request<T[]>('GET', next);
        all.push(...res.data);
        next = /<([^>]+)>;\s*rel="next"/.exec(header(res.headers, 'link') ?? '')?.[1];
      }
      return all;
    },
    async graphql<T>(query: string, variables: Record<string, unknown>): Promise<T> {
      const res = await request<{ data?: T; errors?: { message?: string }[] }>('POST', graphqlUrl(base), { body: { query, variables } });
      if (res.data.errors?.length) throw new GitHubHttpError(res.data.errors.map((e) => e.message).join('; '), 200, res.headers);
      return res.data.data as T;
    },
  };
}
