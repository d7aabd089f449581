/** Issue 16.1: a prebuilt container with its model files in S3, and custom Dockerfiles FROM a Deep Learning Container. */
import { evaluate, roleStatements } from '../../support/cloudformation/iam';
import { resolveTemplate } from '../../support/cloudformation/resolve';
import { readTemplate } from '../../support/cloudformation/template';
import { mockClient } from 'aws-sdk-client-mock';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { CopyObjectCommand, GetBucketLocationCommand, HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { DeployError } from '../../../src/core/errors';
import { memoryReporter } from '../../../src/core/log';
import { EnvInputs } from '../../../src/core/env';
import { buildImage } from '../../../src/image/flow';
import { infraParameters, infraTemplate } from '../../../src/image/infra';
import { renderBuild } from '../../../src/image/render';
import { exampleTarget } from '../../support/target';
import { specIn, ROOT, withChanges } from './fixtures';
import { stackAnswer } from '../../support/fake-aws/stack-answer';

const IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.31.0-lmi13.0.0-cu124';
const sts = mockClient(STSClient);
const s3 = mockClient(S3Client);
const cfn = mockClient(CloudFormationClient);
const ecr = mockClient(ECRClient);

function prebuilt(s3Uri: string): string {
  return withChanges([
    ['      huggingface:\n        id: Qwen/Qwen2.5-7B-Instruct\n        revision: a09a35458c702b33eeacc393d103063234e8bc28\n', `      s3: ${s3Uri}\n      image: ${IMAGE}\n`],
    ['    engine:\n      name: vllm\n      version: "0.8.5"\n      args: ["--max-model-len", "8192"]\n', ''],
  ]);
}

/** The chat deployment of a spec text, without an environment unless one is named. */
function targetOf(text: string, environment?: string) {
  return exampleTarget('chat', environment, () => text);
}

beforeEach(() => {
  [sts, s3, cfn, ecr].forEach((m) => m.reset());
});

const account = { Account: '111111111111', Arn: 'arn:aws:sts::111111111111:assumed-role/model-deploy-dev/gh', UserId: 'x' };
const notFound = Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });

describe('a prebuilt image with model files in S3', () => {
  it.each(['s3://models-us-east-1/llama/model.tar.gz', 's3://models-us-east-1/llama/'])('deploys %s with no build: the bucket is in the region, nothing copied', async (uri) => {
    sts.on(GetCallerIdentityCommand).resolves(account);
    s3.on(GetBucketLocationCommand).resolves({});
    const reporter = memoryReporter();
    const [r] = await buildImage(targetOf(prebuilt(uri)), {}, { reporter, env: new EnvInputs({}) });
    expect(r).toMatchObject({ region: 'us-east-1', imageUri: IMAGE, modelDataUrl: uri, skipped: true, buildId: '' });
    expect(s3.commandCalls(GetBucketLocationCommand)[0]?.args[0].input).toEqual({ Bucket: 'models-us-east-1', ExpectedBucketOwner: '111111111111' });
    expect(s3.commandCalls(CopyObjectCommand)).toHaveLength(0);
  });
});

