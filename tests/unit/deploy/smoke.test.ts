/** The async smoke test's request must land where the endpoint's role may read it, in our own bucket. */
import { mockClient } from 'aws-sdk-client-mock';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { InvokeEndpointAsyncCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { EnvInputs } from '../../../src/core/env';
import { memoryReporter } from '../../../src/core/log';
import type { Target } from '../../../src/config/select';
import type { RegionContext, RegionResult } from '../../../src/deploy/region';
import { asyncInputLocation, renderStack } from '../../../src/deploy/render';
import { evaluate, roleStatements } from '../../support/cloudformation/iam';
import { resolveTemplate } from '../../support/cloudformation/resolve';
import { readTemplate } from '../../support/cloudformation/template';
import { runSmokeTest } from '../../../src/deploy/smoke';
import { fakeClock, selection } from './flow-fixtures';

const s3 = mockClient(S3Client);
const runtime = mockClient(SageMakerRuntimeClient);
const ACCOUNT = '111111111111';
const SMOKE = { payload: { inputs: 'hi' }, contentType: 'application/json', expectStatus: 200 };

function context(target: Target): RegionContext {
  const clock = fakeClock();
  const env = new EnvInputs({ GITHUB_SHA: 'abcdef0123456789abcdef0123456789abcdef01', GITHUB_RUN_ID: '7', GITHUB_RUN_ATTEMPT: '1' });
  return {
    target,
    request: { mode: 'create-and-execute', timeoutMinutes: 30, failOnEmptyChangeSet: false, skipQuotaCheck: false, smokeTest: true, pollOverrides: clock },
    run: { env, reporter: memoryReporter() },
    region: 'us-east-1', account: ACCOUNT, deadline: clock.now() + 1800000, cfn: new CloudFormationClient({ region: 'us-east-1' }), timings: [], now: clock.now,
  };
}

/**
 * Issue 20: the endpoint runs as the bootstrap's PROJECT.ENV.sagemaker role, whose grants are the bootstrap's
 * (async/PROJECT/ENV/ of the artifact bucket, and the AsyncBuckets it lists): the smoke request must be one the dev
 * deploy role may write and that role may read.
 */
const bootstrap = resolveTemplate(readTemplate('templates/bootstrap/model-deploy-bootstrap.yaml'), { Repository: 'acme/llm-platform', Project: 'acme-llm', Environment: 'dev', AsyncBuckets: 'acme-llm-async' });
const sagemakerRole = roleStatements(bootstrap, 'SageMakerRole');
const deployRole = roleStatements(bootstrap, 'DeployRole');
function readable(bucket: string, key: string): boolean {
  const req = { resource: `arn:aws:s3:::${bucket}/${key}`, context: { 's3:ResourceAccount': ACCOUNT } };
  return evaluate(sagemakerRole, { action: 's3:GetObject', ...req }).decision === 'allow' && evaluate(deployRole, { action: 's3:PutObject', ...req }).decision === 'allow';
}
function grantedInput(target: Target): { bucket: string; prefix: string } {
  const rendered = renderStack({ deployment: target.deployment, names: target.names, region: 'us-east-1', account: ACCOUNT, environmentName: target.environmentName, environment: target.environment, imageUri: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/r:t`, modelDataUrl: 's3://bkt/weights/' });
  const output = rendered.parameters.find((p) => p.ParameterKey === 'OutputS3Uri')?.ParameterValue ?? '';
  const input = asyncInputLocation(output);
  return { bucket: input.bucket, prefix: input.key };
}

beforeEach(() => {
  s3.reset();
  runtime.reset();
  s3.on(PutObjectCommand).resolves({});
  s3.on(HeadObjectCommand).resolves({});
  runtime.on(InvokeEndpointAsyncCommand).resolves({ InferenceId: 'i-1', OutputLocation: 's3://acme-llm-async/summarizer/output/i-1.out' });
});

describe('async smoke test input location', () => {
  const cases: [string, Target][] = [
    ['with async.outputPath in the spec', selection('summarizer-batch', 'dev')],
    ['with the default output path in the artifact bucket', selection('summarizer-batch', 'dev', (t) => t.replace(/ {6}outputPath: .*\n {6}failurePath: .*\n/, ''))],
  ];
  it.each(cases)('%s: uploads under the prefix the endpoint role may read, in a bucket our account owns', async (_name, target) => {
    const ctx = context(target);
    const result = { endpointName: 'acme-llm-summarizer-batch-dev', outputs: {} } as unknown as RegionResult;
    await runSmokeTest(ctx, result, SMOKE);
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    const granted = grantedInput(target);
    expect(put?.Bucket).toBe(granted.bucket);
    expect(put?.Key?.startsWith(granted.prefix)).toBe(true);
    expect(granted.prefix).toMatch(/input\/$/);
    expect(readable(put!.Bucket!, put!.Key!)).toBe(true);
    expect(runtime.commandCalls(InvokeEndpointAsyncCommand)[0]?.args[0].input.InputLocation).toBe(`s3://${put?.Bucket}/${put?.Key}`);
    // Every S3 call names the expected owner: a same-named bucket in another account is refused.
    for (const call of [...s3.commandCalls(PutObjectCommand), ...s3.commandCalls(HeadObjectCommand), ...s3.commandCalls(GetObjectCommand)]) {
      expect(call.args[0].input.ExpectedBucketOwner).toBe(ACCOUNT);
    }
    expect(s3.commandCalls(HeadObjectCommand).length).toBeGreaterThan(0);
  });

  it('prefers the stack\'s own OutputS3Uri output', async () => {
    const target = selection('summarizer-batch', 'dev');
    const result = { endpointName: 'e', outputs: { OutputS3Uri: 's3://other-bucket/x/out/' } } as unknown as RegionResult;
    await runSmokeTest(context(target), result, SMOKE);
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).toMatchObject({ Bucket: 'other-bucket', Key: expect.stringMatching(/^x\/input\/smoke-test-abcdef012345-7-1\.json$/) });
  });
});
