/**
 * Issue 20: weights we do not build (model.s3) are promotable only as a run of the protected ref recorded them.
 * A dev job may write where model.s3 points (here the project's models/ folder, which any build writes): the
 * protected ref's run records every object's version, ETag, size and SHA-256 under a key named by their digest
 * (mode record, as the recorder role), and plan and the approved job find a record only for those very
 * versions. Driven through the action's run(), as the workflows run it, against the stateful fake behind the
 * SDK mocks.
 */
import { definition, run } from '../../../src/actions/promote-model';
import { EnvInputs } from '../../../src/core/env';
import { DeployError } from '../../../src/core/errors';
import { mapInputSource, parseInputs } from '../../../src/core/inputs';
import { memoryReporter } from '../../../src/core/log';
import type { Loopback } from '../../support/loopback';
import { FakeAws } from '../../support/fake-aws/ecr-s3-sts';
import { mockEcr, mockS3, mockSts, RUN_ENV, SPEC, workspaceWith } from './harness';

const DEV = '111111111111';
const BUCKET = `model-deploy-${DEV}-us-east-1`;
const PREFIX = 'acme/chat/models/hand-tuned/';
/** chat served by a public Deep Learning Container from weights in S3: nothing of it is built here. */
const S3_SPEC = SPEC.replace(
  '    model: { huggingface: { id: Qwen/Qwen2.5-0.5B, revision: main } }\n    engine: { name: vllm }',
  `    model:\n      image: 763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.4.0-tgi2.4.0-gpu-py311-cu124-ubuntu22.04\n      s3: s3://${BUCKET}/${PREFIX}\n      sizeGb: 1\n    engine: { name: tgi }\n    apiKey: { enabled: false }`,
);

let fake: FakeAws;
let server: Loopback;
let s3calls: { op: string; input: any }[];
beforeEach(async () => {
  fake = new FakeAws();
  server = await fake.serve();
  s3calls = [];
  fake.buckets.set(BUCKET, new Map());
  fake.bucketOwners.set(BUCKET, DEV);
  fake.versioned.add(BUCKET);
  mockEcr(fake);
  mockS3(fake, s3calls);
  mockSts();
});
afterEach(async () => {
  await server.close();
});

const write = (key: string, text: string) => fake.writeObject(BUCKET, key, Buffer.from(text), { metadata: {}, tags: '', checksumAlgorithm: 'SHA256' });
/** The weights as the team uploaded and main deployed them. */
function upload(): void {
  write(`${PREFIX}config.json`, '{"model":"tuned"}');
  write(`${PREFIX}model.safetensors`, 'the approved weights');
}

async function action(values: Record<string, string>, ref = 'refs/heads/main'): Promise<{ error?: DeployError; outputs: Record<string, string>; reporter: ReturnType<typeof memoryReporter> }> {
  const reporter = memoryReporter();
  const inputs = parseInputs(definition, mapInputSource({ config: 'model-deploy.yml', deployment: 'chat', 'target-environment': 'prod', region: 'us-east-1', ...values }), reporter);
  const ctx = { reporter, signal: new AbortController().signal, workspace: workspaceWith(S3_SPEC), env: new EnvInputs({ ...RUN_ENV, GITHUB_REF: ref }) };
  const err = await run(inputs, ctx).then(() => undefined, (e: unknown) => e);
  if (err !== undefined && !(err instanceof DeployError)) throw err;
  return { error: err as DeployError | undefined, outputs: reporter.captured.outputs, reporter };
}

/** build-and-deploy's record job on `ref`: no image was built, so it records the model.s3 weights. */
async function record(ref = 'refs/heads/main'): Promise<string> {
  const r = await action({ mode: 'record', 'source-environment': 'dev' }, ref);
  expect(r.error?.message).toBeUndefined();
  return r.outputs['provenance-record']!;
}

const prodWrites = () => s3calls.filter((c) => /^(PutObject|CopyObject|CreateMultipartUpload)$/.test(c.op) && !String(c.input.Bucket).includes(DEV)).map((c) => `${c.op} ${c.input.Bucket}/${c.input.Key}`);

