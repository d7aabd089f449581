/** The smoke test after a deploy: one request of the spec's smokeTest, by the target's own route. */
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsClient } from '../core/aws';
import { artifactBucket, RegionContext, RegionResult } from './region';
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
    const key = `smoke-tests/${d.project}/${d.name}/${options.env.sha?.slice(0, 12) ?? 'local'}-${Date.now().toString(36)}.json`;
    const remaining = ctx.deadline - ctx.now();
    await smokeTestAsync({
      runtime, s3, endpointName: result.endpointName, smoke, bucket: artifactBucket(ctx), key,
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
