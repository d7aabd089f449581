/**
 * Promoted weights are served from a content-addressed prefix with a manifest of exact versions (issue 20.1):
 * a later promotion of other weights never changes what an earlier one's URL serves.
 */
import { promoteModel } from '../../../src/promote/promote';
import type { PromoteModelRequest } from '../../../src/promote/plan';
import { weightsKey } from '../../../src/image/render';
import { FakeAws } from '../../support/fake-aws/ecr-s3-sts';
import type { Loopback } from '../../support/loopback';
import { mockEcr, mockS3, mockSts, runContext, spec, SPEC, target } from './harness';

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

describe("promoted weights land in the target environment's own folder (issue 20: environments sharing one bucket)", () => {
  // staging and prod in one account: one artifact bucket per region for both.
  const SHARED = SPEC.replace('  replicated:', '  staging:\n    account: "333333333333"\n    promotionRoleArn: arn:aws:iam::333333333333:role/model-deploy-promotion-staging\n  replicated:');

  test('promoted/PROJECT/ENV/DEPLOYMENT/sha256-…/, never beside the source, and staging never writes under what prod serves', async () => {
    const prod = (await promoteModel(target('prod', 'us-east-1', SHARED), request(), runContext())).targets[0]!;
    const prodKeys = [...fake.buckets.get(TARGET)!.entries()].map(([k, o]) => [k, o.versionId]);
    const staging = (await promoteModel(target('staging', 'us-east-1', SHARED), request(), runContext())).targets[0]!;
    expect(keyOf(prod.modelDataUrl)).toMatch(/^promoted\/acme\/prod\/chat\/sha256-[0-9a-f]{64}\/$/);
    expect(keyOf(staging.modelDataUrl)).toMatch(/^promoted\/acme\/staging\/chat\/sha256-[0-9a-f]{64}\/$/);
    // The same source, so the same content address, in folders the bootstrap grants to one environment each.
    expect(keyOf(staging.modelDataUrl).replace('/staging/', '/prod/')).toBe(keyOf(prod.modelDataUrl));
    const written = [...fake.buckets.get(TARGET)!.keys()].filter((k) => !prodKeys.some(([p]) => p === k));
    expect(written.every((k) => k.startsWith('promoted/acme/staging/'))).toBe(true);
    // Every object prod's stack pinned is still the version it pinned.
    for (const [key, version] of prodKeys) expect(fake.buckets.get(TARGET)!.get(key as string)!.versionId).toBe(version);
  });
});
