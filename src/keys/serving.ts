/**
 * The serving side of an API key: where the deployed stack runs (an ECS service or EC2 instances),
 * how to make it load the keys the MD_SERVE labels point at, and its URL for testing the keys.
 */
import { awsClient, Credentials } from '../core/aws';
import { DeployError, explainAwsError } from '../core/errors';
import type { Reporter } from '../core/log';
import { poll } from '../core/poll';
import type { Deployment } from '../config/types';
import { parseArn } from '../core/arn';
import { describeStack, endpointUrlOutput, stackOutputs } from '../core/stack';
import { CloudFormationClient, DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { ECSClient, UpdateServiceCommand, DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { SSMClient, DescribeInstanceInformationCommand, SendCommandCommand, ListCommandInvocationsCommand } from '@aws-sdk/client-ssm';

export const REFRESH_SCRIPT = '/opt/model-deploy/refresh-keys.sh';

export interface ServingSide {
  describe: string;
  endpointUrl?: string;
  /** Makes every server load the keys the MD_SERVE labels point at now, and waits until they have. */
  reload(reason: string): Promise<void>;
}

export interface ServingOptions {
  deployment: Deployment;
  /** The target's names.stack: the stack that serves the key. */
  stackName: string;
  region: string;
  credentials?: Credentials;
  reporter: Reporter;
  signal?: AbortSignal;
  timeoutMs: number;
  pollIntervalMs?: number;
}

/** Finds the stack the deployment runs in; refuses when it is not deployed (nothing to test against). */
export async function resolveServing(options: ServingOptions): Promise<ServingSide> {
  const cfn = awsClient(CloudFormationClient, { region: options.region, credentials: options.credentials });
  const name = options.stackName;
  const stack = await describeStack(cfn, name);
  if (!stack) {
    throw new DeployError(`stack ${name} does not exist in ${options.region}: there is no endpoint to rotate the key of`, {
      title: 'Endpoint not deployed',
      hint: 'Nothing was changed. Deploy the endpoint first (deploy-endpoint creates the key), or pass create-only: true to only create the secret.',
    });
  }
  const outputs = stackOutputs(stack);
  let resources: { type: string; id: string }[];
  try {
    resources = ((await cfn.send(new DescribeStackResourcesCommand({ StackName: name }))).StackResources ?? []).map((r) => ({
      type: r.ResourceType ?? '',
      id: r.PhysicalResourceId ?? '',
    }));
  } catch (err) {
    throw explainAwsError(err, `Reading stack ${name}`);
  }
  const url = endpointUrlOutput(outputs);
  const target = options.deployment.target;
  if (target === 'ecs') {
    const service = resources.find((r) => r.type === 'AWS::ECS::Service')?.id;
    const clusterResource = resources.find((r) => r.type === 'AWS::ECS::Cluster')?.id;
    // New-format service ARNs name their cluster: arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE.
    const cluster = clusterResource ?? /^service\/([^/]+)\/[^/]+$/.exec(parseArn(service)?.resource ?? '')?.[1];
    if (!service || !cluster) throw new DeployError(`stack ${name} has no ECS service and cluster`, { title: 'Unexpected stack', hint: 'Deploy the endpoint again with deploy-endpoint.' });
    return ecsServing(options, cluster, service, url);
  }
  if (target === 'ec2') return ec2Serving(options, name, refreshDocument(outputs, name), url);
  throw new DeployError(`deployment ${options.deployment.name} is a ${target} endpoint, which has no API key`, { location: options.deployment.source });
}

/** The SSM document the ec2 stack made for the refresh: SendCommand may run only it, not any shell. */
function refreshDocument(outputs: Record<string, string>, stack: string): string {
  const document = outputs.RefreshKeysDocumentName;
  if (!document) {
    throw new DeployError(`stack ${stack} has no RefreshKeysDocumentName output (the SSM document that refreshes the key file)`, {
      title: 'Unexpected stack',
      hint: 'Nothing was changed. Deploy the endpoint again with deploy-endpoint: the ec2 template creates the document when the deployment has an API key.',
    });
  }
  return document;
}

function ecsServing(options: ServingOptions, cluster: string, service: string, endpointUrl?: string): ServingSide {
  return {
    describe: `ECS service ${service.split('/').pop()} in cluster ${cluster}`,
    endpointUrl,
    async reload(reason) {
      const ecs = awsClient(ECSClient, { region: options.region, credentials: options.credentials });
      let deploymentId: string | undefined;
      try {
        const out = await ecs.send(new UpdateServiceCommand({ cluster, service, forceNewDeployment: true }));
        deploymentId = out.service?.deployments?.find((dep) => dep.status === 'PRIMARY')?.id;
      } catch (err) {
        throw explainAwsError(err, `Starting a new deployment of ${service} (${reason})`);
      }
      options.reporter.info(`ECS: new deployment ${deploymentId ?? ''} of ${service.split('/').pop()} (${reason}); tasks read the keys from Secrets Manager when they start.`);
      await poll({
        what: `ECS deployment ${deploymentId} of ${service} to become stable`,
        timeoutMs: options.timeoutMs,
        initialDelayMs: options.pollIntervalMs ?? 10_000,
        maxDelayMs: Math.max(options.pollIntervalMs ?? 10_000, 30_000),
        signal: options.signal,
        check: async () => {
          const svc = (await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }))).services?.[0];
          const deployments = svc?.deployments ?? [];
          const primary = deployments.find((dep) => (deploymentId ? dep.id === deploymentId : dep.status === 'PRIMARY'));
          if (!primary) throw new DeployError(`ECS deployment ${deploymentId} of ${service} disappeared (replaced by another deployment?)`);
          if (primary.rolloutState === 'FAILED') {
            throw new DeployError(`ECS deployment ${deploymentId} of ${service} failed: ${primary.rolloutStateReason ?? 'no reason given'}`, { title: 'ECS deployment failed' });
          }
          const stable =
            deployments.length === 1 &&
            (primary.rolloutState ? primary.rolloutState === 'COMPLETED' : true) &&
            (primary.runningCount ?? 0) === (primary.desiredCount ?? 0);
          return { stable, running: primary.runningCount ?? 0, desired: primary.desiredCount ?? 0 };
        },
        done: (v) => v.stable,
        progressed: (v, prev) => v.running !== prev?.running,
      });
      options.reporter.info(`ECS: ${service.split('/').pop()} is stable with the new keys.`);
    },
  };
}

