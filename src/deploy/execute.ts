/**
 * Executing a ready change set: record a GitHub deployment, execute with an idempotency token, stream
 * the stack's events, then prove the endpoint serves the new version (endpoint state, smoke test).
 */
import { CancelUpdateStackCommand, ExecuteChangeSetCommand } from '@aws-sdk/client-cloudformation';
import { awsClient } from '../core/aws';
import { DeployError, errorMessage, explainAwsError } from '../core/errors';
import { isPollTimeout } from '../core/poll';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { stackPhysicalIds, verifyEcsRollout, verifyTargetsHealthy } from './running-state';
import type { ChangeSetDescription } from './changeset';
import { watchStack, WATCH_STOPPED } from './events';
import { FatalFinding, fatalLogError, FatalLogWatch } from './fatal-logs';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { startGitHubDeployment } from './github-deployment';
import { ensureAsyncOutputLifecycle } from './async-lifecycle';
import { clientToken, RegionContext, RegionResult, timed } from './region';
import { runSmokeTest } from './smoke';
import { describeStack, stackOutputs } from '../core/stack';
import { ensureTerminationProtection } from './stack-state';
import { endpointFacts } from './stack-outputs';
import { adviceFor, verifySageMakerEndpoint } from './verify';
import { isProduction } from '../config/production';

type Watched = Awaited<ReturnType<typeof watchStack>>;

/**
 * What a deploy owns outside the stack (the async output lifecycle rule), put back as the spec wants it
 * on every run: a change of it alone, or a rule removed by hand, makes an empty change set.
 */
export async function reconcileOwned(ctx: RegionContext): Promise<void> {
  const d = ctx.target.deployment;
  if (d.target !== 'sagemaker-async') return;
  await timed(ctx, 'async output lifecycle', () =>
    ensureAsyncOutputLifecycle({ d, region: ctx.region, account: ctx.account, environment: ctx.target.environmentName, reporter: ctx.run.reporter, credentials: ctx.request.credentials }),
  );
}

function githubEnvironment({ target, region }: RegionContext): string {
  const base = target.environmentName ?? target.deployment.name;
  return target.regions.length > 1 ? `${base}-${region}` : base;
}

export async function executeAndVerify(ctx: RegionContext, base: RegionResult, cs: ChangeSetDescription, type: 'CREATE' | 'UPDATE', protection: boolean): Promise<RegionResult> {
  const { request, run, cfn, region } = ctx;
  // Before the endpoint exists: its results must never pile up without the lifecycle rule.
  await reconcileOwned(ctx);
  const token = clientToken(run.env, region, 'deploy', cs.id);
  const stackId = cs.stackId ?? base.stackName;
  const execute = async () => {
    try {
      await cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: cs.id, StackName: base.stackName, ClientRequestToken: token }));
    } catch (err) {
      throw explainAwsError(err, `Executing change set ${cs.name}`);
    }
  };
  // No-wait mode (#23.7): the operation goes on; mode resume follows it and applies the same checks.
  if (request.wait === false) {
    await execute();
    run.reporter.info(`Executing ${cs.name} on ${base.stackName} (${region}); not waiting (wait: false): follow it with mode: resume.`);
    return { ...base, status: 'executing', stackId, changeSetId: cs.id };
  }
  return followAndVerify(ctx, base, { stackId, token, type, label: cs.name }, protection, async () => {
    await execute();
    run.reporter.info(`Executing ${cs.name} on ${base.stackName} (${region}); events follow.`);
  });
}

/**
 * A stack operation to follow (started by `start`, or already running: mode resume): its GitHub deployment,
 * its events to the end, then what runs.
 */
export async function followAndVerify(ctx: RegionContext, base: RegionResult, op: StackOperation, protection: boolean, start?: () => Promise<void>): Promise<RegionResult> {
  const { target, request, run } = ctx;
  const d = target.deployment;
  const github = await startGitHubDeployment({
    token: request.githubToken,
    env: run.env,
    environment: githubEnvironment(ctx),
    description: `${d.name} to ${ctx.region} (${op.label})`,
    production: isProduction(target.environmentName),
    reporter: run.reporter,
  });
  try {
    await start?.();
    const stackId = await watchOperation(ctx, base.stackName, op);
    const result = await verifyDeployed(ctx, base, stackId, protection);
    await github?.update('success', { environmentUrl: result.endpointUrl, description: `${d.name} deployed (${op.label})` });
    return result;
  } catch (err) {
    await github?.update('failure', { description: errorMessage(err).split('\n')[0] });
    throw err;
  }
}

