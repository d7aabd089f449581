/**
 * The deploy: for each region, check the stack can be touched, render, make a change set, show it,
 * check quotas, execute it while streaming events, then prove the endpoint serves the new version.
 * Nothing mutates before every read-only check has passed.
 */
import { createHash } from 'crypto';
import type { Stack } from '@aws-sdk/client-cloudformation';
import { awsClient, Credentials, dnsSuffix, partitionOf } from '../core/aws';
import type { EnvInputs } from '../core/env';
import { DeployError, errorMessage, explainAwsError } from '../core/errors';
import type { Reporter } from '../core/log';
import type { PollOptions } from '../core/poll';
import { artifactBucketName } from '../config/names';
import type { RunContext } from '../core/action';
import type { Target } from '../config/select';
import type { Deployment } from '../config/types';
import { changeKind, changeSetName, createChangeSet, deleteChangeSet, renderChangesMarkdown, waitForChangeSet, ChangeSetDescription } from './changeset';
import { destroyStack } from './destroy';
import { watchStack } from './events';
import { GitHubDeployment, startGitHubDeployment } from './github-deployment';
import { checkQuotas } from './quotas';
import { assessStack, deleteFailedStack, describeStack, ensureTerminationProtection, isEmptyChangeSet, wantsTerminationProtection } from './stack-state';
import { renderStack } from './render';
import type { RenderedStack, RenderStackInput } from './types';
import { adviceFor, readApiKey, smokeTestAsync, smokeTestHttp, smokeTestRealtime, verifySageMakerEndpoint } from './verify';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { ensureApiKeySecret } from '../keys/secret';
import { SageMakerClient } from '../core/sdk/sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as sdk from '@aws-sdk/client-cloudformation';

export const DEPLOY_MODES = ['create-and-execute', 'create-only', 'execute-only', 'destroy'] as const;
export type DeployMode = (typeof DEPLOY_MODES)[number];

/** CloudFormation takes template bodies up to this size; larger ones must come from S3. */
export const TEMPLATE_BODY_LIMIT = 51200;

/** What deploy-endpoint asks for, beyond the target. */
export interface DeployRequest {
  mode: DeployMode;
  imageUri?: string;
  modelDataUrl?: string;
  timeoutMinutes: number;
  failOnEmptyChangeSet: boolean;
  skipQuotaCheck: boolean;
  smokeTest: boolean;
  templateBucket?: string;
  /** Default md-<sha7> from GITHUB_SHA. */
  changeSetName?: string;
  githubToken?: string;
  /** Seams for tests: credentials, the renderer, the pollers' clock and sleep, fetch. */
  credentials?: Credentials;
  render?: (input: RenderStackInput) => RenderedStack | Promise<RenderedStack>;
  pollOverrides?: Partial<Pick<PollOptions<unknown>, 'sleep' | 'now' | 'random'>>;
  fetchImpl?: typeof fetch;
}

/** The flow's working set: the request, the target, and the run context in one object. */
export interface DeployFlowOptions extends DeployRequest {
  selection: Target;
  env: EnvInputs;
  reporter: Reporter;
  signal?: AbortSignal;
}

export interface Timing {
  step: string;
  ms: number;
}

export type RegionStatus = 'deployed' | 'no-changes' | 'change-set-created' | 'destroyed' | 'nothing-to-destroy';

export interface RegionResult {
  region: string;
  status: RegionStatus;
  stackName: string;
  stackId?: string;
  endpointName: string;
  endpointArn?: string;
  endpointUrl?: string;
  changeSetId?: string;
  changesMarkdown: string;
  hasChanges: boolean;
  outputs: Record<string, string>;
  timings: Timing[];
}

function elapsed(ms: number): string {
  return ms < 60000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}

async function resolveRender(options: DeployFlowOptions): Promise<(input: RenderStackInput) => RenderedStack | Promise<RenderedStack>> {
  if (options.render) return options.render;
  return renderStack;
}

