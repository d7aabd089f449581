/** Wires FakeAws behind aws-sdk-client-mock (ECR, STS) for unit tests; layer downloads go to its loopback server. */
 
import * as ecr from '@aws-sdk/client-ecr';
import * as s3 from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { AwsStub, mockClient } from 'aws-sdk-client-mock';
import { DescribeKeyCommand, KeyMetadata, KMSClient } from '@aws-sdk/client-kms';
import type { MetadataBearer } from '@smithy/types';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseSpec } from '../../../src/config/load';
import { resolveTarget, Target } from '../../../src/config/select';
import type { RunContext } from '../../../src/core/action';
import { EnvInputs } from '../../../src/core/env';
import { memoryReporter } from '../../../src/core/log';
import { Readable } from 'stream';
import { AwsError, FakeAws, S3Write } from '../../support/fake-aws/ecr-s3-sts';

export const ECR_OPS = [
  'BatchGetImage', 'DescribeImages', 'BatchCheckLayerAvailability', 'GetDownloadUrlForLayer', 'InitiateLayerUpload',
  'UploadLayerPart', 'CompleteLayerUpload', 'PutImage', 'CreateRepository', 'TagResource', 'DescribeImageReplicationStatus', 'DescribeRepositories',
] as const;

/** calls: "REGION Operation"; callers: "Operation ACCESS_KEY_ID" (which identity made it). */
export function mockEcr(fake: FakeAws, calls: string[] = [], callers: string[] = []) {
  const m = mockClient(ecr.ECRClient);
  for (const op of ECR_OPS) {
    const Command = (ecr as unknown as Record<string, new (i: unknown) => ecr.BatchGetImageCommand>)[`${op}Command`];
    m.on(Command as never).callsFake(async (input: Record<string, unknown>, getClient: () => ecr.ECRClient) => {
      const region = await getClient().config.region();
      calls.push(`${region} ${op}`);
      const credentials = getClient().config.credentials as (() => Promise<{ accessKeyId: string }>) | undefined;
      if (credentials && callers) callers.push(`${op} ${(await credentials().catch(() => ({ accessKeyId: 'default-chain' }))).accessKeyId}`);
      const json = { ...input };
      if (json.layerPartBlob instanceof Uint8Array) json.layerPartBlob = Buffer.from(json.layerPartBlob).toString('base64');
      return fake.ecr(op, region, json);
    });
  }
  return m;
}

let kms: AwsStub<object, MetadataBearer, KMSClient['config']> | undefined;
/** KMS DescribeKey: the key's metadata (Enabled unless `metadata` says otherwise); every mockSts installs the default. */
export function mockKms(metadata: Partial<KeyMetadata> = {}) {
  kms ??= mockClient(KMSClient);
  kms.reset();
  kms.on(DescribeKeyCommand).callsFake(async (input: { KeyId: string }, getClient: () => KMSClient) => {
    const region = await getClient().config.region();
    const described = new FakeAws().describeKey(region, input.KeyId) as { KeyMetadata: KeyMetadata };
    return { KeyMetadata: { ...described.KeyMetadata, ...metadata } };
  });
  return kms;
}

export function mockSts(account = '111111111111') {
  mockKms();
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
    # A multi-region key: its replica in each target region has the same id.
    kmsKeyId: arn:aws:kms:us-east-1:333333333333:key/mrk-1234567890abcdef1234567890abcdef
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

/** The runner's variables that name RUN: its role session, commit and run URL. */
export const RUN_ENV = { GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'acme/models', GITHUB_RUN_ID: '42', GITHUB_RUN_ATTEMPT: '1', GITHUB_SHA: RUN.commit };

const workspaces = new Map<string, string>();

/** A workspace holding `text` as model-deploy.yml (one per spec text). */
export function workspaceWith(text = SPEC): string {
  let dir = workspaces.get(text);
  if (!dir) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-promote-spec-'));
    fs.writeFileSync(path.join(dir, 'model-deploy.yml'), text);
    workspaces.set(text, dir);
  }
  return dir;
}

