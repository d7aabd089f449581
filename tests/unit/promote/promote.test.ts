 
import { AwsStub, mockClient } from 'aws-sdk-client-mock';
import type { MetadataBearer } from '@smithy/types';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import * as bedrock from '@aws-sdk/client-bedrock';
import * as ram from '@aws-sdk/client-ram';
import { DescribeOrganizationCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { DescribeRepositoriesCommand, PutImageCommand } from '@aws-sdk/client-ecr';
import { DeployError } from '../../../src/core/errors';
import { memoryReporter } from '../../../src/core/log';
import { promoteModel } from '../../../src/promote/promote';
import { planPromotion, PromoteModelRequest, promotionTargetOf } from '../../../src/promote/plan';
import { parseSpec } from '../../../src/config/load';
import { modelDataVersionsOutput } from '../../../src/promote/promotion';
import { WEIGHTS_MANIFEST } from '../../../src/promote/weights-manifest';
import { FakeAws, sha } from '../../support/fake-aws/ecr-s3-sts';
import { mockEcr, mockKms, mockS3, mockSts, RUN, runContext, spec, SPEC, target } from './harness';
import { weightsKey } from '../../../src/image/render';
import type { Loopback } from '../../support/loopback';

const layer = (n: number, fill: number) => Buffer.alloc(n, fill);

function request(over: Partial<PromoteModelRequest> = {}): PromoteModelRequest {
  return { sourceEnvironment: 'dev', tuning: { pollInitialDelayMs: 1, pollMaxDelayMs: 2 }, ...over };
}

let fake: FakeAws;
let server: Loopback;
beforeEach(async () => {
  fake = new FakeAws();
  server = await fake.serve();
});
afterEach(async () => {
  await server.close();
});

describe('planPromotion: bad input fails before any AWS call', () => {
  test('unknown environment names the input and suggests', () => {
    expect(() => planPromotion(target('prd'), request())).toThrow(/unknown environment "prd" \(input `target-environment`\)/);
  });
  test('image in an account outside the spec', () => {
    expect(() => planPromotion(target(), request({ imageUri: '999999999999.dkr.ecr.us-east-1.amazonaws.com/acme/chat:v1' }))).toThrow(/999999999999, which is not in the spec/);
  });
  test('promotion role in another account than the environment', () => {
    expect(() => planPromotion(target('broken'), request())).toThrow(/not a role in the environment's account 555555555555/);
  });
  test('same source and target, region not served, bad ARNs', () => {
    expect(() => planPromotion(target('dev'), request())).toThrow(/both environment "dev"/);
    expect(() => planPromotion(target('prod', 'ap-south-1'), request())).toThrow(/ap-south-1/);
    expect(() => planPromotion(target(), request({ bedrockModelArn: 'arn:aws:s3:::x' }))).toThrow(/a Bedrock custom model is promoted only as a target: bedrock deployment/);
    expect(() => planPromotion(target(), request({ modelDataUrl: 'https://x/y' }))).toThrow(/not an S3 object or prefix URL/);
  });
  test('defaults: newest image of repositoryName(d), target regions from the environment', () => {
    const plan = planPromotion(target(), request());
    expect(plan.image).toEqual({ repositoryName: 'acme/chat' });
    expect(plan.target.regions).toEqual(['us-east-1', 'eu-west-1']);
    expect(plan.target.roleArn).toBe('arn:aws:iam::333333333333:role/model-deploy-promotion');
  });
});

/** What build-model left in dev: the weights of the Hugging Face model, which promote-model copies with the image. */
/** The key of the content-addressed prefix a promotion wrote (s3://bucket/<this>). */
function promotedPrefix(url: string | undefined): string {
  return (url ?? '').replace(/^s3:\/\/[^/]+\//, '');
}

function seedBuildWeights() {
  const prefix = `acme/chat/models/${weightsKey(spec().deployment)}/`;
  fake.putObject('model-deploy-111111111111-us-east-1', `${prefix}model.safetensors`, 4096);
  fake.bucketOwners.set('model-deploy-111111111111-us-east-1', '111111111111');
  return prefix;
}

describe('promote: image copy across accounts and regions', () => {
  beforeEach(() => {
    seedBuildWeights();
    mockS3(fake);
  });
  test('copies blobs, puts the manifest last, tags with provenance; a re-run moves 0 bytes', async () => {
    const layers = [layer(70_000, 1), layer(30_000, 2)];
    const digest = fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'v1', layers);
    const calls: string[] = [];
    mockEcr(fake, calls);
    const sts = mockSts();
    const reporter = memoryReporter();
    const result = await promoteModel(target(), request({ tuning: { layerPartSize: 16 * 1024 } }), runContext(reporter));

    expect(sts.commandCalls(AssumeRoleCommand)[0].args[0].input).toMatchObject({ RoleArn: 'arn:aws:iam::333333333333:role/model-deploy-promotion', RoleSessionName: 'promote-models-gh-42-1' });
    expect(result.digest).toBe(digest);
    for (const region of ['us-east-1', 'eu-west-1']) {
      const t = result.targets.find((x) => x.region === region)!;
      expect(t).toMatchObject({ image: 'copied', blobsCopied: 3, blobsSkipped: 0, imageUri: `333333333333.dkr.ecr.${region}.amazonaws.com/acme/chat@${digest}` });
      expect(t.bytesMoved).toBe(100_000 + fake.repo('111111111111', 'us-east-1', 'acme/chat').blobs.get(JSON.parse(fake.repo('111111111111', 'us-east-1', 'acme/chat').manifests.get(digest)!.body).config.digest)!.length);
      const repo = fake.repo('333333333333', region, 'acme/chat');
      expect(repo.tags.get('v1')).toBe(digest);
      expect(repo.resourceTags).toMatchObject({ 'model-deploy:digest': digest, 'model-deploy:source-account': '111111111111', 'model-deploy:git-commit': RUN.commit, 'model-deploy:run-url': RUN.runUrl });
      const mine = calls.filter((c) => c.startsWith(region)).map((c) => c.split(' ')[1]);
      // PutImage is the last write; parts are at most the part size (70,000 bytes → 5 parts of 16 KiB).
      expect(mine.filter((c) => c !== 'TagResource').pop()).toBe('PutImage');
      expect(mine.filter((c) => c === 'UploadLayerPart').length).toBe(5 + 2 + 1);
    }
    expect(reporter.captured.summaries[0]).toMatch(/\| 333333333333 \| eu-west-1 \| copied/);
    for (const secret of ['target-secret-333333333333', 'target-token-333333333333']) expect(reporter.captured.secrets).toContain(secret);
    for (const secret of ['target-secret', 'presignedsecret']) expect(reporter.allText()).not.toContain(secret);

    // Second run: the tag already points at the digest.
    calls.length = 0;
    const before = fake.bytesDownloaded;
    const again = await promoteModel(target(), request(), runContext());
    expect(fake.bytesDownloaded).toBe(before);
    expect(again.targets.every((t) => t.image === 'present' && t.bytesMoved === 0)).toBe(true);
    expect(calls.filter((c) => /Upload|PutImage|GetDownloadUrl/.test(c))).toEqual([]);
  });

  test('a corrupt layer download fails before any tag is written, and a re-run completes it skipping finished blobs', async () => {
    const layers = [layer(5000, 7), layer(6000, 8)];
    const digest = fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'v2', layers);
    fake.corrupt = sha(layers[1]);
    const calls: string[] = [];
    mockEcr(fake, calls);
    mockSts();
    const err = await promoteModel(target('prod', 'us-east-1'), request({ tuning: { blobConcurrency: 1 } }), runContext()).catch((e) => e as DeployError);
    expect(err).toBeInstanceOf(DeployError);
    expect((err as DeployError).describe()).toMatch(/us-east-1: Layer sha256:[a-f0-9]+ arrived with sha256/);
    expect((err as DeployError).describe()).toMatch(/re-run promote-model/);
    expect(calls).not.toContain('us-east-1 PutImage');
    expect(fake.repo('333333333333', 'us-east-1', 'acme/chat').tags.size).toBe(0);

    fake.corrupt = undefined;
    calls.length = 0;
    const ok = await promoteModel(target('prod', 'us-east-1'), request(), runContext());
    expect(ok.targets[0]).toMatchObject({ image: 'copied', blobsSkipped: 2, blobsCopied: 1, bytesMoved: 6000 });
    expect(fake.repo('333333333333', 'us-east-1', 'acme/chat').tags.get('v2')).toBe(digest);
  });

  test('multi-platform index: children are put before the index', async () => {
    const a = fake.pushImage('111111111111', 'us-east-1', 'acme/chat', undefined, [layer(1000, 1)]);
    const b = fake.pushImage('111111111111', 'us-east-1', 'acme/chat', undefined, [layer(1000, 2)], 'linux/arm64');
    const index = fake.pushIndex('111111111111', 'us-east-1', 'acme/chat', 'multi', [a, b]);
    mockEcr(fake);
    mockSts();
    const putOrder: string[] = [];
    const orig = fake.ecr.bind(fake);
    fake.ecr = (op, region, input) => {
      if (op === 'PutImage') putOrder.push(sha(input.imageManifest));
      return orig(op, region, input);
    };
    const res = await promoteModel(target('prod', 'eu-west-1'), request({ imageUri: `111111111111.dkr.ecr.us-east-1.amazonaws.com/acme/chat:multi` }), runContext());
    expect(putOrder.slice(-1)).toEqual([index]);
    expect(new Set(putOrder.slice(0, 2))).toEqual(new Set([a, b]));
    expect(res.digest).toBe(index);
  });

  test('a denied call names the permission and the principal', async () => {
    fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'v1', [layer(100, 1)]);
    const m = mockEcr(fake);
    m.on(PutImageCommand).rejects(Object.assign(new Error('User: arn:aws:sts::333333333333:assumed-role/model-deploy-promotion/x is not authorized to perform: ecr:PutImage'), { name: 'AccessDeniedException' }));
    mockSts();
    const err = (await promoteModel(target('prod', 'us-east-1'), request(), runContext()).catch((e) => e)) as DeployError;
    expect(err.describe()).toMatch(/ecr:PutImage on acme\/chat in 333333333333 us-east-1 as arn:aws:iam::333333333333:role\/model-deploy-promotion/);
    expect(err.describe()).toMatch(/lacks the permission/);
  });

  test('a refused role assumption explains the trust policy, before anything is copied', async () => {
    fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'v1', [layer(100, 1)]);
    const calls: string[] = [];
    mockEcr(fake, calls);
    const sts = mockSts();
    sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' }));
    const err = (await promoteModel(target(), request(), runContext()).catch((e) => e)) as DeployError;
    expect(err.describe()).toMatch(/Could not assume arn:aws:iam::333333333333:role\/model-deploy-promotion/);
    expect(err.describe()).toMatch(/trust policy/);
    expect(calls).toEqual([]);
  });

  test('a job in a third account is refused', async () => {
    mockSts('999999999999');
    await expect(promoteModel(target(), request(), runContext())).rejects.toThrow(/account 999999999999, which is neither dev/);
  });

  test('ECR replication: waits for COMPLETE, then checks the digest in the target', async () => {
    const digest = fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'v1', [layer(100, 1)]);
    let checks = 0;
    const orig = fake.ecr.bind(fake);
    fake.ecr = (op, region, input) => {
      if (op === 'DescribeImageReplicationStatus') {
        checks++;
        if (checks === 2) {
          // AWS replicates in the background; here, when the second check happens.
          const src = fake.repo('111111111111', 'us-east-1', 'acme/chat');
          const dst = fake.repo('444444444444', 'us-east-1', 'acme/chat', true);
          dst.manifests.set(digest, src.manifests.get(digest)!);
          dst.tags.set('v1', digest);
        }
        return { replicationStatuses: [{ region: 'us-east-1', registryId: '444444444444', status: checks >= 2 ? 'COMPLETE' : 'IN_PROGRESS' }] };
      }
      return orig(op, region, input);
    };
    mockEcr(fake);
    mockSts();
    const res = await promoteModel(target('replicated'), request(), runContext());
    expect(res.targets[0]).toMatchObject({ image: 'replicated', digest, bytesMoved: 0 });
    expect(checks).toBe(2);
  });
});