/** The account the credentials belong to; refuses to deploy an environment into another account. */
async function resolveAccount(options: DeployFlowOptions, region: string): Promise<string> {
  const sts = awsClient(STSClient, { region, credentials: options.credentials });
  let account: string | undefined;
  try {
    account = (await sts.send(new GetCallerIdentityCommand({}))).Account;
  } catch (err) {
    throw explainAwsError(err, 'Checking the AWS identity (sts:GetCallerIdentity)');
  }
  const { environment, environmentName, spec } = options.selection;
  if (environment?.account && account && environment.account !== account) {
    throw new DeployError(`The AWS credentials are for account ${account}, but environment ${environmentName} is account ${environment.account}.`, {
      title: 'Wrong AWS account',
      location: spec.locate(['environments', environmentName ?? '', 'account']),
      hint: `Assume the environment's role (${environment.roleArn ?? 'environments.' + environmentName + '.roleArn'}) with configure-aws-credentials before this step.`,
    });
  }
  if (!account) throw new DeployError('STS returned no account id.');
  return account;
}

function clientToken(env: EnvInputs, region: string, what: string): string {
  const run = env.get('GITHUB_RUN_ID') ?? 'local';
  const attempt = env.get('GITHUB_RUN_ATTEMPT') ?? '1';
  return `md-${what}-${run}-${attempt}-${region}-${Date.now().toString(36)}`.replace(/[^a-zA-Z0-9-]/g, '-').slice(0, 128);
}

function pickOutput(outputs: Record<string, string>, exact: string[], suffix: RegExp, valueTest?: RegExp): string | undefined {
  for (const key of exact) if (outputs[key]) return outputs[key];
  const found = Object.entries(outputs).find(([k, v]) => suffix.test(k) && (!valueTest || valueTest.test(v)));
  return found?.[1];
}

function stackOutputs(stack: Stack | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of stack?.Outputs ?? []) if (o.OutputKey) out[o.OutputKey] = o.OutputValue ?? '';
  return out;
}

/** Uploads a large template to S3 (content-addressed, so re-runs reuse it) and returns its HTTPS URL. */
async function uploadTemplate(options: DeployFlowOptions, rendered: RenderedStack, region: string, account: string): Promise<string> {
  const s3 = awsClient(S3Client, { region, credentials: options.credentials });
  const bucket = options.templateBucket ?? options.selection.environment?.artifactBucket ?? artifactBucketName(account, region);
  const digest = createHash('sha256').update(rendered.templateBody).digest('hex').slice(0, 16);
  const key = `templates/${rendered.stackName}/${digest}.json`;
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: rendered.templateBody,
        ContentType: 'application/json',
        // Never hand our template to a bucket someone else owns under that name.
        ExpectedBucketOwner: options.templateBucket ? undefined : account,
      }),
    );
  } catch (err) {
    if (/NoSuchBucket/.test(`${(err as Error).name} ${errorMessage(err)}`)) {
      throw new DeployError(`The template is over ${TEMPLATE_BODY_LIMIT} bytes and must go through S3, but bucket ${bucket} does not exist.`, {
        title: 'Template bucket missing',
        hint: 'Run build-model first (it creates the artifact bucket), or name an existing bucket in the template-bucket input.',
      });
    }
    throw explainAwsError(err, `Uploading the template to s3://${bucket}/${key}`);
  }
  options.reporter.info(`Template is ${Buffer.byteLength(rendered.templateBody)} bytes: uploaded to s3://${bucket}/${key}.`);
  return `https://${bucket}.s3.${region}.${dnsSuffix(region)}/${key}`;
}

interface RegionContext {
  options: DeployFlowOptions;
  region: string;
  account: string;
  deadline: number;
  cfn: CloudFormationClient;
  deployment: Deployment;
  timings: Timing[];
  now: () => number;
}

async function timed<T>(ctx: RegionContext, step: string, fn: () => Promise<T>): Promise<T> {
  const start = ctx.now();
  try {
    return await fn();
  } finally {
    ctx.timings.push({ step, ms: ctx.now() - start });
  }
}

