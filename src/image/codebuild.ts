/**
 * One CodeBuild run as if it ran on the runner: StartBuild, its CloudWatch log lines streamed into a
 * log group as they arrive, status polled with back-off (throttling slows it down), StopBuild when
 * the workflow is cancelled, and on failure the failing phase, its reason and the last log lines.
 */
import { BatchGetBuildsCommand, Build, CodeBuildClient, StartBuildCommand, StopBuildCommand } from '@aws-sdk/client-codebuild';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { awsClient, AwsContext } from '../core/aws';
import { DeployError, errorMessage, explainAwsError, isNotFound } from '../core/errors';
import type { Reporter } from '../core/log';
import { codeBuildLink } from '../core/console-links';
import { isPollTimeout, isThrottling, poll, PollOptions } from '../core/poll';

export interface RunBuildOptions {
  aws: AwsContext;
  projectName: string;
  logGroupName: string;
  sourceLocation: string;
  environment: Record<string, string>;
  timeoutMinutes: number;
  /** How long the build may wait for a machine before CodeBuild gives up (its own default is 8 hours). */
  queuedTimeoutMinutes?: number;
  reporter: Reporter;
  signal?: AbortSignal;
  /** First delay between status checks; back-off grows from it while nothing changes. */
  pollMs: number;
  /** How many log lines a failure annotation quotes. */
  tailLines?: number;
  /** Test seams for poll(): a fake clock. */
  pollOverrides?: Partial<Pick<PollOptions<unknown>, 'sleep' | 'now' | 'random'>>;
}

/** The queue budget when the caller gives none: a build that waits longer for a machine is reported, not awaited for hours. */
export const DEFAULT_QUEUED_MINUTES = 30;
/** After CodeBuild's own queue and run timeouts, the time it may take to report them before we stop the build ourselves. */
const REPORT_MARGIN_MINUTES = 5;

export interface BuildOutcome {
  buildId: string;
  build: Build;
  seconds: number;
  exported: Record<string, string>;
  checks: number;
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED']);

/** Follows one log stream from its head with nextForwardToken, keeping the last lines for failures. */
export class LogFollower {
  private token: string | undefined;
  private readonly tail: string[] = [];
  lines = 0;

  constructor(
    private readonly logs: CloudWatchLogsClient,
    private readonly group: string,
    private readonly stream: string,
    private readonly print: (line: string) => void,
    private readonly keep = 30,
  ) {}

  /** Reads every page available now; a missing stream (build not started yet) is not an error. */
  async drain(): Promise<void> {
    for (let page = 0; page < 50; page++) {
      let out;
      try {
        out = await this.logs.send(
          new GetLogEventsCommand({ logGroupName: this.group, logStreamName: this.stream, startFromHead: true, nextToken: this.token }),
        );
      } catch (err) {
        // The stream appears once the build has started logging.
        if (isNotFound(err) || isThrottling(err)) return;
        throw err;
      }
      for (const e of out.events ?? []) {
        const line = (e.message ?? '').replace(/\r?\n$/, '');
        this.print(line);
        this.lines++;
        this.tail.push(line);
        if (this.tail.length > this.keep) this.tail.shift();
      }
      // The same token back means we are at the end of what exists now.
      if (!out.nextForwardToken || out.nextForwardToken === this.token) return;
      this.token = out.nextForwardToken;
      if ((out.events ?? []).length === 0) return;
    }
  }

