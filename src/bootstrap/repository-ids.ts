/**
 * GitHub's numeric ids of a repository and its owner, which the default OIDC subject of the bootstrap's
 * trust policies names (SubjectForm immutable-ids): GET /repos/OWNER/REPO answers `id` and `owner.id`
 * (REST "Get a repository"). A public repository needs no token; a private one GH_TOKEN or GITHUB_TOKEN.
 */
import { DeployError, errorMessage } from '../core/errors';
import { gitHubApi } from '../core/github';

export interface RepositoryIds {
  ownerId: string;
  id: string;
}

export async function lookUpRepositoryIds(repository: string, env: NodeJS.ProcessEnv = process.env): Promise<RepositoryIds> {
  const token = env.GH_TOKEN || env.GITHUB_TOKEN || '';
  const hint =
    `Pass them: --parameter RepositoryOwnerId=ID --parameter RepositoryId=ID (gh api repos/${repository} --jq '[.owner.id, .id]'); ` +
    `a private repository needs GH_TOKEN; or --parameter SubjectForm=repository-name for the older subject without ids.`;
  let data: { id?: unknown; owner?: { id?: unknown } };
  try {
    const api = await gitHubApi(token, env.GITHUB_API_URL || 'https://api.github.com', { attempts: 2 });
    data = (await api.request<typeof data>('GET', `/repos/${repository}`)).data;
  } catch (err) {
    const status = (err as { status?: number }).status;
    const why = status === 404 ? `GitHub answers 404 (no such repository${token ? '' : ', or a private one: no GH_TOKEN was set'})` : errorMessage(err);
    throw new DeployError(`could not read the ids of ${repository} from GitHub: ${why}`, { title: 'Repository ids', hint });
  }
  const ownerId = data?.owner?.id;
  const id = data?.id;
  if (!Number.isInteger(ownerId) || !Number.isInteger(id)) throw new DeployError(`GitHub's answer for ${repository} has no numeric id and owner.id`, { title: 'Repository ids', hint });
  return { ownerId: String(ownerId), id: String(id) };
}
