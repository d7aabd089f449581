/** Shared fixtures of the deploy-flow unit tests: the bundled example spec, selections, a fake renderer. */
import { endpointName, stackName } from '../../../src/config/names';
import type { RenderedStack, RenderStackInput } from '../../../src/deploy/types';
import type { StackEvent } from '@aws-sdk/client-cloudformation';

export { exampleSpec, exampleTarget as selection } from '../../support/target';
export { fakeClock } from '../../support/clock';

/** Stands in for renderStack: a small (or, with padTo, large) template, recording its inputs. */
export function fakeRender(calls: RenderStackInput[] = [], padTo = 0) {
  return (input: RenderStackInput): RenderedStack => {
    calls.push(input);
    const template = { Resources: { Endpoint: { Type: 'AWS::SageMaker::Endpoint' } }, Metadata: { pad: 'x'.repeat(padTo) } };
    return {
      stackName: stackName(input.deployment, input.environmentName),
      templateFile: `templates/stacks/${input.deployment.target}.yaml`,
      template,
      templateBody: JSON.stringify(template),
      parameters: [{ ParameterKey: 'InstanceType', ParameterValue: input.deployment.instanceType }],
      capabilities: ['CAPABILITY_IAM'],
      tags: [{ Key: 'model-deploy:deployment', Value: input.deployment.name }],
      terminationProtection: input.environmentName === 'prod',
      endpointName: endpointName(input.deployment, input.environmentName),
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
