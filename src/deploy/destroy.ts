/**
 * mode: destroy. Deletes the endpoint stack and says exactly what went and what stayed: resources the
 * template retains, and data that never belonged to the stack (weights, async results, captured
 * requests, images, the API-key secret, the log group SageMaker writes the endpoint's logs to).
 */
import { PRODUCTION_ENVIRONMENT } from '../config/production';
import type { CloudFormationClient, Stack, StackResourceSummary } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, DeleteLogGroupCommand, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { awsClient, Credentials } from '../core/aws';
import { refuseBusyStack } from '../core/stack-busy';
import { DeployError, errorMessage, errorName, explainAwsError, isNotFound } from '../core/errors';
import type { Reporter } from '../core/log';
import { artifactBucketName } from '../config/names';
import type { TargetNames } from '../config/select';
import type { Deployment } from '../config/types';
import { asyncLifecyclePlan } from './async-lifecycle';
import { asyncInputLocation, dataCaptureUri } from './render';
import { s3Url } from '../core/s3-location';
import { watchStack, WatchOptions } from './events';
import { describeStack } from '../core/stack';
import { formatBytes } from '../core/bytes';
import * as sdk from '@aws-sdk/client-cloudformation';

export interface DestroyOptions {
  cfn: CloudFormationClient;
  /** The target's names: its stack, and what lives beside it (endpoint log group, repository, secret). */
  names: TargetNames;
  region: string;
  account?: string;
  deployment: Deployment;
  /** The environment destroyed: its folder of the async prefix. */
  environment: string | undefined;
  reporter: Reporter;
  deadline: number;
  token: string;
  signal?: AbortSignal;
  pollOverrides?: WatchOptions['pollOverrides'];
  /** delete-logs: also delete the SageMaker endpoint's log group once the stack is gone. */
  deleteLogs?: boolean;
  credentials?: Credentials;
}

export interface DestroyResult {
  existed: boolean;
  stackId?: string;
  removed: string[];
  kept: string[];
  markdown: string;
}

const RETAINING = new Set(['Retain', 'RetainExceptOnCreate', 'Snapshot']);

function describeResource(r: StackResourceSummary): string {
  return `${r.LogicalResourceId} (${r.ResourceType}${r.PhysicalResourceId ? `: ${r.PhysicalResourceId}` : ''})`;
}

/** Data that lives outside the stack and survives it, with how to remove it. */
function dataKept(d: Deployment, names: TargetNames, region: string, account: string | undefined, environment: string | undefined): string[] {
  const kept: string[] = [];
  if (d.model.s3) kept.push(`model weights at ${d.model.s3}`);
  // Callers put requests in input/ beside the output folder (render.ts): they stay there too.
  if (d.async.outputPath) kept.push(`async results at ${d.async.outputPath} (requests at ${s3Url(asyncInputLocation(d.async.outputPath))})`);
  if (d.async.failurePath) kept.push(`async failures at ${d.async.failurePath}`);
  if (d.target === 'sagemaker-async' && account) {
    const plan = asyncLifecyclePlan(d, region, account, environment);
    if (plan.foreign.length < 2) kept.push(`async requests and results under s3://${plan.bucket}/${plan.prefix} (they expire ${plan.days} days after they were written: lifecycle rule ${plan.ruleId})`);
  }
  const captured = account ? capturedAt(d, region, account, environment) : undefined;
  if (captured) kept.push(`captured requests at ${captured}`);
  if (account) kept.push(`the artifact bucket s3://${artifactBucketName(account, region)} (weights, build sources, templates; shared by every deployment)`);
  kept.push(`images in the ECR repository ${names.repository} (build stack ${names.buildStack})`);
  if (d.apiKey.enabled && (d.target === 'ec2' || d.target === 'ecs')) {
    const secret = names.apiKeySecret;
    kept.push(`the API-key secret ${secret} (\`aws secretsmanager delete-secret --secret-id ${secret} --region ${region}\` removes it)`);
  }
  return kept;
}

/**
 * Where the endpoint wrote its captures: render.ts's placement (the environment's folder), the spec's s3Uri named
 * beside it when that differs. Only a realtime SageMaker endpoint captures; a location render refuses is said as written.
 */
