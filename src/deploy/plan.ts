import type { Deployment, EnvironmentSpec, Spec } from '../spec/types';
import type { PlanPart } from '../plan/types';

export interface StackPlanContext {
  spec: Spec;
  region: string;
  environmentName?: string;
  environment?: EnvironmentSpec;
}

/** Rendered CloudFormation template and parameters of a deployment in one region (issue: deploy-endpoint). */
export function planStack(d: Deployment, ctx: StackPlanContext): PlanPart {
  return { files: [], summary: [`${d.name} (${ctx.region}): stack plan not rendered yet`] };
}