function needsApiKey(d: Deployment): boolean {
  return (d.target === 'ec2' || d.target === 'ecs') && d.apiKey.enabled;
}

/** True when the change set replaces the SageMaker endpoint config (a new fleet beside the old one). */
function replacesFleet(cs: ChangeSetDescription | undefined, stackExists: boolean): boolean {
  if (!stackExists) return false;
  if (!cs) return true;
  return cs.changes.some((c) => c.ResourceChange?.ResourceType === 'AWS::SageMaker::EndpointConfig' && ['add', 'replace', 'maybe-replace'].includes(changeKind(c.ResourceChange)));
}

async function quotaCheck(ctx: RegionContext, cs: ChangeSetDescription | undefined, stackExists: boolean): Promise<void> {
  if (ctx.options.skipQuotaCheck) {
    ctx.options.reporter.info('Service Quotas check skipped (skip-quota-check).');
    return;
  }
  const sq = awsClient(ServiceQuotasClient, { region: ctx.region, credentials: ctx.options.credentials });
  await timed(ctx, 'quota check', () => checkQuotas({ sq, deployment: ctx.deployment, region: ctx.region, replacesFleet: replacesFleet(cs, stackExists), reporter: ctx.options.reporter }));
}

function githubEnvironment(options: DeployFlowOptions, region: string): string {
  const base = options.selection.environmentName ?? options.selection.deployment.name;
  return options.selection.regions.length > 1 ? `${base}-${region}` : base;
}

