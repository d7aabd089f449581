/** From an action's common inputs (config, deployment, environment, region) to what it works on. */
import * as path from 'path';
import type { ActionContext } from '../core/action';
import { DeployError } from '../core/errors';
import { loadSpec, regionsFor, selectDeployment, selectEnvironment } from './load';
import type { Deployment, EnvironmentSpec, Spec } from './types';

export interface Selection {
  spec: Spec;
  deployment: Deployment;
  environmentName?: string;
  environment?: EnvironmentSpec;
  regions: string[];
}

export function specPath(ctx: Pick<ActionContext, 'inputs' | 'workspace'>, input = 'config'): { file: string; display: string } {
  const display = ctx.inputs.string(input);
  return { file: path.resolve(ctx.workspace, display), display };
}

export function selectFromInputs(ctx: Pick<ActionContext, 'inputs' | 'workspace'>, environmentInput = 'environment'): Selection {
  const { file, display } = specPath(ctx);
  const spec = loadSpec(file, { displayPath: display });
  const deployment = selectDeployment(spec, ctx.inputs.optional('deployment'));
  const environmentName = ctx.inputs.definition.inputs[environmentInput] ? ctx.inputs.optional(environmentInput) : undefined;
  const environment = environmentName ? selectEnvironment(spec, environmentName, environmentInput) : undefined;
  const all = regionsFor(deployment, environment);
  const region = ctx.inputs.definition.inputs.region ? ctx.inputs.optional('region') : undefined;
  if (region && !all.includes(region)) {
    throw new DeployError(`input \`region\` is "${region}", which deployment ${deployment.name} does not use${environmentName ? ` in ${environmentName}` : ''}`, {
      title: 'Invalid input',
      hint: `Its regions: ${all.join(', ')}. Add the region to the spec first.`,
    });
  }
  return { spec, deployment, environmentName, environment, regions: region ? [region] : all };
}
