/**
 * GitHub deployments: the environment page shows what is deployed, where (environment_url = the
 * endpoint URL) and from which run. Reporting to GitHub never fails a deploy: problems become warnings.
 */
import { errorMessage } from '../core/errors';
import type { EnvInputs } from '../core/env';
import type { Reporter } from '../core/log';
import { githubClient } from '../core/github';

export type DeploymentState = 'in_progress' | 'success' | 'failure' | 'error' | 'inactive';

export interface GitHubDeployment {
  id: number;
  update(state: DeploymentState, details?: { environmentUrl?: string; description?: string }): Promise<void>;
}

export interface StartDeploymentOptions {
  token?: string;
  env: EnvInputs;
  /** GitHub environment name (the spec environment, with the region when there are several). */
  environment: string;
  description: string;
  production: boolean;
  reporter: Reporter;
}

export async function startGitHubDeployment(options: StartDeploymentOptions): Promise<GitHubDeployment | undefined> {
  const { env, reporter } = options;
  const repository = env.repository;
  const ref = env.sha;
  if (!options.token || !repository || !ref) {
    reporter.notice(`No GitHub deployment recorded: ${!options.token ? 'no github-token' : !repository ? 'GITHUB_REPOSITORY is not set' : 'GITHUB_SHA is not set'}.`, 'GitHub deployment skipped');
    return undefined;
  }
  const [owner, repo] = repository.split('/');
  if (!owner || !repo) {
    reporter.notice(`No GitHub deployment recorded: GITHUB_REPOSITORY ${repository} is not owner/name.`, 'GitHub deployment skipped');
    return undefined;
  }
  // Loaded here: only a deploy that reports to GitHub pays for Octokit.
  const octokit = await githubClient(options.token, env.apiUrl);
  let id: number;
  try {
    const res = await octokit.rest.repos.createDeployment({
      owner,
      repo,
      ref,
      environment: options.environment,
      description: options.description.slice(0, 140),
      auto_merge: false,
      required_contexts: [],
      transient_environment: false,
      production_environment: options.production,
    });
    const data = res.data as { id?: number; message?: string };
    if (typeof data.id !== 'number') {
      reporter.warning(`GitHub did not create a deployment: ${data.message ?? `status ${res.status}`}`, undefined, 'GitHub deployment skipped');
      return undefined;
    }
    id = data.id;
  } catch (err) {
    reporter.warning(`Could not create a GitHub deployment for ${options.environment}: ${errorMessage(err)}. Give the job \`permissions: deployments: write\`.`, undefined, 'GitHub deployment skipped');
    return undefined;
  }
  const logUrl = env.runUrl;
  const deployment: GitHubDeployment = {
    id,
    async update(state, details = {}) {
      try {
        await octokit.rest.repos.createDeploymentStatus({
          owner,
          repo,
          deployment_id: id,
          state,
          environment: options.environment,
          ...(logUrl ? { log_url: logUrl } : {}),
          ...(details.environmentUrl ? { environment_url: details.environmentUrl } : {}),
          ...(details.description ? { description: details.description.slice(0, 140) } : {}),
          auto_inactive: state === 'success',
        });
      } catch (err) {
        reporter.warning(`Could not set GitHub deployment ${id} to ${state}: ${errorMessage(err)}`, undefined, 'GitHub deployment status');
      }
    },
  };
  await deployment.update('in_progress', { description: options.description });
  return deployment;
}