function capturedAt(d: Deployment, region: string, account: string, environment: string | undefined): string | undefined {
  const capture = d.security.dataCapture;
  if (d.target !== 'sagemaker-realtime' || !capture?.enabled) return undefined;
  let placed: string;
  try {
    placed = dataCaptureUri(d, region, account, environment);
  } catch (err) {
    if (err instanceof DeployError && capture.s3Uri) return capture.s3Uri;
    throw err;
  }
  return capture.s3Uri && capture.s3Uri !== placed ? `${placed} (the spec's s3Uri ${capture.s3Uri} in the environment's folder)` : placed;
}

export async function destroyStack(options: DestroyOptions): Promise<DestroyResult> {
  const { cfn, region, reporter } = options;
  const stackName = options.names.stack;
  const stack = await describeStack(cfn, stackName);
  const outside = dataKept(options.deployment, options.names, region, options.account, options.environment);
  if (!stack) {
    reporter.info(`Stack ${stackName} does not exist in ${region}: nothing to delete.`);
    // A destroy run again with delete-logs after the stack went still removes the log group.
    const logs = await endpointLogs(options, true);
    const markdown = [`### Destroy \`${stackName}\` (${region})`, '', logs.removed.length ? 'The stack did not exist.' : 'The stack did not exist: nothing removed.', '', ...section('Removed', logs.removed), ...section('Kept', logs.kept)].join('\n');
    return { existed: false, removed: logs.removed, kept: [...logs.kept, ...outside], markdown };
  }
  refuseUntouchable(stack, stackName, region);
  const stackId = stack.StackId ?? stackName;
  const { resources, retainedIds } = await stackInventory(options, stackId);
  reporter.info(`Deleting stack ${stackName} in ${region} (${resources.length} resources).`);
  await deleteAndWatch(options, stackId);
  // Only now: a live endpoint would write into the group again.
  const logs = await endpointLogs(options, true);
  const removed = [...resources.filter((r) => !retainedIds.has(r.LogicalResourceId ?? '')).map(describeResource), ...logs.removed];
  const retained = resources.filter((r) => retainedIds.has(r.LogicalResourceId ?? '')).map((r) => `${describeResource(r)}: DeletionPolicy keeps it`);
  const kept = [...retained, ...logs.kept, ...outside];
  reporter.info(`Removed ${removed.length} resources; kept: ${kept.length ? kept.join('; ') : 'nothing'}.`);
  return { existed: true, stackId, removed, kept, markdown: destroyedMarkdown(stackName, region, removed, kept) };
}

export type PreviewOptions = Pick<DestroyOptions, 'cfn' | 'names' | 'region' | 'account' | 'deployment' | 'environment' | 'reporter' | 'deleteLogs' | 'credentials'>;

/** What destroy would delete and keep, from reads only; a stack destroy would refuse is said, not thrown. */
export async function previewDestroy(options: PreviewOptions): Promise<DestroyResult> {
  const { cfn, region, reporter } = options;
  const stackName = options.names.stack;
  const stack = await describeStack(cfn, stackName);
  const outside = dataKept(options.deployment, options.names, region, options.account, options.environment);
  const logs = await endpointLogs(options, false);
  if (!stack) {
    reporter.info(`Stack ${stackName} does not exist in ${region}: destroy would delete ${logs.removed.length ? 'only the log group' : 'nothing'}.`);
    const markdown = [`### Destroy \`${stackName}\` would (${region})`, '', logs.removed.length ? 'delete only the log group: the stack does not exist.' : 'delete nothing: the stack does not exist.', '', ...section('Delete', logs.removed), ...section('Keep', logs.kept)].join('\n');
    return { existed: false, removed: logs.removed, kept: [...logs.kept, ...outside], markdown };
  }
  const stackId = stack.StackId ?? stackName;
  const { resources, retainedIds } = await stackInventory({ ...options, cfn }, stackId);
  const removed = [...resources.filter((r) => !retainedIds.has(r.LogicalResourceId ?? '')).map(describeResource), ...logs.removed];
  const retained = resources.filter((r) => retainedIds.has(r.LogicalResourceId ?? '')).map((r) => `${describeResource(r)}: DeletionPolicy keeps it`);
  const kept = [...retained, ...logs.kept, ...outside];
  let refusal: string | undefined;
  try {
    refuseUntouchable(stack, stackName, region);
  } catch (err) {
    refusal = (err as Error).message;
  }
  if (refusal) reporter.warning(refusal, undefined, 'Destroy would refuse');
  const markdown = [
    `### Destroy \`${stackName}\` would (${region})`,
    '',
    ...(refusal ? [`> ⚠️ ${stack.EnableTerminationProtection ? 'termination protection: destroy will refuse' : 'busy: destroy will refuse'}. ${refusal}`, ''] : []),
    ...section('Delete', removed, true),
    ...section('Keep', kept, true),
  ].join('\n');
  return { existed: true, stackId, removed, kept, markdown };
}

