/**
 * The stack states users trip on, decided before anything changes: a stack that never existed or
 * failed its first create (ROLLBACK_COMPLETE: delete and create again), one that is busy (refuse, so
 * two deploys never interleave), one stuck in UPDATE_ROLLBACK_FAILED (refuse with the fixing command).
 */
import type { CloudFormationClient, Stack } from '@aws-sdk/client-cloudformation';
import { DeployError, explainAwsError } from '../core/errors';
import { refuseBusyStack } from '../core/stack-busy';
import type { Reporter } from '../core/log';
import { watchStack } from './events';
import { DeleteStackCommand, UpdateTerminationProtectionCommand } from '@aws-sdk/client-cloudformation';

export type ChangeSetType = 'CREATE' | 'UPDATE';

export interface StackPlan {
  changeSetType: ChangeSetType;
  /** The stack as it is now (absent when it does not exist). */
  stack?: Stack;
  /** ROLLBACK_COMPLETE: the failed first create must be deleted before the change set. */
  deleteFirst: boolean;
}

function cli(command: string, stackName: string, region: string, extra = ''): string {
  return `aws cloudformation ${command} --stack-name ${stackName} --region ${region}${extra}`;
}

/**
 * What to do with the stack, or a DeployError saying why we must not touch it. Read-only: the
 * delete a ROLLBACK_COMPLETE stack needs happens later (deleteFailedStack), after every check passed.
 */
export function assessStack(stack: Stack | undefined, stackName: string, region: string): StackPlan {
  if (!stack) return { changeSetType: 'CREATE', deleteFirst: false };
  const status = stack.StackStatus ?? '';
  // A change set made on a new stack (create-only) leaves it in review: it is still created with CREATE.
  if (status === 'REVIEW_IN_PROGRESS') return { changeSetType: 'CREATE', stack, deleteFirst: false };
  if (status === 'ROLLBACK_COMPLETE') return { changeSetType: 'CREATE', stack, deleteFirst: true };
  if (status === 'UPDATE_ROLLBACK_FAILED') {
    throw new DeployError(`Stack ${stackName} is in UPDATE_ROLLBACK_FAILED: a rollback could not finish, and CloudFormation accepts no update until it does.`, {
      title: 'Stack needs continue-update-rollback',
      hint:
        `Fix the resource named in the stack events (often a resource changed or deleted outside CloudFormation), then run\n` +
        `  ${cli('continue-update-rollback', stackName, region)}\n` +
        `(add --resources-to-skip LOGICAL_ID for a resource that cannot be rolled back), wait for UPDATE_ROLLBACK_COMPLETE and deploy again.`,
    });
  }
  if (status === 'ROLLBACK_FAILED' || status === 'DELETE_FAILED') {
    throw new DeployError(`Stack ${stackName} is in ${status}: it cannot be updated or recreated until it is deleted.`, {
      title: `Stack in ${status}`,
      hint:
        `Look at the failed resource in \`${cli('describe-stack-events', stackName, region)}\`, then delete the stack with\n` +
        `  ${cli('delete-stack', stackName, region, ' --deletion-mode FORCE_DELETE_STACK')}\n` +
        'and deploy again (FORCE_DELETE_STACK leaves the resources that failed to delete; remove them by hand).',
    });
  }
  refuseBusyStack(stack, stackName, region, 'this job');
  return { changeSetType: 'UPDATE', stack, deleteFirst: false };
}

export interface DeleteOptions {
  cfn: CloudFormationClient;
  stack: Stack;
  region: string;
  reporter: Reporter;
  deadline: number;
  signal?: AbortSignal;
  token: string;
}

/** Deletes a stack whose first create failed (ROLLBACK_COMPLETE), so it can be created again. */
export async function deleteFailedStack(options: DeleteOptions): Promise<void> {
  const { cfn, stack, reporter } = options;
  const name = stack.StackName!;
  if (stack.EnableTerminationProtection) {
    throw new DeployError(`Stack ${name} is in ROLLBACK_COMPLETE and termination protection stops us from deleting it to create it again.`, {
      title: 'Stack needs deleting',
      hint: `Run ${cli('update-termination-protection', name, options.region, ' --no-enable-termination-protection')} then deploy again.`,
    });
  }
  reporter.info(`Stack ${name} is in ROLLBACK_COMPLETE (its first create failed): deleting it to create it again.`);
  try {
    await cfn.send(new DeleteStackCommand({ StackName: stack.StackId ?? name, ClientRequestToken: options.token }));
  } catch (err) {
    throw explainAwsError(err, `Deleting stack ${name}`);
  }
  const result = await watchStack({
    cfn,
    stackId: stack.StackId ?? name,
    token: options.token,
    reporter,
    deadline: options.deadline,
    signal: options.signal,
    what: `stack ${name} to be deleted`,
  });
  if (result.status !== 'DELETE_COMPLETE') {
    const failure = result.firstFailure;
    throw new DeployError(`Could not delete stack ${name} (${result.status})${failure ? `: ${failure.LogicalResourceId} ${failure.ResourceStatusReason ?? ''}` : ''}.`, {
      title: 'Stack delete failed',
      hint: `Delete it by hand (${cli('delete-stack', name, options.region)}) and deploy again.`,
    });
  }
}

/** CloudFormation's way of saying a change set has nothing in it. */
export function isEmptyChangeSet(status: string | undefined, reason: string | undefined): boolean {
  return status === 'FAILED' && /didn't contain changes|No updates are to be performed|does not contain any changes/i.test(reason ?? '');
}

export async function ensureTerminationProtection(
  cfn: CloudFormationClient,
  stack: Stack,
  enabled: boolean,
  reporter: Reporter,
): Promise<void> {
  if (Boolean(stack.EnableTerminationProtection) === enabled) return;
  try {
    await cfn.send(new UpdateTerminationProtectionCommand({ StackName: stack.StackId ?? stack.StackName, EnableTerminationProtection: enabled }));
  } catch (err) {
    throw explainAwsError(err, `Setting termination protection on ${stack.StackName}`);
  }
  reporter.info(`Termination protection ${enabled ? 'enabled' : 'disabled'} on ${stack.StackName}.`);
}