/** One Organization, the source model Active, every region serving its base model; the target's copy not there yet. */
function bedrockPrerequisitesMet(b: AwsStub<object, MetadataBearer, unknown>) {
  mockClient(OrganizationsClient).on(DescribeOrganizationCommand).resolves({ Organization: { Id: 'o-abc' } });
  b.on(bedrock.GetCustomModelCommand).callsFake((i: { modelIdentifier: string }) => {
    if (i.modelIdentifier.includes(':111111111111:')) return { modelStatus: 'Active', baseModelArn: 'arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1:0:8k' };
    throw Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' });
  });
  b.on(bedrock.GetFoundationModelCommand).resolves({ modelDetails: { modelId: 'amazon.titan-text-express-v1:0:8k', inferenceTypesSupported: ['PROVISIONED'] } } as never);
}

/** The harness's spec with a target: bedrock deployment of `model`, selected for promotion to prod. */
function bedrockTarget(model: string, region?: string) {
  const text = `${SPEC}  tuned:\n    target: bedrock\n    model: { bedrock: ${model} }\n    regions: [us-east-1]\n`;
  return promotionTargetOf(parseSpec(text, 'model-deploy.yml'), 'model-deploy.yml', { deployment: 'tuned', environment: 'prod', region });
}

describe('promote: model data and Bedrock', () => {
  test('S3 weights go to the target bucket with the target KMS key and provenance tags, through the runner across accounts', async () => {
    fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'v1', [layer(100, 1)]);
    fake.putObject('dev-weights', 'chat/model.tar.gz', 1234, '"abc"');
    fake.bucketOwners.set('dev-weights', '111111111111');
    mockEcr(fake);
    mockSts();
    const calls: { op: string; input: any; accessKeyId?: string }[] = [];
    mockS3(fake, calls);
    const res = await promoteModel(target(), request({ modelDataUrl: 's3://dev-weights/chat/model.tar.gz' }), runContext());
    // A content-addressed folder in prod's own folder: the same plan gets the same name in every region.
    const promoted = /^promoted\/acme\/prod\/chat\/sha256-[0-9a-f]{64}\/model\.tar\.gz$/;
    const urls = res.targets.map((t) => t.modelDataUrl!).sort();
    expect(urls.map((u) => u.replace(/^s3:\/\/[^/]+\//, ''))).toEqual([expect.stringMatching(promoted), expect.stringMatching(promoted)]);
    expect(urls.map((u) => u.replace(/\/promoted\/.*/, ''))).toEqual(['s3://model-deploy-333333333333-eu-west-1', 's3://model-deploy-333333333333-us-east-1']);
    const copiedKey = urls[1]!.replace(/^s3:\/\/[^/]+\//, '');
    // The target role cannot read dev's bucket: no server-side copy across accounts.
    expect(calls.filter((c) => c.op === 'CopyObject')).toEqual([]);
    expect(calls.filter((c) => c.op === 'GetObject' && c.input.Bucket === 'dev-weights').map((c) => c.input)).toEqual([0, 1].map(() => expect.objectContaining({ Bucket: 'dev-weights', IfMatch: '"abc"', ExpectedBucketOwner: '111111111111' })));
    const puts = calls.filter((c) => c.op === 'PutObject' && !c.input.Key.endsWith(WEIGHTS_MANIFEST)).map((c) => c.input);
    expect(puts).toHaveLength(2);
    for (const put of puts) {
      expect(put).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: expect.stringContaining(':key/'), ChecksumAlgorithm: 'SHA256', ExpectedBucketOwner: '333333333333', Metadata: { 'model-deploy-source-etag': 'abc' } });
      expect(new URLSearchParams(put.Tagging).get('model-deploy:source-account')).toBe('111111111111');
      expect(new URLSearchParams(put.Tagging).get('model-deploy:git-commit')).toBe(RUN.commit);
    }
    const copied = fake.buckets.get('model-deploy-333333333333-us-east-1')!.get(copiedKey)!;
    expect(copied.data).toEqual(fake.objectBytes(fake.buckets.get('dev-weights')!.get('chat/model.tar.gz')!));
  });

  test('Bedrock: shares through RAM, copies per region with an idempotent token, reports the model ARN', async () => {
    mockSts();
    const r = mockClient(ram.RAMClient);
    r.on(ram.GetResourceSharesCommand).resolves({ resourceShares: [] });
    r.on(ram.CreateResourceShareCommand).resolves({ resourceShare: { resourceShareArn: 'arn:aws:ram:us-east-1:111111111111:resource-share/s1' } });
    r.on(ram.GetResourceShareInvitationsCommand).resolves({ resourceShareInvitations: [{ status: 'PENDING', resourceShareInvitationArn: 'arn:inv' }] });
    r.on(ram.AcceptResourceShareInvitationCommand).resolves({});
    const b = mockClient(bedrock.BedrockClient);
    bedrockPrerequisitesMet(b);
    b.on(bedrock.CreateModelCopyJobCommand).callsFake(async (_i, getClient) => ({ jobArn: `arn:job/${await getClient().config.region()}` }));
    let polls = 0;
    b.on(bedrock.GetModelCopyJobCommand).callsFake((i: { jobArn: string }) => {
      polls++;
      const region = i.jobArn.split('/')[1];
      return polls <= 2 ? { status: 'InProgress' } : { status: 'Completed', targetModelArn: `arn:aws:bedrock:${region}:333333333333:custom-model/copied` };
    });
    const arn = 'arn:aws:bedrock:us-east-1:111111111111:custom-model/amazon.titan-text-express-v1:0:8k/abc123abc123';
    const res = await promoteModel(bedrockTarget(arn), request(), runContext());
    expect(r.commandCalls(ram.CreateResourceShareCommand)[0].args[0].input).toMatchObject({ resourceArns: [arn], principals: ['333333333333'], allowExternalPrincipals: false });
    expect(r.commandCalls(ram.AcceptResourceShareInvitationCommand)).toHaveLength(1);
    const jobs = b.commandCalls(bedrock.CreateModelCopyJobCommand).map((c) => c.args[0].input);
    expect(jobs).toHaveLength(2);
    expect(jobs[0].clientRequestToken).toMatch(/^[a-f0-9]{64}$/);
    expect(jobs[0].clientRequestToken).not.toBe(jobs[1].clientRequestToken);
    expect(jobs[0]).toMatchObject({ sourceModelArn: arn, modelKmsKeyId: expect.stringContaining(':key/') });
    expect(res.targets.map((t) => t.modelArn).sort()).toEqual(['arn:aws:bedrock:eu-west-1:333333333333:custom-model/copied', 'arn:aws:bedrock:us-east-1:333333333333:custom-model/copied']);
    expect(res.targets.every((t) => t.image === undefined)).toBe(true);
  });

  test('Bedrock: a failed copy job fails with its reason', async () => {
    mockSts();
    const r = mockClient(ram.RAMClient);
    r.on(ram.GetResourceSharesCommand).resolves({ resourceShares: [{ resourceShareArn: 'arn:share' }] });
    r.on(ram.AssociateResourceShareCommand).resolves({});
    r.on(ram.GetResourceShareInvitationsCommand).resolves({});
    const b = mockClient(bedrock.BedrockClient);
    bedrockPrerequisitesMet(b);
    b.on(bedrock.CreateModelCopyJobCommand).resolves({ jobArn: 'arn:job' });
    b.on(bedrock.GetModelCopyJobCommand).resolves({ status: 'Failed', failureMessage: 'Provisioned throughput is not supported in eu-west-1' });
    const err = (await promoteModel(bedrockTarget('arn:aws:bedrock:us-east-1:111111111111:custom-model/amazon.titan-text-express-v1:0:8k/abcabcabcabc', 'eu-west-1'), request(), runContext()).catch((e) => e)) as DeployError;
    expect(err.describe()).toMatch(/eu-west-1: Bedrock model copy job arn:job failed: Provisioned throughput is not supported/);
    expect(r.commandCalls(ram.CreateResourceShareCommand)).toHaveLength(0);
  });
});

describe('promote: the weights the build put in the source environment (issue 13)', () => {
  const key = weightsKey(spec().deployment)!;
  const sourcePrefix = `acme/chat/models/${key}/`;
  function seedWeights() {
    fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'v1', [layer(100, 1)]);
    fake.putObject('model-deploy-111111111111-us-east-1', `${sourcePrefix}config.json`, 300);
    seedBuildWeights();
    for (const r of ['us-east-1', 'eu-west-1']) {
      fake.buckets.set(`model-deploy-333333333333-${r}`, new Map());
      fake.bucketOwners.set(`model-deploy-333333333333-${r}`, '333333333333');
    }
  }

  test('with no model-data-url, a Hugging Face deployment promotes the build\'s weights prefix to every target region', async () => {
    seedWeights();
    mockEcr(fake);
    mockSts();
    mockS3(fake);
    const res = await promoteModel(target(), request(), runContext());
    for (const region of ['us-east-1', 'eu-west-1']) {
      const t = res.targets.find((x) => x.region === region)!;
      const promoted = promotedPrefix(t.modelDataUrl);
      expect(t.modelDataUrl).toBe(`s3://model-deploy-333333333333-${region}/${promoted}`);
      expect(promoted).toMatch(/^promoted\/acme\/prod\/chat\/sha256-[0-9a-f]{64}\/$/);
      expect(t.objectsCopied).toBe(2);
      expect(t.bytesCopied).toBe(300 + 4096);
      expect([...fake.buckets.get(`model-deploy-333333333333-${region}`)!.keys()].sort()).toEqual([`${promoted}config.json`, `${promoted}${WEIGHTS_MANIFEST}`, `${promoted}model.safetensors`]);
    }
  });

  test('weights baked into the image are not looked for in S3', async () => {
    fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'v1', [layer(100, 1)]);
    mockEcr(fake);
    mockSts();
    const calls: { op: string; input: unknown }[] = [];
    mockS3(fake, calls);
    const baked = SPEC.replace('model: { huggingface: { id: Qwen/Qwen2.5-0.5B, revision: main } }', 'model: { huggingface: { id: Qwen/Qwen2.5-0.5B, revision: main }, bakeIntoImage: true }');
    const res = await promoteModel(target('prod', undefined, baked), request(), runContext());
    expect(res.targets.every((t) => t.modelDataUrl === undefined)).toBe(true);
    expect(calls).toEqual([]);
  });

  test('missing build weights say to run build-model', async () => {
    fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'v1', [layer(100, 1)]);
    fake.buckets.set('model-deploy-111111111111-us-east-1', new Map());
    mockEcr(fake);
    mockSts();
    mockS3(fake);
    const err = (await promoteModel(target('prod', 'us-east-1'), request(), runContext()).catch((e) => e)) as DeployError;
    expect(err.describe()).toMatch(new RegExp(`s3://model-deploy-111111111111-us-east-1/${sourcePrefix} holds no objects`));
    expect(err.describe()).toMatch(/build-model/);
  });
});