/** One stack operation: the stack, the ClientRequestToken its events carry (absent: every event), create or update. */
export interface StackOperation {
  stackId: string;
  token?: string;
  type: 'CREATE' | 'UPDATE';
  /** For messages: the change set name, or "resume". */
  label: string;
}

/** Follows the operation's events to the end (start-up logs alongside); returns the stack id. */
async function watchOperation(ctx: RegionContext, stackName: string, op: StackOperation): Promise<string> {
  const { request, run, cfn, region } = ctx;
  const { reporter, signal } = run;
  const { stackId, token, type } = op;
  let watched: Watched;
  const logWatch = startupLogWatch(ctx, stackId);
  let finding: FatalFinding | undefined;
  const cancelUpdate = async (why: string) => {
    if (type !== 'UPDATE') return;
    // Roll the update back rather than leave it running unwatched.
    await cfn.send(new CancelUpdateStackCommand({ StackName: stackId })).then(
      () => reporter.warning(`${why}: asked CloudFormation to cancel the update of ${stackName}; it rolls back to the previous version.`),
      (e) => reporter.warning(`${why}, but CancelUpdateStack failed: ${errorMessage(e)}`),
    );
  };
  try {
    watched = await timed(ctx, 'stack execution', () =>
      reporter.group(`Stack events: ${stackName} (${region})`, () =>
        watchStack({
          cfn, stackId, token, reporter, deadline: ctx.deadline, signal, what: `stack ${stackName} to deploy`, pollOverrides: request.pollOverrides,
          // The start-up logs every other look (about every 10 s): at most one more request per two.
          sideCheck: { every: 2, stop: async () => Boolean((finding = await logWatch.check())) },
        }),
      ),
    );
  } catch (err) {
    if (signal?.aborted) await cancelUpdate('Cancelled');
    else if (isPollTimeout(err)) await cancelUpdate(`No end within timeout-minutes (${request.timeoutMinutes})`);
    throw err;
  }
  if (watched.status === WATCH_STOPPED && finding) {
    await cancelUpdate('The model cannot start');
    const state = type === 'UPDATE'
      ? 'The update is being cancelled: CloudFormation rolls the stack back and the previous version keeps serving.'
      : 'The first create fails on its own once the health check gives up, and CloudFormation rolls it back; the next deploy deletes it and creates it again.';
    throw fatalLogError(finding, state);
  }
  if (watched.status !== 'CREATE_COMPLETE' && watched.status !== 'UPDATE_COMPLETE') throw deployFailure(ctx, stackName, type, watched);
  reporter.info(`Stack ${stackName} is ${watched.status} (${watched.events} events).`);
  return stackId;
}

/** After a COMPLETE stack: protection, outputs, the SageMaker endpoint's own state, the smoke test. */
async function verifyDeployed(ctx: RegionContext, base: RegionResult, stackId: string, protection: boolean): Promise<RegionResult> {
  const { target, request, run, cfn, region } = ctx;
  const { reporter } = run;
  const d = target.deployment;
  const stack = await describeStack(cfn, stackId);
  if (stack) await ensureTerminationProtection(cfn, stack, protection, reporter);
  const outputs = stackOutputs(stack);
  const facts = endpointFacts(ctx, base.endpointName, outputs);
  const result: RegionResult = { ...base, status: 'deployed', stackId: stack?.StackId ?? stackId, outputs, ...facts };
  if (d.target.startsWith('sagemaker')) {
    const sm = awsClient(SageMakerClient, { region, credentials: request.credentials });
    const state = await timed(ctx, 'endpoint check', () =>
      verifySageMakerEndpoint({
        sm, cfn, stackId, endpointName: facts.endpointName, deadline: ctx.deadline, reporter, signal: run.signal,
        deployment: d, locate: target.spec.locate.bind(target.spec), pollOverrides: request.pollOverrides,
        expectedConfig: outputs.EndpointConfigName,
      }),
    );
    if (state.endpointArn) result.endpointArn = state.endpointArn;
  } else {
    await timed(ctx, d.target === 'ecs' ? 'ecs rollout' : 'instances healthy', () => verifyRunning(ctx, stackId, outputs));
  }
  const smoke = d.smokeTest;
  if (request.smokeTest && smoke) await timed(ctx, 'smoke test', () => runSmokeTest(ctx, result, smoke));
  else if (request.smokeTest) reporter.info('No smokeTest in the spec: smoke test skipped.');
  return result;
}

