/**
 * Issue 20.1: approval decides what reaches prod. promote-model plans before the approval (mode plan), and the
 * approved job (mode promote) copies exactly that plan, refusing, by name, an artifact a dev job changed since;
 * only what a build of the protected ref recorded is promotable. Driven through the action's run(), as the
 * workflow runs it, against the stateful fake (ECR, S3 with versions) behind the SDK mocks.
 */
 
import { definition, run } from '../../../src/actions/promote-model';
import { EnvInputs } from '../../../src/core/env';
import { DeployError } from '../../../src/core/errors';
import { mapInputSource, parseInputs } from '../../../src/core/inputs';
import { memoryReporter } from '../../../src/core/log';
import { weightsKey } from '../../../src/image/render';
import type { Loopback } from '../../support/loopback';
import { FakeAws } from '../../support/fake-aws/ecr-s3-sts';
import { mockEcr, mockS3, mockSts, RUN_ENV, spec, workspaceWith } from './harness';

const DEV = '111111111111';
const BUCKET = `model-deploy-${DEV}-us-east-1`;
const PREFIX = `acme/chat/models/${weightsKey(spec().deployment)}/`;

let fake: FakeAws;
let server: Loopback;
let s3calls: { op: string; input: any; accessKeyId?: string }[];
let ecrCalls: string[];

beforeEach(async () => {
  fake = new FakeAws();
  server = await fake.serve();
  s3calls = [];
  ecrCalls = [];
  fake.buckets.set(BUCKET, new Map());
  fake.bucketOwners.set(BUCKET, DEV);
  // The dev artifact bucket is versioned: every overwrite is a new version, the old one stays readable.
  fake.versioned.add(BUCKET);
  mockEcr(fake, ecrCalls);
  mockS3(fake, s3calls);
  mockSts();
});
afterEach(async () => {
  await server.close();
});

const write = (key: string, text: string) => fake.writeObject(BUCKET, key, Buffer.from(text), { metadata: {}, tags: '', checksumAlgorithm: 'SHA256' });

/** What main's build leaves in dev: the image (tag v1) and its weights. */
function build(tag = 'v1', fill = 1): string {
  write(`${PREFIX}config.json`, '{"model":"qwen"}');
  write(`${PREFIX}model.safetensors`, `weights built by main ${fill}`);
  return fake.pushImage(DEV, 'us-east-1', 'acme/chat', tag, [Buffer.alloc(4000, fill)]);
}

interface Outcome {
  error?: DeployError;
  outputs: Record<string, string>;
  reporter: ReturnType<typeof memoryReporter>;
}

/** The action's run() with these inputs, in a job of `ref`. */
async function action(values: Record<string, string>, ref = 'refs/heads/main'): Promise<Outcome> {
  const reporter = memoryReporter();
  const inputs = parseInputs(definition, mapInputSource({ config: 'model-deploy.yml', deployment: 'chat', 'target-environment': 'prod', region: 'us-east-1', ...values }), reporter);
  const ctx = { reporter, signal: new AbortController().signal, workspace: workspaceWith(), env: new EnvInputs({ ...RUN_ENV, GITHUB_REF: ref }) };
  const err = await run(inputs, ctx).then(() => undefined, (e: unknown) => e);
  if (err !== undefined && !(err instanceof DeployError)) throw err;
  return { error: err as DeployError | undefined, outputs: reporter.captured.outputs, reporter };
}

const imageUri = (digest: string, tag = 'v1') => `${DEV}.dkr.ecr.us-east-1.amazonaws.com/acme/chat:${tag}@${digest}`;

/** The protected build records what it built (mode record), as the recorder role. */
async function record(digest: string, ref = 'refs/heads/main', tag = 'v1'): Promise<void> {
  const r = await action({ mode: 'record', 'source-environment': 'dev', 'image-uri': imageUri(digest, tag) }, ref);
  expect(r.error?.message).toBeUndefined();
}