describe('promote into a new account (issue 13.7)', () => {
  test('a missing target artifact bucket is created and hardened like the source one, with the target role', async () => {
    fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'v1', [layer(100, 1)]);
    const prefix = seedBuildWeights();
    mockEcr(fake);
    mockSts();
    const calls: { op: string; input: any }[] = [];
    mockS3(fake, calls);
    const res = await promoteModel(target('prod', 'eu-west-1'), request(), runContext());
    expect(res.targets[0]!.modelDataUrl).toBe(`s3://model-deploy-333333333333-eu-west-1/${promotedPrefix(res.targets[0]!.modelDataUrl)}`);
    expect(promotedPrefix(res.targets[0]!.modelDataUrl)).toMatch(/^promoted\/acme\/prod\/chat\/sha256-[0-9a-f]{64}\/$/);
    expect(fake.buckets.get('model-deploy-111111111111-us-east-1')!.has(`${prefix}model.safetensors`)).toBe(true);
    const on = (op: string) => calls.filter((c) => c.op === op && c.input.Bucket === 'model-deploy-333333333333-eu-west-1').map((c) => c.input);
    expect(on('CreateBucket')).toEqual([expect.objectContaining({ ObjectOwnership: 'BucketOwnerEnforced', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } })]);
    expect(on('PutPublicAccessBlock')[0].PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
    expect(on('PutBucketEncryption')[0].ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault).toEqual({ SSEAlgorithm: 'aws:kms', KMSMasterKeyID: expect.stringContaining(':key/') });
    expect(JSON.parse(on('PutBucketPolicy')[0].Policy).Statement[0].Sid).toBe('DenyInsecureTransport');
    expect(fake.buckets.get('model-deploy-333333333333-eu-west-1')!.has(`${promotedPrefix(res.targets[0]!.modelDataUrl)}model.safetensors`)).toBe(true);
  });

  test('when the weights fail after the image was tagged, no message says nothing was tagged', async () => {
    fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'v1', [layer(100, 1)]);
    seedBuildWeights();
    mockEcr(fake);
    mockSts();
    const s3 = mockS3(fake);
    s3.on(PutObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    const reporter = memoryReporter();
    const err = (await promoteModel(target('prod', 'us-east-1'), request(), runContext(reporter)).catch((e) => e)) as DeployError;
    expect(fake.repo('333333333333', 'us-east-1', 'acme/chat').tags.get('v1')).toBeDefined();
    expect(err.describe()).not.toMatch(/[Nn]othing was tagged/);
    expect(err.describe()).toMatch(/us-east-1: the image is in place \(333333333333\.dkr\.ecr\.us-east-1\.amazonaws\.com\/acme\/chat@sha256:/);
    expect(err.describe()).toMatch(/re-run promote-model/);
    expect(reporter.captured.summaries[0]).not.toMatch(/nothing tagged/);
  });
});

