/** Wires FakeAws behind aws-sdk-client-mock (ECR, STS) for unit tests; layer downloads go to its loopback server. */
import * as ecr from '@aws-sdk/client-ecr';
import { GetCallerIdentityCommand, AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { parseSpec } from '../../../src/config/load';
import { FakeAws } from './fake-aws';

export const ECR_OPS = [
  'BatchGetImage', 'DescribeImages', 'BatchCheckLayerAvailability', 'GetDownloadUrlForLayer', 'InitiateLayerUpload',
  'UploadLayerPart', 'CompleteLayerUpload', 'PutImage', 'CreateRepository', 'TagResource', 'DescribeImageReplicationStatus',
] as const;

export function mockEcr(fake: FakeAws, calls: string[] = []) {
  const m = mockClient(ecr.ECRClient);
  for (const op of ECR_OPS) {
    const Command = (ecr as unknown as Record<string, new (i: unknown) => ecr.BatchGetImageCommand>)[`${op}Command`];
    m.on(Command as never).callsFake(async (input: Record<string, unknown>, getClient: () => ecr.ECRClient) => {
      const region = await getClient().config.region();
      calls.push(`${region} ${op}`);
      const json = { ...input };
      if (json.layerPartBlob instanceof Uint8Array) json.layerPartBlob = Buffer.from(json.layerPartBlob).toString('base64');
      return fake.ecr(op, region, json);
    });
  }
  return m;
}

export function mockSts(account = '111111111111') {
  const m = mockClient(STSClient);
  m.on(GetCallerIdentityCommand).resolves({ Account: account, Arn: `arn:aws:sts::${account}:assumed-role/model-deploy-dev/gh-1` });
  m.on(AssumeRoleCommand).callsFake((input: { RoleArn: string; RoleSessionName: string }) => {
    const acct = /iam::(\d+):/.exec(input.RoleArn)![1];
    return { Credentials: { AccessKeyId: `ASIA${acct}`, SecretAccessKey: `target-secret-${acct}`, SessionToken: `target-token-${acct}`, Expiration: new Date(Date.now() + 3600_000) } };
  });
  return m;
}

export const SPEC = `
version: 1
project: acme
environments:
  dev:
    account: "111111111111"
    roleArn: arn:aws:iam::111111111111:role/model-deploy-dev
  prod:
    account: "333333333333"
    promotionRoleArn: arn:aws:iam::333333333333:role/model-deploy-promotion
    regions: [us-east-1, eu-west-1]
    kmsKeyId: arn:aws:kms:us-east-1:333333333333:key/11111111-2222-3333-4444-555555555555
  replicated:
    account: "444444444444"
    promotionRoleArn: arn:aws:iam::444444444444:role/model-deploy-promotion
    ecrReplication: true
  broken:
    account: "555555555555"
    promotionRoleArn: arn:aws:iam::666666666666:role/model-deploy-promotion
deployments:
  chat:
    model: { huggingface: { id: Qwen/Qwen2.5-0.5B, revision: main } }
    engine: { name: vllm }
    target: sagemaker-realtime
    instanceType: ml.g5.xlarge
    regions: [us-east-1]
`;

export function spec(text = SPEC) {
  const s = parseSpec(text, 'model-deploy.yml');
  return { spec: s, deployment: s.deployments.chat };
}

export const RUN = { sessionName: 'promote-models-gh-42-1', commit: '0123456789abcdef0123456789abcdef01234567', runUrl: 'https://github.com/acme/models/actions/runs/42' };
