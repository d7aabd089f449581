/**
 * A deployed endpoint as the benchmark and `model-deploy invoke` reach it: the SageMaker endpoint name
 * (real-time, async with the input prefix the stack grants its role), or the HTTPS URL and the API key
 * of an ecs/ec2 service. Built from a deploy's region result, or from the stack's outputs when the
 * command runs on its own. The key is read from the secret and masked; it is never printed.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { callerIdentity } from '../core/identity';
import { awsClient, Credentials } from '../core/aws';
import { DeployError, errorMessage } from '../core/errors';
import type { Reporter } from '../core/log';
import type { S3Location } from '../core/s3-location';
import { describeStack, endpointNameOutput, endpointUrlOutput, stackOutputs } from '../core/stack';
import type { Target } from '../config/select';
import type { Deployment } from '../config/types';
import { asyncInputLocation, asyncOutputUri } from '../deploy/render';
import { readApiKey } from '../deploy/verify';
import { servedModelName } from '../image/render';
import { openAiClient } from './client-openai';
import { sagemakerAsyncClient, sagemakerStreamClient } from './client-sagemaker';
import type { BenchClient } from './types';

export interface DeployedEndpoint {
  kind: Deployment['target'];
  region: string;
  account?: string;
  /** SageMaker endpoint name (ecs/ec2: the service's name, for messages). */
  endpointName: string;
  /** ecs/ec2: the service's HTTPS base URL. */
  url?: string;
  /** sagemaker-async: where requests go (the input/ prefix beside the output folder). */
  asyncInput?: S3Location;
  /** ecs/ec2 with an API key: the secret holding it. */
  apiKeySecretArn?: string;
}

/** The endpoint from a stack's outputs (as deploy's region result or DescribeStacks gives them). */
export function endpointFromOutputs(target: Target, region: string, outputs: Record<string, string>, account?: string, endpointName?: string): DeployedEndpoint {
  const d = target.deployment;
  const ep: DeployedEndpoint = { kind: d.target, region, account, endpointName: endpointName || endpointNameOutput(outputs) || target.names.endpoint };
  if (d.target === 'sagemaker-async') {
    const outputUri = outputs.OutputS3Uri || (account ? asyncOutputUri(d, region, account, target.environmentName) : undefined);
    if (outputUri) ep.asyncInput = asyncInputLocation(outputUri);
  }
  if (d.target === 'ecs' || d.target === 'ec2') {
    ep.url = endpointUrlOutput(outputs);
    if (d.apiKey.enabled) ep.apiKeySecretArn = outputs.ApiKeySecretArn || target.names.apiKeySecret;
  }
  return ep;
}

/** The endpoint of a deployed stack, for a command run on its own (DescribeStacks; the account from STS). */
export async function findEndpoint(target: Target, region: string, credentials?: Credentials): Promise<DeployedEndpoint> {
  const name = target.names.stack;
  const notFound = (why: string) =>
    new DeployError(`stack ${name} in ${region} could not be read: ${why}`, {
      title: 'Endpoint not found',
      hint: `Deploy ${target.deployment.name} first (deploy-endpoint), or check --environment and --region.`,
    });
  let stack;
  try {
    stack = await describeStack(awsClient(CloudFormationClient, { region, credentials }), name);
  } catch (err) {
    // AWS's own words, not the reader's "Reading stack ... failed" wrapping.
    throw notFound(errorMessage(err instanceof DeployError && err.cause !== undefined ? err.cause : err));
  }
  // CloudFormation's ValidationError text for an absent stack, as this message has always quoted it.
  if (!stack) throw notFound(`Stack with id ${name} does not exist`);
  const outputs = stackOutputs(stack);
  const { account } = await callerIdentity({ region, credentials });
  const ep = endpointFromOutputs(target, region, outputs, account);
  if ((ep.kind === 'ecs' || ep.kind === 'ec2') && !ep.url) {
    throw new DeployError(`stack ${target.names.stack} has no URL output`, { title: 'Endpoint not found', hint: 'The service has no load balancer URL yet: check the stack in CloudFormation.' });
  }
  return ep;
}

/** The ecs/ec2 API key from its secret (masked by the reporter before anything can print it). */
export async function endpointApiKey(ep: DeployedEndpoint, reporter: Reporter, credentials?: Credentials): Promise<string | undefined> {
  if (!ep.apiKeySecretArn) return undefined;
  const secrets = awsClient(SecretsManagerClient, { region: ep.region, credentials });
  return readApiKey(secrets, ep.apiKeySecretArn, reporter);
}

export interface ClientOptions {
  credentials?: Credentials;
  apiKey?: string;
  /** Per-request limit, ms. */
  requestTimeoutMs: number;
}

/** The benchmark client for the endpoint's kind: SageMaker stream, SageMaker async, or HTTPS with the key. */
export function benchClientFor(ep: DeployedEndpoint, d: Deployment, options: ClientOptions): BenchClient {
  const model = servedModelName(d);
  const common = { endpointName: ep.endpointName, region: ep.region, credentials: options.credentials, model, ignoreEos: true };
  if (ep.kind === 'sagemaker-realtime') return sagemakerStreamClient(common);
  if (ep.kind === 'sagemaker-async') {
    if (!ep.asyncInput) throw new DeployError(`no async input location for ${ep.endpointName}`, { hint: 'The stack has no OutputS3Uri output.' });
    return sagemakerAsyncClient({ ...common, inputBucket: ep.asyncInput.bucket, inputPrefix: `${ep.asyncInput.key}benchmark`, expectedBucketOwner: ep.account, requestTimeoutMs: options.requestTimeoutMs });
  }
  if (!ep.url) throw new DeployError(`no URL for ${ep.endpointName}`, { hint: 'The stack has no URL output.' });
  return openAiClient({ baseUrl: ep.url, apiKey: options.apiKey, model, ignoreEos: true, requestTimeoutMs: options.requestTimeoutMs });
}
