/** What a container's environment is made of, for every target. */
import type { DeploymentDraft } from './types';

/** The container's environment: engine.env, then the deployment's env (it wins for the same name). */
export function containerEnvironment(d: Pick<DeploymentDraft, 'engine' | 'env'>): Record<string, string> {
  return { ...(d.engine?.env ?? {}), ...(d.env ?? {}) };
}
