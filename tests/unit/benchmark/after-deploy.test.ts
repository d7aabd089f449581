/**
 * benchmarkAfterDeploy: the spec's workload through each target's own route after a deploy, at the SDK
 * boundary (SageMaker stream and async) and against the loopback server (ecs with the key from its
 * secret); the JSON, the markdown and a result record the PR comment can use.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { mockClient } from 'aws-sdk-client-mock';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { InvokeEndpointAsyncCommand, InvokeEndpointWithResponseStreamCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { benchmarkAfterDeploy, instanceHourlyPrice } from '../../../src/benchmark/after-deploy';
import { hashOfImageUri } from '../../../src/benchmark/image-hash';
import { benchmarkKey, validateResult } from '../../../src/benchmark/results';
import { exampleTarget } from '../../support/target';
import { EnvInputs } from '../../../src/core/env';
import { memoryReporter } from '../../../src/core/log';
import type { RegionResult } from '../../../src/deploy/region';
import { startFakeOpenAi } from './fake-openai';

const REV = '0123456789abcdef0123456789abcdef01234567';
const SHA = 'abcdef0123456789abcdef0123456789abcdef01';
const IMAGE = `md-${'1'.repeat(40)}`;
const KEY = 'mdk-after-deploy-7Ty2Pq9Lm3Wx6Rv';
const runtime = mockClient(SageMakerRuntimeClient);
const s3 = mockClient(S3Client);
const secrets = mockClient(SecretsManagerClient);

beforeEach(() => {
  runtime.reset();
  s3.reset();
  secrets.reset();
  process.env.AWS_ACCESS_KEY_ID = 'AKIAEXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'secret';
});

/** The chat deployment of a one-deployment spec, and a workspace folder for its results. */
function targetOf(targetKind: string, instanceType: string, more = '', regions = '[us-east-1]') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-after-'));
  const text = `version: 1\nproject: acme\ndeployments:\n  chat:\n    model: { huggingface: { id: org/model, revision: "${REV}" }, sizeGb: 10 }\n    engine: { name: vllm }\n    target: ${targetKind}\n    instanceType: ${instanceType}\n    regions: ${regions}\n    workload: { promptTokens: 8, outputTokens: 4, concurrency: 2, requests: 6, maxDurationSeconds: 30 }\n${more}`;
  return { target: exampleTarget('chat', undefined, () => text), dir };
}

function regionResult(region: string, status: RegionResult['status'], extra: Partial<RegionResult> = {}): RegionResult {
  return { region, status, stackName: 'acme-chat', endpointName: 'acme-chat-ep', changesMarkdown: '', hasChanges: true, outputs: {}, timings: [], stackId: `arn:aws:cloudformation:${region}:111122223333:stack/acme-chat/x`, ...extra };
}

const run = () => ({ reporter: memoryReporter(), env: new EnvInputs({ GITHUB_SHA: SHA }) });
const sse = (t: string) => `data: {"choices":[{"index":0,"delta":{"content":${JSON.stringify(t)}}}]}\n\n`;