describe('model.s3 in several regions (issue 16.3)', () => {
  const uri = 's3://models-us-east-1/llama/model.tar.gz';
  const target = 'model-deploy-111111111111-eu-west-1';

  function sourceInUsEast1(): void {
    sts.on(GetCallerIdentityCommand).resolves(account);
    s3.on(GetBucketLocationCommand).resolves({});
    s3.on(HeadBucketCommand).resolves({});
    s3.on(HeadObjectCommand, { Bucket: 'models-us-east-1' }).resolves({ ContentLength: 1234, ETag: '"abc"', ContentType: 'application/gzip' });
    s3.on(HeadObjectCommand, { Bucket: target }).rejects(notFound);
    s3.on(CopyObjectCommand).resolves({ VersionId: 'v1', CopyObjectResult: { ETag: '"abc"' } });
  }

  it('copies the artifacts into each other region\'s artifact bucket and points that region at the copy', async () => {
    sourceInUsEast1();
    const results = await buildImage(targetOf(prebuilt(uri).replace('[us-east-1]', '[us-east-1, eu-west-1]')), {}, { reporter: memoryReporter(), env: new EnvInputs({}) });
    expect(results.map((r) => [r.region, r.modelDataUrl])).toEqual([
      ['us-east-1', uri],
      ['eu-west-1', `s3://${target}/llama/model.tar.gz`],
    ]);
    const copies = s3.commandCalls(CopyObjectCommand);
    expect(copies).toHaveLength(1);
    expect(copies[0]?.args[0].input).toMatchObject({ Bucket: target, Key: 'llama/model.tar.gz', CopySource: 'models-us-east-1/llama/model.tar.gz', ExpectedBucketOwner: '111111111111', ExpectedSourceBucketOwner: '111111111111', CopySourceIfMatch: '"abc"' });
  });

  it('copies every object of an uncompressed prefix; a bucket in eu-west-1 ("EU") serves eu-west-1 itself', async () => {
    sts.on(GetCallerIdentityCommand).resolves(account);
    s3.on(GetBucketLocationCommand).resolves({ LocationConstraint: 'EU' });
    s3.on(HeadBucketCommand).resolves({});
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'llama/config.json', Size: 10, ETag: '"c"' }, { Key: 'llama/model.safetensors', Size: 99, ETag: '"m"' }] });
    s3.on(HeadObjectCommand).rejects(notFound);
    s3.on(CopyObjectCommand).resolves({ CopyObjectResult: {} });
    const results = await buildImage(targetOf(prebuilt('s3://models-eu/llama/').replace('[us-east-1]', '[eu-west-1, us-east-1]')), {}, { reporter: memoryReporter(), env: new EnvInputs({}) });
    expect(results.map((r) => r.modelDataUrl)).toEqual(['s3://models-eu/llama/', 's3://model-deploy-111111111111-us-east-1/llama/']);
    expect(s3.commandCalls(CopyObjectCommand).map((c) => c.args[0].input.Key)).toEqual(['llama/config.json', 'llama/model.safetensors']);
  });

  it('a built image gets the copy too (images output per region)', async () => {
    sourceInUsEast1();
    const text = withChanges([
      ['      huggingface:\n        id: Qwen/Qwen2.5-7B-Instruct\n        revision: a09a35458c702b33eeacc393d103063234e8bc28\n', `      s3: ${uri}\n`],
      ['[us-east-1]', '[eu-west-1]'],
    ]);
    const t = targetOf(text);
    const d = t.deployment;
    const hash = infraParameters(d, { region: 'eu-west-1', account: '111111111111', bucket: target, template: infraTemplate(ROOT), baseRepository: 'vllm' }).ConfigHash;
    cfn.on(DescribeStacksCommand).resolves(stackAnswer({
      name: 'acme-chat-build', status: 'CREATE_COMPLETE', parameters: { ConfigHash: hash },
      outputs: { RepositoryUri: '111111111111.dkr.ecr.eu-west-1.amazonaws.com/acme/chat', ProjectName: 'p', LogGroupName: 'l' },
    }));
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: 'sha256:old' }] });
    const [r] = await buildImage(t, {}, { reporter: memoryReporter(), env: new EnvInputs({}) });
    expect(r).toMatchObject({ region: 'eu-west-1', skipped: true, modelDataUrl: `s3://${target}/llama/model.tar.gz` });
  });

  it('refuses one artifact bucket for several regions, before copying anything', async () => {
    sourceInUsEast1();
    const text = prebuilt(uri).replace('    account: "111111111111"', '    account: "111111111111"\n    artifactBucket: models-us-east-1').replace('[us-east-1]', '[us-east-1, eu-west-1]');
    const t = targetOf(text, 'dev');
    await expect(buildImage(t, {}, { reporter: memoryReporter(), env: new EnvInputs({}) })).rejects.toThrow(/artifact bucket models-us-east-1 is the bucket of model.s3, in us-east-1; SageMaker in eu-west-1 needs the model in eu-west-1/);
    expect(s3.commandCalls(CopyObjectCommand)).toHaveLength(0);
  });

  it('says what to do when the source bucket belongs to another account', async () => {
    sts.on(GetCallerIdentityCommand).resolves(account);
    s3.on(GetBucketLocationCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    const err = await buildImage(targetOf(prebuilt(uri).replace('[us-east-1]', '[us-east-1, eu-west-1]')), {}, { reporter: memoryReporter(), env: new EnvInputs({}) }).catch((e: unknown) => e);
    expect((err as DeployError).message).toBe('model.s3 bucket models-us-east-1 is not readable as a bucket of account 111111111111 (AccessDenied)');
    expect((err as DeployError).hint).toMatch(/s3:GetBucketLocation, s3:ListBucket, s3:GetObject/);
  });
});