/** A markdown list under a bold heading with its count; empty lists are left out unless always. */
function section(title: string, items: string[], always = false): string[] {
  if (!items.length && !always) return [];
  return [`**${title}** (${items.length}):`, ...items.map((i) => `- ${i}`), ''];
}

// ---- the endpoint's log group ------------------------------------------------------------------

/** SageMaker writes an endpoint's logs to this group itself: CloudFormation never owned it, so it outlives the stack. */
function sageMakerLogGroup(d: Deployment, endpointName: string): string | undefined {
  return d.target === 'sagemaker-realtime' || d.target === 'sagemaker-async' ? `/aws/sagemaker/Endpoints/${endpointName}` : undefined;
}

interface LogGroupFacts {
  name: string;
  retentionInDays?: number;
  storedBytes?: number;
}

async function findLogGroup(logs: CloudWatchLogsClient, name: string): Promise<LogGroupFacts | undefined> {
  let nextToken: string | undefined;
  do {
    // A prefix also matches longer names (…-dev and …-dev2): only the exact name counts.
    const page = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name, nextToken }));
    const hit = page.logGroups?.find((g) => g.logGroupName === name);
    if (hit) return { name, retentionInDays: hit.retentionInDays, storedBytes: hit.storedBytes };
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

function logGroupText(f: LogGroupFacts, region: string): string {
  const retention = f.retentionInDays ? `retention ${f.retentionInDays} days` : 'retention: never expires';
  const size = f.storedBytes === undefined ? '' : `, ${formatBytes(f.storedBytes)} stored`;
  return `the SageMaker log group ${f.name} (${region}; ${retention}${size})`;
}

/**
 * The endpoint's log group. With delete-logs it is deleted (apply) or listed for deletion (preview); without,
 * it is listed as kept with the two ways to remove it. A failure to read or delete it is a warning: the
 * stack's own result stands.
 */
async function endpointLogs(options: PreviewOptions, apply: boolean): Promise<{ removed: string[]; kept: string[] }> {
  const { region, reporter } = options;
  const name = sageMakerLogGroup(options.deployment, options.names.endpoint);
  if (!name) return { removed: [], kept: [] };
  const logs = awsClient(CloudWatchLogsClient, { region, credentials: options.credentials });
  const removeHint = `\`aws logs delete-log-group --log-group-name ${name} --region ${region}\` removes it, as does destroy with delete-logs: true`;
  let found: LogGroupFacts | undefined;
  try {
    found = await findLogGroup(logs, name);
  } catch (err) {
    reporter.warning(`Could not read the log group ${name} in ${region}: ${errorMessage(err)}`, undefined, 'Log group not checked');
    return { removed: [], kept: [`the SageMaker log group ${name} (${region}; not read: ${errorName(err)}), if it exists: ${removeHint}`] };
  }
  if (!found) return { removed: [], kept: [] };
  const text = logGroupText(found, region);
  if (!options.deleteLogs) return { removed: [], kept: [`${text}: not part of the stack. ${removeHint}`] };
  if (!apply) return { removed: [`${text} (delete-logs)`], kept: [] };
  try {
    await logs.send(new DeleteLogGroupCommand({ logGroupName: name }));
  } catch (err) {
    if (isNotFound(err)) return { removed: [], kept: [] };
    reporter.warning(`delete-logs: deleting ${name} in ${region} failed: ${errorMessage(err)}`, undefined, 'Log group kept');
    return { removed: [], kept: [`${text}: delete-logs failed (${errorName(err)}). ${removeHint}`] };
  }
  reporter.info(`Deleted the log group ${name} in ${region} (delete-logs).`);
  return { removed: [`${text} (delete-logs)`], kept: [] };
}

