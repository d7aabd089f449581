/**
 * Capacity fallback (issue 22.6): `instanceType` may be an ordered list of equivalent types. When AWS
 * has no capacity for one at deploy time, the next one is tried in a new change set. The stack is back
 * in a state a change set can start from: UPDATE_ROLLBACK_COMPLETE after an update, and
 * ROLLBACK_COMPLETE after a first create, which the deploy deletes and creates again.
 * How AWS reports it: EC2 RunInstances and Auto Scaling fail with InsufficientInstanceCapacity
 * ("We currently do not have sufficient <type> capacity ..."). A SageMaker endpoint fails with
 * "Unable to provision requested ML compute capacity. Please retry using a different ML instance type."
 */
import { errorMessage } from '../core/errors';
import { changeSetName } from './changeset';
import type { RegionContext, RegionResult } from './region';

const NO_CAPACITY = /InsufficientInstanceCapacity|InsufficientCapacity|Insufficient capacity|do not have sufficient [\w.]+ capacity|Unable to provision requested ML compute capacity/i;

/** True when a failed deploy says AWS had no capacity for the instance type (not a fault of the spec). */
export function isCapacityFailure(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (NO_CAPACITY.test(errorMessage(e))) return true;
    if (typeof e !== 'object') break;
  }
  return false;
}

/** The types to try, in order: the spec's list (instanceType alone is a list of one). */
export function instanceTypesOf(d: { instanceType: string; instanceTypes?: readonly string[] }): string[] {
  return d.instanceTypes?.length ? [...d.instanceTypes] : [d.instanceType];
}

/** A change set name per attempt: the first keeps its name, later ones add the type (letters, digits, dashes). */
export function attemptChangeSetName(base: string | undefined, instanceType: string, attempt: number): string | undefined {
  if (attempt === 0 || !base) return base;
  return `${base}-${instanceType.replace(/[^a-zA-Z0-9]+/g, '-')}`.slice(0, 128);
}

/**
 * Deploys one region with each type in turn while AWS reports no capacity; any other failure, or the
 * last type's, is thrown as it came. Each fallback is said as a warning and in the result's summary.
 */
export async function deployWithCapacityFallback(ctx: RegionContext, deploy: (ctx: RegionContext) => Promise<RegionResult>): Promise<RegionResult> {
  const d = ctx.target.deployment;
  const firstName = changeSetName(ctx.run.env.sha, ctx.request.changeSetName);
  const types = ctx.request.mode === 'create-and-execute' ? instanceTypesOf(d) : [d.instanceType];
  const failed: string[] = [];
  for (const [attempt, instanceType] of types.entries()) {
    const tryCtx: RegionContext = {
      ...ctx,
      target: { ...ctx.target, deployment: { ...d, instanceType } },
      request: { ...ctx.request, changeSetName: attemptChangeSetName(firstName, instanceType, attempt) },
    };
    try {
      const result = await deploy(tryCtx);
      if (failed.length === 0) return result;
      const note = `\n**Capacity fallback:** AWS had no capacity for ${failed.join(', ')} in ${ctx.region}; deployed on ${instanceType}.\n`;
      await ctx.run.reporter.summary(note);
      return { ...result, instanceType, changesMarkdown: result.changesMarkdown + note };
    } catch (err) {
      const next = types[attempt + 1];
      if (!next || !isCapacityFailure(err)) throw err;
      failed.push(instanceType);
      ctx.run.reporter.warning(`No capacity for ${instanceType} in ${ctx.region} (${errorMessage(err).split('\n')[0]}): trying ${next}, the next type of instanceType, in a new change set.`, d.source, 'Capacity fallback');
    }
  }
  throw new Error('unreachable: the last attempt returns or throws');
}
