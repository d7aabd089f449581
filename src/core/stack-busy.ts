/**
 * One rule for every action that changes a stack or the service it runs (deploy, destroy, rotate-key):
 * a stack CloudFormation is still changing (*_IN_PROGRESS: a deploy, a rollback that runs on after a
 * cancelled job, a delete) is not touched, so two operations never interleave.
 */
import type { Stack } from '@aws-sdk/client-cloudformation';
import { DeployError } from './errors';

/** A change set made on a new stack leaves it in review: nothing runs on it. */
export function isBusyStatus(status: string | undefined): boolean {
  return Boolean(status?.endsWith('_IN_PROGRESS')) && status !== 'REVIEW_IN_PROGRESS';
}

/** Throws when the stack is busy; `action` is what the user runs again afterwards (e.g. "this job", "destroy"). */
export function refuseBusyStack(stack: Stack | undefined, stackName: string, region: string, action: string): void {
  const status = stack?.StackStatus;
  if (!isBusyStatus(status)) return;
  const cli = (command: string, extra = '') => `aws cloudformation ${command} --stack-name ${stackName} --region ${region}${extra}`;
  const stop = status === 'UPDATE_IN_PROGRESS' ? `\nTo stop it and roll back: ${cli('cancel-update-stack')}` : '';
  throw new DeployError(`Stack ${stackName} is ${status}: another operation is running on it.`, {
    title: 'Stack busy',
    hint:
      `Nothing was changed: two operations on one stack must never interleave (another deployment, or the rollback of a cancelled one, is still running). Wait for it to finish (${cli('describe-stacks', ' --query "Stacks[0].StackStatus"')}) and run ${action} again.` +
      `${stop}\nA workflow \`concurrency:\` group per stack prevents this.`,
  });
}