/** A stack another operation is changing, or one under termination protection, is left alone. */
function refuseUntouchable(stack: Stack, stackName: string, region: string): void {
  refuseBusyStack(stack, stackName, region, 'destroy');
  if (stack.EnableTerminationProtection) {
    throw new DeployError(`Stack ${stackName} has termination protection: it will not be deleted.`, {
      title: 'Termination protection',
      hint:
        `If deleting it is really intended, turn protection off first:\n  aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name ${stackName} --region ${region}\n` +
        `then run destroy again. (Environments named ${PRODUCTION_ENVIRONMENT} get protection by default: environments.<name>.terminationProtection.)`,
    });
  }
}

/** The stack's resources, and which of them the template's DeletionPolicy keeps. */
async function stackInventory(options: PreviewOptions, stackId: string): Promise<{ resources: StackResourceSummary[]; retainedIds: Set<string> }> {
  const { cfn } = options;
  const resources: StackResourceSummary[] = [];
  const retainedIds = new Set<string>();
  try {
    let next: string | undefined;
    do {
      const page = await cfn.send(new sdk.ListStackResourcesCommand({ StackName: stackId, NextToken: next }));
      resources.push(...(page.StackResourceSummaries ?? []));
      next = page.NextToken;
    } while (next);
    const template = await cfn.send(new sdk.GetTemplateCommand({ StackName: stackId, TemplateStage: 'Processed' }));
    const body = template.TemplateBody ? (JSON.parse(template.TemplateBody) as { Resources?: Record<string, { DeletionPolicy?: string }> }) : {};
    for (const [id, r] of Object.entries(body.Resources ?? {})) if (RETAINING.has(r.DeletionPolicy ?? '')) retainedIds.add(id);
  } catch (err) {
    if (err instanceof SyntaxError) options.reporter.debug('The stack template is not JSON; retained resources are taken from the delete events.');
    else throw explainAwsError(err, `Reading stack ${options.names.stack}`);
  }
  return { resources, retainedIds };
}

async function deleteAndWatch(options: DestroyOptions, stackId: string): Promise<void> {
  const { cfn, region } = options;
  const stackName = options.names.stack;
  try {
    await cfn.send(new sdk.DeleteStackCommand({ StackName: stackId, ClientRequestToken: options.token }));
  } catch (err) {
    throw explainAwsError(err, `Deleting stack ${stackName}`);
  }
  const result = await watchStack({
    cfn, stackId, token: options.token, reporter: options.reporter, deadline: options.deadline, signal: options.signal,
    what: `stack ${stackName} to be deleted`, pollOverrides: options.pollOverrides,
  });
  if (result.status === 'DELETE_COMPLETE') return;
  const f = result.firstFailure;
  throw new DeployError(
    `Deleting stack ${stackName} ended in ${result.status}${f ? `: ${f.LogicalResourceId} (${f.ResourceType}) ${f.ResourceStatus}: ${f.ResourceStatusReason ?? ''}` : ''}.`,
    {
      title: f ? `Delete failed: ${f.LogicalResourceId}` : 'Delete failed',
      hint:
        'A common cause: a non-empty S3 bucket or a resource changed outside CloudFormation. Empty or fix it and run destroy again, or leave it behind:\n' +
        `  aws cloudformation delete-stack --stack-name ${stackName} --region ${region}${f?.LogicalResourceId ? ` --retain-resources ${f.LogicalResourceId}` : ''}`,
    },
  );
}

function destroyedMarkdown(stackName: string, region: string, removed: string[], kept: string[]): string {
  return [`### Destroyed \`${stackName}\` (${region})`, '', ...section('Removed', removed, true), ...section('Kept', kept, true)].join('\n');
}