async function deployRegion(options: DeployFlowOptions, region: string, account: string): Promise<RegionResult> {
  const { reporter, selection, mode } = options;
  const d = selection.deployment;
  const now = options.pollOverrides?.now ?? Date.now;
  const cfn = awsClient(CloudFormationClient, { region, credentials: options.credentials });
  const ctx: RegionContext = { options, region, account, deadline: now() + options.timeoutMinutes * 60000, cfn, deployment: d, timings: [], now };
  const stackName = selection.names.stack;
  const base: RegionResult = {
    region,
    status: 'no-changes',
    stackName,
    endpointName: selection.names.endpoint,
    changesMarkdown: '',
    hasChanges: false,
    outputs: {},
    timings: ctx.timings,
  };

  if (mode === 'destroy') {
    const result = await timed(ctx, 'destroy', () =>
      destroyStack({
        cfn, stackName, region, account, deployment: d, environmentName: selection.environmentName, reporter,
        deadline: ctx.deadline, token: clientToken(options.env, region, 'delete'), signal: options.signal, pollOverrides: options.pollOverrides,
      }),
    );
    return { ...base, status: result.existed ? 'destroyed' : 'nothing-to-destroy', stackId: result.stackId, changesMarkdown: result.markdown, hasChanges: result.existed };
  }

  const name = changeSetName(options.env.sha, options.changeSetName) ?? (mode === 'execute-only' ? undefined : `md-local-${Date.now().toString(36)}`);
  if (!name) {
    throw new DeployError('execute-only needs the name of the change set to execute, and GITHUB_SHA is not set to derive it.', {
      title: 'Missing input',
      hint: 'Pass change-set-name (the create-only run printed it), or run in GitHub Actions where md-<sha7> is derived from the commit.',
    });
  }
  const stack = await timed(ctx, 'stack state', () => describeStack(cfn, stackName));
  const plan = assessStack(stack, stackName, region);
  const protection = wantsTerminationProtection(selection.environmentName, selection.environment?.terminationProtection);
  let rendered: RenderedStack | undefined;
  let cs: ChangeSetDescription;

  if (mode === 'execute-only') {
    if (plan.deleteFirst) {
      throw new DeployError(`Stack ${stackName} is in ROLLBACK_COMPLETE: its change sets cannot be executed.`, {
        title: 'Stack needs recreating',
        hint: 'Run with mode create-and-execute: it deletes the failed stack and creates it again.',
      });
    }
    try {
      cs = await timed(ctx, 'change set', () => waitForChangeSet({ cfn, stackName, changeSet: name, deadline: ctx.deadline, signal: options.signal, pollOverrides: options.pollOverrides }));
    } catch (err) {
      if (/ChangeSetNotFound|does not exist/i.test(`${(err as Error).name} ${errorMessage(err)}`)) {
        throw new DeployError(`No change set ${name} on stack ${stackName} in ${region}.`, {
          title: 'Change set not found',
          hint: `Run mode create-only for this commit first (it creates ${name}), pass the name it printed as change-set-name, or use create-and-execute.`,
        });
      }
      throw err;
    }
    base.changeSetId = cs.id;
    if (isEmptyChangeSet(cs.status, cs.statusReason)) return finishEmpty(ctx, base, cs, name);
    if (cs.executionStatus !== 'AVAILABLE') {
      throw new DeployError(`Change set ${name} on ${stackName} cannot be executed: ${cs.status} / ${cs.executionStatus}${cs.statusReason ? ` (${cs.statusReason})` : ''}.`, {
        title: 'Change set not executable',
        hint: 'It was executed already, or the stack changed since it was made: run create-and-execute.',
      });
    }
    base.changesMarkdown = renderChangesMarkdown(cs.changes, { stackName, changeSetName: name, region });
    base.hasChanges = true;
    await reporter.summary(base.changesMarkdown);
    await quotaCheck(ctx, cs, Boolean(stack && plan.changeSetType === 'UPDATE'));
  } else {
    const render = await resolveRender(options);
    const renderInput = (apiKeySecretArn?: string): RenderStackInput => ({
      deployment: d, region, account, environmentName: selection.environmentName, environment: selection.environment,
      imageUri: options.imageUri, modelDataUrl: options.modelDataUrl, apiKeySecretArn,
    });
    // Render once before anything mutates, so spec problems the templates find stop us first.
    const probeArn = needsApiKey(d) ? `arn:${partitionOf(region)}:secretsmanager:${region}:${account}:secret:${selection.names.apiKeySecret}-AbCdEf` : undefined;
    rendered = await timed(ctx, 'render', async () => render(renderInput(probeArn)));
    if (needsApiKey(d)) {
      const secret = await timed(ctx, 'api key secret', () =>
        ensureApiKeySecret({ deployment: d, environmentName: selection.environmentName, environment: selection.environment, region, credentials: options.credentials, reporter }),
      );
      if (secret.created) reporter.info(`Created the API-key secret ${secret.secretArn}.`);
      rendered = await render(renderInput(secret.secretArn));
    }
    for (const note of rendered.notes ?? []) reporter.warning(note, d.source, 'Spec setting adjusted');
    base.endpointName = rendered.endpointName;

    if (plan.deleteFirst && mode === 'create-only') {
      base.changesMarkdown = `### Change set for \`${stackName}\` (${region})\n\nThe stack is in ROLLBACK_COMPLETE (its first create failed): deploying deletes it and creates every resource again.\n`;
      base.hasChanges = true;
      base.status = 'change-set-created';
      await reporter.summary(base.changesMarkdown);
      return base;
    }
    const templateUrl =
      Buffer.byteLength(rendered.templateBody) > TEMPLATE_BODY_LIMIT ? await timed(ctx, 'template upload', () => uploadTemplate(options, rendered!, region, account)) : undefined;
    if (plan.deleteFirst && plan.stack) {
      await timed(ctx, 'delete failed stack', () =>
        deleteFailedStack({ cfn, stack: plan.stack!, region, reporter, deadline: ctx.deadline, signal: options.signal, token: clientToken(options.env, region, 'recreate') }),
      );
    }
    const description = `model-deploy ${d.name}${options.env.sha ? ` at ${options.env.sha.slice(0, 7)}` : ''}${options.env.runUrl ? ` (${options.env.runUrl})` : ''}`;
    cs = await timed(ctx, 'change set', async () => {
      const id = await createChangeSet({
        cfn, rendered: rendered!, name, type: plan.changeSetType, templateUrl, description,
        stackExists: Boolean(plan.stack) && !plan.deleteFirst,
      });
      reporter.info(`Change set ${name} (${plan.changeSetType}) created on ${stackName}: ${id}`);
      return waitForChangeSet({ cfn, stackName, changeSet: id, deadline: ctx.deadline, signal: options.signal, pollOverrides: options.pollOverrides });
    });
    base.changeSetId = cs.id;
    if (isEmptyChangeSet(cs.status, cs.statusReason)) return finishEmpty(ctx, base, cs, name);
    if (cs.status !== 'CREATE_COMPLETE') {
      throw new DeployError(`Change set ${name} on ${stackName} failed: ${cs.statusReason ?? cs.status}`, {
        title: 'Change set failed',
        hint: 'CloudFormation rejected the template or its parameters; nothing was changed. Fix what the reason names and deploy again.',
      });
    }
    base.changesMarkdown = renderChangesMarkdown(cs.changes, { stackName, changeSetName: name, region });
    base.hasChanges = true;
    await reporter.summary(base.changesMarkdown);
    await quotaCheck(ctx, cs, plan.changeSetType === 'UPDATE');
    if (mode === 'create-only') {
      reporter.info(`create-only: change set ${name} is ready. Execute it with mode execute-only (same commit) or \`aws cloudformation execute-change-set --change-set-name ${cs.id}\`.`);
      base.status = 'change-set-created';
      return base;
    }
  }

  return executeAndVerify(ctx, base, cs, plan.changeSetType, rendered?.terminationProtection ?? protection);
}

