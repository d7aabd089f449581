/**
 * The built promote-model bundle against one loopback server playing STS (awsQuery), ECR (awsJson),
 * the presigned layer URLs and S3 (REST XML).
 */
import * as fs from 'fs';
import * as path from 'path';
import { runBundle } from '../support/bundle';
import type { Loopback } from '../support/loopback';
import { FakeAws } from '../support/fake-aws/ecr-s3-sts';

const SPEC = `
version: 1
project: acme
environments:
  dev:
    account: "111111111111"
  prod:
    account: "333333333333"
    promotionRoleArn: arn:aws:iam::333333333333:role/model-deploy-promotion
    regions: [us-east-1, eu-west-1]
    kmsKeyId: alias/prod-models
  locked:
    account: "777777777777"
    promotionRoleArn: arn:aws:iam::777777777777:role/denied-promotion
deployments:
  chat:
    model: { huggingface: { id: Qwen/Qwen2.5-0.5B, revision: main } }
    engine: { name: vllm }
    target: sagemaker-realtime
    instanceType: ml.g5.xlarge
    regions: [us-east-1]
`;

let fake: FakeAws;
let server: Loopback;
let workspace: string;
beforeEach(async () => {
  fake = new FakeAws();
  server = await fake.serve(0, { AKIDLOOPBACKTEST: '111111111111' });
  workspace = fs.mkdtempSync(path.join(require('os').tmpdir(), 'md-promote-ws-'));
  fs.writeFileSync(path.join(workspace, 'model-deploy.yml'), SPEC);
});
afterEach(async () => {
  await server.close();
});

/** What a user sees: everything except the mask commands themselves. */
const visible = (text: string) => text.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n');
const SECRETS = ['loopback-secret-access-key', 'target-secret-333333333333', 'target-token-333333333333', 'presignedsecret'];

test('promotes image and weights to two regions, outputs per region, and a re-run moves nothing', async () => {
  const layers = [Buffer.alloc(300_000, 3), Buffer.alloc(1000, 4)];
  const digest = fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'git-0123456', layers);
  fake.putObject('dev-weights', 'chat/model.tar.gz', 4096);
  for (const r of ['us-east-1', 'eu-west-1']) fake.buckets.set(`model-deploy-333333333333-${r}`, new Map());
  const inputs = { mode: 'direct', 'target-environment': 'prod', 'model-data-url': 's3://dev-weights/chat/model.tar.gz' };

  const run = await runBundle('promote-model', { workspace, awsEndpoint: server.url, inputs });
  expect(run.stderr).not.toMatch(/Error/);
  expect(run.code).toBe(0);
  expect(run.outputs.digest).toBe(digest);
  expect(JSON.parse(run.outputs['image-uris'])).toEqual({
    'us-east-1': `333333333333.dkr.ecr.us-east-1.amazonaws.com/acme/chat@${digest}`,
    'eu-west-1': `333333333333.dkr.ecr.eu-west-1.amazonaws.com/acme/chat@${digest}`,
  });
  // A content-addressed folder in the target environment's own folder (issue 20).
  const promotedKey = (JSON.parse(run.outputs['model-data-urls'])['eu-west-1'] as string).replace('s3://model-deploy-333333333333-eu-west-1/', '');
  expect(promotedKey).toMatch(/^promoted\/acme\/prod\/chat\/sha256-[0-9a-f]{64}\/model\.tar\.gz$/);
  const targets = JSON.parse(run.outputs.targets) as { region: string; bytesCopied: number }[];
  expect(targets).toHaveLength(2);
  for (const r of ['us-east-1', 'eu-west-1']) {
    expect(fake.repo('333333333333', r, 'acme/chat').tags.get('git-0123456')).toBe(digest);
    const obj = fake.buckets.get(`model-deploy-333333333333-${r}`)!.get(promotedKey)!;
    expect(obj.kmsKeyId).toBe('alias/prod-models');
    expect(new URLSearchParams(obj.tags).get('model-deploy:run-url')).toBe('https://github.com/acme/models/actions/runs/4242');
  }
  const assume = server.requests.find((q) => q.operation === 'AssumeRole')!;
  expect(assume.params.RoleSessionName).toBe('promote-models-gh-4242-1');
  expect(run.summary).toMatch(/\| 333333333333 \| us-east-1 \| copied/);
  expect(run.stdout).toContain('::add-mask::target-secret-333333333333');
  for (const s of SECRETS) expect(visible(run.all)).not.toContain(s);

  const before = fake.bytesDownloaded;
  server.requests.length = 0;
  const again = await runBundle('promote-model', { workspace, awsEndpoint: server.url, inputs });
  expect(again.code).toBe(0);
  expect(fake.bytesDownloaded).toBe(before);
  expect(server.calls().filter((c) => /Upload|PutImage|PUT /.test(c))).toEqual([]);
  expect(again.summary).toMatch(/present/);
});

