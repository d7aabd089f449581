/**
 * What runs now, per region, from reads only: the stack's status, the endpoint's own state (SageMaker
 * endpoint status, ECS service rollout), its URL, the image digest the stack serves and when it was last
 * deployed. A region where the stack does not exist is a row that says so.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { RunContext } from '../core/action';
import { awsClient, Credentials } from '../core/aws';
import { errorMessage, isNotFound } from '../core/errors';
import { watchStack, type WatchOptions } from './events';
import { latestOperationToken } from './resume';
import { parseImageRef } from '../core/image-uri';
import { isPollTimeout } from '../core/poll';
import { describeStack, endpointNameOutput, endpointUrlOutput, stackOutputs } from '../core/stack';
import type { Target } from '../config/select';

export interface StatusRequest {
  credentials?: Credentials;
  /**
   * Wait until this epoch ms for every stack operation in progress to end (streaming its events), then
   * read. Absent: read at once.
   */
  waitUntil?: number;
  pollOverrides?: WatchOptions['pollOverrides'];
}

export interface RegionStatus {
  deployment: string;
  environment?: string;
  region: string;
  stackName: string;
  /** CREATE_COMPLETE, UPDATE_ROLLBACK_COMPLETE, ...; "NOT_DEPLOYED" when there is no stack. */
  stackStatus: string;
  /** InService, Updating, Failed (SageMaker); "2/2 running, COMPLETED" (ECS); absent when not read. */
  endpointState?: string;
  url?: string;
  /** sha256:… of the image the stack's ImageUri parameter names (pinned, or its tag resolved in ECR). */
  imageDigest?: string;
  /** The stack's last update, else its creation. */
  lastDeployed?: Date;
  /** With waitUntil: the operation that was in progress, how it ended and how long it was watched. */
  waited?: { from: string; to: string; seconds: number };
}

/** A stack operation ended badly: a rollback, or a failure CloudFormation could not undo. */
export function isRedStatus(status: string): boolean {
  return /ROLLBACK|_FAILED$/.test(status);
}

export const NOT_DEPLOYED = 'NOT_DEPLOYED';

async function sageMakerState(region: string, credentials: Credentials | undefined, name: string): Promise<string> {
  const { SageMakerClient, DescribeEndpointCommand } = await import('@aws-sdk/client-sagemaker');
  try {
    const out = await awsClient(SageMakerClient, { region, credentials }).send(new DescribeEndpointCommand({ EndpointName: name }));
    return `${out.EndpointStatus ?? 'unknown'}${out.FailureReason ? `: ${out.FailureReason}` : ''}`;
  } catch (err) {
    // SageMaker says ValidationException "Could not find endpoint" for a missing one.
    if (isNotFound(err) || /Could not find endpoint/i.test(errorMessage(err))) return 'no endpoint';
    return `not read (${errorMessage(err).split('\n')[0]})`;
  }
}

async function ecsState(region: string, credentials: Credentials | undefined, cluster: string, service: string): Promise<string> {
  const { ECSClient, DescribeServicesCommand } = await import('@aws-sdk/client-ecs');
  try {
    const out = await awsClient(ECSClient, { region, credentials }).send(new DescribeServicesCommand({ cluster, services: [service] }));
    const s = out.services?.[0];
    if (!s) return 'no service';
    const primary = s.deployments?.find((d) => d.status === 'PRIMARY');
    return `${s.runningCount ?? 0}/${s.desiredCount ?? 0} running${primary?.rolloutState ? `, ${primary.rolloutState}` : ''}`;
  } catch (err) {
    return `not read (${errorMessage(err).split('\n')[0]})`;
  }
}

/**
 * The digest of the image the stack serves: pinned in its URI (promoted images), else what its tag points at
 * now in ECR (a build's md-… tag, written once). Unknown when ECR cannot be read: status never fails on it.
 */
async function servedDigest(imageUri: string, credentials: Credentials | undefined, reporter: RunContext['reporter']): Promise<string | undefined> {
  const image = parseImageRef(imageUri);
  if (!image || image.digest) return image?.digest;
  const { ECRClient, DescribeImagesCommand } = await import('@aws-sdk/client-ecr');
  try {
    const out = await awsClient(ECRClient, { region: image.region, credentials }).send(
      new DescribeImagesCommand({ registryId: image.account, repositoryName: image.repositoryName, imageIds: [{ imageTag: image.tag ?? 'latest' }] }),
    );
    return out.imageDetails?.[0]?.imageDigest;
  } catch (err) {
    reporter.debug(`${imageUri}: ${errorMessage(err)}`);
    return undefined;
  }
}

/**
 * Follows the stack's latest operation (its own events, as a deploy that waited would) to its end or the
 * deadline. Reads only: nothing is cancelled when the deadline passes.
 */
async function waitForOperation(cfn: CloudFormationClient, stackId: string, from: string, request: StatusRequest, run: RunContext, what: string): Promise<RegionStatus['waited']> {
  const now = request.pollOverrides?.now ?? Date.now;
  const started = now();
  const token = await latestOperationToken(cfn, stackId);
  run.reporter.info(`${what} is ${from}: waiting for it to end.`);
  const result = await watchStack({ cfn, stackId, token, reporter: run.reporter, deadline: request.waitUntil ?? started, signal: run.signal, what, pollOverrides: request.pollOverrides }).catch((err: unknown) => {
    // The deadline is an answer here, not an error: the table says the stack is still in progress.
    if (isPollTimeout(err)) return { status: from };
    throw err;
  });
  return { from, to: result.status, seconds: Math.round((now() - started) / 1000) };
}

/** The status of one deployment in one environment, region by region. */
export async function deploymentStatus(target: Target, request: StatusRequest, run: RunContext): Promise<RegionStatus[]> {
  const d = target.deployment;
  return Promise.all(
    target.regions.map(async (region): Promise<RegionStatus> => {
      const base = { deployment: d.name, environment: target.environmentName, region, stackName: target.names.stack };
      const cfn = awsClient(CloudFormationClient, { region, credentials: request.credentials });
      let stack = await describeStack(cfn, target.names.stack);
      let waited: RegionStatus['waited'];
      if (stack?.StackId && stack.StackStatus?.endsWith('_IN_PROGRESS') && request.waitUntil !== undefined) {
        waited = await waitForOperation(cfn, stack.StackId, stack.StackStatus, request, run, `stack ${target.names.stack} (${region})`);
        stack = await describeStack(cfn, stack.StackId);
      }
      if (!stack) return { ...base, stackStatus: NOT_DEPLOYED };
      const outputs = stackOutputs(stack);
      const imageUri = stack.Parameters?.find((p) => p.ParameterKey === 'ImageUri')?.ParameterValue;
      const name = endpointNameOutput(outputs) ?? target.names.endpoint;
      let endpointState: string | undefined;
      if (d.target === 'sagemaker-realtime' || d.target === 'sagemaker-async') endpointState = await sageMakerState(region, request.credentials, name);
      else if (d.target === 'ecs' && outputs.ClusterName && outputs.ServiceName) endpointState = await ecsState(region, request.credentials, outputs.ClusterName, outputs.ServiceName);
      run.reporter.debug(`${target.names.stack} (${region}): ${stack.StackStatus}`);
      return {
        ...base,
        stackStatus: stack.StackStatus ?? 'UNKNOWN',
        endpointState,
        url: endpointUrlOutput(outputs),
        imageDigest: imageUri ? await servedDigest(imageUri, request.credentials, run.reporter) : undefined,
        lastDeployed: stack.LastUpdatedTime ?? stack.CreationTime,
        ...(waited ? { waited } : {}),
      };
    }),
  );
}