/** The target environment as promote-model selects it: resolveTarget on the spec, with the `region` input when given. */
export function target(environment = 'prod', region?: string, text = SPEC): Target {
  return resolveTarget({ config: 'model-deploy.yml', deployment: 'chat', environment, region }, workspaceWith(text), 'target-environment');
}

/** A RunContext of run RUN; the process's own variables (OIDC, credentials) as the tests set them. */
export function runContext(reporter = memoryReporter()): RunContext {
  return { reporter, env: new EnvInputs({ ...process.env, ...RUN_ENV }) };
}

/** S3 over FakeAws's buckets (unit tests): objects, owners, versioning and the bucket set-up calls, with every call recorded. */
export function mockS3(fake: FakeAws, calls: { op: string; input: any; accessKeyId?: string }[] = []) {
  const m = mockClient(s3.S3Client);
  // S3's errors as the SDK raises them: code, message and status; a HEAD answer has no body, so the SDK
  // names its error after the status (NotFound, Forbidden) and has no message from S3.
  const MESSAGES: Record<string, string> = {
    NoSuchBucket: 'The specified bucket does not exist',
    NoSuchKey: 'The specified key does not exist.',
    AccessDenied: 'Access Denied',
    PreconditionFailed: 'At least one of the pre-conditions you specified did not hold',
  };
  const fail = (name: string, status: number) => new AwsError(name, MESSAGES[name] ?? 'UnknownError', status);
  const bucket = (input: Record<string, any>, head = false) => {
    const b = fake.buckets.get(input.Bucket);
    if (!b) throw fail(head ? 'NotFound' : 'NoSuchBucket', 404);
    const owner = fake.bucketOwners.get(input.Bucket);
    if (input.ExpectedBucketOwner && owner && input.ExpectedBucketOwner !== owner) throw fail(head ? 'Forbidden' : 'AccessDenied', 403);
    return b;
  };
  const on = (op: string, fn: (input: Record<string, any>, accessKeyId?: string) => unknown) => {
    const Command = (s3 as unknown as Record<string, new (i: unknown) => s3.HeadBucketCommand>)[`${op}Command`];
    m.on(Command as never).callsFake(async (input: Record<string, any>, getClient: () => s3.S3Client) => {
      const credentials = getClient().config.credentials as (() => Promise<{ accessKeyId: string }>) | undefined;
      const accessKeyId = credentials ? (await credentials().catch(() => undefined))?.accessKeyId : undefined;
      calls.push({ op, input, accessKeyId });
      // FakeAws errors are shaped as the SDK raises S3's (name, message, HTTP status).
      return fn(input, accessKeyId);
    });
  };
  on('HeadBucket', (i) => (bucket(i, true), {}));
  on('CreateBucket', (i) => {
    fake.buckets.set(i.Bucket, new Map());
    const owner = /^model-deploy-(\d{12})-/.exec(i.Bucket)?.[1];
    if (owner) fake.bucketOwners.set(i.Bucket, owner);
    return {};
  });
  for (const op of ['PutPublicAccessBlock', 'PutBucketOwnershipControls', 'PutBucketEncryption', 'PutBucketPolicy']) on(op, (i) => (bucket(i), {}));
  on('GetBucketVersioning', (i) => (bucket(i), fake.versioned.has(i.Bucket) ? { Status: 'Enabled' } : {}));
  on('PutBucketVersioning', (i) => {
    bucket(i);
    if (i.VersioningConfiguration?.Status === 'Enabled') fake.versioned.add(i.Bucket);
    return {};
  });
  on('ListObjectsV2', (i) => ({ Contents: [...bucket(i)].filter(([k]) => k.startsWith(i.Prefix ?? '')).map(([Key, o]) => ({ Key, Size: o.size, ETag: o.etag })), IsTruncated: false }));
  on('HeadObject', (i) => {
    bucket(i, true);
    const o = fake.objectAt(i.Bucket, i.Key, i.VersionId);
    if (!o) throw fail('NotFound', 404);
    return { ContentLength: o.size, ETag: o.etag, Metadata: o.metadata, VersionId: o.versionId, ChecksumSHA256: o.checksum };
  });
  const write = (i: Record<string, any>): S3Write => ({ metadata: i.Metadata ?? {}, tags: i.Tagging ?? '', kmsKeyId: i.SSEKMSKeyId, checksum: i.ChecksumSHA256, checksumAlgorithm: i.ChecksumAlgorithm });
  on('GetObject', (i) => {
    bucket(i);
    const o = fake.objectAt(i.Bucket, i.Key, i.VersionId);
    if (!o) throw fail('NoSuchKey', 404);
    if (i.IfMatch && i.IfMatch !== o.etag) throw fail('PreconditionFailed', 412);
    const data = fake.objectBytes(o);
    return { Body: (fake.sourceStream ?? ((d: Buffer) => Readable.from([d])))(data), ContentLength: o.size, ETag: o.etag, ChecksumSHA256: o.checksum, VersionId: o.versionId };
  });
  on('PutObject', (i) => {
    if (i.IfNoneMatch === '*' && bucket(i).has(i.Key)) throw fail('PreconditionFailed', 412);
    bucket(i);
    const o = fake.writeObject(i.Bucket, i.Key, Buffer.from(i.Body), write(i));
    return { VersionId: o.versionId, ETag: o.etag, ChecksumSHA256: o.checksum };
  });
  on('CreateMultipartUpload', (i) => (bucket(i), { UploadId: fake.createUpload(i.Bucket, i.Key, write(i)) }));
  on('UploadPart', async (i) => (bucket(i), { ETag: await fake.uploadPart(i.UploadId, i.PartNumber, Buffer.from(i.Body)), ChecksumSHA256: i.ChecksumSHA256 }));
  on('UploadPartCopy', async (i, caller) => {
    bucket(i);
    fake.assertCanRead(caller, String(i.CopySource).split('/')[0] ?? '');
    const range = /bytes=(\d+)-(\d+)/.exec(String(i.CopySourceRange));
    return { CopyPartResult: { ETag: await fake.uploadPart(i.UploadId, i.PartNumber, Number(range?.[2]) - Number(range?.[1]) + 1) } };
  });
  on('CompleteMultipartUpload', (i) => {
    bucket(i);
    const o = fake.completeUpload(i.UploadId, (i.MultipartUpload?.Parts ?? []).map((p: { PartNumber: number }) => p.PartNumber));
    return { VersionId: o.versionId, ETag: o.etag, ChecksumSHA256: o.checksum };
  });
  on('AbortMultipartUpload', (i) => (bucket(i), fake.abortUpload(i.UploadId), {}));
  on('CopyObject', (i, caller) => {
    const target = bucket(i);
    const { bucket: srcBucket, key: srcKey, versionId: srcVersion } = fake.copySource(String(i.CopySource));
    fake.assertCanRead(caller, srcBucket);
    const src = fake.objectAt(srcBucket, srcKey, srcVersion);
    if (!src) throw fail('NoSuchKey', 404);
    if (i.CopySourceIfMatch && i.CopySourceIfMatch !== src.etag) throw fail('PreconditionFailed', 412);
    if (i.ExpectedSourceBucketOwner && fake.bucketOwners.get(srcBucket) !== i.ExpectedSourceBucketOwner) throw fail('AccessDenied', 403);
    const versionId = fake.versioned.has(i.Bucket) ? `v${fake.buckets.size}-${target.size + 1}-${Date.now()}` : undefined;
    const checksum = i.ChecksumAlgorithm === 'SHA256' ? `sha256-of-${src.etag}` : undefined;
    target.set(i.Key, { size: src.size, etag: `"copy-${src.etag.replace(/"/g, '')}"`, metadata: i.Metadata ?? {}, tags: i.Tagging ?? '', kmsKeyId: i.SSEKMSKeyId, versionId, checksum });
    return { VersionId: versionId, CopyObjectResult: { ETag: `"copy-${src.etag.replace(/"/g, '')}"`, ChecksumSHA256: checksum } };
  });
  return m;
}
