/**
 * The GitHub REST client: @actions/github's getOctokit (Octokit core + REST endpoint methods +
 * pagination). Its fetch goes through @actions/http-client's proxy dispatcher, so HTTPS_PROXY,
 * HTTP_PROXY and NO_PROXY (either case) apply as on the runner; Node's own fetch ignores them.
 *
 * @actions/github decides proxy or direct once, when it is loaded, for GITHUB_API_URL (the runner's
 * API), which is where every call here goes: callers pass that same URL as baseUrl.
 */
import { getOctokit } from '@actions/github';
import { PROJECT, VERSION } from './version';

export type GitHubClient = ReturnType<typeof getOctokit>;

export function githubClient(token: string, baseUrl = process.env.GITHUB_API_URL || 'https://api.github.com'): GitHubClient {
  return getOctokit(token, { baseUrl: baseUrl.replace(/\/$/, ''), userAgent: `${PROJECT}/${VERSION}` });
}
