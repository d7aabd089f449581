/**
 * The deploy: for each region, check the stack can be touched, check quotas, render, make a change
 * set, show it, execute it while streaming events, then prove the endpoint serves the new version.
 * Nothing mutates before every read-only check has passed.
 *
 * Beside this file: region.ts (the run's working set), execute.ts (execute, watch, verify),
 * smoke.ts, template-upload.ts, stack-outputs.ts, summary.ts.
 */
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { awsClient, partitionOf } from '../core/aws';
import { DeployError, errorMessage, explainAwsError } from '../core/errors';
import type { RunContext } from '../core/action';
import type { Target } from '../config/select';
import type { Deployment } from '../config/types';
import { ensureApiKeySecret } from '../keys/secret';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { changeKind, changeSetName, createChangeSet, deleteChangeSet, renderChangesMarkdown, waitForChangeSet, ChangeSetDescription } from './changeset';
import { checkEndpointHost } from './certificate';
import { destroyStack, previewDestroy } from './destroy';
import { executeAndVerify } from './execute';
import { checkQuotas, sagemakerUsage } from './quotas';
import { clientToken, DeployFlowOptions, DeployRequest, parseRegionMap, RegionContext, RegionResult, timed } from './region';
import { renderStack } from './render';
import { describeStack, stackOutputs } from '../core/stack';
import { wantsTerminationProtection } from '../config/production';
import { assessStack, deleteFailedStack, isEmptyChangeSet, StackPlan } from './stack-state';
import { endpointFacts } from './stack-outputs';
import { summaryMarkdown } from './summary';
import { needsUpload, uploadTemplate } from './template-upload';
import type { RenderedStack, RenderStackInput } from './types';
import { checkInputsResolved, checkRenderedResolved } from './unresolved';
import { checkPinnedWeights, parsePinnedVersions } from './pinned-weights';

export { DEPLOY_MODES } from './region';
export type { DeployMode, DeployRequest, DeployFlowOptions, RegionResult, RegionStatus, Timing } from './region';
export { TEMPLATE_BODY_LIMIT } from './template-upload';

