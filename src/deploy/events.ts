/**
 * Live stack events: DescribeStackEvents polled with poll() (2 s while things happen, backing off to
 * 5 s when quiet, so the end is noticed within 5 s; slower on throttling), de-duplicated by EventId,
 * limited to our own operation by its ClientRequestToken, and the first real failure kept with its
 * reason. The stack's own events carry its status, so the steady state is one request per poll.
 */
import type { CloudFormationClient, StackEvent } from '@aws-sdk/client-cloudformation';
import { explainAwsError } from '../core/errors';
import type { Reporter } from '../core/log';
import { poll, PollOptions } from '../core/poll';
import { DescribeStackEventsCommand } from '@aws-sdk/client-cloudformation';
import { describeStack } from '../core/stack';

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
  /** The latest event of our operation, for the heartbeat line. */
  last?: StackEvent;
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
      this.last = e;
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
  /**
   * Another look taken every `every` checks while the stack is not settled (the start-up logs); when it
   * answers true the watch ends with status WATCH_STOPPED, and the caller says why.
   */
  sideCheck?: { every: number; stop: () => Promise<boolean> };
}

/** The status a watch ends with when its sideCheck stopped it. */
export const WATCH_STOPPED = 'WATCH_STOPPED';

export interface WatchResult {
  status: string;
  statusReason?: string;
  firstFailure?: StackEvent;
  events: number;
  checks: number;
  throttled: number;
}

const MAX_PAGES_PER_CHECK = 20;
/** The longest quiet interval between two looks: the end of an operation is noticed within it (#26.4). */
export const STACK_POLL_MAX_MS = 5000;

/** Stack statuses its own event may end on with no rollback to follow: final as the event says. */
const FINAL = /_COMPLETE$|^(ROLLBACK|DELETE|UPDATE_ROLLBACK|IMPORT_ROLLBACK)_FAILED$/;

/** 75 s → "1m15s". */
export function elapsedText(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** Streams the events of one stack operation until the stack reaches a final status. */
export async function watchStack(options: WatchOptions): Promise<WatchResult> {
  const tracker = new EventTracker(options.token);
  const now = options.pollOverrides?.now ?? Date.now;
  const confirm = stackConfirmation(options, tracker, now());
  let confirmed: Settled | undefined;
  let checks = 0;
  let stopped = false;
  const check = async (): Promise<number> => {
    checks++;
    await streamEvents(options, tracker);
    confirmed = await confirm(checks);
    if (!confirmed && options.sideCheck && checks % options.sideCheck.every === 0) stopped = await options.sideCheck.stop();
    return tracker.count;
  };
  try {
    const result = await poll<number>({
      check,
      done: () => confirmed !== undefined || stopped,
      progressed: (count, previous) => count !== (previous ?? 0),
      what: options.what,
      initialDelayMs: 2000,
      maxDelayMs: STACK_POLL_MAX_MS,
      factor: 1.5,
      timeoutMs: Math.max(0, options.deadline - now()),
      signal: options.signal,
      heartbeat: {
        say: (ms) => options.reporter.info(`Still waiting for ${options.what} (${elapsedText(ms)}); last event: ${tracker.last ? formatEvent(tracker.last).replace(/\s+/g, ' ') : 'none of this operation yet'}.`),
      },
      ...options.pollOverrides,
    });
    const settled = confirmed ?? { status: stopped ? WATCH_STOPPED : 'UNKNOWN' };
    return {
      status: settled.status,
      statusReason: settled.reason ?? tracker.stackStatusReason,
      firstFailure: tracker.firstFailure,
      events: tracker.count,
      checks: result.checks,
      throttled: result.throttled,
    };
  } catch (err) {
    throw explainAwsError(err, `Waiting for ${options.what}`);
  }
}

interface Settled {
  status: string;
  reason?: string;
}

/** Reads the new events of our operation (newest first, paging back until a known one) and prints them. */
async function streamEvents(options: WatchOptions, tracker: EventTracker): Promise<void> {
  const page: StackEvent[] = [];
  let nextToken: string | undefined;
  for (let i = 0; i < MAX_PAGES_PER_CHECK; i++) {
    const out = await options.cfn.send(new DescribeStackEventsCommand({ StackName: options.stackId, NextToken: nextToken }));
    const events = out.StackEvents ?? [];
    page.push(...events);
    nextToken = out.NextToken;
    if (!nextToken || events.some((e) => tracker.isOld(e))) break;
  }
  for (const e of tracker.ingest(page)) options.reporter.info(formatEvent(e));
}

/**
 * Whether the operation is over. The stack's own latest event says so without another request when its
 * status is final; a stack-level *_FAILED event (CREATE_FAILED is not final when a rollback follows) is
 * confirmed by DescribeStacks. While no event of ours has come (events that do not carry our token),
 * DescribeStacks is asked on the first three checks and then every fourth: a final status counts only
 * once we saw the operation in progress, or the stack changed after the watch began, so the previous
 * operation's COMPLETE is not taken for ours.
 */
function stackConfirmation(options: WatchOptions, tracker: EventTracker, startedAt: number): (check: number) => Promise<Settled | undefined> {
  let sawInProgress = false;
  return async (check) => {
    const fromEvents = tracker.stackStatus;
    if (fromEvents?.endsWith('_IN_PROGRESS')) return undefined;
    if (fromEvents && FINAL.test(fromEvents)) return { status: fromEvents, reason: tracker.stackStatusReason };
    if (!fromEvents && tracker.count > 0) return undefined;
    if (!fromEvents && check > 3 && check % 4 !== 0) return undefined;
    const stack = await describeStack(options.cfn, options.stackId);
    // describeStack answers nothing for a deleted stack: the watched delete is over.
    if (!stack) return { status: 'DELETE_COMPLETE' };
    const status = stack.StackStatus;
    if (!status) return undefined;
    if (status.endsWith('_IN_PROGRESS')) {
      sawInProgress = true;
      return undefined;
    }
    const settled = { status, reason: stack.StackStatusReason };
    if (fromEvents) return settled;
    const changedAt = (stack.DeletionTime ?? stack.LastUpdatedTime ?? stack.CreationTime)?.getTime() ?? 0;
    if (sawInProgress || changedAt >= startedAt) {
      options.reporter.debug(`No event of this operation carried its token; DescribeStacks says ${status}.`);
      return settled;
    }
    return undefined;
  };
}
