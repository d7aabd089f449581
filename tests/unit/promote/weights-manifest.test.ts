/**
 * Promoted weights are served from a content-addressed prefix with a manifest of exact versions (issue 20.1):
 * a later promotion of other weights never changes what an earlier one's URL serves.
 */
import { promoteModel } from '../../../src/promote/promote';
import type { PromoteModelRequest } from '../../../src/promote/plan';
import { weightsKey } from '../../../src/image/render';
import { FakeAws } from '../../support/fake-aws/ecr-s3-sts';
import type { Loopback } from '../../support/loopback';
import { mockEcr, mockS3, mockSts, runContext, spec, target } from './harness';

const request = (over: Partial<PromoteModelRequest> = {}): PromoteModelRequest => ({ sourceEnvironment: 'dev', tuning: { pollInitialDelayMs: 1, pollMaxDelayMs: 2 }, ...over });
const SOURCE = 'model-deploy-111111111111-us-east-1';
const TARGET = 'model-deploy-333333333333-us-east-1';
const sourcePrefix = `acme/chat/models/${weightsKey(spec().deployment)}/`;
const keyOf = (url: string | undefined) => (url ?? '').replace(/^s3:\/\/[^/]+\//, '');

let fake: FakeAws;
let server: Loopback;
beforeEach(async () => {
  fake = new FakeAws();
  server = await fake.serve();
  fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'v1', [Buffer.alloc(100, 1)]);
  fake.bucketOwners.set(SOURCE, '111111111111');
  fake.putObject(SOURCE, `${sourcePrefix}model.safetensors`, 4096);
  fake.putObject(SOURCE, `${sourcePrefix}config.json`, 300);
  mockEcr(fake);
  mockSts();
  mockS3(fake);
});
afterEach(async () => {
  await server.close();
});

test('a second promotion of changed weights goes to another prefix: the first URL still serves exactly the first weights', async () => {
  const first = (await promoteModel(target('prod', 'us-east-1'), request(), runContext())).targets[0]!;
  const firstBytes = fake.objectBytes(fake.buckets.get(TARGET)!.get(`${keyOf(first.modelDataUrl)}model.safetensors`)!);
  // Dev rebuilds: new bytes at the same source key, then another promotion.
  fake.writeObject(SOURCE, `${sourcePrefix}model.safetensors`, Buffer.alloc(4096, 9), { metadata: {}, tags: '' });
  const second = (await promoteModel(target('prod', 'us-east-1'), request(), runContext())).targets[0]!;
  expect(second.modelDataUrl).not.toBe(first.modelDataUrl);
  const underFirst = [...fake.buckets.get(TARGET)!.keys()].filter((k) => k.startsWith(keyOf(first.modelDataUrl)));
  expect(underFirst.sort()).toEqual([`${keyOf(first.modelDataUrl)}config.json`, `${keyOf(first.modelDataUrl)}model-deploy-weights.tsv`, `${keyOf(first.modelDataUrl)}model.safetensors`]);
  expect(fake.objectBytes(fake.buckets.get(TARGET)!.get(`${keyOf(first.modelDataUrl)}model.safetensors`)!)).toEqual(firstBytes);
});

test('the manifest beside the weights lists each object by version id, SHA-256 (hex), size and key below the prefix', async () => {
  const t = (await promoteModel(target('prod', 'us-east-1'), request(), runContext())).targets[0]!;
  const prefix = keyOf(t.modelDataUrl);
  const manifest = fake.buckets.get(TARGET)!.get(`${prefix}model-deploy-weights.tsv`)!;
  const rows = fake.objectBytes(manifest).toString().split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split('\t'));
  const stored = (k: string) => fake.buckets.get(TARGET)!.get(`${prefix}${k}`)!;
  expect(rows).toEqual(
    ['config.json', 'model.safetensors'].map((k) => [stored(k).versionId, Buffer.from(stored(k).checksum!, 'base64').toString('hex'), String(stored(k).size), k]),
  );
  // deploy pins the manifest's version with the weights'.
  expect(t.modelDataVersions!.map((v) => v.key)).toContain(`${prefix}model-deploy-weights.tsv`);
});
