/**
 * promote-model against a loopback ECR + S3 + STS server with simulated per-request latency:
 * - a model already present in the target moves 0 bytes, with a constant number of calls per blob;
 * - four target regions take about as long as one (regions run in parallel).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EnvInputs } from '../src/core/env';
import { memoryReporter } from '../src/core/log';
import { promoteModel } from '../src/promote/promote';
import { resolveTarget } from '../src/config/select';
import { FakeAws } from '../tests/support/fake-aws/ecr-s3-sts';
import type { BenchRow } from './types';

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-northeast-1', 'us-west-2'];
const SPEC = `
version: 1
project: acme
environments:
  dev: { account: "111111111111" }
  prod:
    account: "333333333333"
    promotionRoleArn: arn:aws:iam::333333333333:role/model-deploy-promotion
    regions: [${REGIONS.join(', ')}]
deployments:
  chat:
    # Weights baked into the image: this bench measures the image copy alone.
    model: { huggingface: { id: Qwen/Qwen2.5-0.5B, revision: main }, bakeIntoImage: true }
    engine: { name: vllm }
    target: sagemaker-realtime
    instanceType: ml.g5.xlarge
    regions: [us-east-1]
`;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = process.hrtime.bigint();
  const v = await fn();
  return [v, Number(process.hrtime.bigint() - t) / 1e6];
}

export default async function (): Promise<BenchRow[]> {
  const saved = { ...process.env };
  const fake = new FakeAws();
  const server = await fake.serve(250, { AKIDBENCH: '111111111111' });
  Object.assign(process.env, { AWS_ENDPOINT_URL: server.url, AWS_ACCESS_KEY_ID: 'AKIDBENCH', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' });
  try {
    const layers = Array.from({ length: 4 }, (_, i) => Buffer.alloc(256 * 1024, i + 1));
    const digest = fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'v1', layers);
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'md-promote-bench-'));
    fs.writeFileSync(path.join(workspace, 'model-deploy.yml'), SPEC);
    const promote = (region?: string) =>
      promoteModel(
        resolveTarget({ config: 'model-deploy.yml', deployment: 'chat', environment: 'prod', region }, workspace, 'target-environment'),
        { sourceEnvironment: 'dev', tuning: { layerPartSize: 512 * 1024 } },
        { reporter: memoryReporter(), env: new EnvInputs({ GITHUB_REPOSITORY: 'acme/bench', GITHUB_RUN_ID: '1' }) },
      );
    const blobs = layers.length + 1;

    // Warm-up (module loading, role assumption), then fresh target registries for each measured run.
    await promote('us-east-1');
    fake.registries.delete('333333333333/us-east-1');
    const [, oneMs] = await timed(() => promote('us-east-1'));
    fake.registries.delete('333333333333/us-east-1');
    const [, fourMs] = await timed(() => promote());

    // Present, tag and all: bytes and calls.
    let bytes = fake.bytesDownloaded;
    server.requests.length = 0;
    await promote('us-east-1');
    const presentBytes = fake.bytesDownloaded - bytes;
    const presentCalls = server.requests.filter((r) => r.headers['x-amz-target']).length;

    // Blobs present but the tag missing (a re-run after a failure before PutImage): still 0 bytes.
    const repo = fake.repo('333333333333', 'eu-west-1', 'acme/chat');
    repo.tags.clear();
    repo.manifests.delete(digest);
    bytes = fake.bytesDownloaded;
    server.requests.length = 0;
    await promote('eu-west-1');
    const rerunBytes = fake.bytesDownloaded - bytes;
    const rerunEcrCalls = server.requests.filter((r) => r.headers['x-amz-target']).length;

    const ratio = fourMs / oneMs;
    return [
      { name: 'promote: 1 region, 5 blobs, 1 MiB (250 ms per request, like a cross-region round trip)', value: Math.round(oneMs), unit: 'ms' },
      { name: 'promote: 4 regions, same image', value: Math.round(fourMs), unit: 'ms' },
      { name: 'promote: 4 regions / 1 region wall time', value: Number(ratio.toFixed(2)), unit: 'x', target: '<= 1.3', ok: ratio <= 1.3 },
      { name: 'promote: already present, bytes moved', value: presentBytes, unit: 'B', target: '0', ok: presentBytes === 0 },
      { name: `promote: already present, ECR calls (${blobs} blobs)`, value: presentCalls, unit: 'calls', target: '<= 6, whatever the blob count', ok: presentCalls <= 6 },
      { name: 'promote: blobs present, tag missing, bytes moved', value: rerunBytes, unit: 'B', target: '0', ok: rerunBytes === 0 },
      { name: `promote: blobs present, tag missing, ECR calls (${blobs} blobs)`, value: rerunEcrCalls, unit: 'calls', target: '<= 6 (one availability check per 100 blobs)', ok: rerunEcrCalls <= 6 },
    ];
  } finally {
    await server.close();
    for (const k of ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'AWS_EC2_METADATA_DISABLED']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

if (require.main === module) void (async () => console.table(await (exports.default as () => Promise<BenchRow[]>)()))();
