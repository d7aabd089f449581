/**
 * deploy-endpoint refuses, before anything mutates in any region, what an AWS emulator showed going
 * ahead (issue 22): a certificate of another region than the load balancer, an image digest ECR does
 * not hold, weights in another account's artifact bucket.
 */
import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient, CreateChangeSetCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ACMClient, DescribeCertificateCommand } from '@aws-sdk/client-acm';
import { DescribeImagesCommand, ECRClient, ImageNotFoundException, RepositoryNotFoundException } from '@aws-sdk/client-ecr';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { DescribeInstanceTypeOfferingsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import { deployEndpoint, DeployRequest } from '../../../src/deploy/flow';
import type { Target } from '../../../src/config/select';
import { DeployError } from '../../../src/core/errors';
import { EnvInputs } from '../../../src/core/env';
import { memoryReporter } from '../../../src/core/log';
import { fakeClock, fakeRender, selection } from './flow-fixtures';
import { stackNotFound } from '../../support/fake-aws/stack-answer';
import { answerNetwork } from '../../support/fake-aws/ec2-network';

const cfn = mockClient(CloudFormationClient);
const sts = mockClient(STSClient);
const sq = mockClient(ServiceQuotasClient);
const secrets = mockClient(SecretsManagerClient);
const acm = mockClient(ACMClient);
const ecr = mockClient(ECRClient);
const sm = mockClient(SageMakerClient);
const s3 = mockClient(S3Client);
const ec2 = mockClient(EC2Client);

const DIGEST = `sha256:${'ab'.repeat(32)}`;

function deploy(target: Target, account: string, over: Partial<DeployRequest> = {}) {
  sts.on(GetCallerIdentityCommand).resolves({ Account: account, Arn: `arn:aws:sts::${account}:assumed-role/deploy/gh` });
  const reporter = memoryReporter();
  const request: DeployRequest = {
    mode: 'create-and-execute', timeoutMinutes: 60, failOnEmptyChangeSet: false, skipQuotaCheck: true, smokeTest: false,
    render: fakeRender(), pollOverrides: fakeClock(),
    imageUri: `${account}.dkr.ecr.us-east-1.amazonaws.com/acme-llm/qwen-chat:md-abcdef0`,
    modelDataUrl: `s3://model-deploy-${account}-us-east-1/acme-llm/qwen-chat/models/abcdef0/`,
    ...over,
  };
  return { reporter, result: deployEndpoint(target, request, { reporter, env: new EnvInputs({ GITHUB_SHA: 'abcdef0123456789abcdef0123456789abcdef01', GITHUB_RUN_ID: '7' }) }) };
}

/** Nothing was created anywhere: no secret, no change set, no quota read (a mutation's first step). */
function expectNothingMutated(): void {
  expect(secrets.calls()).toHaveLength(0);
  expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  expect(sq.calls()).toHaveLength(0);
}

beforeEach(() => {
  for (const m of [cfn, sts, sq, secrets, acm, ecr, sm, s3, ec2]) m.reset();
  // EC2 holds the example's subnets and security groups (tests of the network checks change it).
  answerNetwork(ec2);
  cfn.on(DescribeStacksCommand).rejects(stackNotFound('any'));
  acm.on(DescribeCertificateCommand).resolves({ Certificate: { DomainName: '*.example.com' } });
  // The default image (a tag) is in ECR; tests of a missing image override it.
  ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ registryId: '111111111111', repositoryName: 'acme-llm/qwen-chat', imageDigest: DIGEST, imageTags: ['md-abcdef0'] }] });
});

/** code-assistant in prod with dev's certificate for every environment (the example gives prod its own in security.certificateArns). */
function withDevCertificate(target: Target): Target {
  const { certificateArns: _perEnvironment, ...security } = target.deployment.security;
  return { ...target, deployment: { ...target.deployment, security } };
}

