/**
 * The deploy: for each region, check the stack can be touched, check quotas, render, make a change
 * set, show it, execute it while streaming events, then prove the endpoint serves the new version.
 * Nothing mutates before every read-only check has passed.
 *
 * Beside this file: region.ts (the run's working set), execute.ts (execute, watch, verify),
 * smoke.ts, template-upload.ts, stack-outputs.ts, summary.ts.
 */
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { awsClient, partitionOf } from '../core/aws';
import { DeployError, errorMessage, isNotFound } from '../core/errors';
import { formatArn } from '../core/arn';
import type { RunContext } from '../core/action';
import { checkEnvironmentAccount, Target } from '../config/select';
import { callerIdentity } from '../core/identity';
import type { Deployment } from '../config/types';
import { ensureApiKeySecret } from '../keys/secret';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { changeKind, changeSetName, createChangeSet, deleteChangeSet, renderChangesMarkdown, waitForChangeSet, ChangeSetDescription } from './changeset';
import { checkEndpointHost } from './certificate';
import { destroyStack, previewDestroy } from './destroy';
import { executeAndVerify, reconcileOwned } from './execute';
import { checkQuotas, sagemakerUsage } from './quotas';
import { clientToken, DeployRequest, parseRegionMap, RegionContext, RegionResult, timed } from './region';
import { renderStack } from './render';
import { describeStack, stackOutputs } from '../core/stack';
import { wantsTerminationProtection } from '../config/production';
import { assessStack, deleteFailedStack, isEmptyChangeSet, StackPlan } from './stack-state';
import { endpointFacts } from './stack-outputs';
import { needsUpload, uploadTemplate } from './template-upload';
import type { RenderedStack, RenderStackInput } from './types';
import { checkInputsResolved, checkRenderedResolved } from './unresolved';
import { checkPinnedWeights, parsePinnedVersions } from './pinned-weights';
import { checkBeforeCreate } from '../fit/check';
import { preflightChecks } from './preflight';
import { deployWithCapacityFallback } from './capacity';
import { credentialsForWait } from '../core/wait-credentials';
import { resumeRegion } from './resume';

export { DEPLOY_MODES } from './region';
export type { DeployMode, DeployRequest, RegionResult, RegionStatus, Timing } from './region';
export { TEMPLATE_BODY_LIMIT } from './template-upload';

/** deploy-endpoint's one domain call: the target's stack in each of its regions, one after the other. */
export async function deployEndpoint(target: Target, asked: DeployRequest, run: RunContext): Promise<RegionResult[]> {
  const [firstRegion] = target.regions;
  if (!firstRegion) throw new DeployError(`Deployment ${target.deployment.name} has no region.`, { location: target.deployment.source });
  const where = `${target.deployment.name}${target.environmentName ? ` in ${target.environmentName}` : ''}`;
  const perRegion = {
    images: parseRegionMap('image-uris', asked.imageUris, target.regions, where),
    weights: parseRegionMap('model-data-urls', asked.modelDataUrls, target.regions, where),
    pinned: parsePinnedVersions(asked.modelDataVersions, target.regions),
  };
  // Modes that make a change set; destroy and resume change no resource of the deployment.
  const changes = asked.mode !== 'destroy' && asked.mode !== 'destroy-preview' && asked.mode !== 'resume';
  // Before any AWS call: a model that cannot start on its instance type is refused (#22).
  if (changes) await checkBeforeCreate(target.spec, target.deployment, run.reporter);
  const request = await withWaitCredentials(target, asked, run, firstRegion);
  const account = await resolveAccount(target, request, firstRegion);
  const inputsOf = (region: string) => ({ region, imageUri: perRegion.images[region] ?? request.imageUri, modelDataUrl: perRegion.weights[region] ?? request.modelDataUrl });
  if (changes) await preflightChecks({ deployment: target.deployment, environmentName: target.environmentName, account, regions: target.regions.map(inputsOf), reporter: run.reporter, credentials: request.credentials });
  const results: RegionResult[] = [];
  for (const region of target.regions) {
    const inputs = inputsOf(region);
    if (changes) {
      const checked = await checkPinnedWeights({ region, account, modelDataUrl: inputs.modelDataUrl, pinned: perRegion.pinned[region], credentials: request.credentials });
      if (checked > 0) run.reporter.info(`${region}: the ${checked} promoted weight object(s) are the versions promote-model copied.`);
    }
    const ctx = regionContext(target, request, run, region, account, inputs);
    try {
      results.push(await run.reporter.group(`${request.mode}: ${target.deployment.name} in ${region}`, () => deployWithCapacityFallback(ctx, deployRegion)));
    } catch (err) {
      if (err && typeof err === 'object') {
        if (results.length) completed.set(err, [...results]);
        failedAt.set(err, { region, stackName: target.names.stack, timings: ctx.timings });
      }
      throw err;
    }
  }
  return results;
}

