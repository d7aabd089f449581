/** The smoke test after a deploy: one request of the spec's smokeTest, by the target's own route. */
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsClient } from '../core/aws';
import { RegionContext, RegionResult } from './region';
import { asyncInputLocation, asyncOutputUri } from './render';
import { readApiKey, smokeTestAsync, smokeTestHttp, smokeTestRealtime, SmokeTest } from './verify';

export async function runSmokeTest(ctx: RegionContext, result: RegionResult, smoke: SmokeTest): Promise<void> {
  const { target, request, run, region } = ctx;
  const d = target.deployment;
  const { reporter } = run;
  const { credentials } = request;
  if (d.target === 'sagemaker-realtime') {
    const runtime = awsClient(SageMakerRuntimeClient, { region, credentials });
    await smokeTestRealtime({ runtime, endpointName: result.endpointName, smoke, reporter });
    return;
  }
  if (d.target === 'sagemaker-async') {
    const runtime = awsClient(SageMakerRuntimeClient, { region, credentials });
    const s3 = awsClient(S3Client, { region, credentials });
    const remaining = ctx.deadline - ctx.now();
    await smokeTestAsync({
      runtime, s3, endpointName: result.endpointName, smoke, ...asyncSmokeInput(ctx, result), expectedBucketOwner: ctx.account,
      waitMs: Math.max(0, Math.min(remaining, 15 * 60000)), reporter, signal: run.signal, pollOverrides: request.pollOverrides,
    });
    return;
  }
  if (!result.endpointUrl) {
    reporter.warning(`Smoke test skipped: the stack has no URL output for ${d.target}.`, undefined, 'Smoke test skipped');
    return;
  }
  let apiKey: string | undefined;
  if (d.apiKey.enabled) {
    const secretArn = result.outputs.ApiKeySecretArn || target.names.apiKeySecret;
    const secrets = awsClient(SecretsManagerClient, { region, credentials });
    apiKey = await readApiKey(secrets, secretArn, reporter);
  }
  await smokeTestHttp({ url: result.endpointUrl, smoke, apiKey, reporter, fetchImpl: request.fetchImpl });
}

/**
 * Where the async smoke test puts its request: under the input prefix the stack grants the endpoint's
 * role (InputObjectArn: beside the output folder), else SageMaker cannot read it.
 */
export function asyncSmokeInput(ctx: RegionContext, result: RegionResult): { bucket: string; key: string } {
  const { env } = ctx.run;
  const outputUri = result.outputs.OutputS3Uri || asyncOutputUri(ctx.target.deployment, ctx.region, ctx.account, ctx.target.environmentName);
  const input = asyncInputLocation(outputUri);
  const run = `${env.sha?.slice(0, 12) ?? 'local'}-${env.get('GITHUB_RUN_ID') ?? 'local'}-${env.get('GITHUB_RUN_ATTEMPT') ?? '1'}`;
  return { bucket: input.bucket, key: `${input.key}smoke-test-${run}.json` };
}