/** Writes into the prod account: what must not happen when a plan is refused. */
const prodWrites = () => [
  ...ecrCalls.filter((c) => /PutImage|InitiateLayerUpload|CreateRepository/.test(c)),
  ...s3calls.filter((c) => /^(PutObject|CopyObject|CreateMultipartUpload)$/.test(c.op) && !String(c.input.Bucket).includes(DEV)).map((c) => `${c.op} ${c.input.Bucket}/${c.input.Key}`),
];

describe('a plan fixed before approval', () => {
  test('mode plan resolves the digest and every weight object with its version, ETag and SHA-256, and shows them to the reviewers', async () => {
    const digest = build();
    await record(digest);
    const { error, outputs, reporter } = await action({ mode: 'plan' });
    expect(error?.message).toBeUndefined();
    const plan = JSON.parse(outputs.plan);
    expect(plan.image).toEqual({ repositoryName: 'acme/chat', tag: 'v1', digest });
    expect(plan.weights.objects.map((o: any) => o.key)).toEqual([`${PREFIX}config.json`, `${PREFIX}model.safetensors`]);
    for (const o of plan.weights.objects) expect(o).toEqual({ key: o.key, size: expect.any(Number), etag: expect.stringMatching(/^".+"$/), versionId: expect.stringMatching(/^v-/), checksumSha256: expect.any(String) });
    expect(plan.provenance).toMatchObject({ ref: 'refs/heads/main', sha: RUN_ENV.GITHUB_SHA, runId: '42' });
    expect(reporter.captured.summaries.join('')).toContain(digest);
    expect(reporter.captured.summaries.join('')).toContain(plan.weights.objects[1].versionId);
    // The plan job reads only: nothing was written anywhere (the record write came from mode record).
    expect(prodWrites()).toEqual([]);
  });

  test('an image pushed and an object overwritten by a dev job after the plan are not promoted: the run names both', async () => {
    const digest = build();
    await record(digest);
    const { outputs } = await action({ mode: 'plan' });
    // A dev job, after the plan and before the approval: a new image under the planned tag, new weights.
    const pushed = fake.pushImage(DEV, 'us-east-1', 'acme/chat', 'v1', [Buffer.alloc(4000, 9)]);
    write(`${PREFIX}model.safetensors`, 'weights of a dev branch');
    const { error } = await action({ mode: 'promote', plan: outputs.plan });
    expect(error?.title).toBe('Source changed since approval');
    expect(error?.message).toContain(`acme/chat:v1 now points at ${pushed}`);
    expect(error?.message).toContain(`s3://${BUCKET}/${PREFIX}model.safetensors is now version`);
    expect(prodWrites()).toEqual([]);
  });

  test('a key added under the prefix after the plan is refused by name', async () => {
    const digest = build();
    await record(digest);
    const { outputs } = await action({ mode: 'plan' });
    write(`${PREFIX}tokenizer.json`, 'added by dev');
    const { error } = await action({ mode: 'promote', plan: outputs.plan });
    expect(error?.message).toContain(`s3://${BUCKET}/${PREFIX}tokenizer.json was added after the plan was fixed`);
    expect(prodWrites()).toEqual([]);
  });

  test('the approved job copies exactly the planned versions (by digest, version id and If-Match)', async () => {
    const digest = build();
    await record(digest);
    const { outputs } = await action({ mode: 'plan' });
    const plan = JSON.parse(outputs.plan);
    const promoted = await action({ mode: 'promote', plan: outputs.plan });
    expect(promoted.error?.message).toBeUndefined();
    expect(promoted.outputs.digest).toBe(digest);
    const reads = s3calls.filter((c) => c.op === 'GetObject' && c.input.Bucket === BUCKET && c.input.Key.startsWith(PREFIX));
    // Copies run in parallel: compare as sets.
    expect(reads.map((c) => [c.input.Key, c.input.VersionId, c.input.IfMatch]).sort()).toEqual(plan.weights.objects.map((o: any) => [o.key, o.versionId, o.etag]).sort());
  });

  test('mode promote takes nothing but the plan: no plan, or a plan with image-uri, is refused before any AWS call', async () => {
    const none = await action({ mode: 'promote' });
    expect(none.error?.message).toMatch(/input `plan` is empty/);
    expect(none.error?.hint).toMatch(/mode: plan/);
    const digest = build();
    await record(digest);
    const { outputs } = await action({ mode: 'plan' });
    const calls = ecrCalls.length;
    const both = await action({ mode: 'promote', plan: outputs.plan, 'image-uri': imageUri(digest) });
    expect(both.error?.message).toMatch(/`image-uri` given with `plan`/);
    expect(ecrCalls.length).toBe(calls);
  });

  test('a plan that is not JSON, or of another deployment, is refused with what is wrong', async () => {
    expect((await action({ mode: 'promote', plan: 'not json' })).error?.message).toMatch(/input `plan`: is not JSON/);
    const digest = build();
    await record(digest);
    const plan = JSON.parse((await action({ mode: 'plan' })).outputs.plan);
    const other = await action({ mode: 'promote', plan: JSON.stringify({ ...plan, deployment: 'other' }) });
    expect(other.error?.message).toMatch(/The plan is for another promotion: deployment other/);
    const bad = await action({ mode: 'promote', plan: JSON.stringify({ ...plan, image: { repositoryName: 'acme/chat', digest: 'latest' } }) });
    expect(bad.error?.message).toMatch(/image must name repositoryName and digest/);
  });
});

