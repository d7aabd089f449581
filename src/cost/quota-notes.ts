/**
 * Quota at the autoscaling maximum, before merge (issue 22.5): where the pull request's job holds a
 * read-only AWS identity (the bootstrap's plan role, same-repository pull requests), the estimate
 * reads the applied Service Quotas and shows each one's headroom at every deployment's maximum, and
 * looks up each environment's subnets and security groups in the regions deployed (their ids carry no
 * region: src/deploy/network.ts). A pull request from a fork holds no identity: it says neither was checked.
 */
import type { EnvInputs } from '../core/env';
import type { Reporter } from '../core/log';
import { regionsFor } from '../config/regions';
import type { Deployment, EnvironmentSpec } from '../config/types';
import { headroomLine, quotaHeadroom } from '../deploy/quotas';
import { checkNetwork } from '../deploy/network';
import { errorMessage } from '../core/errors';

/** A pull_request event whose head is another repository's (a fork). */
export function isForkPullRequest(env: EnvInputs): boolean {
  const event = env.event() as { pull_request?: { head?: { repo?: { full_name?: string; fork?: boolean } | null } } };
  const head = event.pull_request?.head;
  if (!head) return false;
  return head.repo?.full_name !== env.repository;
}

export const FORK_NOT_CHECKED = 'Quotas at the autoscaling maximum, subnets and security groups: not checked (a pull request from a fork holds no AWS identity).';

/** The estimate's quota and network lines (none unless asked for); a shortfall or a missing subnet is also a warning. */
export async function quotaNotes(check: boolean | undefined, env: EnvInputs, reporter: Reporter, deployments: Deployment[], environment: EnvironmentSpec | undefined, environmentName?: string): Promise<string[]> {
  if (!check) return [];
  if (isForkPullRequest(env)) return [FORK_NOT_CHECKED];
  const rows = await quotaHeadroom({ placed: deployments.map((deployment) => ({ deployment, regions: regionsFor(deployment, environment) })) });
  const quotas = rows.map((row) => {
    const line = headroomLine(row);
    if (row.value !== undefined && row.value < row.need) reporter.warning(line, undefined, 'Quota short at the autoscaling maximum');
    return line;
  });
  return [...quotas, ...(await networkNotes(reporter, deployments, environment, environmentName))];
}

/** Each deployment's VPC in each region, as the plan role sees it: what deploy-endpoint's preflight would refuse, said before the merge. */
async function networkNotes(reporter: Reporter, deployments: Deployment[], environment: EnvironmentSpec | undefined, environmentName: string | undefined): Promise<string[]> {
  const lines: string[] = [];
  for (const d of deployments) {
    for (const region of regionsFor(d, environment)) {
      try {
        const c = await checkNetwork({ deployment: d, environmentName, region, account: environment?.account });
        if (c.notChecked) lines.push(`Network of ${d.name}: ${c.notChecked}.`);
        else if (c.checked && c.problems.length === 0) lines.push(`Network: ${c.checked}.`);
        for (const p of c.problems) {
          const line = `Network of ${d.name} in ${region}: ${p.message}. ${p.hint}`;
          reporter.warning(line, d.source, 'Network not found');
          lines.push(line);
        }
        lines.push(...c.warnings.map((w) => `Network of ${d.name} in ${region}: ${w}`));
      } catch (err) {
        // Never a blocked estimate: what could not be read is said.
        lines.push(`Network of ${d.name} in ${region}: not checked (${errorMessage(err)}).`);
      }
    }
  }
  return lines;
}
