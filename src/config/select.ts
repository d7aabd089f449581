/**
 * From an action's common inputs (config, deployment, environment, region) to what it works on:
 * the spec, the deployment, its environment and regions, and every resource name, resolved once.
 */
import * as path from 'path';
import { DeployError } from '../core/errors';
import { loadSpec, regionsFor, selectDeployment, selectEnvironment } from './load';
import { apiKeySecretName, buildStackName, endpointName, repositoryName, stackName } from './names';
import type { Deployment, EnvironmentSpec, Spec } from './types';

/** The names every action must agree on, computed from the spec in one place (./names). */
export interface TargetNames {
  stack: string;
  buildStack: string;
  repository: string;
  endpoint: string;
  apiKeySecret: string;
}

export interface Target {
  spec: Spec;
  /** Absolute path of the spec file, and its directory (custom Dockerfiles are relative to it). */
  specFile: string;
  specDir: string;
  deployment: Deployment;
  environmentName?: string;
  environment?: EnvironmentSpec;
  regions: string[];
  names: TargetNames;
}

export interface TargetInputs {
  config: string;
  deployment?: string;
  environment?: string;
  region?: string;
}

export function targetNames(d: Deployment, environmentName?: string): TargetNames {
  return {
    stack: stackName(d, environmentName),
    buildStack: buildStackName(d),
    repository: repositoryName(d),
    endpoint: endpointName(d, environmentName),
    apiKeySecret: apiKeySecretName(d, environmentName),
  };
}

/** Loads the spec named by `inputs.config` (relative to the workspace) and selects what the inputs name. */
export function resolveTarget(inputs: TargetInputs, workspace: string, environmentInput = 'environment'): Target {
  const specFile = path.resolve(workspace, inputs.config);
  const spec = loadSpec(specFile, { displayPath: inputs.config });
  const deployment = selectDeployment(spec, inputs.deployment);
  const environmentName = inputs.environment;
  const environment = environmentName ? selectEnvironment(spec, environmentName, environmentInput) : undefined;
  const all = regionsFor(deployment, environment);
  const region = inputs.region;
  if (region && !all.includes(region)) {
    throw new DeployError(`input \`region\` is "${region}", which deployment ${deployment.name} does not use${environmentName ? ` in ${environmentName}` : ''}`, {
      title: 'Invalid input',
      hint: `Its regions: ${all.join(', ')}. Add the region to the spec first.`,
    });
  }
  return {
    spec,
    specFile,
    specDir: path.dirname(specFile),
    deployment,
    environmentName,
    environment,
    regions: region ? [region] : all,
    names: targetNames(deployment, environmentName),
  };
}
