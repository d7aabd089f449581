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

/** Output names an endpoint's URL has had: every template's EndpointUrl first. */
const URL_OUTPUTS = ['EndpointUrl', 'EndpointURL', 'ServiceUrl', 'LoadBalancerUrl', 'Url', 'URL'];
const isHttpUrl = (value: string | undefined): value is string => Boolean(value && /^https?:\/\//.test(value));

/** The endpoint's URL among a stack's outputs: a known name, else any `*Url` output, holding an http(s) URL. */
export function endpointUrlOutput(outputs: Record<string, string>): string | undefined {
  return URL_OUTPUTS.map((k) => outputs[k]).find(isHttpUrl) ?? Object.entries(outputs).find(([k, v]) => /Url$/i.test(k) && isHttpUrl(v))?.[1];
}

/** The endpoint's (SageMaker) or service's (ECS) name among a stack's outputs. */
export function endpointNameOutput(outputs: Record<string, string>): string | undefined {
  return outputs.EndpointName || outputs.ServiceName || undefined;
}