describe('deploy-endpoint preflight: refused before anything mutates', () => {
  it('a certificate of us-east-1 for the load balancer in eu-west-1: names both regions, before the first region is touched', async () => {
    // prod serves us-east-1 and eu-west-1; the example's certificate is a us-east-1 one.
    const target = withDevCertificate(selection('code-assistant', 'prod'));
    const { result } = deploy(target, '333333333333');
    const err = (await result.catch((e) => e)) as DeployError;
    const text = err.describe();
    expect(text).toMatch(/deployments.code-assistant: security.certificateArn is a certificate in us-east-1, but the load balancer runs in eu-west-1/);
    expect(text).toMatch(/Nothing was changed. Use a certificate of eu-west-1 \(aws acm request-certificate --region eu-west-1\)/);
    expectNothingMutated();
    expect(acm.calls()).toHaveLength(0);
  });

  it('an image digest ECR does not hold (DescribeImages: ImageNotFoundException) is refused; a missing repository too', async () => {
    const image = `111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-llm/qwen-chat@${DIGEST}`;
    ecr.on(DescribeImagesCommand).rejects(new ImageNotFoundException({ message: `The image with imageId {imageDigest:'${DIGEST}', imageTag:'null'} does not exist within the repository with name 'acme-llm/qwen-chat' in the registry with id '111111111111'`, $metadata: {} }));
    const { result } = deploy(selection('qwen-chat', 'dev'), '111111111111', { imageUri: image });
    await expect(result).rejects.toThrow(`image-uri ${image} is not in ECR: repository acme-llm/qwen-chat in us-east-1 holds no image ${DIGEST}`);
    expect(ecr.commandCalls(DescribeImagesCommand)[0]?.args[0].input).toEqual({ registryId: '111111111111', repositoryName: 'acme-llm/qwen-chat', imageIds: [{ imageDigest: DIGEST }] });
    expectNothingMutated();

    ecr.reset();
    ecr.on(DescribeImagesCommand).rejects(new RepositoryNotFoundException({ message: "The repository with name 'acme-llm/qwen-chat' does not exist in the registry with id '111111111111'", $metadata: {} }));
    await expect(deploy(selection('qwen-chat', 'dev'), '111111111111', { imageUri: image }).result).rejects.toThrow(/account 111111111111 has no repository acme-llm\/qwen-chat in us-east-1/);
  });

  it('an image digest ECR holds goes on; a registry we may not read is a warning', async () => {
    const image = `111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-llm/qwen-chat@${DIGEST}`;
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ registryId: '111111111111', repositoryName: 'acme-llm/qwen-chat', imageDigest: DIGEST, imageTags: ['md-abcdef0'] }] });
    const ok = deploy(selection('qwen-chat', 'dev'), '111111111111', { imageUri: image, mode: 'create-only' });
    await ok.result.catch(() => undefined);
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(1);

    ecr.reset();
    cfn.resetHistory();
    const denied = Object.assign(new Error('User: arn:aws:sts::111111111111:assumed-role/deploy/gh is not authorized to perform: ecr:DescribeImages'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    ecr.on(DescribeImagesCommand).rejects(denied);
    const warned = deploy(selection('qwen-chat', 'dev'), '111111111111', { imageUri: image, mode: 'create-only' });
    await warned.result.catch(() => undefined);
    expect(warned.reporter.captured.annotations).toContainEqual(expect.objectContaining({ level: 'warning', title: 'Image not checked' }));
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(1);
  });

  it('an image pinned by a tag ECR does not hold is refused, naming repository, region and tag and how to build it', async () => {
    const image = '111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-llm/qwen-chat:md-1234567';
    // ECR DescribeImages with imageIds [{imageTag}]: ImageNotFoundException (API reference, DescribeImages errors).
    ecr.on(DescribeImagesCommand).rejects(new ImageNotFoundException({ message: "The image with imageId {imageDigest:'null', imageTag:'md-1234567'} does not exist within the repository with name 'acme-llm/qwen-chat' in the registry with id '111111111111'", $metadata: {} }));
    const { result } = deploy(selection('qwen-chat', 'dev'), '111111111111', { imageUri: image });
    const err = (await result.catch((e) => e)) as DeployError;
    const text = err.describe();
    expect(text).toMatch(`image-uri ${image} is not in ECR: repository acme-llm/qwen-chat in us-east-1 holds no tag md-1234567`);
    expect(text).toMatch(/Nothing was changed. Build it with build-model/);
    expect(ecr.commandCalls(DescribeImagesCommand)[0]?.args[0].input).toEqual({ registryId: '111111111111', repositoryName: 'acme-llm/qwen-chat', imageIds: [{ imageTag: 'md-1234567' }] });
    expectNothingMutated();
  });

  it('an image pinned by a tag ECR holds goes on (one DescribeImages by tag)', async () => {
    const ok = deploy(selection('qwen-chat', 'dev'), '111111111111', { mode: 'create-only' });
    await ok.result.catch(() => undefined);
    expect(ecr.commandCalls(DescribeImagesCommand).map((c) => c.args[0].input.imageIds)).toEqual([[{ imageTag: 'md-abcdef0' }]]);
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(1);
  });

  it("weights in another account's artifact bucket, which the bootstrap boundary forbids stack roles to read, are refused", async () => {
    const { result } = deploy(selection('qwen-chat', 'dev'), '111111111111', { modelDataUrl: 's3://model-deploy-222222222222-us-east-1/acme-llm/qwen-chat/models/abcdef0/' });
    const err = (await result.catch((e) => e)) as DeployError;
    const text = err.describe();
    expect(text).toMatch(/is in the artifact bucket of account 222222222222, and the deploy is in account 111111111111/);
    expect(text).toMatch(/promote-model/);
    expectNothingMutated();
  });

  it('every problem of every region is said at once', async () => {
    const image = `333333333333.dkr.ecr.us-east-1.amazonaws.com/acme-llm/code-assistant@${DIGEST}`;
    ecr.on(DescribeImagesCommand).rejects(new ImageNotFoundException({ message: 'not there', $metadata: {} }));
    const { result } = deploy(withDevCertificate(selection('code-assistant', 'prod')), '333333333333', { imageUri: image, modelDataUrl: 's3://model-deploy-111111111111-us-east-1/x/' });
    const err = (await result.catch((e) => e)) as DeployError;
    const text = err.describe();
    expect(text).toMatch(/problems/);
    expect(text).toMatch(/certificate in us-east-1/);
    expect(text).toMatch(/is not in ECR/);
    expect(text).toMatch(/artifact bucket of account 111111111111/);
    expectNothingMutated();
  });

  it('a region the offline table does not cover: EC2 DescribeInstanceTypeOfferings decides (none: refused; an offering: goes on)', async () => {
    // ca-central-1 is outside the table's sources (config/instance-regions.ts).
    const inCanada = () => selection('qwen-chat', 'dev', (t) => t.replace('    instanceType: ml.g5.2xlarge\n', '    instanceType: ml.g5.2xlarge\n    regions: [ca-central-1]\n'));
    ec2.on(DescribeInstanceTypeOfferingsCommand).resolves({ InstanceTypeOfferings: [] });
    const refused = deploy(inCanada(), '111111111111', { imageUri: undefined, modelDataUrl: undefined });
    const err = (await refused.result.catch((e) => e)) as DeployError;
    expect(err.describe()).toMatch(/instanceType ml.g5.2xlarge is not offered in ca-central-1 \(EC2 DescribeInstanceTypeOfferings lists no offering there\)/);
    expect(ec2.commandCalls(DescribeInstanceTypeOfferingsCommand)[0]?.args[0].input).toEqual({ LocationType: 'region', Filters: [{ Name: 'instance-type', Values: ['g5.2xlarge'] }] });
    expectNothingMutated();

    ec2.reset();
    ec2.on(DescribeInstanceTypeOfferingsCommand).resolves({ InstanceTypeOfferings: [{ InstanceType: 'g5.2xlarge', LocationType: 'region', Location: 'ca-central-1' }] });
    const ok = deploy(inCanada(), '111111111111', { mode: 'create-only', imageUri: '111111111111.dkr.ecr.ca-central-1.amazonaws.com/acme-llm/qwen-chat:md-abcdef0', modelDataUrl: 's3://model-deploy-111111111111-ca-central-1/acme-llm/qwen-chat/models/abcdef0/' });
    await ok.result.catch(() => undefined);
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(1);
  });

  it('a region the table covers is answered offline: no EC2 call', async () => {
    const { result } = deploy(selection('qwen-chat', 'dev'), '111111111111', { mode: 'create-only' });
    await result.catch(() => undefined);
    expect(ec2.calls()).toHaveLength(0);
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(1);
  });
});
