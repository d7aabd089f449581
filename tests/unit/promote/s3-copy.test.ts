/** copyArtifacts across accounts (through the runner, bounded memory) and within one (server-side), over FakeAws. */
 
import { randomBytes, createHash } from 'crypto';
import { Readable } from 'stream';
import { S3Client } from '@aws-sdk/client-s3';
import { Bucket, copyArtifacts } from '../../../src/core/s3-copy';
import { FakeAws } from '../../support/fake-aws/ecr-s3-sts';
import { mockS3 } from './harness';

const MiB = 1024 ** 2;
const DEV = '111111111111';
const PROD = '333333333333';
const KMS = `arn:aws:kms:us-east-1:${PROD}:key/11111111-2222-3333-4444-555555555555`;
const TAGS = { 'model-deploy:source-account': DEV, 'model-deploy:git-commit': 'abc123' };

let fake: FakeAws;
let calls: { op: string; input: any; accessKeyId?: string }[];
beforeEach(() => {
  fake = new FakeAws();
  calls = [];
  mockS3(fake, calls);
});

/** A bucket of `account`, used with that account's session (the fake maps ASIA<account> to it). */
function bucket(name: string, account: string): Bucket {
  if (!fake.buckets.has(name)) fake.buckets.set(name, new Map());
  fake.bucketOwners.set(name, account);
  const credentials = { accessKeyId: `ASIA${account}`, secretAccessKey: 'secret', sessionToken: 'session' };
  return { client: new S3Client({ region: 'us-east-1', credentials }), actor: { principal: `role in ${account}`, account, credentials }, bucket: name, region: 'us-east-1', owner: account };
}

function seed(name: string, key: string, data: Buffer, checksum = true) {
  const o = fake.putObject(name, key, data.length, `"${createHash('md5').update(data).digest('hex')}"`);
  o.data = data;
  if (checksum) o.checksum = createHash('sha256').update(data).digest('base64');
  return o;
}

const ops = (...names: string[]) => calls.filter((c) => names.includes(c.op));