describe('a custom Dockerfile FROM a Deep Learning Container', () => {
  const custom = withChanges([['name: vllm', 'name: custom\n      dockerfile: docker/Dockerfile'], ['      version: "0.8.5"\n', ''], ['      args: ["--max-model-len", "8192"]\n', '']]);

  it('logs in to the DLC registry of the build region; the build role pulls shared images, not other teams\' of this account', () => {
    const from = 'FROM --platform=linux/amd64 763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:2.6.0-gpu-py312 AS base\nFROM base\n';
    const { spec, dir } = specIn(custom.replace('[us-east-1]', '[eu-west-1]'), { 'docker/Dockerfile': from });
    const d = spec.deployments.chat;
    const r = renderBuild(d, { region: 'eu-west-1', root: ROOT, specDir: dir });
    expect(r.engine).toMatchObject({ name: 'custom', fromDlc: true, baseRepository: 'pytorch-inference' });
    // Issue 20: the build runs as the bootstrap's PROJECT.ENV.codebuild role, which pulls images other accounts
    // share (their repository policies decide) and pushes only the project's; the stack grants nothing itself.
    const params = infraParameters(d, { region: 'eu-west-1', account: '111111111111', bucket: 'b', template: infraTemplate(ROOT), baseRepository: r.engine.baseRepository, environmentName: 'dev' });
    expect(params.ServiceRoleArn).toBe(`arn:aws:iam::111111111111:role/${d.project}.dev.codebuild`);
    const bootstrap = resolveTemplate(readTemplate('templates/bootstrap/model-deploy-bootstrap.yaml'), { Repository: 'acme/x', Project: d.project, Environment: 'dev' });
    const build = roleStatements(bootstrap, 'CodeBuildRole');
    const pull = (account: string, repository: string) => evaluate(build, { action: 'ecr:BatchGetImage', resource: `arn:aws:ecr:eu-west-1:${account}:repository/${repository}`, context: { 'aws:ResourceAccount': account } }).decision;
    expect(pull('763104351884', 'pytorch-inference')).toBe('allow');
    expect(pull('111111111111', 'other-team/image')).not.toBe('allow');
  });

  it('uses the region-specific DLC account (af-south-1) and the ARG form FROM ${DLC_REGISTRY}/repo', () => {
    const { spec, dir } = specIn(custom.replace('[us-east-1]', '[af-south-1]'), { 'docker/Dockerfile': 'ARG DLC_REGISTRY\nFROM ${DLC_REGISTRY}/huggingface-pytorch-inference:2.6.0\n' });
    const r = renderBuild(spec.deployments.chat, { region: 'af-south-1', root: ROOT, specDir: dir });
    expect(r.engine).toMatchObject({ fromDlc: true, baseRepository: 'huggingface-pytorch-inference' });
    expect(r.buildspec).toMatch(/--build-arg DLC_REGISTRY=\$BASE_REGISTRY/);
  });

  it('refuses a DLC base of another region, saying which registry to use', () => {
    const { spec, dir } = specIn(custom, { 'docker/Dockerfile': 'FROM 763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:2.6.0-gpu\n' });
    expect(() => renderBuild(spec.deployments.chat, { region: 'us-east-1', root: ROOT, specDir: dir })).toThrow(
      /eu-west-1[\s\S]*us-east-1/,
    );
  });

  it('leaves other bases alone', () => {
    const { spec, dir } = specIn(custom, { 'docker/Dockerfile': 'FROM public.ecr.aws/docker/library/python:3.12\n' });
    expect(renderBuild(spec.deployments.chat, { region: 'us-east-1', root: ROOT, specDir: dir }).engine.fromDlc).toBe(false);
  });
});
