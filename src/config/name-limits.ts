/**
 * Names derived from the spec that AWS limits more than the schema can say: PROJECT.ENV.ROLE must fit
 * IAM's 64 characters, and generated endpoint names are cut to SageMaker's 63, where two deployments
 * could end up with the same endpoint.
 */
import { DeployError } from '../core/errors';
import { BOOTSTRAP_NAME_SUFFIXES, IAM_ROLE_NAME_MAX, endpointName, serviceRoleName } from './names';
import type { DeploymentDraft, EnvironmentSpec } from './types';
import type { ParsedYaml } from './yaml-positions';

const LONGEST_SUFFIX = BOOTSTRAP_NAME_SUFFIXES.reduce((a, b) => (b.length > a.length ? b : a));

export function nameLimitChecks(project: string, environments: Record<string, EnvironmentSpec>, deployments: DeploymentDraft[], yaml: ParsedYaml): DeployError[] {
  return [...roleNameChecks(project, environments, yaml), ...generatedEndpointChecks(environments, deployments, yaml)];
}

function roleNameChecks(project: string, environments: Record<string, EnvironmentSpec>, yaml: ParsedYaml): DeployError[] {
  const together = IAM_ROLE_NAME_MAX - LONGEST_SUFFIX.length - 2;
  return Object.keys(environments).flatMap((env) => {
    const name = serviceRoleName(project, env, LONGEST_SUFFIX as Parameters<typeof serviceRoleName>[2]);
    if (name.length <= IAM_ROLE_NAME_MAX) return [];
    return [
      new DeployError(`environments.${env}: the role name ${name} is ${name.length} characters; IAM allows ${IAM_ROLE_NAME_MAX}`, {
        location: yaml.locate(['environments', env], true),
        hint: `The bootstrap names each environment's roles PROJECT.ENVIRONMENT.ROLE: the project and environment names may have ${together} characters together (today ${project.length + env.length}). Shorten either.`,
        title: 'Invalid deployment spec',
      }),
    ];
  });
}

function generatedEndpointChecks(environments: Record<string, EnvironmentSpec>, deployments: DeploymentDraft[], yaml: ParsedYaml): DeployError[] {
  const errors: DeployError[] = [];
  // Deploys name an environment when the spec has any; without one the names carry none.
  const names = Object.keys(environments);
  for (const env of names.length > 0 ? names : [undefined]) {
    const owner = new Map<string, string>();
    for (const d of deployments) {
      const name = endpointName(d, env);
      const first = owner.get(name);
      if (first === undefined) {
        owner.set(name, d.name);
        continue;
      }
      if (d.endpointName) continue; // two explicit names: the endpointName check says it at that line
      errors.push(
        new DeployError(`deployments.${d.name}: its endpoint name${env ? ` in environment ${env}` : ''}, cut to SageMaker's 63 characters, is ${name}, which deployment ${first} has too`, {
          location: yaml.locate(['deployments', d.name], true),
          hint: 'Set endpointName on one of them (letters, digits and dashes, up to 63 characters), or shorten the deployment names.',
          title: 'Invalid deployment spec',
        }),
      );
    }
  }
  return errors;
}