describe('benchmarkAfterDeploy', () => {
  it('SageMaker real-time: the response stream, measured regions only, priced, with a valid record keyed by the configuration', async () => {
    const { target, dir } = targetOf('sagemaker-realtime', 'ml.g5.2xlarge', '', '[us-east-1, us-west-2]');
    runtime.on(InvokeEndpointWithResponseStreamCommand).callsFake(async () => {
      const text = sse('a') + sse('b') + sse('c') + sse('d') + 'data: {"choices":[],"usage":{"prompt_tokens":20,"completion_tokens":4}}\n\ndata: [DONE]\n\n';
      async function* body() {
        for (const piece of text.match(/[\s\S]{1,9}/g) ?? []) {
          await new Promise((r) => setTimeout(r, 1));
          yield { PayloadPart: { Bytes: new TextEncoder().encode(piece) } };
        }
      }
      return { Body: body() };
    });
    const ctx = run();
    const results = await benchmarkAfterDeploy(target, { deployed: [regionResult('us-east-1', 'deployed'), regionResult('us-west-2', 'change-set-created')], imageHash: IMAGE, workspace: dir, resultsDir: 'results' }, ctx);
    expect(results).toHaveLength(1);
    const [r] = results;
    expect(r?.json).toMatchObject({ completed: 6, failed: 0, total_output_tokens: 24, backend: 'sagemaker-stream', model_id: 'org/model', max_concurrency: 2 });
    expect(typeof r?.json.median_ttft_ms).toBe('number');
    // 6 measured + 2 warm-up, all to the deployed region's endpoint.
    expect(runtime.commandCalls(InvokeEndpointWithResponseStreamCommand)).toHaveLength(8);
    expect(runtime.commandCalls(InvokeEndpointWithResponseStreamCommand)[0]?.args[0].input.EndpointName).toBe('acme-chat-ep');
    expect(r?.markdown).toContain('#### chat in us-east-1');
    expect(r?.markdown).toContain('| concurrency | completed |');
    const hourly = instanceHourlyPrice(target.deployment, 'us-east-1');
    expect(hourly?.currency).toBe('USD');
    expect(r?.price?.hourlyPrice).toBe(hourly?.amount);
    expect(r?.markdown).toContain('per 1M output tokens');
    const rec = r?.resultRecord;
    expect(rec && validateResult(rec)).toBeUndefined();
    expect(rec).toMatchObject({ imageHash: IMAGE, instanceType: 'ml.g5.2xlarge', commit: SHA, region: 'us-east-1' });
    expect(rec?.key).toBe(benchmarkKey({ imageHash: IMAGE, instanceType: 'ml.g5.2xlarge', workload: target.deployment.workload }));
    // Written to the results folder, as the PR cost comment reads it.
    expect(r?.resultFile && path.dirname(r.resultFile)).toBe(path.join(dir, 'results'));
    expect(JSON.parse(fs.readFileSync(r!.resultFile!, 'utf8'))).toEqual(rec);
    expect(ctx.reporter.allText()).toContain('Benchmark skipped in us-west-2');
  });

  it('ecs: HTTPS with the key from the stack\'s secret, never printed', async () => {
    const server = await startFakeOpenAi({ ttftMs: 5, itlMs: 1, tokens: 4, apiKey: KEY, model: 'org/model' });
    try {
      const { target, dir } = targetOf(
        'ecs',
        'g5.2xlarge',
        `    security:\n      certificateArn: "arn:aws:acm:us-east-1:111111111111:certificate/abc"\n      vpc: { vpcId: vpc-0a1b2c3d, subnets: [subnet-0a1b2c3d, subnet-0a1b2c3e], securityGroups: [sg-0a1b2c3d] }\n`,
      );
      secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ apiKey: KEY }) });
      const ctx = run();
      const deployed = [regionResult('us-east-1', 'no-changes', { endpointUrl: server.url, outputs: { ApiKeySecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:k' } })];
      const [r] = await benchmarkAfterDeploy(target, { deployed, workspace: dir, resultsDir: 'results' }, ctx);
      expect(r?.json).toMatchObject({ completed: 6, backend: 'openai-chat' });
      expect(secrets.commandCalls(GetSecretValueCommand)[0]?.args[0].input.SecretId).toBe('arn:aws:secretsmanager:us-east-1:111122223333:secret:k');
      expect((await server.stats()).requests.every((q) => q.headers.authorization === `Bearer ${KEY}`)).toBe(true);
      expect(ctx.reporter.captured.secrets).toContain(KEY);
      expect(ctx.reporter.allText() + JSON.stringify(r)).not.toContain(KEY);
      // No image hash given: the one build-model would tag for the region (renderBuild's content hash).
      expect(r?.resultRecord?.imageHash).toMatch(/^md-[0-9a-f]{40}$/);
      expect(r?.resultRecord?.instanceType).toBe('g5.2xlarge');
    } finally {
      await server.close();
    }
  });

  it('SageMaker async: requests go under the input prefix the stack grants, in the account\'s bucket', async () => {
    const { target, dir } = targetOf('sagemaker-async', 'ml.g5.2xlarge');
    let n = 0;
    runtime.on(InvokeEndpointAsyncCommand).callsFake(async () => ({ OutputLocation: `s3://acme-async-bucket/chat/output/${n++}.out` }));
    s3.on(PutObjectCommand).resolves({});
    s3.on(HeadObjectCommand).resolves({});
    s3.on(GetObjectCommand).callsFake(async () => ({ Body: { transformToString: async () => '{"usage":{"prompt_tokens":9,"completion_tokens":4}}' } }));
    const deployed = [regionResult('us-east-1', 'deployed', { endpointName: 'acme-chat-async', outputs: { OutputS3Uri: 's3://acme-async-bucket/chat/output/' } })];
    const [r] = await benchmarkAfterDeploy(target, { deployed, workspace: dir, resultsDir: 'results' }, run());
    expect(r?.json).toMatchObject({ completed: 6, backend: 'sagemaker-async' });
    const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts).toHaveLength(8);
    for (const p of puts) {
      expect(p.Bucket).toBe('acme-async-bucket');
      expect(p.Key).toMatch(/^chat\/input\/benchmark\/[0-9a-f-]{36}\/-?\d+\.json$/);
      expect(p.ExpectedBucketOwner).toBe('111122223333');
    }
    expect(runtime.commandCalls(InvokeEndpointAsyncCommand)[0]?.args[0].input.EndpointName).toBe('acme-chat-async');
  }, 30_000);

  it('keys the record by the image the deploy was given: its md- tag or digest, none for a movable tag', () => {
    const tag = `md-${'a'.repeat(40)}`;
    const digest = `sha256:${'b'.repeat(64)}`;
    expect(hashOfImageUri(`111122223333.dkr.ecr.us-east-1.amazonaws.com/acme/chat:${tag}`)).toBe(tag);
    expect(hashOfImageUri(`763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference@${digest}`)).toBe(digest);
    expect(hashOfImageUri('111122223333.dkr.ecr.us-east-1.amazonaws.com/acme/chat:latest')).toBeUndefined();
  });
});