describe('promote: bucket owners (issue 12.5)', () => {
  test('every S3 call promote-model makes names the account that must own the bucket', async () => {
    fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'v1', [layer(100, 1)]);
    seedBuildWeights();
    mockEcr(fake);
    mockSts();
    const calls: { op: string; input: any }[] = [];
    mockS3(fake, calls);
    await promoteModel(target(), request(), runContext());
    const objectCalls = calls.filter((c) => /Object|Multipart|UploadPart/.test(c.op));
    expect(objectCalls.length).toBeGreaterThan(0);
    for (const c of objectCalls) {
      const owner = /^model-deploy-(\d{12})-/.exec(c.input.Bucket)![1];
      expect({ op: c.op, owner: c.input.ExpectedBucketOwner }).toEqual({ op: c.op, owner });
    }
    for (const c of calls.filter((x) => x.op === 'CopyObject')) expect(c.input.ExpectedSourceBucketOwner).toBe('111111111111');
  });

  test('a source bucket of another account is refused', async () => {
    fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'v1', [layer(100, 1)]);
    fake.putObject('sniped-weights', 'chat/model.tar.gz', 100);
    fake.bucketOwners.set('sniped-weights', '999999999999');
    mockEcr(fake);
    mockSts();
    const calls: { op: string; input: any }[] = [];
    mockS3(fake, calls);
    const err = (await promoteModel(target('prod', 'us-east-1'), request({ modelDataUrl: 's3://sniped-weights/chat/model.tar.gz' }), runContext()).catch((e) => e)) as DeployError;
    expect(err).toBeInstanceOf(DeployError);
    expect(calls.filter((c) => c.op === 'CopyObject')).toEqual([]);
  });
});