  last(n: number): string[] {
    return this.tail.slice(-n);
  }
}

async function startBuild(codebuild: CodeBuildClient, o: RunBuildOptions): Promise<string> {
  let started;
  try {
    started = await codebuild.send(
      new StartBuildCommand({
        projectName: o.projectName,
        sourceTypeOverride: 'S3',
        sourceLocationOverride: o.sourceLocation,
        timeoutInMinutesOverride: o.timeoutMinutes,
        queuedTimeoutInMinutesOverride: o.queuedTimeoutMinutes ?? DEFAULT_QUEUED_MINUTES,
        environmentVariablesOverride: Object.entries(o.environment).map(([name, value]) => ({ name, value, type: 'PLAINTEXT' })),
      }),
    );
  } catch (err) {
    throw explainAwsError(err, `Starting CodeBuild project ${o.projectName}`);
  }
  const buildId = started.build?.id;
  if (!buildId) throw new DeployError(`CodeBuild returned no build id for ${o.projectName}`);
  return buildId;
}

/** Polls the build to a terminal status, streaming its log; a cancelled workflow stops the build. */
async function followBuild(codebuild: CodeBuildClient, buildId: string, follower: LogFollower, o: RunBuildOptions) {
  let stopping: Promise<boolean> | undefined;
  let last: Build | undefined;
  const stop = (why: string) => {
    stopping ??= codebuild.send(new StopBuildCommand({ id: buildId })).then(
      () => {
        o.reporter.warning(`Stopped build ${buildId} (${why}).`);
        return true;
      },
      (err) => {
        o.reporter.warning(`Could not stop build ${buildId}: ${errorMessage(err)}. Stop it in the CodeBuild console.`);
        return false;
      },
    );
    return stopping;
  };
  const cancelled = () => void stop('the workflow was cancelled');
  const budgetMinutes = (o.queuedTimeoutMinutes ?? DEFAULT_QUEUED_MINUTES) + o.timeoutMinutes + REPORT_MARGIN_MINUTES;
  o.signal?.addEventListener('abort', cancelled, { once: true });
  if (o.signal?.aborted) cancelled();
  try {
    return await o.reporter.group(`CodeBuild ${buildId}`, () =>
      poll<Build>({
        what: `build ${buildId}`,
        check: async () => {
          const out = await codebuild.send(new BatchGetBuildsCommand({ ids: [buildId] }));
          const build = out.builds?.[0];
          if (!build) throw new DeployError(`build ${buildId} disappeared`);
          last = build;
          return build;
        },
        onValue: async (b) => {
          await follower.drain();
          // CloudWatch can lag the final status by a moment: read once more at the end.
          if (TERMINAL.has(b.buildStatus ?? '')) await follower.drain();
        },
        done: (b) => TERMINAL.has(b.buildStatus ?? ''),
        progressed: (b, prev) => b.currentPhase !== prev?.currentPhase,
        initialDelayMs: o.pollMs,
        // The end is noticed within 5 s of it (#26.4), one BatchGetBuilds per look.
        maxDelayMs: Math.max(o.pollMs, 5000),
        timeoutMs: budgetMinutes * 60_000,
        signal: o.signal,
        ...o.pollOverrides,
      }),
    );
  } catch (err) {
    if (o.signal?.aborted) {
      cancelled();
      await stopping;
    } else if (isPollTimeout(err)) {
      // CodeBuild did not end the build at its own timeouts: stop it, and say where it was.
      const stopped = await stop(`no end after ${budgetMinutes} minutes`);
      throw new DeployError(`CodeBuild build ${buildId} is still in phase ${last?.currentPhase ?? 'unknown'} after ${budgetMinutes} minutes (queue ${o.queuedTimeoutMinutes ?? DEFAULT_QUEUED_MINUTES} + build ${o.timeoutMinutes} + ${REPORT_MARGIN_MINUTES}).`, {
        title: 'Image build timed out',
        hint:
          `${stopped ? 'Stopped it (StopBuild)' : 'StopBuild failed: stop it in the CodeBuild console'}; no tag was pushed, the previous image and its tag are unchanged. ` +
          (last?.currentPhase === 'QUEUED' ? 'It never got a machine: the account may be at its CodeBuild concurrent-build quota, or the compute type is scarce in this region. ' : '') +
          `Full log: ${last?.logs?.deepLink ?? `CloudWatch group ${o.logGroupName}`}`,
      });
    }
    throw err;
  } finally {
    o.signal?.removeEventListener('abort', cancelled);
  }
}

/** The failing phase, its reason and the last log lines of a build that did not succeed. */
function buildFailure(build: Build, buildId: string, tail: string[], logGroupName: string): DeployError {
  const failed = (build.phases ?? []).find((p) => p.phaseStatus && p.phaseStatus !== 'SUCCEEDED' && p.phaseType !== 'COMPLETED');
  const reason = failed?.contexts?.map((c) => [c.statusCode, c.message].filter(Boolean).join(': ')).filter(Boolean).join('; ');
  return new DeployError(
    `CodeBuild build ${buildId} ${build.buildStatus}${failed ? ` in phase ${failed.phaseType}` : ''}${reason ? `: ${reason}` : ''}` +
      (tail.length ? `\nLast log lines:\n${tail.join('\n')}` : ''),
    {
      title: `Image build ${build.buildStatus?.toLowerCase() ?? 'failed'}${failed ? ` (${failed.phaseType})` : ''}`,
      hint: `No tag was pushed: the previous image and its tag are unchanged. Full log: ${build.logs?.deepLink ?? `CloudWatch group ${logGroupName}`}`,
    },
  );
}

export async function runBuild(o: RunBuildOptions): Promise<BuildOutcome> {
  const codebuild = awsClient(CodeBuildClient, o.aws);
  const buildId = await startBuild(codebuild, o);
  const startedAt = Date.now();
  o.reporter.info(`Started build ${buildId}: ${codeBuildLink(o.aws.region, buildId).url}`);
  // The stream is named after the build's UUID (the part after the project name).
  const logs = awsClient(CloudWatchLogsClient, o.aws);
  const follower = new LogFollower(logs, o.logGroupName, buildId.slice(buildId.indexOf(':') + 1), (l) => o.reporter.info(l), o.tailLines ?? 30);
  const result = await followBuild(codebuild, buildId, follower, o);
  const build = result.value;
  const seconds = Math.round((Date.now() - startedAt) / 1000);
  const exported = Object.fromEntries((build.exportedEnvironmentVariables ?? []).map((v) => [v.name ?? '', v.value ?? '']));
  if (build.buildStatus !== 'SUCCEEDED') throw buildFailure(build, buildId, follower.last(o.tailLines ?? 30), o.logGroupName);
  return { buildId, build, seconds, exported, checks: result.checks };
}
