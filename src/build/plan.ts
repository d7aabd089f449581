import type { Deployment } from '../spec/types';
import type { PlanPart } from '../plan/types';

/** Rendered buildspec and Dockerfile of a deployment (issue: build-model). */
export function planBuild(d: Deployment): PlanPart {
  return { files: [], summary: [`${d.name}: build plan not rendered yet`] };
}