describe('promote: pinned weights (issue 12.2)', () => {
  test('the target bucket is versioned and the result records each copied object\'s version and checksum, also on a re-run', async () => {
    fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'v1', [layer(100, 1)]);
    seedBuildWeights();
    mockEcr(fake);
    mockSts();
    mockS3(fake);
    const res = await promoteModel(target(), request(), runContext());
    for (const t of res.targets) {
      const bucket = `model-deploy-333333333333-${t.region}`;
      const prefix = promotedPrefix(t.modelDataUrl);
      expect(fake.versioned.has(bucket)).toBe(true);
      const stored = fake.buckets.get(bucket)!.get(`${prefix}model.safetensors`)!;
      const manifest = fake.buckets.get(bucket)!.get(`${prefix}${WEIGHTS_MANIFEST}`)!;
      expect(t.modelDataVersions).toEqual([
        { key: `${prefix}model.safetensors`, versionId: stored.versionId, etag: stored.etag, checksumSha256: stored.checksum },
        { key: `${prefix}${WEIGHTS_MANIFEST}`, versionId: manifest.versionId, etag: manifest.etag, checksumSha256: expect.any(String) },
      ]);
      expect(stored.versionId).toBeTruthy();
      expect(stored.checksum).toBeTruthy();
    }
    const out = JSON.parse(modelDataVersionsOutput(res));
    expect(out['eu-west-1'][`${promotedPrefix(res.targets.find((t) => t.region === 'eu-west-1')!.modelDataUrl)}model.safetensors`].versionId).toBe(res.targets.find((t) => t.region === 'eu-west-1')!.modelDataVersions![0]!.versionId);

    const again = await promoteModel(target(), request(), runContext());
    expect(again.targets.every((t) => t.objectsSkipped === 1)).toBe(true);
    expect(again.targets.map((t) => t.modelDataVersions)).toEqual(res.targets.map((t) => t.modelDataVersions));
  });
});