describe('provenance: only a build of the protected ref is promotable', () => {
  test('a digest built from another ref is refused at plan time, naming the ref', async () => {
    const digest = build();
    await record(digest, 'refs/heads/feature');
    const { error } = await action({ mode: 'plan', 'image-uri': imageUri(digest) });
    expect(error?.title).toBe('No provenance from the protected ref');
    expect(error?.message).toContain(`acme/chat@${digest} was built from refs/heads/feature`);
  });

  test('a plan naming a digest without a record is refused by the approved job itself (the plan job is not trusted)', async () => {
    const digest = build();
    await record(digest);
    const plan = JSON.parse((await action({ mode: 'plan' })).outputs.plan);
    // A dev job pushes its own image and a plan naming it reaches the promote job.
    const forged = fake.pushImage(DEV, 'us-east-1', 'acme/chat', 'dev-1', [Buffer.alloc(4000, 7)]);
    const { error } = await action({ mode: 'promote', plan: JSON.stringify({ ...plan, image: { repositoryName: 'acme/chat', tag: 'dev-1', digest: forged } }) });
    expect(error?.message).toContain(`acme/chat@${forged} has no provenance record`);
    expect(prodWrites()).toEqual([]);
  });

  test('weights overwritten after the protected build (before the plan) are not the recorded ones: refused by name', async () => {
    const digest = build();
    await record(digest);
    write(`${PREFIX}model.safetensors`, 'overwritten by dev before the plan');
    const { error } = await action({ mode: 'plan' });
    expect(error?.message).toContain(`s3://${BUCKET}/${PREFIX}model.safetensors is not the object the refs/heads/main build wrote`);
  });

  test('empty image-uri: the newest image main built, not the newest pushed (a newer dev push is skipped and named)', async () => {
    const digest = build('v1');
    await record(digest);
    const pushed = fake.pushImage(DEV, 'us-east-1', 'acme/chat', 'dev-2', [Buffer.alloc(4000, 5)]);
    const { error, outputs, reporter } = await action({ mode: 'plan' });
    expect(error?.message).toBeUndefined();
    expect(JSON.parse(outputs.plan).image.digest).toBe(digest);
    expect(reporter.captured.annotations.map((a) => a.message).join('\n')).toContain(`acme/chat:dev-2@${pushed}`);
  });

  test('empty image-uri with provenance off is refused: nothing picks "the newest pushed" for a plan', async () => {
    build();
    const { error } = await action({ mode: 'plan', provenance: 'off' });
    expect(error?.message).toMatch(/input `image-uri` is empty and provenance is not checked/);
  });

  test('a record is written once: a second build of another ref cannot re-attribute the digest', async () => {
    const digest = build();
    await record(digest);
    const again = await action({ mode: 'record', 'source-environment': 'dev', 'image-uri': imageUri(digest) }, 'refs/heads/feature');
    expect(again.error?.message).toMatch(/already records .* as built by acme\/models refs\/heads\/main/);
  });
});