/** ECS: the rollout COMPLETED on the stack's task definition; EC2: every instance healthy behind the target group. */
async function verifyRunning(ctx: RegionContext, stackId: string, outputs: Record<string, string>): Promise<void> {
  const { request, run, cfn, region } = ctx;
  const ids = await stackPhysicalIds(cfn, stackId);
  const common = { deadline: ctx.deadline, reporter: run.reporter, signal: run.signal, pollOverrides: request.pollOverrides };
  const missing = (what: string) =>
    new DeployError(`Stack ${ctx.target.names.stack} completed, but it has no ${what}: what runs cannot be checked.`, {
      title: 'Unexpected stack',
      hint: 'The stack was changed outside model-deploy or by an older template: deploy again with deploy-endpoint.',
    });
  if (ctx.target.deployment.target === 'ecs') {
    const service = outputs.ServiceName ?? ids.get('AWS::ECS::Service');
    const cluster = outputs.ClusterName ?? ids.get('AWS::ECS::Cluster');
    if (!service || !cluster) throw missing('ECS service and cluster');
    const ecs = awsClient(ECSClient, { region, credentials: request.credentials });
    await verifyEcsRollout({ ecs, cluster, service, taskDefinition: ids.get('AWS::ECS::TaskDefinition'), ...common });
    return;
  }
  const targetGroupArn = ids.get('AWS::ElasticLoadBalancingV2::TargetGroup');
  if (!targetGroupArn) throw missing('target group');
  const elbv2 = awsClient(ElasticLoadBalancingV2Client, { region, credentials: request.credentials });
  await verifyTargetsHealthy({ elbv2, targetGroupArn, ...common });
}

/** The log group the model's start-up writes to: the SageMaker endpoint's, or the ecs/ec2 stack's own (looked up once it exists). */
function startupLogWatch(ctx: RegionContext, stackId: string): FatalLogWatch {
  const { target, request, cfn, region } = ctx;
  const logs = awsClient(CloudWatchLogsClient, { region, credentials: request.credentials });
  if (target.deployment.target.startsWith('sagemaker')) {
    const group = `/aws/sagemaker/Endpoints/${target.names.endpoint}`;
    return new FatalLogWatch(logs, async () => group, ctx.now(), (m) => ctx.run.reporter.warning(m));
  }
  let group: string | undefined;
  return new FatalLogWatch(logs, async () => (group ??= (await stackPhysicalIds(cfn, stackId)).get('AWS::Logs::LogGroup')), ctx.now(), (m) => ctx.run.reporter.warning(m));
}

function deployFailure(ctx: RegionContext, stackName: string, type: 'CREATE' | 'UPDATE', watched: Watched): DeployError {
  const f = watched.firstFailure;
  const reason = f?.ResourceStatusReason ?? watched.statusReason;
  const { spec, deployment } = ctx.target;
  const advice = adviceFor(reason, { deployment, locate: spec.locate.bind(spec) });
  const what = f ? `${f.LogicalResourceId} (${f.ResourceType}) ${f.ResourceStatus}: ${reason ?? 'no reason given'}` : `${watched.status}${reason ? `: ${reason}` : ''}`;
  let state: string;
  if (watched.status === 'UPDATE_ROLLBACK_FAILED') {
    state = `The rollback failed too (UPDATE_ROLLBACK_FAILED). Fix the resource, then run \`aws cloudformation continue-update-rollback --stack-name ${stackName} --region ${ctx.region}\`.`;
  } else if (type === 'UPDATE') {
    state = `CloudFormation rolled the stack back (${watched.status}): the previous version keeps serving.`;
  } else {
    state = `The first create was rolled back (${watched.status}); nothing serves yet. The next deploy deletes the failed stack and creates it again.`;
  }
  return new DeployError(`Deploy of ${stackName} in ${ctx.region} failed: ${what}`, {
    title: f ? `Deploy failed: ${f.LogicalResourceId} ${f.ResourceStatus}` : 'Deploy failed',
    location: advice.location,
    hint: [advice.hint, state].filter(Boolean).join('\n'),
  });
}