describe('across accounts: through the runner', () => {
  test('a multi-part object: source credentials read, target credentials write, parts bounded, bytes and version recorded', async () => {
    const data = randomBytes(23 * MiB);
    seed('dev-weights', 'chat/model.safetensors', data);
    const source = bucket('dev-weights', DEV);
    const target = bucket(`model-deploy-${PROD}-us-east-1`, PROD);
    fake.versioned.add(target.bucket);
    // Count what the copy has pulled from the source but S3 has not stored yet: what the runner holds.
    let maxHeld = 0;
    fake.sourceStream = (d) => Readable.from((function* () {
      for (let at = 0; at < d.length; at += MiB) {
        maxHeld = Math.max(maxHeld, at - fake.partBytesStored);
        yield d.subarray(at, at + MiB);
      }
    })());
    fake.partDelayMs = 20;

    const res = await copyArtifacts(source, 'chat/model.safetensors', target, { kmsKeyId: KMS, tags: TAGS, partSize: 5 * MiB, concurrency: 2 });

    const stored = fake.buckets.get(target.bucket)!.get('chat/model.safetensors')!;
    expect(stored.data!.equals(data)).toBe(true);
    expect(res).toMatchObject({ objectsCopied: 1, bytesCopied: data.length, objects: [{ key: 'chat/model.safetensors', versionId: stored.versionId, checksumSha256: stored.checksum }] });
    expect(stored.versionId).toBeTruthy();
    expect(ops('CopyObject', 'UploadPartCopy')).toEqual([]);
    expect(ops('UploadPart')).toHaveLength(5);
    // Two parts upload at once, and the runner never holds more than those two plus the one it reads.
    expect(fake.maxPartsInFlight).toBe(2);
    expect(maxHeld).toBeLessThanOrEqual(3 * 5 * MiB);
    expect(ops('GetObject').map((c) => c.accessKeyId)).toEqual([`ASIA${DEV}`]);
    const writes = ops('CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload', 'HeadObject').filter((c) => c.input.Bucket === target.bucket);
    expect(new Set(writes.map((c) => c.accessKeyId))).toEqual(new Set([`ASIA${PROD}`]));
  });

  test('tags, KMS key, checksum and bucket owner on every call', async () => {
    seed('dev-weights', 'chat/big.bin', randomBytes(11 * MiB));
    seed('dev-weights', 'chat/config.json', Buffer.from('{"a":1}'));
    const target = bucket(`model-deploy-${PROD}-us-east-1`, PROD);
    await copyArtifacts(bucket('dev-weights', DEV), 'chat/', target, { kmsKeyId: KMS, tags: TAGS, partSize: 5 * MiB });
    for (const c of calls) expect({ op: c.op, owner: c.input.ExpectedBucketOwner }).toEqual({ op: c.op, owner: c.input.Bucket === 'dev-weights' ? DEV : PROD });
    for (const c of ops('PutObject', 'CreateMultipartUpload')) {
      expect(c.input).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KMS, ChecksumAlgorithm: 'SHA256', Metadata: { 'model-deploy-source-etag': expect.any(String) } });
      expect(Object.fromEntries(new URLSearchParams(c.input.Tagging))).toEqual(TAGS);
    }
    expect(ops('PutObject').map((c) => c.input.Key)).toEqual(['chat/config.json']);
    for (const c of ops('UploadPart')) expect(c.input).toMatchObject({ ChecksumAlgorithm: 'SHA256', ChecksumSHA256: createHash('sha256').update(c.input.Body).digest('base64') });
    expect(ops('CompleteMultipartUpload')[0]!.input.MultipartUpload.Parts.map((p: any) => p.PartNumber)).toEqual([1, 2, 3]);
    for (const c of ops('GetObject')) expect(c.input).toMatchObject({ IfMatch: expect.stringMatching(/^"/), ChecksumMode: 'ENABLED' });
  });

  test('a failing part aborts the upload: nothing half-done stays, no object appears', async () => {
    seed('dev-weights', 'chat/model.safetensors', randomBytes(16 * MiB));
    const target = bucket(`model-deploy-${PROD}-us-east-1`, PROD);
    fake.failPartNumber = 2;
    await expect(copyArtifacts(bucket('dev-weights', DEV), 'chat/model.safetensors', target, { tags: TAGS, partSize: 5 * MiB, concurrency: 2 })).rejects.toThrow(/InternalError/);
    const uploadId = ops('UploadPart')[0]!.input.UploadId;
    expect(ops('AbortMultipartUpload').map((c) => c.input.UploadId)).toEqual([uploadId]);
    expect(fake.abortedUploads).toEqual([uploadId]);
    expect(ops('AbortMultipartUpload')[0]!.input.ExpectedBucketOwner).toBe(PROD);
    expect(ops('CompleteMultipartUpload')).toEqual([]);
    expect(fake.mpu.size).toBe(0);
    expect(fake.buckets.get(target.bucket)!.size).toBe(0);
  });

  test('bytes that do not match the source checksum are not completed', async () => {
    const o = seed('dev-weights', 'chat/model.safetensors', randomBytes(12 * MiB));
    o.checksum = createHash('sha256').update('something else').digest('base64');
    const target = bucket(`model-deploy-${PROD}-us-east-1`, PROD);
    await expect(copyArtifacts(bucket('dev-weights', DEV), 'chat/model.safetensors', target, { tags: TAGS, partSize: 5 * MiB })).rejects.toThrow(/do not match its SHA-256 checksum/);
    expect(ops('AbortMultipartUpload')).toHaveLength(1);
    expect(fake.buckets.get(target.bucket)!.size).toBe(0);
  });

  test('an object already present is skipped: nothing is read from the source', async () => {
    seed('dev-weights', 'chat/model.safetensors', randomBytes(6 * MiB));
    const target = bucket(`model-deploy-${PROD}-us-east-1`, PROD);
    fake.versioned.add(target.bucket);
    const first = await copyArtifacts(bucket('dev-weights', DEV), 'chat/', target, { tags: TAGS, partSize: 5 * MiB });
    calls.length = 0;
    const again = await copyArtifacts(bucket('dev-weights', DEV), 'chat/', target, { tags: TAGS, partSize: 5 * MiB });
    expect(again).toMatchObject({ objectsCopied: 0, objectsSkipped: 1, bytesCopied: 0 });
    expect(again.objects).toEqual(first.objects);
    expect(ops('GetObject', 'PutObject', 'CreateMultipartUpload')).toEqual([]);
  });
});

describe('within one account: server-side', () => {
  test('CopyObject below the threshold, UploadPartCopy above; the runner reads no bytes', async () => {
    seed('staging-weights', 'chat/small.json', Buffer.from('{}'));
    seed('staging-weights', 'chat/big.bin', randomBytes(12 * MiB));
    const target = bucket(`model-deploy-${PROD}-us-east-1`, PROD);
    const res = await copyArtifacts(bucket('staging-weights', PROD), 'chat/', target, { kmsKeyId: KMS, tags: TAGS, multipartThreshold: 8 * MiB, partSize: 5 * MiB });
    expect(res.objectsCopied).toBe(2);
    expect(ops('GetObject', 'PutObject', 'UploadPart')).toEqual([]);
    expect(ops('CopyObject').map((c) => c.input.Key)).toEqual(['chat/small.json']);
    expect(ops('UploadPartCopy')).toHaveLength(3);
    expect(fake.buckets.get(target.bucket)!.get('chat/big.bin')!.size).toBe(12 * MiB);
  });

  test('the fake refuses a server-side copy by a caller of another account (what S3 does without a grant)', async () => {
    seed('dev-weights', 'chat/x.json', Buffer.from('{}'));
    fake.bucketOwners.set('dev-weights', DEV);
    expect(() => fake.assertCanRead(`ASIA${PROD}`, 'dev-weights')).toThrow(/AccessDenied|Access Denied/);
    expect(() => fake.assertCanRead(`ASIA${DEV}`, 'dev-weights')).not.toThrow();
  });
});
