/**
 * Live stack events: DescribeStackEvents polled with poll() (2 s while things happen, backing off to
 * 30 s when quiet, slower on throttling), de-duplicated by EventId, limited to our own operation by
 * its ClientRequestToken, and the first real failure kept with its reason.
 */
import type { CloudFormationClient, StackEvent } from '@aws-sdk/client-cloudformation';
import { explainAwsError } from '../core/errors';
import type { Reporter } from '../core/log';
import { poll, PollOptions } from '../core/poll';
import { DescribeStackEventsCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';

const STACK_TYPE = 'AWS::CloudFormation::Stack';
// Reasons that are consequences of another failure, not its cause.
const CONSEQUENCE = /^Resource (creation|update|deletion) cancelled|^The following resource\(s\) failed/i;

export function isStackEvent(e: StackEvent): boolean {
  return e.ResourceType === STACK_TYPE && (e.PhysicalResourceId === e.StackId || e.LogicalResourceId === e.StackName);
}

export function isFailure(e: StackEvent): boolean {
  return /_FAILED$/.test(e.ResourceStatus ?? '');
}

/** One line per event: time, status, resource, type, reason. */
export function formatEvent(e: StackEvent): string {
  const time = e.Timestamp ? new Date(e.Timestamp).toISOString().slice(11, 19) : '--:--:--';
  const reason = e.ResourceStatusReason ? `  ${e.ResourceStatusReason}` : '';
  return `${time} ${(e.ResourceStatus ?? '').padEnd(28)} ${e.LogicalResourceId ?? ''} (${e.ResourceType ?? ''})${reason}`;
}

/** The pure part: which events are new, in order, and which failure came first. */
export class EventTracker {
  private readonly seen = new Set<string>();
  private resourceFailure?: StackEvent;
  private stackFailure?: StackEvent;
  count = 0;
  /** Status of the stack itself, from its own latest event. */
  stackStatus?: string;
  stackStatusReason?: string;

  constructor(private readonly token?: string) {}

  /** True when paging can stop: we have seen this event, or it belongs to an earlier operation. */
  isOld(e: StackEvent): boolean {
    if (e.EventId && this.seen.has(e.EventId)) return true;
    return Boolean(this.token && e.ClientRequestToken !== this.token);
  }

  /**
   * Takes events newest first, as DescribeStackEvents returns them (several pages concatenated),
   * and returns the ones not seen before, oldest first.
   */
  ingest(newestFirst: StackEvent[]): StackEvent[] {
    const fresh: StackEvent[] = [];
    for (const e of newestFirst) {
      if (this.isOld(e)) break;
      fresh.push(e);
    }
    fresh.reverse();
    for (const e of fresh) {
      if (e.EventId) this.seen.add(e.EventId);
      this.count++;
      if (isStackEvent(e)) {
        this.stackStatus = e.ResourceStatus;
        this.stackStatusReason = e.ResourceStatusReason;
        if (isFailure(e) && !this.stackFailure) this.stackFailure = e;
      } else if (isFailure(e) && !this.resourceFailure && !CONSEQUENCE.test(e.ResourceStatusReason ?? '')) {
        this.resourceFailure = e;
      }
    }
    return fresh;
  }

  /** The first resource that failed for a reason of its own; else the stack's own failure. */
  get firstFailure(): StackEvent | undefined {
    return this.resourceFailure ?? this.stackFailure;
  }
}

export interface WatchOptions {
  cfn: CloudFormationClient;
  /** The stack id (ARN) works after a delete too; a name works before. */
  stackId: string;
  /** ClientRequestToken of our operation: only its events are shown. */
  token?: string;
  reporter: Reporter;
  /** Epoch ms after which we stop waiting. */
  deadline: number;
  signal?: AbortSignal;
  what: string;
  /** Test seams for poll(). */
  pollOverrides?: Partial<Pick<PollOptions<unknown>, 'sleep' | 'now' | 'random'>>;
}

export interface WatchResult {
  status: string;
  statusReason?: string;
  firstFailure?: StackEvent;
  events: number;
  checks: number;
  throttled: number;
}

const MAX_PAGES_PER_CHECK = 20;

/** Streams the events of one stack operation until the stack reaches a final status. */
export async function watchStack(options: WatchOptions): Promise<WatchResult> {
  const { cfn, reporter } = options;
  const tracker = new EventTracker(options.token);
  const now = options.pollOverrides?.now ?? Date.now;
  let confirmed: { status: string; reason?: string } | undefined;

  const check = async (): Promise<number> => {
    const page: StackEvent[] = [];
    let nextToken: string | undefined;
    for (let i = 0; i < MAX_PAGES_PER_CHECK; i++) {
      const out = await cfn.send(new DescribeStackEventsCommand({ StackName: options.stackId, NextToken: nextToken }));
      const events = out.StackEvents ?? [];
      page.push(...events);
      nextToken = out.NextToken;
      if (!nextToken || events.some((e) => tracker.isOld(e))) break;
    }
    const fresh = tracker.ingest(page);
    for (const e of fresh) reporter.info(formatEvent(e));
    const status = tracker.stackStatus;
    if (status && !status.endsWith('_IN_PROGRESS')) {
      // The stack's own event says it settled; DescribeStacks says whether that is final (CREATE_FAILED is not when rollback follows).
      const stacks = await cfn.send(new DescribeStacksCommand({ StackName: options.stackId }));
      const stack = stacks.Stacks?.[0];
      if (stack?.StackStatus && !stack.StackStatus.endsWith('_IN_PROGRESS')) confirmed = { status: stack.StackStatus, reason: stack.StackStatusReason };
    }
    return tracker.count;
  };

  try {
    const result = await poll<number>({
      check,
      done: () => confirmed !== undefined,
      progressed: (count, previous) => count !== (previous ?? 0),
      what: options.what,
      initialDelayMs: 2000,
      maxDelayMs: 30000,
      factor: 1.5,
      timeoutMs: Math.max(0, options.deadline - now()),
      signal: options.signal,
      ...options.pollOverrides,
    });
    return {
      status: confirmed!.status,
      statusReason: confirmed!.reason ?? tracker.stackStatusReason,
      firstFailure: tracker.firstFailure,
      events: tracker.count,
      checks: result.checks,
      throttled: result.throttled,
    };
  } catch (err) {
    throw explainAwsError(err, `Waiting for ${options.what}`);
  }
}
