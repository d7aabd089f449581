/** What a deployed stack tells the caller: its outputs, and the endpoint's name, ARN and URL from them. */
import { dnsSuffix, partitionOf } from '../core/aws';
import { endpointNameOutput, endpointUrlOutput } from '../core/stack';
import type { RegionContext, RegionResult } from './region';

function pickOutput(outputs: Record<string, string>, exact: string[], suffix: RegExp, valueTest?: RegExp): string | undefined {
  for (const key of exact) if (outputs[key]) return outputs[key];
  const found = Object.entries(outputs).find(([k, v]) => suffix.test(k) && (!valueTest || valueTest.test(v)));
  return found?.[1];
}

export function endpointFacts(ctx: RegionContext, fallbackName: string, outputs: Record<string, string>): Pick<RegionResult, 'endpointName' | 'endpointArn' | 'endpointUrl'> {
  const d = ctx.target.deployment;
  const endpointName = endpointNameOutput(outputs) || fallbackName;
  let endpointUrl = endpointUrlOutput(outputs);
  if (!endpointUrl && d.target.startsWith('sagemaker')) {
    endpointUrl = `https://runtime.sagemaker.${ctx.region}.${dnsSuffix(ctx.region)}/endpoints/${endpointName}/${d.target === 'sagemaker-async' ? 'async-invocations' : 'invocations'}`;
  }
  let endpointArn = pickOutput(outputs, ['EndpointArn', 'ServiceArn', 'LoadBalancerArn'], /Arn$/, /^arn:/);
  if (!endpointArn && d.target.startsWith('sagemaker')) {
    endpointArn = `arn:${partitionOf(ctx.region)}:sagemaker:${ctx.region}:${ctx.account}:endpoint/${endpointName.toLowerCase()}`;
  }
  return { endpointName, endpointArn, endpointUrl };
}
