/**
 * One CloudFormation stack, read: the one place that calls DescribeStacks and knows how
 * CloudFormation says "no such stack" (a ValidationError "... does not exist", or a stack that is
 * DELETE_COMPLETE when asked by id).
 */
import type { CloudFormationClient, Stack } from '@aws-sdk/client-cloudformation';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { explainAwsError, isNotFound } from './errors';

/** DescribeStacks for one stack (name or id); undefined when it does not exist. */
export async function describeStack(cfn: CloudFormationClient, stackName: string): Promise<Stack | undefined> {
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = out.Stacks?.[0];
    return stack && stack.StackStatus !== 'DELETE_COMPLETE' ? stack : undefined;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw explainAwsError(err, `Reading stack ${stackName}`);
  }
}

/** A stack's outputs as a record (OutputKey -> OutputValue). */
export function stackOutputs(stack: Stack | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of stack?.Outputs ?? []) if (o.OutputKey) out[o.OutputKey] = o.OutputValue ?? '';
  return out;
}
