/** The smoke test after a deploy: one request of the spec's smokeTest, by the target's own route. */
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsClient } from '../core/aws';
import { RegionContext, RegionResult } from './region';
import { asyncInputLocation, asyncOutputUri } from './render';
import { readApiKey, smokeTestAsync, smokeTestHttp, smokeTestRealtime, SmokeTest } from './verify';

export async function runSmokeTest(ctx: RegionContext, result: RegionResult, smoke: SmokeTest): Promise<void> {
  const { options, region } = ctx;
  const d = ctx.deployment;
  const { reporter } = options;
  if (d.target === 'sagemaker-realtime') {
    const runtime = awsClient(SageMakerRuntimeClient, { region, credentials: options.credentials });
    await smokeTestRealtime({ runtime, endpointName: result.endpointName, smoke, reporter });
    return;
  }
  if (d.target === 'sagemaker-async') {
    const runtime = awsClient(SageMakerRuntimeClient, { region, credentials: options.credentials });
    const s3 = awsClient(S3Client, { region, credentials: options.credentials });
    const remaining = ctx.deadline - ctx.now();
    await smokeTestAsync({
      runtime, s3, endpointName: result.endpointName, smoke, ...asyncSmokeInput(ctx, result), expectedBucketOwner: ctx.account,
      waitMs: Math.max(0, Math.min(remaining, 15 * 60000)), reporter, signal: options.signal, pollOverrides: options.pollOverrides,
    });
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

/**
 * Where the async smoke test puts its request: under the input prefix the stack grants the endpoint's
 * role (InputObjectArn: beside the output folder), else SageMaker cannot read it.
 */
export function asyncSmokeInput(ctx: RegionContext, result: RegionResult): { bucket: string; key: string } {
  const { env } = ctx.options;
  const outputUri = result.outputs.OutputS3Uri || asyncOutputUri(ctx.deployment, ctx.region, ctx.account);
  const input = asyncInputLocation(outputUri);
  const run = `${env.sha?.slice(0, 12) ?? 'local'}-${env.get('GITHUB_RUN_ID') ?? 'local'}-${env.get('GITHUB_RUN_ATTEMPT') ?? '1'}`;
  return { bucket: input.bucket, key: `${input.key}smoke-test-${run}.json` };
}
