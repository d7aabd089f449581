/** `status --wait`: the status read follows a stack operation in progress to its end, mocked at the SDK boundary. */
import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient, DescribeStackEventsCommand, DescribeStacksCommand, StackEvent } from '@aws-sdk/client-cloudformation';
import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { deploymentStatus } from '../../../src/deploy/status';
import { STACK_POLL_MAX_MS } from '../../../src/deploy/events';
import { EnvInputs } from '../../../src/core/env';
import { memoryReporter } from '../../../src/core/log';
import { event, fakeClock, selection } from './flow-fixtures';
import { stackOf } from '../../support/fake-aws/stack-answer';

const cfn = mockClient(CloudFormationClient);
const sagemaker = mockClient(SageMakerClient);
const target = selection('qwen-chat', 'dev');
const STACK = target.names.stack;
const ID = `arn:aws:cloudformation:us-east-1:111111111111:stack/${STACK}/1`;
const TOKEN = 'model-deploy-7-2-abc';

/** A stack UPDATE_IN_PROGRESS that ends `outcome` after `checks` reads of its events (never, when undefined). */
function operation(outcome: string | undefined, checks = 3) {
  let status = 'UPDATE_IN_PROGRESS';
  const events: StackEvent[] = [event(ID, STACK, TOKEN, { ResourceStatus: 'UPDATE_IN_PROGRESS' })];
  let reads = 0;
  cfn.on(DescribeStacksCommand).callsFake(() => ({ Stacks: [{ ...stackOf({ name: STACK, id: ID }), StackStatus: status }] }));
  cfn.on(DescribeStackEventsCommand).callsFake(() => {
    reads++;
    if (outcome && reads === checks) {
      events.unshift(event(ID, STACK, TOKEN, { LogicalResourceId: 'Endpoint', ResourceType: 'AWS::SageMaker::Endpoint', ResourceStatus: 'UPDATE_FAILED', ResourceStatusReason: 'Failed to pass ping health check' }));
      status = outcome;
      events.unshift(event(ID, STACK, TOKEN, { ResourceStatus: outcome as StackEvent['ResourceStatus'] }));
    }
    return { StackEvents: [...events] };
  });
}

function run() {
  return { reporter: memoryReporter(), env: new EnvInputs({}) };
}

beforeEach(() => {
  cfn.reset();
  sagemaker.reset();
  sagemaker.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'InService' } as never);
});

test('without a wait the status is read once: no events are followed', async () => {
  operation('UPDATE_ROLLBACK_COMPLETE');
  const [row] = await deploymentStatus(target, {}, run());
  expect(row?.stackStatus).toBe('UPDATE_IN_PROGRESS');
  expect(row?.waited).toBeUndefined();
  expect(cfn.commandCalls(DescribeStackEventsCommand)).toHaveLength(0);
});

test('with a wait it follows the operation to its end, streaming its events, and reads the final status', async () => {
  operation('UPDATE_ROLLBACK_COMPLETE', 4);
  const clock = fakeClock();
  const r = run();
  const [row] = await deploymentStatus(target, { waitUntil: clock.now() + 30 * 60_000, pollOverrides: clock }, r);
  expect(row?.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
  expect(row?.waited).toMatchObject({ from: 'UPDATE_IN_PROGRESS', to: 'UPDATE_ROLLBACK_COMPLETE' });
  expect(r.reporter.allText()).toContain('Failed to pass ping health check');
  // The end is noticed within the poll ceiling.
  expect(Math.max(...clock.sleeps)).toBeLessThanOrEqual(STACK_POLL_MAX_MS);
});

test('at the deadline it stops waiting, reports the operation still in progress and cancels nothing', async () => {
  operation(undefined);
  const clock = fakeClock();
  const [row] = await deploymentStatus(target, { waitUntil: clock.now() + 60_000, pollOverrides: clock }, run());
  expect(row?.stackStatus).toBe('UPDATE_IN_PROGRESS');
  expect(row?.waited).toMatchObject({ from: 'UPDATE_IN_PROGRESS', to: 'UPDATE_IN_PROGRESS', seconds: 60 });
  const writes = cfn.calls().map((c) => c.args[0].constructor.name).filter((n) => !/^Describe/.test(n));
  expect(writes).toEqual([]);
});

test('a stack that is not in progress is read at once even with a wait', async () => {
  cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ ...stackOf({ name: STACK, id: ID }), StackStatus: 'UPDATE_COMPLETE' }] });
  const [row] = await deploymentStatus(target, { waitUntil: Date.now() + 60_000 }, run());
  expect(row?.stackStatus).toBe('UPDATE_COMPLETE');
  expect(row?.waited).toBeUndefined();
  expect(cfn.commandCalls(DescribeStackEventsCommand)).toHaveLength(0);
});
