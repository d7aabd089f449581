/**
 * Quota at the autoscaling maximum, before merge (issue 22.5): where the pull request's job holds a
 * read-only AWS identity (the bootstrap's plan role, same-repository pull requests), the estimate
 * reads the applied Service Quotas and shows each one's headroom at every deployment's maximum. A
 * pull request from a fork holds no identity: it says the quotas were not checked.
 */
import type { EnvInputs } from '../core/env';
import type { Reporter } from '../core/log';
import { regionsFor } from '../config/regions';
import type { Deployment, EnvironmentSpec } from '../config/types';
import { headroomLine, quotaHeadroom } from '../deploy/quotas';

/** A pull_request event whose head is another repository's (a fork). */
export function isForkPullRequest(env: EnvInputs): boolean {
  const event = env.event() as { pull_request?: { head?: { repo?: { full_name?: string; fork?: boolean } | null } } };
  const head = event.pull_request?.head;
  if (!head) return false;
  return head.repo?.full_name !== env.repository;
}

export const FORK_NOT_CHECKED = 'Quotas at the autoscaling maximum: not checked (a pull request from a fork holds no AWS identity).';

/** The estimate's quota lines (none unless asked for); a shortfall is also a warning. */
export async function quotaNotes(check: boolean | undefined, env: EnvInputs, reporter: Reporter, deployments: Deployment[], environment: EnvironmentSpec | undefined): Promise<string[]> {
  if (!check) return [];
  if (isForkPullRequest(env)) return [FORK_NOT_CHECKED];
  const rows = await quotaHeadroom({ placed: deployments.map((deployment) => ({ deployment, regions: regionsFor(deployment, environment) })) });
  return rows.map((row) => {
    const line = headroomLine(row);
    if (row.value !== undefined && row.value < row.need) reporter.warning(line, undefined, 'Quota short at the autoscaling maximum');
    return line;
  });
}
