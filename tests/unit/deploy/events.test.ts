import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient, DescribeStackEventsCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { EventTracker, watchStack } from '../../../src/deploy/events';
import { memoryReporter } from '../../../src/core/log';
import { event, fakeClock } from './flow-fixtures';
import { stackAnswer } from '../../support/fake-aws/stack-answer';

const ID = 'arn:aws:cloudformation:us-east-1:111111111111:stack/s/1';

describe('EventTracker', () => {
  it('returns only new events, oldest first, stopping at events of an earlier operation', () => {
    const t = new EventTracker('tok');
    const old = event(ID, 's', 'older-op', { ResourceStatus: 'UPDATE_COMPLETE' });
    const a = event(ID, 's', 'tok', { ResourceStatus: 'UPDATE_IN_PROGRESS' });
    const b = event(ID, 's', 'tok', { LogicalResourceId: 'Model', ResourceType: 'AWS::SageMaker::Model', ResourceStatus: 'CREATE_IN_PROGRESS' });
    expect(t.ingest([b, a, old])).toEqual([a, b]);
    const c = event(ID, 's', 'tok', { LogicalResourceId: 'Model', ResourceType: 'AWS::SageMaker::Model', ResourceStatus: 'CREATE_COMPLETE' });
    // The same page again plus one new event: de-duplicated by EventId.
    expect(t.ingest([c, b, a, old])).toEqual([c]);
    expect(t.count).toBe(3);
  });

  it('keeps the first failure with its own reason, not the cancellations and the stack summary after it', () => {
    const t = new EventTracker('tok');
    const cause = event(ID, 's', 'tok', { LogicalResourceId: 'Endpoint', ResourceType: 'AWS::SageMaker::Endpoint', ResourceStatus: 'UPDATE_FAILED', ResourceStatusReason: 'The primary container for production variant AllTraffic did not pass the ping health check.' });
    const cancelled = event(ID, 's', 'tok', { LogicalResourceId: 'Policy', ResourceType: 'AWS::IAM::Policy', ResourceStatus: 'UPDATE_FAILED', ResourceStatusReason: 'Resource update cancelled' });
    const stackFail = event(ID, 's', 'tok', { ResourceStatus: 'UPDATE_ROLLBACK_IN_PROGRESS', ResourceStatusReason: 'The following resource(s) failed to update: [Endpoint].' });
    // A cancellation that arrives earlier than the real cause still does not count.
    t.ingest([stackFail, cause, cancelled]);
    expect(t.firstFailure).toBe(cause);
    expect(t.stackStatus).toBe('UPDATE_ROLLBACK_IN_PROGRESS');
  });
});

