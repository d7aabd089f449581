/**
 * The checks validate and plan share: will each deployment start (src/fit) and does its engine version have a
 * base image. Its own module, so `model-deploy validate` loads neither the cost nor the deploy domain.
 */
import type { Deployment, Spec } from '../config/types';
import { DeployError, throwIfAny } from '../core/errors';
import { checkDeployments, checkErrors, checkLines, DeploymentCheck } from '../fit/check';
import { resolveEngine } from '../image/engines';

/** A built engine's version must have a Deep Learning Container (said at engine.version). */
function engineErrors(spec: Spec, deployments: Deployment[]): DeployError[] {
  return deployments.flatMap((d) => {
    const region = d.regions[0];
    if (d.model.image || !d.engine || !region) return [];
    try {
      resolveEngine(d, region, spec.locate(['deployments', d.name, 'engine', 'version']));
      return [];
    } catch (err) {
      if (err instanceof DeployError) return [err];
      throw err;
    }
  });
}

/**
 * What would fail after the merge (the model does not fit its instance, an engine version without a
 * base image), refused at its spec line before anything is written; warnings and notes come back
 * with each deployment's check. validate and plan both run it.
 */
export async function checkSpec(spec: Spec, deployments: Deployment[] = Object.values(spec.deployments)): Promise<{ checks: DeploymentCheck[]; lines: string[] }> {
  const checks = await checkDeployments(spec, deployments);
  throwIfAny([...checkErrors(checks), ...engineErrors(spec, deployments)]);
  return { checks, lines: [...checks.map((c) => c.summary), ...checkLines(checks)] };
}