describe('promote: every target is checked before anything is copied (issue 23)', () => {
  test("a target bucket name owned by another account fails before the image or any object is copied, and suggests no re-run", async () => {
    fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'v1', [layer(100, 1)]);
    seedBuildWeights();
    fake.putObject('model-deploy-333333333333-us-east-1', 'sniped', 1);
    fake.bucketOwners.set('model-deploy-333333333333-us-east-1', '999999999999');
    const ecrCalls: string[] = [];
    mockEcr(fake, ecrCalls);
    mockSts();
    const calls: { op: string; input: any }[] = [];
    mockS3(fake, calls);
    const err = (await promoteModel(target('prod', 'us-east-1'), request(), runContext()).catch((e) => e)) as DeployError;
    expect(err).toBeInstanceOf(DeployError);
    expect(ecrCalls.filter((c) => /PutImage|UploadLayerPart|CreateRepository/.test(c))).toEqual([]);
    expect(calls.filter((c) => /CopyObject|PutObject|Multipart/.test(c.op))).toEqual([]);
    expect(err.describe()).toMatch(/model-deploy-333333333333-us-east-1 is not owned by 333333333333/);
    expect(err.describe()).toMatch(/artifactBucket/);
    expect(err.describe()).toMatch(/[Nn]othing was copied/);
    expect(err.describe()).not.toMatch(/re-run/);
  });

  test('a target KMS key that is not enabled fails before anything is copied', async () => {
    fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'v1', [layer(100, 1)]);
    seedBuildWeights();
    const ecrCalls: string[] = [];
    mockEcr(fake, ecrCalls);
    mockSts();
    const calls: { op: string; input: any }[] = [];
    mockS3(fake, calls);
    mockKms({ KeyState: 'PendingDeletion' });
    const err = (await promoteModel(target('prod', 'us-east-1'), request(), runContext()).catch((e) => e)) as DeployError;
    expect(err).toBeInstanceOf(DeployError);
    expect(ecrCalls.filter((c) => /PutImage|UploadLayerPart/.test(c))).toEqual([]);
    expect(calls.filter((c) => /CopyObject|PutObject|Multipart|CreateBucket/.test(c.op))).toEqual([]);
    expect(err.describe()).toMatch(/KMS key arn:aws:kms:us-east-1:333333333333:key\/mrk-1234567890abcdef1234567890abcdef is PendingDeletion/);
    expect(err.describe()).not.toMatch(/re-run/);
  });

  test('a target repository the promotion role may not read fails before anything is copied', async () => {
    fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'v1', [layer(100, 1)]);
    seedBuildWeights();
    const ecr = mockEcr(fake);
    ecr.on(DescribeRepositoriesCommand).rejects(Object.assign(new Error('User: arn:aws:sts::333333333333:assumed-role/model-deploy-promotion/x is not authorized to perform: ecr:DescribeRepositories'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }));
    mockSts();
    const calls: { op: string; input: any }[] = [];
    mockS3(fake, calls);
    const err = (await promoteModel(target('prod', 'us-east-1'), request(), runContext()).catch((e) => e)) as DeployError;
    expect(calls.filter((c) => /CopyObject|PutObject|Multipart|CreateBucket/.test(c.op))).toEqual([]);
    expect(err.describe()).toMatch(/acme\/chat/);
    expect(err.describe()).not.toMatch(/re-run/);
  });
});