describe('watchStack', () => {
  const cfn = mockClient(CloudFormationClient);
  beforeEach(() => cfn.reset());

  it('streams events live, backs off from 2 s to 5 s when quiet, slows down on throttling, and ends on the final status', async () => {
    const start = event(ID, 's', 'tok', { ResourceStatus: 'UPDATE_IN_PROGRESS' });
    const done = event(ID, 's', 'tok', { ResourceStatus: 'UPDATE_COMPLETE' });
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    const quiet = { StackEvents: [start] };
    let calls = 0;
    cfn.on(DescribeStackEventsCommand).callsFake(() => {
      calls++;
      if (calls === 1) return quiet;
      if (calls === 8) throw throttled;
      if (calls < 12) return quiet;
      return { StackEvents: [done, start] };
    });
    cfn.on(DescribeStacksCommand).resolves(stackAnswer({ name: 's', id: ID, status: 'UPDATE_COMPLETE' }));
    const clock = fakeClock();
    const reporter = memoryReporter();
    const result = await watchStack({ cfn: new CloudFormationClient({ region: 'us-east-1' }), stackId: ID, token: 'tok', reporter, deadline: clock.now() + 3600000, what: 'stack s', pollOverrides: clock });
    expect(result).toMatchObject({ status: 'UPDATE_COMPLETE', events: 2, throttled: 1 });
    expect(reporter.captured.lines.filter((l) => /UPDATE_IN_PROGRESS/.test(l))).toHaveLength(1);
    expect(clock.sleeps[0]).toBe(2000);
    expect(Math.max(...clock.sleeps)).toBeGreaterThan(5000); // throttling doubles past the quiet ceiling
    const beforeThrottle = clock.sleeps.slice(0, 6);
    expect(beforeThrottle).toEqual([...beforeThrottle].sort((a, b) => a - b));
    expect(beforeThrottle[beforeThrottle.length - 1]).toBeLessThanOrEqual(5000);
  });

  // #26.4: the stack's own events carry its status, so the steady state is one request per poll, and a
  // poll at most every 5 s notices the end within 5 s of it.
  it('polls with DescribeStackEvents alone while the stack events carry its status, and notices the end within 5 s', async () => {
    const clock = fakeClock();
    const finishAt = clock.now() + 10 * 60000 + 1234;
    const start = event(ID, 's', 'tok', { ResourceStatus: 'UPDATE_IN_PROGRESS' });
    const done = event(ID, 's', 'tok', { ResourceStatus: 'UPDATE_COMPLETE' });
    cfn.on(DescribeStackEventsCommand).callsFake(() => ({ StackEvents: clock.now() >= finishAt ? [done, start] : [start] }));
    cfn.on(DescribeStacksCommand).resolves(stackAnswer({ name: 's', id: ID, status: 'UPDATE_COMPLETE' }));
    const result = await watchStack({ cfn: new CloudFormationClient({ region: 'us-east-1' }), stackId: ID, token: 'tok', reporter: memoryReporter(), deadline: clock.now() + 3600000, what: 'stack s', pollOverrides: clock });
    expect(result.status).toBe('UPDATE_COMPLETE');
    expect(cfn.commandCalls(DescribeStacksCommand)).toHaveLength(0);
    expect(clock.now() - finishAt).toBeLessThanOrEqual(5000);
    expect(Math.max(...clock.sleeps)).toBeLessThanOrEqual(5000);
    // Bounded: at most one request per 2.5 s (half the 5 s ceiling, the jitter's floor) plus the first ones.
    expect(result.checks).toBe(cfn.commandCalls(DescribeStackEventsCommand).length);
    expect(result.checks).toBeLessThanOrEqual(Math.ceil((10 * 60000 + 1234 + 5000) / 2500) + 2);
  });

  it('confirms a stack-level *_FAILED event with DescribeStacks (a rollback may follow), and takes a final *_FAILED as it is', async () => {
    const start = event(ID, 's', 'tok', { ResourceStatus: 'CREATE_IN_PROGRESS' });
    const failed = event(ID, 's', 'tok', { ResourceStatus: 'CREATE_FAILED', ResourceStatusReason: 'The following resource(s) failed to create: [Endpoint].' });
    const rolling = event(ID, 's', 'tok', { ResourceStatus: 'ROLLBACK_IN_PROGRESS' });
    const rolled = event(ID, 's', 'tok', { ResourceStatus: 'ROLLBACK_COMPLETE' });
    const pages = [[start], [failed, start], [rolling, failed, start], [rolled, rolling, failed, start]];
    let i = 0;
    cfn.on(DescribeStackEventsCommand).callsFake(() => ({ StackEvents: pages[Math.min(i++, pages.length - 1)] }));
    cfn.on(DescribeStacksCommand).resolves(stackAnswer({ name: 's', id: ID, status: 'ROLLBACK_IN_PROGRESS' }));
    const clock = fakeClock();
    const result = await watchStack({ cfn: new CloudFormationClient({ region: 'us-east-1' }), stackId: ID, token: 'tok', reporter: memoryReporter(), deadline: clock.now() + 3600000, what: 'stack s', pollOverrides: clock });
    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(cfn.commandCalls(DescribeStacksCommand)).toHaveLength(1);
  });

  it('says it is still waiting at least once a minute while nothing happens (elapsed, what, last event)', async () => {
    const clock = fakeClock();
    const begin = clock.now();
    const start = event(ID, 's', 'tok', { ResourceStatus: 'UPDATE_IN_PROGRESS', LogicalResourceId: 'Endpoint', ResourceType: 'AWS::SageMaker::Endpoint', PhysicalResourceId: 'ep' });
    const done = event(ID, 's', 'tok', { ResourceStatus: 'UPDATE_COMPLETE' });
    cfn.on(DescribeStackEventsCommand).callsFake(() => ({ StackEvents: clock.now() >= begin + 7 * 60000 ? [done, start] : [start] }));
    const reporter = memoryReporter();
    const at: number[] = [];
    const info = reporter.info.bind(reporter);
    reporter.info = (line: string) => {
      at.push(clock.now());
      info(line);
    };
    await watchStack({ cfn: new CloudFormationClient({ region: 'us-east-1' }), stackId: ID, token: 'tok', reporter, deadline: clock.now() + 3600000, what: 'stack s to deploy', pollOverrides: clock });
    const gaps = [begin, ...at].slice(1).map((t, k) => t - [begin, ...at][k]!);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(60000);
    expect(reporter.captured.lines.some((l) => /Still waiting for stack s to deploy \(\d+m\d\ds\).*last event.*Endpoint/.test(l))).toBe(true);
  });

  it('times out at the deadline with advice', async () => {
    cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [event(ID, 's', 'tok', { ResourceStatus: 'UPDATE_IN_PROGRESS' })] });
    const clock = fakeClock();
    await expect(
      watchStack({ cfn: new CloudFormationClient({ region: 'us-east-1' }), stackId: ID, token: 'tok', reporter: memoryReporter(), deadline: clock.now() + 10 * 60000, what: 'stack s to deploy', pollOverrides: clock }),
    ).rejects.toThrow(/Timed out after 10 minutes waiting for stack s to deploy/);
  });

  describe('when no event carries the operation token', () => {
    const untokened = { StackEvents: [event(ID, 's', 'older-op', { ResourceStatus: 'UPDATE_COMPLETE' })] };
    const watch = (clock: ReturnType<typeof fakeClock>) =>
      watchStack({ cfn: new CloudFormationClient({ region: 'us-east-1' }), stackId: ID, token: 'tok', reporter: memoryReporter(), deadline: clock.now() + 60 * 60000, what: 'stack s to deploy', pollOverrides: clock });

    it('falls back to the stack status once DescribeStacks showed the operation in progress', async () => {
      cfn.on(DescribeStackEventsCommand).resolves(untokened);
      cfn.on(DescribeStacksCommand)
        .resolvesOnce(stackAnswer({ name: 's', id: ID, status: 'UPDATE_IN_PROGRESS', created: new Date(0) }))
        .resolves(stackAnswer({ name: 's', id: ID, status: 'UPDATE_COMPLETE', created: new Date(0), updated: new Date(0) }));
      const clock = fakeClock();
      const result = await watch(clock);
      expect(result).toMatchObject({ status: 'UPDATE_COMPLETE', events: 0 });
      // Seconds, not the hour the deadline allows.
      expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBeLessThan(10000);
    });

    it('takes a final status stamped after the watch began, but not the previous operation\'s', async () => {
      const clock = fakeClock();
      const began = clock.now();
      cfn.on(DescribeStackEventsCommand).resolves(untokened);
      let calls = 0;
      cfn.on(DescribeStacksCommand).callsFake(() => {
        calls++;
        // First the previous operation's COMPLETE (an hour old), then ours.
        const updated = new Date(calls < 3 ? began - 3600000 : began + 5000);
        return stackAnswer({ name: 's', id: ID, status: 'UPDATE_COMPLETE', created: new Date(0), updated });
      });
      const result = await watch(clock);
      expect(result.status).toBe('UPDATE_COMPLETE');
      expect(calls).toBe(3);
    });
  });
});
