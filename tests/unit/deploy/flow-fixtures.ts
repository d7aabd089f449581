/** Shared fixtures of the deploy-flow unit tests: the bundled example spec, selections, renderers. */
import { Target, targetNames } from '../../../src/config/select';
import { regionSummary } from '../../../src/actions/deploy-endpoint';
import type { RegionResult } from '../../../src/deploy/flow';
import type { memoryReporter } from '../../../src/core/log';
import { renderStack, stackParameters } from '../../../src/deploy/render';
import type { RenderedStack, RenderStackInput } from '../../../src/deploy/types';
import type { StackEvent } from '@aws-sdk/client-cloudformation';

export { exampleSpec, exampleTarget as selection } from '../../support/target';
export { fakeClock } from '../../support/clock';

/** The job summary as deploy-endpoint leaves it: what the deploy wrote while it ran, then the action's table of each region. */
export function jobSummary(reporter: ReturnType<typeof memoryReporter>, target: Target, results: RegionResult[]): string {
  return [...reporter.captured.summaries, ...results.map((r) => regionSummary(target, r))].join('\n');
}

/** A render input as the deploy builds it: the names are the target's (config/select.ts targetNames). */
export function withNames(input: Omit<RenderStackInput, 'names'>): RenderStackInput {
  return { ...input, names: targetNames(input.deployment, input.environmentName) };
}

/** renderStack and stackParameters called with the target's names. */
export const render = (input: Omit<RenderStackInput, 'names'>) => renderStack(withNames(input));
export const renderParameters = (input: Omit<RenderStackInput, 'names'>) => stackParameters(withNames(input));

/** Stands in for renderStack: a small (or, with padTo, large) template, recording its inputs. */
export function fakeRender(calls: RenderStackInput[] = [], padTo = 0) {
  return (input: RenderStackInput): RenderedStack => {
    calls.push(input);
    const template = { Resources: { Endpoint: { Type: 'AWS::SageMaker::Endpoint' } }, Metadata: { pad: 'x'.repeat(padTo) } };
    return {
      stackName: input.names.stack,
      templateFile: `templates/stacks/${input.deployment.target}.yaml`,
      template,
      templateBody: JSON.stringify(template),
      parameters: [{ ParameterKey: 'InstanceType', ParameterValue: input.deployment.instanceType }],
      capabilities: ['CAPABILITY_IAM'],
      tags: [{ Key: 'model-deploy:deployment', Value: input.deployment.name }],
      terminationProtection: input.environmentName === 'prod',
      endpointName: input.names.endpoint,
    };
  };
}

let seq = 0;
export function event(stackId: string, stackName: string, token: string, fields: Partial<StackEvent>): StackEvent {
  seq++;
  return {
    StackId: stackId,
    StackName: stackName,
    EventId: `ev-${seq}`,
    ClientRequestToken: token,
    Timestamp: new Date(Date.UTC(2025, 0, 1, 12, 0, seq % 60)),
    LogicalResourceId: stackName,
    PhysicalResourceId: stackId,
    ResourceType: 'AWS::CloudFormation::Stack',
    ResourceStatus: 'UPDATE_IN_PROGRESS',
    ...fields,
  };
}
