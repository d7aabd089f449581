/**
 * build-model: the unchanged-spec fast path (AWS calls and wall time against a loopback AWS) and how
 * quickly a running build's end is noticed (the only overhead beyond CodeBuild's own time).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { BenchRow } from './types';
import { jsonError, queryResponse, startLoopback } from '../tests/support/loopback';
import { stackAnswerReply } from '../tests/support/fake-aws/stack-answer';

const SPEC = `
version: 1
project: acme
environments:
  dev: { account: "111111111111" }
deployments:
  chat:
    model:
      huggingface: { id: Qwen/Qwen2.5-7B-Instruct, revision: a09a35458c702b33eeacc393d103063234e8bc28 }
    engine: { name: vllm, version: "0.8.5" }
    target: sagemaker-realtime
    instanceType: ml.g5.2xlarge
    instanceCount: 1
    regions: [us-east-1]
`;

export default async function (): Promise<BenchRow[]> {
  const root = path.resolve(__dirname, '..');
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDBENCH', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' });
  const { resolveTarget } = await import('../src/config/select');
  const { EnvInputs } = await import('../src/core/env');
  const { infraParameters, infraTemplate } = await import('../src/image/infra');
  const { memoryReporter } = await import('../src/core/log');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-bench-build-'));
  fs.writeFileSync(path.join(dir, 'model-deploy.yml'), SPEC);
  const target = resolveTarget({ config: 'model-deploy.yml', deployment: 'chat', environment: 'dev' }, dir);
  const d = target.deployment;
  // The build stack's parameters as build-model computes them (the engine's base repository included).
  const { renderBuild } = await import('../src/image/render');
  const baseRepository = renderBuild(d, { region: 'us-east-1', root }).engine.baseRepository;
  const hash = infraParameters(d, { region: 'us-east-1', account: '111111111111', bucket: 'model-deploy-111111111111-us-east-1', template: infraTemplate(root), baseRepository }).ConfigHash;
  const stack = {
    name: 'acme-chat-build', status: 'UPDATE_COMPLETE', created: new Date('2024-01-01T00:00:00Z'), parameters: { ConfigHash: hash },
    outputs: { RepositoryUri: '111111111111.dkr.ecr.us-east-1.amazonaws.com/acme/chat', ProjectName: 'P', LogGroupName: 'G' },
  };

  let imageExists = true;
  let buildEndsAt = 0;
  const server = await startLoopback((req) => {
    // build-model checks whose account it runs in before anything else (issue 13.5).
    if (req.operation === 'GetCallerIdentity') {
      return queryResponse('GetCallerIdentity', '<Arn>arn:aws:sts::111111111111:assumed-role/dev/gh</Arn><UserId>AROA:gh</UserId><Account>111111111111</Account>', 'https://sts.amazonaws.com/doc/2011-06-15/');
    }
    if (req.operation === 'DescribeStacks') return stackAnswerReply(stack);
    if (req.operation === 'DescribeImages') return imageExists ? { body: { imageDetails: [{ imageDigest: 'sha256:x' }] } } : jsonError('ImageNotFoundException', 'none');
    if (req.operation === 'StartBuild') return { body: { build: { id: 'P:1' } } };
    if (req.operation === 'BatchGetBuilds') {
      const done = Date.now() >= buildEndsAt;
      return { body: { builds: [{ id: 'P:1', buildStatus: done ? 'SUCCEEDED' : 'IN_PROGRESS', exportedEnvironmentVariables: done ? [{ name: 'IMAGE_DIGEST', value: 'sha256:y' }] : [] }] } };
    }
    if (req.operation === 'GetLogEvents') return { body: { events: [], nextForwardToken: 't' } };
    if (req.method === 'HEAD' || req.method === 'PUT') return { status: 200, body: '' };
    return undefined;
  });
  process.env.AWS_ENDPOINT_URL = server.url;
  const { buildImage } = await import('../src/image/flow');
  const run = () => ({ reporter: memoryReporter(), env: new EnvInputs({}) });
  try {
    // Warm-up (SDK modules load once), then the measured fast path.
    await buildImage(target, {}, run());
    const before = server.requests.length;
    const t0 = process.hrtime.bigint();
    await buildImage(target, {}, run());
    const skipMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const skipCalls = server.requests.length - before;

    // A build that ends 3 s after it starts, polled every second (the action's default is 10 s).
    imageExists = false;
    const lags: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      buildEndsAt = started + 3000;
      await buildImage(target, { pollSeconds: 1 }, run());
      lags.push(Date.now() - buildEndsAt);
    }
    const lag = Math.max(...lags);
    return [
      { name: 'build-model unchanged: AWS calls', value: skipCalls, unit: 'calls', target: '<= 3', ok: skipCalls <= 3 },
      { name: 'build-model unchanged: wall time', value: Math.round(skipMs), unit: 'ms', target: '< 5000 ms', ok: skipMs < 5000 },
      { name: 'build-model: end of build noticed after (poll 1 s, worst of 3)', value: lag, unit: 'ms', target: '<= 3000 ms (3x the poll interval)', ok: lag <= 3000 },
    ];
  } finally {
    delete process.env.AWS_ENDPOINT_URL;
    await server.close();
  }
}
