/**
 * Issue 22: build-model and deploy-endpoint refuse a model that cannot start on its instance type
 * before any AWS call (the example's qwen-chat, its weights said to be 145 GB, on ml.g5.2xlarge).
 */
import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { ECRClient } from '@aws-sdk/client-ecr';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { EnvInputs } from '../../../src/core/env';
import { DeployError } from '../../../src/core/errors';
import { memoryReporter } from '../../../src/core/log';
import { deployEndpoint } from '../../../src/deploy/flow';
import { buildImage } from '../../../src/image/flow';
import { exampleTarget } from '../../support/target';

const mocks = [mockClient(CloudFormationClient), mockClient(CodeBuildClient), mockClient(ECRClient), mockClient(S3Client), mockClient(STSClient)];
const calls = () => mocks.reduce((n, m) => n + m.calls().length, 0);
const tooBig = (text: string) => text.replace('sizeGb: 15.2\n    engine:\n      name: vllm\n      version: "0.8.5"\n      args: ["--max-model-len", "8192"', 'sizeGb: 145\n    engine:\n      name: vllm\n      version: "0.8.5"\n      args: ["--max-model-len", "8192"');
const run = () => ({ reporter: memoryReporter(), env: new EnvInputs({}) });

async function refusal(p: Promise<unknown>): Promise<DeployError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(DeployError);
  return err as DeployError;
}

beforeEach(() => mocks.forEach((m) => m.reset()));

describe('refused before anything is created', () => {
  const target = exampleTarget('qwen-chat', 'dev', tooBig);

  it('the spec edit is the one meant (145 GB on qwen-chat)', () => {
    expect(target.deployment.model.sizeGb).toBe(145);
  });

  it('build-model', async () => {
    const err = await refusal(buildImage(target, { pollSeconds: 0.005, stackPollMs: 5 }, run()));
    expect(err.describe()).toMatch(/model-deploy\.yml:\d+:\d+: deployments\.qwen-chat: the model does not fit on ml\.g5\.2xlarge/);
    expect(calls()).toBe(0);
  });

  it('deploy-endpoint', async () => {
    const request = { mode: 'create-and-execute' as const, imageUri: '111111111111.dkr.ecr.us-east-1.amazonaws.com/acme/chat:md-1', timeoutMinutes: 30, failOnEmptyChangeSet: false, skipQuotaCheck: false, smokeTest: false };
    const err = await refusal(deployEndpoint(target, request, run()));
    expect(err.message).toMatch(/deployments\.qwen-chat: the model does not fit on ml\.g5\.2xlarge/);
    expect(calls()).toBe(0);
  });
});
