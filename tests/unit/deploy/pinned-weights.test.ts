import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { checkPinnedWeights, parsePinnedVersions } from '../../../src/deploy/pinned-weights';

const s3 = mockClient(S3Client);
const URL = 's3://model-deploy-333333333333-us-east-1/acme/chat/models/abc/';
const KEY = 'acme/chat/models/abc/model.safetensors';
const pinned = parsePinnedVersions(JSON.stringify({ 'us-east-1': { [KEY]: { versionId: 'v1', etag: '"e1"' } } }), ['us-east-1']);

beforeEach(() => s3.reset());

describe('weights pinned at promotion (issue 12.2)', () => {
  it('accepts the promoted version, asking S3 with the bucket owner', async () => {
    s3.on(HeadObjectCommand).resolves({ VersionId: 'v1', ETag: '"e1"' });
    await expect(checkPinnedWeights({ region: 'us-east-1', account: '333333333333', modelDataUrl: URL, pinned: pinned['us-east-1'] })).resolves.toBe(1);
    expect(s3.commandCalls(HeadObjectCommand)[0]?.args[0].input).toEqual({ Bucket: 'model-deploy-333333333333-us-east-1', Key: KEY, ExpectedBucketOwner: '333333333333' });
  });

  it('refuses an object overwritten since, before anything is deployed', async () => {
    s3.on(HeadObjectCommand).resolves({ VersionId: 'v2', ETag: '"e2"' });
    await expect(checkPinnedWeights({ region: 'us-east-1', account: '333333333333', modelDataUrl: URL, pinned: pinned['us-east-1'] })).rejects.toThrow(
      /changed since they were promoted: acme\/chat\/models\/abc\/model.safetensors \(now v2, promoted v1\)/,
    );
  });

  it('refuses a deleted object', async () => {
    s3.on(HeadObjectCommand).rejects(Object.assign(new Error('not found'), { name: 'NotFound' }));
    await expect(checkPinnedWeights({ region: 'us-east-1', account: '333333333333', modelDataUrl: URL, pinned: pinned['us-east-1'] })).rejects.toThrow(/\(deleted\)/);
  });

  it('makes no call when nothing is pinned', async () => {
    await expect(checkPinnedWeights({ region: 'us-east-1', account: '1', modelDataUrl: URL, pinned: undefined })).resolves.toBe(0);
    expect(s3.calls()).toHaveLength(0);
  });

  it.each([
    ['not json', /model-data-versions is not JSON/],
    ['[]', /must be a JSON object/],
    [JSON.stringify({ 'eu-west-1': {} }), /names eu-west-1, which is not one of this deployment's regions \(us-east-1\)/],
    [JSON.stringify({ 'us-east-1': { k: 'v1' } }), /\["us-east-1"\]\["k"\] must be an object/],
  ])('refuses the input %s', (text, message) => {
    expect(() => parsePinnedVersions(text, ['us-east-1'])).toThrow(message);
  });
});