async function finishEmpty(ctx: RegionContext, base: RegionResult, cs: ChangeSetDescription, name: string): Promise<RegionResult> {
  const { options } = ctx;
  const message = `No changes: stack ${base.stackName} in ${ctx.region} already matches this deployment (${cs.statusReason}).`;
  // An empty change set is useless and would block the next create under the same name.
  await deleteChangeSet(ctx.cfn, base.stackName, cs.id).catch((err) => options.reporter.debug(`could not delete empty change set ${name}: ${errorMessage(err)}`));
  if (options.failOnEmptyChangeSet) {
    throw new DeployError(message, {
      title: 'Empty change set',
      hint: 'fail-on-empty-changeset is true. Change the spec, image or weights, or set fail-on-empty-changeset: false to accept a no-op deploy.',
    });
  }
  options.reporter.notice(message, 'Nothing to deploy');
  const stack = await describeStack(ctx.cfn, base.stackName);
  const outputs = stackOutputs(stack);
  return {
    ...base,
    status: 'no-changes',
    changeSetId: undefined,
    stackId: stack?.StackId,
    changesMarkdown: `### Change set for \`${base.stackName}\` (${ctx.region})\n\nNo changes.\n`,
    hasChanges: false,
    outputs,
    ...endpointFacts(ctx, base.endpointName, outputs),
  };
}