/** deploy-endpoint's one domain call: the target's stack in each of its regions, one after the other. */
export async function deployEndpoint(target: Target, request: DeployRequest, run: RunContext): Promise<RegionResult[]> {
  const options: DeployFlowOptions = { ...request, selection: target, env: run.env, reporter: run.reporter, signal: run.signal };
  const { selection, reporter } = options;
  const [firstRegion] = selection.regions;
  if (!firstRegion) throw new DeployError(`Deployment ${selection.deployment.name} has no region.`, { location: selection.deployment.source });
  const where = `${selection.deployment.name}${selection.environmentName ? ` in ${selection.environmentName}` : ''}`;
  const perRegion = {
    images: parseRegionMap('image-uris', options.imageUris, selection.regions, where),
    weights: parseRegionMap('model-data-urls', options.modelDataUrls, selection.regions, where),
    pinned: parsePinnedVersions(options.modelDataVersions, selection.regions),
  };
  const account = await resolveAccount(options, firstRegion);
  const results: RegionResult[] = [];
  for (const region of selection.regions) {
    const inputs = { imageUri: perRegion.images[region] ?? options.imageUri, modelDataUrl: perRegion.weights[region] ?? options.modelDataUrl };
    if (options.mode !== 'destroy' && options.mode !== 'destroy-preview') {
      const checked = await checkPinnedWeights({ region, account, modelDataUrl: inputs.modelDataUrl, pinned: perRegion.pinned[region], credentials: options.credentials });
      if (checked > 0) reporter.info(`${region}: the ${checked} promoted weight object(s) are the versions promote-model copied.`);
    }
    const result = await reporter.group(`${options.mode}: ${selection.deployment.name} in ${region}`, () => deployRegion(options, region, account, inputs));
    await reporter.summary(summaryMarkdown(options, result));
    results.push(result);
  }
  return results;
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

// ---- one region -------------------------------------------------------------------------------

type RegionInputs = Pick<RegionContext, 'imageUri' | 'modelDataUrl'>;

async function deployRegion(options: DeployFlowOptions, region: string, account: string, inputs: RegionInputs): Promise<RegionResult> {
  const ctx = regionContext(options, region, account, inputs);
  const base = emptyResult(ctx);
  if (options.mode === 'destroy') return destroyRegion(ctx, base);
  if (options.mode === 'destroy-preview') return previewDestroyRegion(ctx, base);
  const name = resolveChangeSetName(options);
  const plan = await timed(ctx, 'stack state', async () => assessStack(await describeStack(ctx.cfn, base.stackName), base.stackName, region));
  const prepared = options.mode === 'execute-only' ? await prepareExisting(ctx, base, name, plan) : await prepareNew(ctx, base, name, plan);
  if ('status' in prepared) return prepared;
  const protection = prepared.rendered?.terminationProtection ?? wantsTerminationProtection(options.selection.environmentName, options.selection.environment);
  return executeAndVerify(ctx, base, prepared.cs, plan.changeSetType, protection);
}

function regionContext(options: DeployFlowOptions, region: string, account: string, inputs: RegionInputs): RegionContext {
  const now = options.pollOverrides?.now ?? Date.now;
  const cfn = awsClient(CloudFormationClient, { region, credentials: options.credentials });
  return { options, region, account, deadline: now() + options.timeoutMinutes * 60000, cfn, deployment: options.selection.deployment, ...inputs, timings: [], now };
}

function emptyResult(ctx: RegionContext): RegionResult {
  const { names } = ctx.options.selection;
  return { region: ctx.region, status: 'no-changes', stackName: names.stack, endpointName: names.endpoint, changesMarkdown: '', hasChanges: false, outputs: {}, timings: ctx.timings };
}

async function destroyRegion(ctx: RegionContext, base: RegionResult): Promise<RegionResult> {
  const { options, cfn, region, account } = ctx;
  const result = await timed(ctx, 'destroy', () =>
    destroyStack({
      cfn, stackName: base.stackName, region, account, deployment: ctx.deployment, environmentName: options.selection.environmentName, reporter: options.reporter,
      deadline: ctx.deadline, token: clientToken(options.env, region, 'delete', base.stackName), signal: options.signal, pollOverrides: options.pollOverrides,
      deleteLogs: options.deleteLogs, credentials: options.credentials,
    }),
  );
  return { ...base, status: result.existed ? 'destroyed' : 'nothing-to-destroy', stackId: result.stackId, changesMarkdown: result.markdown, hasChanges: result.existed };
}

/** destroy-preview: reads only (the stack, its resources, its template), so destroy.yml can show it before the confirmation. */
async function previewDestroyRegion(ctx: RegionContext, base: RegionResult): Promise<RegionResult> {
  const { options, cfn, region, account } = ctx;
  const result = await timed(ctx, 'destroy preview', () =>
    previewDestroy({
      cfn, stackName: base.stackName, region, account, deployment: ctx.deployment, environmentName: options.selection.environmentName, reporter: options.reporter,
      deleteLogs: options.deleteLogs, credentials: options.credentials,
    }),
  );
  await options.reporter.summary(result.markdown);
  return { ...base, status: result.existed ? 'destroy-previewed' : 'nothing-to-destroy', stackId: result.stackId, changesMarkdown: result.markdown, hasChanges: result.existed };
}

function resolveChangeSetName(options: DeployFlowOptions): string {
  const name = changeSetName(options.env.sha, options.changeSetName) ?? (options.mode === 'execute-only' ? undefined : `md-local-${Date.now().toString(36)}`);
  if (!name) {
    throw new DeployError('execute-only needs the name of the change set to execute, and GITHUB_SHA is not set to derive it.', {
      title: 'Missing input',
      hint: 'Pass change-set-name (the create-only run printed it), or run in GitHub Actions where md-<sha7> is derived from the commit.',
    });
  }
  return name;
}

/** A change set ready to execute (and what it was rendered from), or the region's final result. */
type Prepared = { cs: ChangeSetDescription; rendered?: RenderedStack } | RegionResult;

/** execute-only: find the change set create-only made for this commit, and check it can run. */
async function prepareExisting(ctx: RegionContext, base: RegionResult, name: string, plan: StackPlan): Promise<Prepared> {
  const { options, region } = ctx;
  const stackName = base.stackName;
  if (plan.deleteFirst) {
    throw new DeployError(`Stack ${stackName} is in ROLLBACK_COMPLETE: its change sets cannot be executed.`, {
      title: 'Stack needs recreating',
      hint: 'Run with mode create-and-execute: it deletes the failed stack and creates it again.',
    });
  }
  const cs = await timed(ctx, 'change set', () => findChangeSet(ctx, stackName, name));
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
  await options.reporter.summary(base.changesMarkdown);
  await quotaCheck(ctx, cs, Boolean(plan.stack && plan.changeSetType === 'UPDATE'));
  return { cs };
}

async function findChangeSet(ctx: RegionContext, stackName: string, name: string): Promise<ChangeSetDescription> {
  const { options, cfn } = ctx;
  try {
    return await waitForChangeSet({ cfn, stackName, changeSet: name, deadline: ctx.deadline, signal: options.signal, pollOverrides: options.pollOverrides });
  } catch (err) {
    if (/ChangeSetNotFound|does not exist/i.test(`${(err as Error).name} ${errorMessage(err)}`)) {
      throw new DeployError(`No change set ${name} on stack ${stackName} in ${ctx.region}.`, {
        title: 'Change set not found',
        hint: `Run mode create-only for this commit first (it creates ${name}), pass the name it printed as change-set-name, or use create-and-execute.`,
      });
    }
    throw err;
  }
}

/** create-and-execute / create-only: check quotas, render, make the change set, show it. */
async function prepareNew(ctx: RegionContext, base: RegionResult, name: string, plan: StackPlan): Promise<Prepared> {
  const { options, region } = ctx;
  checkInputsResolved(ctx.deployment, ctx);
  await checkEndpointHost(ctx.deployment, region, options.reporter, options.describeCertificate);
  // Before anything mutates: no change set yet, so an update of a SageMaker stack counts as blue/green.
  await quotaCheck(ctx, undefined, plan.changeSetType === 'UPDATE');
  const rendered = await renderWithSecret(ctx);
  base.endpointName = rendered.endpointName;
  if (plan.deleteFirst && options.mode === 'create-only') return previewRecreate(ctx, base);
  const cs = await timed(ctx, 'change set', () => createAndWait(ctx, base.stackName, name, plan, rendered));
  base.changeSetId = cs.id;
  if (isEmptyChangeSet(cs.status, cs.statusReason)) return finishEmpty(ctx, base, cs, name);
  if (cs.status !== 'CREATE_COMPLETE') {
    throw new DeployError(`Change set ${name} on ${base.stackName} failed: ${cs.statusReason ?? cs.status}`, {
      title: 'Change set failed',
      hint: 'CloudFormation rejected the template or its parameters; nothing was changed. Fix what the reason names and deploy again.',
    });
  }
  base.changesMarkdown = renderChangesMarkdown(cs.changes, { stackName: base.stackName, changeSetName: name, region });
  base.hasChanges = true;
  await options.reporter.summary(base.changesMarkdown);
  if (options.mode === 'create-only') {
    options.reporter.info(`create-only: change set ${name} is ready. Execute it with mode execute-only (same commit) or \`aws cloudformation execute-change-set --change-set-name ${cs.id}\`.`);
    return { ...base, status: 'change-set-created' };
  }
  return { cs, rendered };
}

function needsApiKey(d: Deployment): boolean {
  return (d.target === 'ec2' || d.target === 'ecs') && d.apiKey.enabled;
}

/**
 * Renders once with a stand-in secret ARN before anything mutates, so spec problems the templates
 * find stop us first; then ensures the API-key secret and renders with its real ARN.
 */
async function renderWithSecret(ctx: RegionContext): Promise<RenderedStack> {
  const { options, region, account } = ctx;
  const { selection, reporter } = options;
  const d = ctx.deployment;
  const render = options.render ?? renderStack;
  const renderInput = (apiKeySecretArn?: string): RenderStackInput => ({
    deployment: d, region, account, environmentName: selection.environmentName, environment: selection.environment,
    imageUri: ctx.imageUri, modelDataUrl: ctx.modelDataUrl, apiKeySecretArn,
  });
  const probeArn = needsApiKey(d) ? `arn:${partitionOf(region)}:secretsmanager:${region}:${account}:secret:${selection.names.apiKeySecret}-AbCdEf` : undefined;
  let rendered = await timed(ctx, 'render', async () => render(renderInput(probeArn)));
  checkRenderedResolved(rendered);
  if (needsApiKey(d)) {
    const secret = await timed(ctx, 'api key secret', () =>
      ensureApiKeySecret({ deployment: d, environmentName: selection.environmentName, environment: selection.environment, region, credentials: options.credentials, reporter }),
    );
    if (secret.created) reporter.info(`Created the API-key secret ${secret.secretArn}.`);
    rendered = await render(renderInput(secret.secretArn));
    checkRenderedResolved(rendered);
  }
  for (const note of rendered.notes ?? []) reporter.warning(note, d.source, 'Spec setting adjusted');
  return rendered;
}

/** create-only on a failed first create: say the deploy recreates the stack, touch nothing. */
async function previewRecreate(ctx: RegionContext, base: RegionResult): Promise<RegionResult> {
  const changesMarkdown = `### Change set for \`${base.stackName}\` (${ctx.region})\n\nThe stack is in ROLLBACK_COMPLETE (its first create failed): deploying deletes it and creates every resource again.\n`;
  await ctx.options.reporter.summary(changesMarkdown);
  return { ...base, changesMarkdown, hasChanges: true, status: 'change-set-created' };
}

/** Uploads a large template, deletes a failed first create, creates the change set and waits for it. */
async function createAndWait(ctx: RegionContext, stackName: string, name: string, plan: StackPlan, rendered: RenderedStack): Promise<ChangeSetDescription> {
  const { options, cfn, region } = ctx;
  const d = ctx.deployment;
  const templateUrl = needsUpload(rendered) ? await timed(ctx, 'template upload', () => uploadTemplate(ctx, rendered)) : undefined;
  if (plan.deleteFirst && plan.stack) {
    const stack = plan.stack;
    await timed(ctx, 'delete failed stack', () =>
      deleteFailedStack({ cfn, stack, region, reporter: options.reporter, deadline: ctx.deadline, signal: options.signal, token: clientToken(options.env, region, 'recreate', stack.StackId ?? stackName) }),
    );
  }
  const description = `model-deploy ${d.name}${options.env.sha ? ` at ${options.env.sha.slice(0, 7)}` : ''}${options.env.runUrl ? ` (${options.env.runUrl})` : ''}`;
  const id = await createChangeSet({ cfn, rendered, name, type: plan.changeSetType, templateUrl, description, stackExists: Boolean(plan.stack) && !plan.deleteFirst });
  options.reporter.info(`Change set ${name} (${plan.changeSetType}) created on ${stackName}: ${id}`);
  return waitForChangeSet({ cfn, stackName, changeSet: id, deadline: ctx.deadline, signal: options.signal, pollOverrides: options.pollOverrides });
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
  const { region, deployment: d, options } = ctx;
  const sq = awsClient(ServiceQuotasClient, { region, credentials: options.credentials });
  const sm = awsClient(SageMakerClient, { region, credentials: options.credentials });
  const usage = d.target.startsWith('sagemaker') ? () => sagemakerUsage(sm, d.instanceType, options.selection.names.endpoint) : undefined;
  await timed(ctx, 'quota check', () => checkQuotas({ sq, deployment: d, region, replacesFleet: replacesFleet(cs, stackExists), reporter: options.reporter, usage }));
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
