/**
 * From an action's common inputs (config, deployment, environment, region) to what it works on:
 * the spec, the deployment, its environment and regions, and every resource name, resolved once.
 * resolveTarget reads the spec file; targetOf does the same from a spec already parsed.
 */
import { isAccountId } from '../core/arn';
import * as path from 'path';
import { DeployError } from '../core/errors';
import { didYouMean } from './suggest';
import { loadSpec } from './load';
import { apiKeySecretName, buildStackName, endpointName, repositoryName, stackName } from './names';
import { regionsFor } from './regions';
import type { Deployment, EnvironmentSpec, Spec } from './types';

/** The deployment an action works on: by name, or the only one when the spec has one. */
export function selectDeployment(spec: Spec, name: string | undefined, inputName = 'deployment'): Deployment {
  const names = Object.keys(spec.deployments);
  if (!name) {
    const [only, ...others] = Object.values(spec.deployments);
    if (only && others.length === 0) return only;
    throw new DeployError(`${spec.file} has ${names.length} deployments; say which one with the \`${inputName}\` input`, {
      location: { file: spec.file },
      hint: `Valid names: ${names.join(', ')}.`,
      title: 'Which deployment?',
    });
  }
  const d = spec.deployments[name];
  if (!d && spec.bedrockDeployments[name]) {
    // Kept apart by the loader: only promote-model acts on a Bedrock custom model.
    throw new DeployError(`deployment "${name}" (input \`${inputName}\`) is target: bedrock: there is no image to build, stack to deploy or endpoint to call; promote-model copies its model and buys its throughput`, {
      location: spec.locate(['deployments', name]),
      hint: names.length ? `Deployments this action works on: ${names.join(', ')}.` : `${spec.file} has no deployment this action works on.`,
      title: 'Bedrock deployment',
    });
  }
  if (!d) {
    throw new DeployError(`unknown deployment "${name}" (input \`${inputName}\`)`, {
      location: spec.locate(['deployments']),
      hint: `${didYouMean(name, names)} Deployments in ${spec.file}: ${names.join(', ')}.`.trim(),
      title: 'Unknown deployment',
    });
  }
  return d;
}

/** The named environment, with a suggestion when the name is wrong. */
export function selectEnvironment(spec: Spec, name: string, inputName = 'environment'): EnvironmentSpec {
  const env = spec.environments[name];
  if (env) return env;
  const names = Object.keys(spec.environments);
  // An account id where an environment's name belongs: point at the environment with that account.
  if (isAccountId(name)) {
    const match = Object.entries(spec.environments).find(([, e]) => e.account === name);
    const listed = Object.entries(spec.environments).map(([n, e]) => `${n} (${e.account})`).join(', ') || 'none';
    throw new DeployError(`input \`${inputName}\` is the account ${name}; it names an environment of the spec${match ? `, and ${name} is environment "${match[0]}"` : `, and account ${name} is not in the spec`}`, {
      location: spec.locate(['environments']),
      title: match ? 'Environment expected' : 'Account not in the spec',
      hint: match ? `Use \`${inputName}: ${match[0]}\`.` : `Add the account under environments: in ${spec.file}. Environments: ${listed}.`,
    });
  }
  throw new DeployError(`unknown environment "${name}" (input \`${inputName}\`)`, {
    location: spec.locate(['environments']),
    hint: names.length ? `${didYouMean(name, names)} Environments in ${spec.file}: ${names.join(', ')}.` : `${spec.file} defines no environments; add an environments: section.`,
    title: 'Unknown environment',
  });
}

/** Regions a deployment serves in an environment (the environment may narrow them). */

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

/**
 * The Target the inputs name in a parsed spec (`specFile`: its absolute path). `environmentInput`
 * names the environment's input in messages: promotion resolves its target-environment.
 */
export function targetOf(spec: Spec, specFile: string, inputs: Omit<TargetInputs, 'config'>, environmentInput = 'environment'): Target {
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

/** Loads the spec named by `inputs.config` (relative to the workspace) and selects what the inputs name. */
export function resolveTarget(inputs: TargetInputs, workspace: string, environmentInput = 'environment'): Target {
  const specFile = path.resolve(workspace, inputs.config);
  return targetOf(loadSpec(specFile, { displayPath: inputs.config }), specFile, inputs, environmentInput);
}

/**
 * Refuses credentials of another account than the environment's (an environment without an account
 * accepts any): with another environment's role, resources would land in that account.
 */
export function checkEnvironmentAccount(account: string, environmentName: string | undefined, environment: EnvironmentSpec | undefined, locate: Spec['locate']): void {
  const expected = environment?.account;
  if (!expected || expected === account) return;
  const env = environmentName ?? '';
  throw new DeployError(`The AWS credentials are for account ${account}, but environment ${env} is account ${expected}.`, {
    title: 'Wrong AWS account',
    location: locate(['environments', env, 'account']),
    hint: `Assume the environment's role (${environment?.roleArn ?? `environments.${env}.roleArn`}) with configure-aws-credentials before this step.`,
  });
}