test('a refused role and an unknown environment fail with advice, naming what and where', async () => {
  fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'v1', [Buffer.alloc(10, 1)]);
  const denied = await runBundle('promote-model', { workspace, awsEndpoint: server.url, inputs: { mode: 'direct', 'target-environment': 'locked' } });
  expect(denied.code).toBe(1);
  expect(denied.stdout).toMatch(/Could not assume arn:aws:iam::777777777777:role\/denied-promotion/);
  expect(denied.stdout).toMatch(/trust policy/);
  expect(server.calls()).not.toContain('PutImage');

  const unknown = await runBundle('promote-model', { workspace, awsEndpoint: server.url, inputs: { mode: 'direct', 'target-environment': 'prd' } });
  expect(unknown.code).toBe(1);
  expect(unknown.stdout).toMatch(/unknown environment "prd"/);
  expect(unknown.stdout).toMatch(/prod/);
  for (const s of SECRETS) expect(visible(denied.all + unknown.all)).not.toContain(s);
});

describe('a promote job of the target environment (issue 12.2)', () => {
  const TOKEN = 'eyJraWQiOiJnaXRodWIifQ.process-oidc-token.sig';
  const oidcEnv = () => ({ ACTIONS_ID_TOKEN_REQUEST_URL: `${server.url}/_oidc/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: fake.oidcRequestToken });

  test('runs as the target role and reads the source with the read-only role through its OIDC token', async () => {
    // The job's ambient credentials are the target's promotion role (configure-aws-credentials).
    await server.close();
    server = await fake.serve(0, { AKIDLOOPBACKTEST: '333333333333' });
    fake.oidcToken = TOKEN;
    const digest = fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'git-0123456', [Buffer.alloc(2000, 5)]);
    fake.putObject('dev-weights', 'chat/model.tar.gz', 4096);
    fake.bucketOwners.set('dev-weights', '111111111111');
    const inputs = { mode: 'direct', 'target-environment': 'prod', region: 'eu-west-1', 'model-data-url': 's3://dev-weights/chat/model.tar.gz' };
    const run = await runBundle('promote-model', { workspace, awsEndpoint: server.url, inputs, env: oidcEnv() });
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.code).toBe(0);
    expect(server.requests.filter((q) => q.operation === 'AssumeRole')).toEqual([]);
    const web = server.requests.filter((q) => q.operation === 'AssumeRoleWithWebIdentity');
    expect(web.map((q) => q.params.RoleArn)).toEqual(['arn:aws:iam::111111111111:role/model-deploy-promotion-source-dev']);
    expect(web[0]!.params.WebIdentityToken).toBe(TOKEN);
    expect(fake.oidcAudiences).toEqual(['sts.amazonaws.com']);
    expect(JSON.parse(run.outputs['image-uris'])).toEqual({ 'eu-west-1': `333333333333.dkr.ecr.eu-west-1.amazonaws.com/acme/chat@${digest}` });
    // The weights as the target's versioned bucket holds them, for deploy-endpoint to pin (issue 12.2).
    const promotedKey = (JSON.parse(run.outputs['model-data-urls'])['eu-west-1'] as string).replace('s3://model-deploy-333333333333-eu-west-1/', '');
    const held = fake.buckets.get('model-deploy-333333333333-eu-west-1')!.get(promotedKey)!;
    expect(held.versionId).toBeTruthy();
    const manifestKey = promotedKey.replace(/model\.tar\.gz$/, 'model-deploy-weights.tsv');
    expect(JSON.parse(run.outputs['model-data-versions'])).toEqual({
      'eu-west-1': { [promotedKey]: expect.objectContaining({ versionId: held.versionId, etag: held.etag }), [manifestKey]: expect.objectContaining({ versionId: expect.any(String) }) },
    });
    // Reads in the source were signed by the read-only session, writes in the target by the job.
    const signer = (q: { headers: Record<string, unknown> }) => /Credential=([^/]+)\//.exec(String(q.headers.authorization ?? ''))?.[1];
    expect(new Set(server.requests.filter((q) => q.operation === 'GetDownloadUrlForLayer').map(signer))).toEqual(new Set(['ASIAWEB111111111111']));
    expect(new Set(server.requests.filter((q) => q.operation === 'PutImage').map(signer))).toEqual(new Set(['AKIDLOOPBACKTEST']));
    expect(run.stdout).toContain(`::add-mask::${TOKEN}`);
    for (const s of [TOKEN, 'web-secret-111111111111', 'web-token-111111111111', ...SECRETS]) expect(visible(run.all)).not.toContain(s);
  });

  test('a source role that does not trust the job names the trust conditions, and nothing is copied', async () => {
    await server.close();
    server = await fake.serve(0, { AKIDLOOPBACKTEST: '333333333333' });
    fake.oidcToken = TOKEN;
    fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'v1', [Buffer.alloc(10, 1)]);
    const inputs = { mode: 'direct', 'target-environment': 'prod', 'source-role-arn': 'arn:aws:iam::111111111111:role/denied-reader' };
    const run = await runBundle('promote-model', { workspace, awsEndpoint: server.url, inputs, env: oidcEnv() });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/Could not assume arn:aws:iam::111111111111:role\/denied-reader with this job's OIDC token/);
    expect(run.stdout).toMatch(/token\.actions\.githubusercontent\.com:sub/);
    expect(run.stdout).toMatch(/PromotionEnvironments/);
    expect(server.calls().filter((c) => /PutImage|InitiateLayerUpload|CopyObject|PUT /.test(c))).toEqual([]);
    expect(visible(run.all)).not.toContain(TOKEN);
  });
});