const TERMINAL = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled', 'Undeliverable', 'Terminated', 'InvalidPlatform', 'AccessDenied']);

function ec2Serving(options: ServingOptions, stack: string, document: string, endpointUrl?: string): ServingSide {
  return {
    describe: `EC2 instances of stack ${stack}`,
    endpointUrl,
    async reload(reason) {
      const ssm = awsClient(SSMClient, { region: options.region, credentials: options.credentials });
      const online = await onlineInstances(ssm, options, stack);
      for (let i = 0; i < online.length; i += 50) await refreshBatch(ssm, options, document, online.slice(i, i + 50), reason);
      options.reporter.info(`EC2: ${online.length} instance(s) serve the new key set.`);
    },
  };
}

/** The stack's instances that Systems Manager can reach; the others are named (their timer refreshes the keys). */
async function onlineInstances(ssm: SSMClient, options: ServingOptions, stack: string): Promise<string[]> {
  const online: string[] = [];
  const offline: string[] = [];
  try {
    let NextToken: string | undefined;
    do {
      // CloudFormation tags the instances an Auto Scaling group launches with the stack name.
      const page = await ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'tag:aws:cloudformation:stack-name', Values: [stack] }], NextToken }));
      for (const i of page.InstanceInformationList ?? []) (i.PingStatus === 'Online' ? online : offline).push(i.InstanceId ?? '');
      NextToken = page.NextToken;
    } while (NextToken);
  } catch (err) {
    throw explainAwsError(err, `Finding the instances of stack ${stack} in Systems Manager`);
  }
  if (offline.length) options.reporter.warning(`Not reachable through Systems Manager (skipped; their timer refreshes the keys): ${offline.join(', ')}`);
  if (!online.length) {
    throw new DeployError(`no instance of stack ${stack} is online in Systems Manager`, {
      title: 'No instance to refresh',
      hint: 'The instances need the SSM agent and the AmazonSSMManagedInstanceCore policy (the ec2 template gives both). Check that the stack is healthy.',
    });
  }
  return online;
}

/** Runs the refresh script on up to 50 instances and waits until every one has answered. */
async function refreshBatch(ssm: SSMClient, options: ServingOptions, document: string, batch: string[], reason: string): Promise<void> {
  let commandId: string | undefined;
  try {
    const out = await ssm.send(
      new SendCommandCommand({
        InstanceIds: batch,
        DocumentName: document,
        Comment: `model-deploy rotate-key: ${reason}`.slice(0, 100),
        TimeoutSeconds: 60 * 10,
      }),
    );
    commandId = out.Command?.CommandId;
  } catch (err) {
    throw explainAwsError(err, `Running ${document} (${REFRESH_SCRIPT}) on ${batch.join(', ')}`);
  }
  options.reporter.info(`EC2: refreshing the key file on ${batch.length} instance(s) (${reason}), SSM command ${commandId}.`);
  const result = await poll({
    what: `SSM command ${commandId} (${REFRESH_SCRIPT})`,
    timeoutMs: options.timeoutMs,
    initialDelayMs: options.pollIntervalMs ?? 3000,
    maxDelayMs: Math.max(options.pollIntervalMs ?? 3000, 15_000),
    signal: options.signal,
    check: async () => {
      const out = await ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId }));
      return (out.CommandInvocations ?? []).map((inv) => ({ id: inv.InstanceId ?? '', status: inv.Status ?? 'Pending', detail: inv.StatusDetails ?? '' }));
    },
    done: (invs) => invs.length >= batch.length && invs.every((inv) => TERMINAL.has(inv.status)),
  });
  const failed = result.value.filter((inv) => inv.status !== 'Success');
  if (failed.length) {
    throw new DeployError(`${REFRESH_SCRIPT} did not succeed on ${failed.map((f) => `${f.id} (${f.status}${f.detail && f.detail !== f.status ? `: ${f.detail}` : ''})`).join(', ')}`, {
      title: 'Key refresh failed',
      hint: `See the output of SSM command ${commandId} in the Systems Manager console (Run Command); the instance role must be allowed to read the secret.`,
    });
  }
}
