/**
 * The GitHub REST client: the same Octokit that @actions/github's getOctokit builds (core + REST
 * endpoint methods + pagination), on Node's own fetch. getOctokit wraps fetch in undici for proxy
 * support, and undici (twice, with @actions/core's copy) was 1.6 MB of every bundle. Self-hosted
 * runners behind a proxy set HTTPS_PROXY for Node itself instead.
 */
import { Octokit } from '@octokit/core';
import { paginateRest } from '@octokit/plugin-paginate-rest';
import { restEndpointMethods } from '@octokit/plugin-rest-endpoint-methods';
import { PROJECT, VERSION } from './version';

const GitHub = Octokit.plugin(restEndpointMethods, paginateRest);
export type GitHubClient = InstanceType<typeof GitHub>;

export function githubClient(token: string, baseUrl = process.env.GITHUB_API_URL || 'https://api.github.com'): GitHubClient {
  return new GitHub({ auth: token, baseUrl: baseUrl.replace(/\/$/, ''), userAgent: `${PROJECT}/${VERSION}` });
}