describe('model.s3 weights: only the versions a protected ref recorded are promotable', () => {
  test("main's record names every object by version; plan shows it; the approved job promotes exactly that", async () => {
    upload();
    const url = await record();
    expect(url).toMatch(new RegExp(`^s3://${BUCKET}/model-deploy-provenance/acme/weights/chat/sha256-[0-9a-f]{64}\\.json$`));
    const written = JSON.parse(fake.objectBytes(fake.buckets.get(BUCKET)!.get(url.replace(`s3://${BUCKET}/`, ''))!).toString());
    expect(written).toMatchObject({ kind: 'weights', ref: 'refs/heads/main', deployment: 'chat', weights: { bucket: BUCKET, prefix: PREFIX } });
    expect(written.weights.objects.map((o: any) => [o.key, o.versionId])).toEqual([`${PREFIX}config.json`, `${PREFIX}model.safetensors`].map((k) => [k, fake.buckets.get(BUCKET)!.get(k)!.versionId]));
    const plan = await action({ mode: 'plan' });
    expect(plan.error?.message).toBeUndefined();
    expect(plan.reporter.captured.summaries.join('')).toContain(`Weights provenance: recorded by \`refs/heads/main\``);
    const promoted = await action({ mode: 'promote', plan: plan.outputs.plan });
    expect(promoted.error?.message).toBeUndefined();
    expect(prodWrites().some((w) => w.includes('/promoted/acme/prod/chat/sha256-'))).toBe(true);
  });

  test('an object a dev job overwrote after main recorded it is not promotable: the plan is refused naming the weights', async () => {
    upload();
    await record();
    // A dev build (its role writes PROJECT/*/models/*) replaces the weights before anyone plans.
    write(`${PREFIX}model.safetensors`, 'weights of a dev branch');
    const { error } = await action({ mode: 'plan' });
    expect(error?.title).toBe('No provenance from the protected ref');
    expect(error?.message).toContain(`the weights s3://${BUCKET}/${PREFIX} (2 object(s) at their current versions) have no provenance record`);
    expect(prodWrites()).toEqual([]);
  });

  test('a file a dev job added beside the recorded ones is not promotable either', async () => {
    upload();
    await record();
    write(`${PREFIX}tokenizer.json`, 'added by dev');
    const { error } = await action({ mode: 'plan' });
    expect(error?.message).toContain('have no provenance record');
  });

  test('weights recorded by another ref are refused, naming the ref', async () => {
    upload();
    await record('refs/heads/feature');
    const { error } = await action({ mode: 'plan' });
    expect(error?.message).toContain('were recorded by refs/heads/feature');
  });

  test('the approved job checks the record itself: a plan of unrecorded versions (planned with provenance off) copies nothing', async () => {
    upload();
    await record();
    write(`${PREFIX}model.safetensors`, 'weights of a dev branch');
    const unchecked = await action({ mode: 'plan', provenance: 'off' });
    expect(unchecked.error?.message).toBeUndefined();
    const { error } = await action({ mode: 'promote', plan: unchecked.outputs.plan });
    expect(error?.message).toContain('have no provenance record');
    expect(prodWrites()).toEqual([]);
  });

  test('a run that built no image and serves no model.s3 records nothing, and says so', async () => {
    const reporter = memoryReporter();
    const inputs = parseInputs(definition, mapInputSource({ config: 'model-deploy.yml', deployment: 'chat', 'target-environment': 'prod', mode: 'record', 'source-environment': 'dev' }), reporter);
    await run(inputs, { reporter, signal: new AbortController().signal, workspace: workspaceWith(), env: new EnvInputs({ ...RUN_ENV, GITHUB_REF: 'refs/heads/main' }) });
    expect(reporter.captured.outputs['provenance-record']).toBe('');
    expect(s3calls.filter((c) => c.op === 'PutObject')).toEqual([]);
  });
});