function endpointFacts(ctx: RegionContext, fallbackName: string, outputs: Record<string, string>): Pick<RegionResult, 'endpointName' | 'endpointArn' | 'endpointUrl'> {
  const d = ctx.deployment;
  const endpointName = outputs.EndpointName || outputs.ServiceName || fallbackName;
  let endpointUrl = pickOutput(outputs, ['EndpointUrl', 'EndpointURL', 'ServiceUrl', 'LoadBalancerUrl'], /Url$/i, /^https?:\/\//);
  if (!endpointUrl && d.target.startsWith('sagemaker')) {
    endpointUrl = `https://runtime.sagemaker.${ctx.region}.${dnsSuffix(ctx.region)}/endpoints/${endpointName}/${d.target === 'sagemaker-async' ? 'async-invocations' : 'invocations'}`;
  }
  let endpointArn = pickOutput(outputs, ['EndpointArn', 'ServiceArn', 'LoadBalancerArn'], /Arn$/, /^arn:/);
  if (!endpointArn && d.target.startsWith('sagemaker')) {
    endpointArn = `arn:${partitionOf(ctx.region)}:sagemaker:${ctx.region}:${ctx.account}:endpoint/${endpointName.toLowerCase()}`;
  }
  return { endpointName, endpointArn, endpointUrl };
}

async function executeAndVerify(ctx: RegionContext, base: RegionResult, cs: ChangeSetDescription, type: 'CREATE' | 'UPDATE', protection: boolean): Promise<RegionResult> {
  const { options, cfn, region } = ctx;
  const { reporter, selection } = options;
  const d = ctx.deployment;
  const github: GitHubDeployment | undefined = await startGitHubDeployment({
    token: options.githubToken,
    env: options.env,
    environment: githubEnvironment(options, region),
    description: `${d.name} to ${region} (${cs.name})`,
    production: selection.environmentName === 'prod',
    reporter,
  });
  try {
    const token = clientToken(options.env, region, 'deploy');
    try {
      await cfn.send(new sdk.ExecuteChangeSetCommand({ ChangeSetName: cs.id, StackName: base.stackName, ClientRequestToken: token }));
    } catch (err) {
      throw explainAwsError(err, `Executing change set ${cs.name}`);
    }
    reporter.info(`Executing ${cs.name} on ${base.stackName} (${region}); events follow.`);
    const stackId = cs.stackId ?? base.stackName;
    let watched;
    try {
      watched = await timed(ctx, 'stack execution', () =>
        reporter.group(`Stack events: ${base.stackName} (${region})`, () =>
          watchStack({ cfn, stackId, token, reporter, deadline: ctx.deadline, signal: options.signal, what: `stack ${base.stackName} to deploy`, pollOverrides: options.pollOverrides }),
        ),
      );
    } catch (err) {
      if (options.signal?.aborted && type === 'UPDATE') {
        // Cancelled workflow: roll the update back rather than leave it running unwatched.
        await cfn.send(new sdk.CancelUpdateStackCommand({ StackName: stackId })).then(
          () => reporter.warning(`Cancelled: asked CloudFormation to cancel the update of ${base.stackName}; it rolls back to the previous version.`),
          (e) => reporter.warning(`Cancelled, but CancelUpdateStack failed: ${errorMessage(e)}`),
        );
      }
      throw err;
    }
    if (watched.status !== 'CREATE_COMPLETE' && watched.status !== 'UPDATE_COMPLETE') throw deployFailure(ctx, base.stackName, type, watched);
    reporter.info(`Stack ${base.stackName} is ${watched.status} (${watched.events} events).`);

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
    if (options.smokeTest && d.smokeTest) await timed(ctx, 'smoke test', () => runSmokeTest(ctx, result));
    else if (options.smokeTest) reporter.info('No smokeTest in the spec: smoke test skipped.');

    await github?.update('success', { environmentUrl: result.endpointUrl, description: `${d.name} deployed (${cs.name})` });
    return result;
  } catch (err) {
    await github?.update('failure', { description: errorMessage(err).split('\n')[0] });
    throw err;
  }
}

function deployFailure(ctx: RegionContext, stackName: string, type: 'CREATE' | 'UPDATE', watched: Awaited<ReturnType<typeof watchStack>>): DeployError {
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

async function runSmokeTest(ctx: RegionContext, result: RegionResult): Promise<void> {
  const { options, region } = ctx;
  const d = ctx.deployment;
  const smoke = d.smokeTest!;
  const { reporter } = options;
  if (d.target === 'sagemaker-realtime') {
    const runtime = awsClient(SageMakerRuntimeClient, { region, credentials: options.credentials });
    await smokeTestRealtime({ runtime, endpointName: result.endpointName, smoke, reporter });
    return;
  }
  if (d.target === 'sagemaker-async') {
    const runtime = awsClient(SageMakerRuntimeClient, { region, credentials: options.credentials });
    const s3 = awsClient(S3Client, { region, credentials: options.credentials });
    const bucket = options.templateBucket ?? options.selection.environment?.artifactBucket ?? artifactBucketName(ctx.account, region);
    const key = `smoke-tests/${d.project}/${d.name}/${options.env.sha?.slice(0, 12) ?? 'local'}-${Date.now().toString(36)}.json`;
    const remaining = ctx.deadline - ctx.now();
    await smokeTestAsync({ runtime, s3, endpointName: result.endpointName, smoke, bucket, key, waitMs: Math.max(0, Math.min(remaining, 15 * 60000)), reporter, signal: options.signal, pollOverrides: options.pollOverrides });
    return;
  }
  if (!result.endpointUrl) {
    reporter.warning(`Smoke test skipped: the stack has no URL output for ${d.target}.`, undefined, 'Smoke test skipped');
    return;
  }
  let apiKey: string | undefined;
  if (d.apiKey.enabled) {
    const secretArn = result.outputs.ApiKeySecretArn || options.selection.names.apiKeySecret;
    const secrets = awsClient(SecretsManagerClient, { region, credentials: options.credentials });
    apiKey = await readApiKey(secrets, secretArn, reporter);
  }
  await smokeTestHttp({ url: result.endpointUrl, smoke, apiKey, reporter, fetchImpl: options.fetchImpl });
}

// ---- the whole run ----------------------------------------------------------------------------

function summaryMarkdown(options: DeployFlowOptions, r: RegionResult): string {
  const d = options.selection.deployment;
  const env = options.selection.environmentName ? ` → ${options.selection.environmentName}` : '';
  const statusText: Record<RegionStatus, string> = {
    deployed: '✅ deployed',
    'no-changes': '✅ no changes',
    'change-set-created': '📝 change set created (not executed)',
    destroyed: '🗑️ destroyed',
    'nothing-to-destroy': 'nothing to destroy',
  };
  const rows: [string, string | undefined][] = [
    ['Status', statusText[r.status]],
    ['Stack', `\`${r.stackName}\``],
    ['Change set', r.changeSetId ? `\`${r.changeSetId}\`` : undefined],
    ['Endpoint', r.status === 'destroyed' ? undefined : `\`${r.endpointName}\``],
    ['URL', r.endpointUrl],
  ];
  const total = r.timings.reduce((s, t) => s + t.ms, 0);
  return [
    `## deploy-endpoint: ${d.name}${env} (${r.region})`,
    '',
    '| | |',
    '|---|---|',
    ...rows.filter(([, v]) => v).map(([k, v]) => `| ${k} | ${v} |`),
    '',
    '<details><summary>Timings (' + elapsed(total) + ')</summary>',
    '',
    '| Step | Time |',
    '|---|---|',
    ...r.timings.map((t) => `| ${t.step} | ${elapsed(t.ms)} |`),
    '',
    '</details>',
    '',
  ].join('\n');
}

/** Deploys (or previews, or destroys) the selected deployment in each selected region, in turn. */
/** deploy-endpoint's one domain call: the target's stack in each of its regions, one after the other. */
export async function deployEndpoint(target: Target, request: DeployRequest, run: RunContext): Promise<RegionResult[]> {
  const options: DeployFlowOptions = { ...request, selection: target, env: run.env, reporter: run.reporter, signal: run.signal };
  const { selection, reporter } = options;
  const [firstRegion] = selection.regions;
  if (!firstRegion) throw new DeployError(`Deployment ${selection.deployment.name} has no region.`, { location: selection.deployment.source });
  const account = await resolveAccount(options, firstRegion);
  const results: RegionResult[] = [];
  for (const region of selection.regions) {
    const result = await reporter.group(`${options.mode}: ${selection.deployment.name} in ${region}`, () => deployRegion(options, region, account));
    await reporter.summary(summaryMarkdown(options, result));
    results.push(result);
  }
  return results;
}