/** Credentials that outlive the stack wait (#23.4): renewed under GitHub OIDC, else a warning when they can end first. */
async function withWaitCredentials(target: Target, request: DeployRequest, run: RunContext, region: string): Promise<DeployRequest> {
  if (request.credentials || request.wait === false || request.mode === 'create-only' || request.mode === 'destroy-preview') return request;
  const credentials = await credentialsForWait({
    region, roleArn: target.environment?.roleArn, waitMinutes: request.timeoutMinutes, reporter: run.reporter, env: run.env, now: request.pollOverrides?.now,
  });
  return credentials ? { ...request, credentials } : request;
}

/** The regions a failed deploy finished before the one that failed, kept with the error it threw. */
const completed = new WeakMap<object, RegionResult[]>();

/** The region a failed deployEndpoint failed in, with its stopwatch up to the failure. */
export interface FailedRegion {
  region: string;
  stackName: string;
  timings: RegionResult['timings'];
}
const failedAt = new WeakMap<object, FailedRegion>();

/** Where a failed deployEndpoint stopped (the action's failure summary says it with the reason). */
export function failedRegion(err: unknown): FailedRegion | undefined {
  return err !== null && typeof err === 'object' ? failedAt.get(err) : undefined;
}

/** What a failed deployEndpoint finished before failing (the action still writes their summaries). */
export function completedRegions(err: unknown): RegionResult[] {
  return (err !== null && typeof err === 'object' ? completed.get(err) : undefined) ?? [];
}

/** The account the credentials belong to; refuses to deploy an environment into another account. */
async function resolveAccount(target: Target, request: DeployRequest, region: string): Promise<string> {
  const { account } = await callerIdentity({ region, credentials: request.credentials });
  checkEnvironmentAccount(account, target.environmentName, target.environment, target.spec.locate);
  return account;
}

// ---- one region -------------------------------------------------------------------------------

type RegionInputs = Pick<RegionContext, 'imageUri' | 'modelDataUrl'>;

function regionContext(target: Target, request: DeployRequest, run: RunContext, region: string, account: string, inputs: RegionInputs): RegionContext {
  const now = request.pollOverrides?.now ?? Date.now;
  const cfn = awsClient(CloudFormationClient, { region, credentials: request.credentials });
  return { target, request, run, region, account, deadline: now() + request.timeoutMinutes * 60000, cfn, ...inputs, timings: [], now };
}

async function deployRegion(ctx: RegionContext): Promise<RegionResult> {
  const { request, target, region } = ctx;
  const base = emptyResult(ctx);
  if (request.mode === 'destroy') return destroyRegion(ctx, base);
  if (request.mode === 'destroy-preview') return previewDestroyRegion(ctx, base);
  if (request.mode === 'resume') return resumeRegion(ctx, base);
  const name = resolveChangeSetName(ctx);
  const plan = await timed(ctx, 'stack state', async () => assessStack(await describeStack(ctx.cfn, base.stackName), base.stackName, region));
  const prepared = request.mode === 'execute-only' ? await prepareExisting(ctx, base, name, plan) : await prepareNew(ctx, base, name, plan);
  if ('status' in prepared) return prepared;
  const protection = prepared.rendered?.terminationProtection ?? wantsTerminationProtection(target.environmentName, target.environment);
  return executeAndVerify(ctx, base, prepared.cs, plan.changeSetType, protection);
}

function emptyResult(ctx: RegionContext): RegionResult {
  const { names } = ctx.target;
  return { region: ctx.region, status: 'no-changes', stackName: names.stack, endpointName: names.endpoint, changesMarkdown: '', hasChanges: false, outputs: {}, timings: ctx.timings };
}

