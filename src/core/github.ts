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
import { proxyConfigured, proxyFor } from './proxy';
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
