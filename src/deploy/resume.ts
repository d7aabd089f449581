/**
 * mode: resume (#23.7): pick up a stack operation this action did not wait for (wait: false, or a job that
 * ended early) and apply the same waits and checks as a deploy that waited: its events to the end, the
 * start-up logs, the deadline (timeout-minutes), then what runs (endpoint config, ECS rollout, target
 * health) and the smoke test. Nothing is created or executed.
 */
import { type CloudFormationClient, DescribeStackEventsCommand } from '@aws-sdk/client-cloudformation';
import { DeployError, explainAwsError } from '../core/errors';
import { describeStack } from '../core/stack';
import { wantsTerminationProtection } from '../config/production';
import { isStackEvent } from './events';
import { followAndVerify } from './execute';
import type { RegionContext, RegionResult } from './region';

export async function resumeRegion(ctx: RegionContext, base: RegionResult): Promise<RegionResult> {
  const { cfn, region, target } = ctx;
  const stack = await describeStack(cfn, base.stackName);
  const status = stack?.StackStatus;
  if (!stack?.StackId || !status) {
    throw new DeployError(`There is no stack ${base.stackName} in ${region} to resume.`, {
      title: 'Nothing to resume',
      hint: 'Deploy it first (mode: create-and-execute; with wait: false, then mode: resume).',
    });
  }
  if (status === 'REVIEW_IN_PROGRESS') {
    throw new DeployError(`Stack ${base.stackName} in ${region} has a change set that was never executed (REVIEW_IN_PROGRESS): there is no operation to follow.`, {
      title: 'Nothing to resume',
      hint: 'Execute it with mode: execute-only (change-set-name), or deploy with mode: create-and-execute.',
    });
  }
  if (status.startsWith('DELETE_')) {
    throw new DeployError(`Stack ${base.stackName} in ${region} is ${status}: a delete is not a deploy to resume.`, {
      title: 'Nothing to resume',
      hint: 'Deploy it again with mode: create-and-execute once the delete has ended.',
    });
  }
  const token = await latestOperationToken(ctx.cfn, stack.StackId);
  ctx.run.reporter.info(`Resuming: ${base.stackName} (${region}) is ${status}; following its latest operation to the end.`);
  // A first create that failed rolls back as ROLLBACK_*; every other operation is an update.
  const type = /^(CREATE|ROLLBACK)_/.test(status) ? 'CREATE' : 'UPDATE';
  const protection = wantsTerminationProtection(target.environmentName, target.environment);
  return followAndVerify(ctx, { ...base, stackId: stack.StackId, changeSetId: stack.ChangeSetId }, { stackId: stack.StackId, token, type, label: 'resume' }, protection);
}

/** The ClientRequestToken of the stack's latest operation, from its own newest event (absent: a console change). */
export async function latestOperationToken(cfn: CloudFormationClient, stackId: string): Promise<string | undefined> {
  try {
    const out = await cfn.send(new DescribeStackEventsCommand({ StackName: stackId }));
    return (out.StackEvents ?? []).find(isStackEvent)?.ClientRequestToken;
  } catch (err) {
    throw explainAwsError(err, `Reading the events of ${stackId}`);
  }
}
