import type { Deployment, EnvironmentSpec, Spec } from '../config/types';
import type { PlanPart } from '../core/plan-part';
import { targetNames } from '../config/select';
import { renderStack } from './render';

export interface StackPlanContext {
  spec: Spec;
  region: string;
  environmentName?: string;
  environment?: EnvironmentSpec;
}

/** Rendered CloudFormation template and parameters of a deployment in one region, offline. */
export function planStack(d: Deployment, ctx: StackPlanContext): PlanPart {
  const r = renderStack({ deployment: d, names: targetNames(d, ctx.environmentName), region: ctx.region, environmentName: ctx.environmentName, environment: ctx.environment });
  const resources = Object.keys((r.template.Resources as Record<string, unknown>) ?? {}).length;
  const summary = [
    `${d.name} (${ctx.region}): stack ${r.stackName} from ${r.templateFile}, ${resources} resources, endpoint ${r.endpointName}` +
      (r.terminationProtection ? ', termination protection on' : ''),
    ...(r.budget ? [`${d.name} (${ctx.region}): ${r.budget}`] : []),
    ...(r.notes ?? []).map((n) => `${d.name} (${ctx.region}): note: ${n}`),
  ];
  return {
    files: [
      { path: 'template.json', content: `${JSON.stringify(r.template, null, 2)}\n` },
      { path: 'parameters.json', content: `${JSON.stringify(r.parameters, null, 2)}\n` },
    ],
    summary,
  };
}
