/** Deploy flow hot spots: rendering a large change set as markdown, and de-duplicating a long event stream. */
import type { Change, StackEvent } from '@aws-sdk/client-cloudformation';
import { renderChangesMarkdown } from '../src/deploy/changeset';
import { EventTracker } from '../src/deploy/events';
import type { BenchRow } from './types';

function best(fn: () => void, runs = 5): number {
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    fn();
    min = Math.min(min, Number(process.hrtime.bigint() - start) / 1e6);
  }
  return min;
}

export default async function (): Promise<BenchRow[]> {
  const actions = ['Add', 'Modify', 'Remove'] as const;
  const changes: Change[] = Array.from({ length: 500 }, (_, i) => ({
    Type: 'Resource',
    ResourceChange: {
      Action: actions[i % 3],
      Replacement: i % 3 === 1 ? (i % 2 ? 'True' : 'False') : undefined,
      LogicalResourceId: `Resource${i}`,
      ResourceType: 'AWS::IAM::Policy',
      Details: [{ Target: { Attribute: 'Properties', Name: 'PolicyDocument', RequiresRecreation: 'Never' }, ChangeSource: 'DirectModification' }],
    },
  }));
  let length = 0;
  const markdownMs = best(() => {
    length = renderChangesMarkdown(changes, { stackName: 'bench-stack', changeSetName: 'md-0123456', region: 'us-east-1' }).length;
  });

  const STACK_ID = 'arn:aws:cloudformation:us-east-1:111111111111:stack/bench/1';
  const events: StackEvent[] = Array.from({ length: 10000 }, (_, i) => ({
    StackId: STACK_ID, StackName: 'bench', EventId: `e${i}`, ClientRequestToken: 'tok', Timestamp: new Date(i * 1000),
    LogicalResourceId: `R${i % 200}`, ResourceType: 'AWS::SageMaker::Model', ResourceStatus: i === 5000 ? 'UPDATE_FAILED' : 'UPDATE_IN_PROGRESS',
  }));
  // As polls see them: pages of the newest 100, growing by 50 new events per poll (half are repeats).
  const eventsMs = best(() => {
    const tracker = new EventTracker('tok');
    for (let seen = 50; seen <= events.length; seen += 50) tracker.ingest(events.slice(Math.max(0, seen - 100), seen).reverse());
    if (tracker.count !== events.length) throw new Error(`tracked ${tracker.count} of ${events.length}`);
  });
  return [
    { name: 'deploy: render a 500-change change set as markdown', value: Number(markdownMs.toFixed(2)), unit: 'ms', target: '< 50 ms', ok: markdownMs < 50 },
    { name: 'deploy: markdown size for 500 changes (capped for GitHub)', value: length, unit: 'chars', target: '< 65,536', ok: length < 65536 },
    { name: 'deploy: de-duplicate 10k stack events (200 polls)', value: Number(eventsMs.toFixed(2)), unit: 'ms', target: '< 100 ms', ok: eventsMs < 100 },
  ];
}
