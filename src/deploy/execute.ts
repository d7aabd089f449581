/**
 * Executing a ready change set: record a GitHub deployment, execute with an idempotency token, stream
 * the stack's events, then prove the endpoint serves the new version (endpoint state, smoke test).
 */
import { CancelUpdateStackCommand, ExecuteChangeSetCommand } from '@aws-sdk/client-cloudformation';
import { awsClient } from '../core/aws';
import { DeployError, errorMessage, explainAwsError } from '../core/errors';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { ChangeSetDescription } from './changeset';
import { watchStack } from './events';
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

function githubEnvironment(ctx: RegionContext): string {
  const { selection } = ctx.options;
  const base = selection.environmentName ?? selection.deployment.name;
  return selection.regions.length > 1 ? `${base}-${ctx.region}` : base;
}

export async function executeAndVerify(ctx: RegionContext, base: RegionResult, cs: ChangeSetDescription, type: 'CREATE' | 'UPDATE', protection: boolean): Promise<RegionResult> {
  const { options } = ctx;
  const d = ctx.deployment;
  if (d.target === 'sagemaker-async') {
    // Before the endpoint exists: its results must never pile up without the lifecycle rule.
    await timed(ctx, 'async output lifecycle', () =>
      ensureAsyncOutputLifecycle({ d, region: ctx.region, account: ctx.account, reporter: options.reporter, credentials: options.credentials }),
    );
  }
  const github = await startGitHubDeployment({
    token: options.githubToken,
    env: options.env,
    environment: githubEnvironment(ctx),
    description: `${d.name} to ${ctx.region} (${cs.name})`,
    production: isProduction(options.selection.environmentName),
    reporter: options.reporter,
  });
  try {
    const stackId = await executeAndWatch(ctx, base.stackName, cs, type);
    const result = await verifyDeployed(ctx, base, stackId, protection);
    await github?.update('success', { environmentUrl: result.endpointUrl, description: `${d.name} deployed (${cs.name})` });
    return result;
  } catch (err) {
    await github?.update('failure', { description: errorMessage(err).split('\n')[0] });
    throw err;
  }
}

/** Executes the change set and follows its events to the end; returns the stack id. */
async function executeAndWatch(ctx: RegionContext, stackName: string, cs: ChangeSetDescription, type: 'CREATE' | 'UPDATE'): Promise<string> {
  const { options, cfn, region } = ctx;
  const { reporter } = options;
  const token = clientToken(options.env, region, 'deploy', cs.id);
  try {
    await cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: cs.id, StackName: stackName, ClientRequestToken: token }));
  } catch (err) {
    throw explainAwsError(err, `Executing change set ${cs.name}`);
  }
  reporter.info(`Executing ${cs.name} on ${stackName} (${region}); events follow.`);
  const stackId = cs.stackId ?? stackName;
  let watched: Watched;
  try {
    watched = await timed(ctx, 'stack execution', () =>
      reporter.group(`Stack events: ${stackName} (${region})`, () =>
        watchStack({ cfn, stackId, token, reporter, deadline: ctx.deadline, signal: options.signal, what: `stack ${stackName} to deploy`, pollOverrides: options.pollOverrides }),
      ),
    );
  } catch (err) {
    if (options.signal?.aborted && type === 'UPDATE') {
      // Cancelled workflow: roll the update back rather than leave it running unwatched.
      await cfn.send(new CancelUpdateStackCommand({ StackName: stackId })).then(
        () => reporter.warning(`Cancelled: asked CloudFormation to cancel the update of ${stackName}; it rolls back to the previous version.`),
        (e) => reporter.warning(`Cancelled, but CancelUpdateStack failed: ${errorMessage(e)}`),
      );
    }
    throw err;
  }
  if (watched.status !== 'CREATE_COMPLETE' && watched.status !== 'UPDATE_COMPLETE') throw deployFailure(ctx, stackName, type, watched);
  reporter.info(`Stack ${stackName} is ${watched.status} (${watched.events} events).`);
  return stackId;
}

/** After a COMPLETE stack: protection, outputs, the SageMaker endpoint's own state, the smoke test. */
async function verifyDeployed(ctx: RegionContext, base: RegionResult, stackId: string, protection: boolean): Promise<RegionResult> {
  const { options, cfn, region } = ctx;
  const { reporter, selection } = options;
  const d = ctx.deployment;
  const stack = await describeStack(cfn, stackId);
  if (stack) await ensureTerminationProtection(cfn, stack, protection, reporter);
  const outputs = stackOutputs(stack);
  const facts = endpointFacts(ctx, base.endpointName, outputs);
  const result: RegionResult = { ...base, status: 'deployed', stackId: stack?.StackId ?? stackId, outputs, ...facts };
  if (d.target.startsWith('sagemaker')) {
    const sm = awsClient(SageMakerClient, { region, credentials: options.credentials });
    const state = await timed(ctx, 'endpoint check', () =>
      verifySageMakerEndpoint({
        sm, cfn, stackId, endpointName: facts.endpointName, deadline: ctx.deadline, reporter, signal: options.signal,
        deployment: d, locate: selection.spec.locate.bind(selection.spec), pollOverrides: options.pollOverrides,
        expectedConfig: outputs.EndpointConfigName,
      }),
    );
    if (state.endpointArn) result.endpointArn = state.endpointArn;
  }
  const smoke = d.smokeTest;
  if (options.smokeTest && smoke) await timed(ctx, 'smoke test', () => runSmokeTest(ctx, result, smoke));
  else if (options.smokeTest) reporter.info('No smokeTest in the spec: smoke test skipped.');
  return result;
}

function deployFailure(ctx: RegionContext, stackName: string, type: 'CREATE' | 'UPDATE', watched: Watched): DeployError {
  const f = watched.firstFailure;
  const reason = f?.ResourceStatusReason ?? watched.statusReason;
  const advice = adviceFor(reason, { deployment: ctx.deployment, locate: ctx.options.selection.spec.locate.bind(ctx.options.selection.spec) });
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
