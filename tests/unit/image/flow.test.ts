import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { BatchGetBuildsCommand, CodeBuildClient, StartBuildCommand, StopBuildCommand } from '@aws-sdk/client-codebuild';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { CreateBucketCommand, HeadBucketCommand, PutBucketPolicyCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import { memoryReporter } from '../../../src/core/log';
import { EnvInputs } from '../../../src/core/env';
import { DeployError } from '../../../src/core/errors';
import { buildImage, BuildRequest } from '../../../src/image/flow';
import { infraParameters, infraTemplate } from '../../../src/image/infra';
import { renderBuild } from '../../../src/image/render';
import { exampleTarget } from '../../support/target';
import { ROOT, withChanges } from './fixtures';
import { stackNotFound, stackOf } from '../../support/fake-aws/stack-answer';

const cfn = mockClient(CloudFormationClient);
const ecr = mockClient(ECRClient);
const s3 = mockClient(S3Client);
const codebuild = mockClient(CodeBuildClient);
const logs = mockClient(CloudWatchLogsClient);
const sts = mockClient(STSClient);
const secrets = mockClient(SecretsManagerClient);
const all = [cfn, ecr, s3, codebuild, logs, sts, secrets];
const TOKEN_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:hf-AbCdEf';

const text = withChanges([['revision: a09a35458c702b33eeacc393d103063234e8bc28', `revision: a09a35458c702b33eeacc393d103063234e8bc28\n        tokenSecretArn: ${TOKEN_ARN}`]]);
/** The chat deployment of the spec above, for environment dev (or none). */
const target = (environment: string | undefined = 'dev') => exampleTarget('chat', environment, () => text);
const d = target().deployment;
const bucket = 'model-deploy-111111111111-us-east-1';
const params = infraParameters(d, { region: 'us-east-1', account: '111111111111', bucket, template: infraTemplate(ROOT), baseRepository: 'vllm', environmentName: 'dev' });
const tag = renderBuild(d, { region: 'us-east-1', root: ROOT }).tag;
const repoUri = '111111111111.dkr.ecr.us-east-1.amazonaws.com/acme/chat';

function stack(status: string, hash = params.ConfigHash) {
  return stackOf({
    name: 'acme-chat-build',
    status,
    created: new Date(),
    parameters: { ConfigHash: hash },
    outputs: { RepositoryUri: repoUri, ProjectName: 'Project-abc', LogGroupName: 'acme-chat-build-LogGroup' },
  });
}

/** Polls shortened so the waits take milliseconds. */
const request: BuildRequest = { pollSeconds: 0.005, stackPollMs: 5 };

function run(signal?: AbortSignal) {
  return { reporter: memoryReporter(), env: new EnvInputs({}), signal };
}

const notFound = stackNotFound('acme-chat-build');
const imageNotFound = Object.assign(new Error('not found'), { name: 'ImageNotFoundException' });

function callCount(): number {
  return all.reduce((n, m) => n + m.calls().length, 0);
}

beforeEach(() => {
  all.forEach((m) => m.reset());
  // The environment's own account, unless a test says otherwise.
  sts.onAnyCommand().resolves({ Account: '111111111111' });
});

describe('buildImage', () => {
  it('refuses credentials for another account than the environment, before any AWS call that changes something', async () => {
    // The prod role used for environment dev: nothing may be created in the prod account.
    sts.onAnyCommand().resolves({ Account: '999999999999' });
    cfn.on(DescribeStacksCommand).rejects(notFound);
    ecr.on(DescribeImagesCommand).rejects(imageNotFound);
    s3.on(HeadBucketCommand).rejects(Object.assign(new Error('nf'), { name: 'NotFound' }));
    const err = await buildImage(target(), request, run()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeployError);
    const e = err as DeployError;
    expect(e.message).toBe('The AWS credentials are for account 999999999999, but environment dev is account 111111111111.');
    expect(e.hint).toMatch(/Assume the environment's role/);
    expect(e.location?.line).toBeGreaterThan(0);
    expect(cfn.commandCalls(CreateStackCommand)).toHaveLength(0);
    expect(s3.commandCalls(CreateBucketCommand)).toHaveLength(0);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(codebuild.commandCalls(StartBuildCommand)).toHaveLength(0);
    // The account is the first thing checked: nothing else was asked either.
    expect(callCount()).toBe(1);
  });

  it('skips the build when ECR already holds the content tag: three AWS calls', async () => {
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [stack('UPDATE_COMPLETE')] as never });
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: 'sha256:abc' }] });
    const [r] = await buildImage(target(), request, run());
    expect(r).toEqual({ region: 'us-east-1', imageUri: `${repoUri}:${tag}`, imageDigest: 'sha256:abc', modelDataUrl: expect.stringMatching(new RegExp(`^s3://${bucket}/acme/chat/models/[0-9a-f]{16}/$`)), buildId: '', skipped: true, buildSeconds: 0 });
    expect(callCount()).toBe(3);
    expect(ecr.commandCalls(DescribeImagesCommand)[0].args[0].input).toEqual({ repositoryName: 'acme/chat', imageIds: [{ imageTag: tag }] });
  });

  it('asks STS for the account once, with or without an environment', async () => {
    sts.onAnyCommand().resolves({ Account: '111111111111' });
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [stack('CREATE_COMPLETE')] as never });
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: 'sha256:abc' }] });
    await buildImage(target(undefined), request, run());
    expect(sts.calls()).toHaveLength(1);
    expect(callCount()).toBe(3);
  });

  it('creates the bucket and stack, uploads the bundle, streams the log and returns the pushed digest', async () => {
    cfn.on(DescribeStacksCommand).rejectsOnce(notFound).resolvesOnce({ Stacks: [stack('CREATE_IN_PROGRESS')] as never }).resolves({ Stacks: [stack('CREATE_COMPLETE')] as never });
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    s3.on(HeadBucketCommand).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }));
    s3.onAnyCommand().resolves({});
    s3.on(HeadBucketCommand).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }));
    ecr.on(DescribeImagesCommand).rejects(imageNotFound);
    codebuild.on(StartBuildCommand).resolves({ build: { id: 'Project-abc:1111-2222' } });
    codebuild
      .on(BatchGetBuildsCommand)
      .resolvesOnce({ builds: [{ id: 'Project-abc:1111-2222', buildStatus: 'IN_PROGRESS', currentPhase: 'BUILD' }] })
      .resolves({ builds: [{ id: 'Project-abc:1111-2222', buildStatus: 'SUCCEEDED', currentPhase: 'COMPLETED', exportedEnvironmentVariables: [{ name: 'IMAGE_DIGEST', value: 'sha256:new' }] }] });
    logs
      .on(GetLogEventsCommand)
      .resolvesOnce({ events: [{ message: 'Step 1/9 : FROM vllm\n' }], nextForwardToken: 't1' })
      .resolvesOnce({ events: [], nextForwardToken: 't1' })
      .resolves({ events: [{ message: 'Pushed\n' }], nextForwardToken: 't2' });
    const o = run();
    const [r] = await buildImage(target(), request, o);
    expect(r).toMatchObject({ imageUri: `${repoUri}:${tag}`, imageDigest: 'sha256:new', buildId: 'Project-abc:1111-2222', skipped: false });
    const create = cfn.commandCalls(CreateStackCommand)[0].args[0].input;
    expect(create.Capabilities).toEqual(['CAPABILITY_IAM']);
    // Issue 20: the build runs as the environment's bootstrap role; the stack names its resource types.
    expect(create.Parameters).toEqual(expect.arrayContaining([{ ParameterKey: 'ServiceRoleArn', ParameterValue: 'arn:aws:iam::111111111111:role/acme.dev.codebuild' }, { ParameterKey: 'ComputeType', ParameterValue: 'BUILD_GENERAL1_LARGE' }]));
    expect(create.ResourceTypes).toEqual(['AWS::CodeBuild::Project', 'AWS::ECR::Repository', 'AWS::KMS::Key', 'AWS::Logs::LogGroup']);
    expect(create.Tags).toEqual(expect.arrayContaining([{ Key: 'model-deploy:deployment', Value: 'chat' }]));
    expect(s3.commandCalls(CreateBucketCommand)[0].args[0].input).toMatchObject({ Bucket: bucket, ObjectOwnership: 'BucketOwnerEnforced' });
    expect(JSON.parse(s3.commandCalls(PutBucketPolicyCommand)[0].args[0].input.Policy!).Statement[0].Condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
    expect(s3.commandCalls(PutObjectCommand)[0].args[0].input.Key).toBe(`acme/chat/sources/${tag}.zip`);
    const start = codebuild.commandCalls(StartBuildCommand)[0].args[0].input;
    expect(start).toMatchObject({ projectName: 'Project-abc', sourceTypeOverride: 'S3', sourceLocationOverride: `${bucket}/acme/chat/sources/${tag}.zip` });
    expect(start.environmentVariablesOverride).toEqual(expect.arrayContaining([{ name: 'IMAGE_TAG', value: tag, type: 'PLAINTEXT' }, { name: 'BASE_REGISTRY', value: '763104351884.dkr.ecr.us-east-1.amazonaws.com', type: 'PLAINTEXT' }]));
    expect(logs.commandCalls(GetLogEventsCommand)[0].args[0].input).toMatchObject({ logGroupName: 'acme-chat-build-LogGroup', logStreamName: '1111-2222', startFromHead: true });
    const lines = o.reporter.captured.lines;
    expect(lines).toEqual(expect.arrayContaining(['::group::CodeBuild Project-abc:1111-2222', 'Step 1/9 : FROM vllm', 'Pushed']));
    // The Hugging Face token is read by CodeBuild, never by the action.
    expect(secrets.calls()).toHaveLength(0);
  });

  it('reports the failing phase, its reason and the last log lines, and never touches ECR tags', async () => {
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [stack('UPDATE_COMPLETE')] as never });
    ecr.on(DescribeImagesCommand).rejects(imageNotFound);
    s3.onAnyCommand().resolves({});
    codebuild.on(StartBuildCommand).resolves({ build: { id: 'Project-abc:9' } });
    codebuild.on(BatchGetBuildsCommand).resolves({
      builds: [{
        id: 'Project-abc:9', buildStatus: 'FAILED',
        phases: [{ phaseType: 'PRE_BUILD', phaseStatus: 'SUCCEEDED' }, { phaseType: 'BUILD', phaseStatus: 'FAILED', contexts: [{ statusCode: 'COMMAND_EXECUTION_ERROR', message: 'Error while executing command: docker build. Reason: exit status 1' }] }],
        logs: { deepLink: 'https://console/logs' },
      }],
    });
    logs.on(GetLogEventsCommand).resolvesOnce({ events: [{ message: 'ERROR: pip failed' }], nextForwardToken: 'a' }).resolves({ events: [], nextForwardToken: 'a' });
    const err = await buildImage(target(), request, run()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeployError);
    const text = (err as DeployError).describe();
    expect(text).toContain('FAILED in phase BUILD: COMMAND_EXECUTION_ERROR: Error while executing command: docker build');
    expect(text).toContain('ERROR: pip failed');
    expect(text).toContain('previous image and its tag are unchanged');
    expect((err as DeployError).title).toBe('Image build failed (BUILD)');
    // Only lookups touch ECR: the action itself never writes an image or a tag.
    expect(ecr.calls().every((c) => c.args[0] instanceof DescribeImagesCommand)).toBe(true);
  });

  it('stops the build when the workflow is cancelled', async () => {
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [stack('UPDATE_COMPLETE')] as never });
    ecr.on(DescribeImagesCommand).rejects(imageNotFound);
    s3.onAnyCommand().resolves({});
    codebuild.on(StartBuildCommand).resolves({ build: { id: 'Project-abc:7' } });
    codebuild.on(StopBuildCommand).resolves({});
    const controller = new AbortController();
    let checks = 0;
    codebuild.on(BatchGetBuildsCommand).callsFake(() => {
      if (++checks === 2) controller.abort(new DeployError('Cancelled by SIGTERM.'));
      return { builds: [{ id: 'Project-abc:7', buildStatus: 'IN_PROGRESS', currentPhase: 'BUILD' }] };
    });
    logs.on(GetLogEventsCommand).resolves({ events: [], nextForwardToken: 'a' });
    const o = run(controller.signal);
    await expect(buildImage(target(), request, o)).rejects.toThrow('Cancelled by SIGTERM.');
    expect(codebuild.commandCalls(StopBuildCommand)[0].args[0].input).toEqual({ id: 'Project-abc:7' });
    expect(o.reporter.captured.annotations.map((a) => a.message)).toContain('Stopped build Project-abc:7 (the workflow was cancelled).');
  });

  it('updates an outdated stack before looking for the image', async () => {
    cfn.on(DescribeStacksCommand).resolvesOnce({ Stacks: [stack('UPDATE_COMPLETE', 'old')] as never }).resolves({ Stacks: [stack('UPDATE_COMPLETE')] as never });
    cfn.onAnyCommand().resolves({});
    cfn.on(DescribeStacksCommand).resolvesOnce({ Stacks: [stack('UPDATE_COMPLETE', 'old')] as never }).resolves({ Stacks: [stack('UPDATE_COMPLETE')] as never });
    s3.onAnyCommand().resolves({});
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: 'sha256:abc' }] });
    const [r] = await buildImage(target(), request, run());
    expect(r.skipped).toBe(true);
    expect(cfn.calls().map((c) => c.args[0].constructor.name)).toContain('UpdateStackCommand');
  });
});