async function destroyRegion(ctx: RegionContext, base: RegionResult): Promise<RegionResult> {
  const { target, request, run, cfn, region, account } = ctx;
  const result = await timed(ctx, 'destroy', () =>
    destroyStack({
      cfn, names: target.names, region, account, deployment: target.deployment, environment: target.environmentName, reporter: run.reporter,
      deadline: ctx.deadline, token: clientToken(run.env, region, 'delete', base.stackName), signal: run.signal, pollOverrides: request.pollOverrides,
      deleteLogs: request.deleteLogs, credentials: request.credentials,
    }),
  );
  return { ...base, status: result.existed ? 'destroyed' : 'nothing-to-destroy', stackId: result.stackId, changesMarkdown: result.markdown, hasChanges: result.existed };
}

/** destroy-preview: reads only (the stack, its resources, its template), so destroy.yml can show it before the confirmation. */
async function previewDestroyRegion(ctx: RegionContext, base: RegionResult): Promise<RegionResult> {
  const { target, request, run, cfn, region, account } = ctx;
  const result = await timed(ctx, 'destroy preview', () =>
    previewDestroy({ cfn, names: target.names, region, account, deployment: target.deployment, environment: target.environmentName, reporter: run.reporter, deleteLogs: request.deleteLogs, credentials: request.credentials }),
  );
  await run.reporter.summary(result.markdown);
  return { ...base, status: result.existed ? 'destroy-previewed' : 'nothing-to-destroy', stackId: result.stackId, changesMarkdown: result.markdown, hasChanges: result.existed };
}

function resolveChangeSetName({ request, run }: RegionContext): string {
  const name = changeSetName(run.env.sha, request.changeSetName) ?? (request.mode === 'execute-only' ? undefined : `md-local-${Date.now().toString(36)}`);
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
  const { run, region } = ctx;
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
  await run.reporter.summary(base.changesMarkdown);
  await quotaCheck(ctx, cs, Boolean(plan.stack && plan.changeSetType === 'UPDATE'));
  return { cs };
}

