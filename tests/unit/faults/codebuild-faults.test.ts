/**
 * The image build's waits (#23.1): a build stuck in QUEUED or running past its budget ends at its deadline
 * with StopBuild and the state it left, never an endless wait; CodeBuild's own TIMED_OUT says the phase.
 */
import { mockClient } from 'aws-sdk-client-mock';
import { BatchGetBuildsCommand, Build, CodeBuildClient, StartBuildCommand, StopBuildCommand } from '@aws-sdk/client-codebuild';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { runBuild } from '../../../src/image/codebuild';
import { DeployError } from '../../../src/core/errors';
import { memoryReporter } from '../../../src/core/log';
import { fakeClock } from '../../support/clock';

const codebuild = mockClient(CodeBuildClient);
const logs = mockClient(CloudWatchLogsClient);
const MIN = 60000;
const ID = 'model-deploy-build:1234';

function build(clock: ReturnType<typeof fakeClock>, answer: (elapsedMs: number) => Partial<Build>) {
  const begin = clock.now();
  codebuild.on(StartBuildCommand).resolves({ build: { id: ID, buildStatus: 'IN_PROGRESS', currentPhase: 'QUEUED' } });
  codebuild.on(BatchGetBuildsCommand).callsFake(() => ({ builds: [{ id: ID, ...answer(clock.now() - begin) }] }));
  codebuild.on(StopBuildCommand).resolves({ build: { id: ID, buildStatus: 'STOPPED' } });
  logs.on(GetLogEventsCommand).resolves({ events: [], nextForwardToken: 'f/1' });
}

const run = (clock: ReturnType<typeof fakeClock>, reporter = memoryReporter()) =>
  runBuild({
    aws: { region: 'us-east-1' }, projectName: 'model-deploy-build', logGroupName: '/model-deploy/build', sourceLocation: 'b/k.zip', environment: {},
    timeoutMinutes: 60, queuedTimeoutMinutes: 30, reporter, pollMs: 5000, pollOverrides: clock,
  }).then(
    () => undefined,
    (e: unknown) => e,
  );

beforeEach(() => {
  codebuild.reset();
  logs.reset();
});

describe('CodeBuild faults', () => {
  it('asks CodeBuild for a queue budget of its own (its default is 8 hours)', async () => {
    const clock = fakeClock();
    build(clock, () => ({ buildStatus: 'SUCCEEDED', currentPhase: 'COMPLETED' }));
    await run(clock);
    expect(codebuild.commandCalls(StartBuildCommand)[0]?.args[0].input).toMatchObject({ timeoutInMinutesOverride: 60, queuedTimeoutInMinutesOverride: 30 });
  });

  it('stuck in QUEUED: stops the build at the deadline and says the state it left', async () => {
    const clock = fakeClock();
    build(clock, () => ({ buildStatus: 'IN_PROGRESS', currentPhase: 'QUEUED' }));
    const err = await run(clock);
    expect(err).toBeInstanceOf(DeployError);
    expect((err as DeployError).message).toMatch(/still in phase QUEUED after \d+ minutes/);
    expect((err as DeployError).hint).toMatch(/Stopped it \(StopBuild\)/);
    expect(codebuild.commandCalls(StopBuildCommand)).toHaveLength(1);
    // The queue and run budgets plus five minutes for CodeBuild to report its own timeout, then one poll.
    expect(clock.now() - Date.UTC(2025, 0, 1)).toBeLessThanOrEqual((30 + 60 + 5) * MIN + 5000);
  });

  it("CodeBuild's own timeout (TIMED_OUT in BUILD) fails with the phase, in time", async () => {
    const clock = fakeClock();
    build(clock, (ms) =>
      ms < 60 * MIN
        ? { buildStatus: 'IN_PROGRESS', currentPhase: 'BUILD' }
        : { buildStatus: 'TIMED_OUT', currentPhase: 'COMPLETED', phases: [{ phaseType: 'BUILD', phaseStatus: 'TIMED_OUT', contexts: [{ statusCode: 'BUILD_TIMED_OUT', message: 'Build has timed out.' }] }] },
    );
    const err = await run(clock);
    expect((err as DeployError).message).toMatch(/TIMED_OUT in phase BUILD: BUILD_TIMED_OUT: Build has timed out/);
    expect(clock.now() - Date.UTC(2025, 0, 1)).toBeLessThanOrEqual(60 * MIN + 5000);
  });
});
