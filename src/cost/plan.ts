import type { Deployment, Spec } from '../spec/types';
import type { PlanPart } from '../plan/types';

export interface CostPlanOptions {
  environmentName?: string;
  hoursPerMonth?: number;
}

/** The cost estimate as markdown and JSON (issue: estimate-cost). */
export async function planCost(_spec: Spec, deployments: Deployment[], _options: CostPlanOptions): Promise<PlanPart> {
  return { files: [], summary: [`cost of ${deployments.length} deployment(s) not estimated yet`] };
}