async function findChangeSet(ctx: RegionContext, stackName: string, name: string): Promise<ChangeSetDescription> {
  const { request, run, cfn } = ctx;
  try {
    return await waitForChangeSet({ cfn, stackName, changeSet: name, deadline: ctx.deadline, signal: run.signal, pollOverrides: request.pollOverrides });
  } catch (err) {
    if (isNotFound(err)) {
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
  const { request, run, region } = ctx;
  const d = ctx.target.deployment;
  checkInputsResolved(d, ctx);
  await checkEndpointHost(d, region, run.reporter, request.describeCertificate, ctx.target.environmentName);
  // Before anything mutates: no change set yet, so an update of a SageMaker stack counts as blue/green.
  await quotaCheck(ctx, undefined, plan.changeSetType === 'UPDATE');
  const rendered = await renderWithSecret(ctx);
  base.endpointName = rendered.endpointName;
  if (plan.deleteFirst && request.mode === 'create-only') return previewRecreate(ctx, base);
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
  await run.reporter.summary(base.changesMarkdown);
  if (request.mode === 'create-only') {
    run.reporter.info(`create-only: change set ${name} is ready. Execute it with mode execute-only (same commit) or \`aws cloudformation execute-change-set --change-set-name ${cs.id}\`.`);
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
  const { target, request, run, region, account } = ctx;
  const { reporter } = run;
  const d = target.deployment;
  const render = request.render ?? renderStack;
  const renderInput = (apiKeySecretArn?: string): RenderStackInput => ({
    deployment: d, names: target.names, region, account, environmentName: target.environmentName, environment: target.environment,
    imageUri: ctx.imageUri, modelDataUrl: ctx.modelDataUrl, apiKeySecretArn,
  });
  const probeArn = needsApiKey(d) ? formatArn({ partition: partitionOf(region), service: 'secretsmanager', region, account, resource: `secret:${target.names.apiKeySecret}-AbCdEf` }) : undefined;
  let rendered = await timed(ctx, 'render', async () => render(renderInput(probeArn)));
  checkRenderedResolved(rendered);
  if (needsApiKey(d)) {
    const secret = await timed(ctx, 'api key secret', () =>
      ensureApiKeySecret({ deployment: d, secretName: target.names.apiKeySecret, environmentName: target.environmentName, environment: target.environment, region, credentials: request.credentials, reporter }),
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
  await ctx.run.reporter.summary(changesMarkdown);
  return { ...base, changesMarkdown, hasChanges: true, status: 'change-set-created' };
}

/** Uploads a large template, deletes a failed first create, creates the change set and waits for it. */
async function createAndWait(ctx: RegionContext, stackName: string, name: string, plan: StackPlan, rendered: RenderedStack): Promise<ChangeSetDescription> {
  const { request, run, cfn, region } = ctx;
  const { env, reporter } = run;
  const d = ctx.target.deployment;
  const templateUrl = needsUpload(rendered) ? await timed(ctx, 'template upload', () => uploadTemplate(ctx, rendered)) : undefined;
  if (plan.deleteFirst && plan.stack) {
    const stack = plan.stack;
    await timed(ctx, 'delete failed stack', () =>
      deleteFailedStack({ cfn, stack, region, reporter, deadline: ctx.deadline, signal: run.signal, token: clientToken(env, region, 'recreate', stack.StackId ?? stackName) }),
    );
  }
  const description = `model-deploy ${d.name}${env.sha ? ` at ${env.sha.slice(0, 7)}` : ''}${env.runUrl ? ` (${env.runUrl})` : ''}`;
  const id = await createChangeSet({ cfn, rendered, name, type: plan.changeSetType, templateUrl, description, stackExists: Boolean(plan.stack) && !plan.deleteFirst });
  reporter.info(`Change set ${name} (${plan.changeSetType}) created on ${stackName}: ${id}`);
  return waitForChangeSet({ cfn, stackName, changeSet: id, deadline: ctx.deadline, signal: run.signal, pollOverrides: request.pollOverrides });
}

/** True when the change set replaces the SageMaker endpoint config (a new fleet beside the old one). */
function replacesFleet(cs: ChangeSetDescription | undefined, stackExists: boolean): boolean {
  if (!stackExists) return false;
  if (!cs) return true;
  return cs.changes.some((c) => c.ResourceChange?.ResourceType === 'AWS::SageMaker::EndpointConfig' && ['add', 'replace', 'maybe-replace'].includes(changeKind(c.ResourceChange)));
}

async function quotaCheck(ctx: RegionContext, cs: ChangeSetDescription | undefined, stackExists: boolean): Promise<void> {
  const { target, request, run, region } = ctx;
  if (request.skipQuotaCheck) {
    run.reporter.info('Service Quotas check skipped (skip-quota-check).');
    return;
  }
  const d = target.deployment;
  const sq = awsClient(ServiceQuotasClient, { region, credentials: request.credentials });
  const sm = awsClient(SageMakerClient, { region, credentials: request.credentials });
  const usage = d.target.startsWith('sagemaker') ? () => sagemakerUsage(sm, d.instanceType, target.names.endpoint) : undefined;
  await timed(ctx, 'quota check', () => checkQuotas({ sq, deployment: d, region, replacesFleet: replacesFleet(cs, stackExists), reporter: run.reporter, usage }));
}

async function finishEmpty(ctx: RegionContext, base: RegionResult, cs: ChangeSetDescription, name: string): Promise<RegionResult> {
  const { request, run } = ctx;
  const message = `No changes: stack ${base.stackName} in ${ctx.region} already matches this deployment (${cs.statusReason}).`;
  await reconcileOwned(ctx);
  // An empty change set is useless and would block the next create under the same name.
  await deleteChangeSet(ctx.cfn, base.stackName, cs.id).catch((err) => run.reporter.debug(`could not delete empty change set ${name}: ${errorMessage(err)}`));
  if (request.failOnEmptyChangeSet) {
    throw new DeployError(message, {
      title: 'Empty change set',
      hint: 'fail-on-empty-changeset is true. Change the spec, image or weights, or set fail-on-empty-changeset: false to accept a no-op deploy.',
    });
  }
  run.reporter.notice(message, 'Nothing to deploy');
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
