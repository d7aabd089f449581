/** Shared fixtures of the deploy-flow unit tests: the bundled example spec, selections, a fake renderer. */
import * as fs from 'fs';
import * as path from 'path';
import { parseSpec, regionsFor, selectDeployment, selectEnvironment } from '../../../src/config/load';
import { endpointName, stackName } from '../../../src/config/names';
import { Target, targetNames } from '../../../src/config/select';
import type { RenderedStack, RenderStackInput } from '../../../src/deploy/types';
import type { StackEvent } from '@aws-sdk/client-cloudformation';

const ROOT = path.resolve(__dirname, '..', '..', '..');

export function exampleSpec(mutate?: (text: string) => string) {
  const text = fs.readFileSync(path.join(ROOT, 'examples', 'model-deploy.yml'), 'utf8');
  return parseSpec(mutate ? mutate(text) : text, 'model-deploy.yml', path.join(ROOT, 'examples'));
}

export function selection(deployment: string, environmentName?: string, mutate?: (text: string) => string): Target {
  const spec = exampleSpec(mutate);
  const d = selectDeployment(spec, deployment);
  const environment = environmentName ? selectEnvironment(spec, environmentName) : undefined;
  const specFile = path.join(ROOT, 'examples', 'model-deploy.yml');
  return { spec, specFile, specDir: path.dirname(specFile), deployment: d, environmentName, environment, regions: regionsFor(d, environment), names: targetNames(d, environmentName) };
}

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

/** A poll clock that never sleeps for real but advances time by each requested delay. */
export function fakeClock(start = Date.UTC(2025, 0, 1)) {
  let t = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
    random: () => 1,
  };
}
