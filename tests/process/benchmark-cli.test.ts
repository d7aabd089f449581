/**
 * The built CLI bundle (node scripts/build.js cli) as a user runs it: `model-deploy benchmark` against
 * a loopback OpenAI-compatible server in its own process, the key from an environment variable; and
 * `model-deploy invoke` on an ecs deployment against a loopback AWS (CloudFormation, STS, Secrets
 * Manager) whose stack output points at a loopback service.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from '../support/bundle';
import { queryResponse, startLoopback } from '../support/loopback';
import { startFakeOpenAi } from '../unit/benchmark/fake-openai';
import { stackAnswerReply } from '../support/fake-aws/stack-answer';

const KEY = 'sk-process-bench-4Rt7Yq2Wm9Lp3Xc8';
// MODEL_DEPLOY_CLI_DIST: a CLI bundle built elsewhere (BUILD_OUT_DIR=/tmp/x node scripts/build.js cli, then /tmp/x/cli).
const CLI_DIR = process.env.MODEL_DEPLOY_CLI_DIST ?? path.join(ROOT, 'dist', 'cli');
const CLI = path.join(CLI_DIR, 'index.js');

function run(args: string[], env: Record<string, string> = {}, cwd = ROOT, nodeArgs: string[] = []): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('dist/cli benchmark', () => {
  it('--help prints the usage and exits 0', async () => {
    const r = await run(['benchmark', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('model-deploy benchmark --url URL');
  });

  it('measures the loopback server: table, vLLM-named JSON with the measured figures, the key never printed', async () => {
    const server = await startFakeOpenAi({ ttftMs: 100, itlMs: 10, tokens: 16, apiKey: KEY, model: 'served' });
    try {
      const r = await run(['benchmark', '--url', server.url, '--api-key-env', 'BENCH_KEY', '--concurrency', '4', '--requests', '16', '--prompt-tokens', '32', '--output-tokens', '16', '--json'], { BENCH_KEY: KEY });
      expect(r.out).not.toContain(KEY);
      expect(r.code).toBe(0);
      expect(r.out).toContain('Serving Benchmark Result');
      const json = JSON.parse(r.out.slice(r.out.indexOf('\n{\n') + 1)) as Record<string, number>;
      expect(json).toMatchObject({ completed: 16, failed: 0, total_output_tokens: 256, max_concurrency: 4, model_id: 'served' });
      // Measured figures are present; their accuracy against a reference client is a figure of npm run bench
      // (bench/cli-bundle.bench.ts), not a test: a loaded machine moves them.
      expect(Number.isFinite(json.median_ttft_ms)).toBe(true);
      expect(Number.isFinite(json.median_itl_ms)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('--workers 2: the bundle runs its own file in two worker threads and merges them into one result', async () => {
    const server = await startFakeOpenAi({ ttftMs: 50, itlMs: 5, tokens: 8, apiKey: KEY, model: 'served' });
    try {
      const r = await run(['benchmark', '--url', server.url, '--api-key-env', 'BENCH_KEY', '--model', 'served', '--concurrency', '4', '--requests', '20', '--prompt-tokens', '16', '--output-tokens', '8', '--workers', '2', '--json'], { BENCH_KEY: KEY });
      expect(r.out).not.toContain(KEY);
      expect(r.code).toBe(0);
      expect(r.out).toContain('over 2 worker threads');
      const json = JSON.parse(r.out.slice(r.out.indexOf('\n{\n') + 1)) as Record<string, number>;
      expect(json).toMatchObject({ completed: 20, failed: 0, total_output_tokens: 160, max_concurrency: 4, client_workers: 2 });
      // 4 warm-up requests (2 per worker), then exactly the 20 measured: the workers share one counter.
      expect((await server.stats()).requests).toHaveLength(24);
    } finally {
      await server.close();
    }
  });

  it('loads no AWS client: none of the bundle files it reads holds the SageMaker runtime or S3 client', async () => {
    const server = await startFakeOpenAi({ ttftMs: 5, itlMs: 1, tokens: 2, model: 'served' });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-bench-loaded-'));
    const hook = path.join(dir, 'hook.js');
    const list = path.join(dir, 'loaded.json');
    // Every file the process loaded, written when it exits.
    fs.writeFileSync(hook, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(list)}, JSON.stringify(Object.keys(require.cache))));\n`);
    try {
      const r = await run(['benchmark', '--url', server.url, '--model', 'served', '--concurrency', '1', '--requests', '2', '--prompt-tokens', '4', '--output-tokens', '2'], {}, ROOT, ['-r', hook]);
      expect(r.code).toBe(0);
      const loaded = (JSON.parse(fs.readFileSync(list, 'utf8')) as string[]).filter((f) => f.startsWith(CLI_DIR));
      expect(loaded.length).toBeGreaterThan(0);
      const clients = loaded.filter((f) => /InvokeEndpointAsyncCommand|PutObjectCommand|DescribeStacksCommand/.test(fs.readFileSync(f, 'utf8')));
      expect(clients.map((f) => path.basename(f))).toEqual([]);
    } finally {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unset key variable is a setup error (exit 2) that sends nothing', async () => {
    const server = await startFakeOpenAi({ ttftMs: 10, itlMs: 1, tokens: 2, apiKey: KEY });
    try {
      const r = await run(['benchmark', '--url', server.url, '--api-key-env', 'NOT_SET', '--requests', '2']);
      expect(r.code).toBe(2);
      expect(r.out).toContain('--api-key-env NOT_SET: the variable is not set or empty');
      expect((await server.stats()).requests).toHaveLength(0);
    } finally {
      await server.close();
    }
  });
});

describe('dist/cli invoke', () => {
  it('ecs: finds the URL in the stack, sends the body with the secret\'s key, prints the answer without the key', async () => {
    const key = 'mdk-process-invoke-3Hs8Kd2Qv7Zp';
    let service = '';
    const aws = await startLoopback((req) => {
      if (req.operation === 'DescribeStacks') {
        return stackAnswerReply({ name: 'acme-chat', outputs: { EndpointUrl: service, ApiKeySecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:acme-key' } });
      }
      if (req.operation === 'GetCallerIdentity') return queryResponse('GetCallerIdentity', '<Account>111122223333</Account><Arn>arn:aws:sts::111122223333:user/u</Arn><UserId>u</UserId>', 'https://sts.amazonaws.com/doc/2011-06-15/');
      if (req.operation === 'GetSecretValue') return { headers: { 'content-type': 'application/x-amz-json-1.1' }, body: { ARN: 'arn:x', Name: 'acme-key', SecretString: JSON.stringify({ apiKey: key }) } };
      if (req.method === 'POST' && req.path === '/invocations') {
        return req.headers.authorization === `Bearer ${key}` ? { body: { generated_text: 'hello from ecs', echoed: req.headers.authorization } } : { status: 401, body: { message: 'no key' } };
      }
      return undefined;
    });
    service = aws.url;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-invoke-cli-'));
    fs.writeFileSync(
      path.join(dir, 'model-deploy.yml'),
      'version: 1\nproject: acme\ndeployments:\n  chat:\n    model: { huggingface: { id: org/model, revision: "0123456789abcdef0123456789abcdef01234567" }, sizeGb: 10 }\n    engine: { name: vllm }\n    target: ecs\n    instanceType: g5.2xlarge\n    regions: [us-east-1]\n' +
        '    security:\n      certificateArn: "arn:aws:acm:us-east-1:111111111111:certificate/abc"\n      vpc: { vpcId: vpc-0a1b2c3d, subnets: [subnet-0a1b2c3d, subnet-0a1b2c3e], securityGroups: [sg-0a1b2c3d] }\n',
    );
    try {
      const r = await run(['invoke', '--body', '{"inputs": "hi"}'], { AWS_ENDPOINT_URL: aws.url, AWS_ACCESS_KEY_ID: 'AKIDLOOPBACK', AWS_SECRET_ACCESS_KEY: 'loopback', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true', HOME: dir }, dir);
      expect(r.out).toContain('hello from ecs');
      expect(r.out).not.toContain(key);
      expect(r.code).toBe(0);
      const post = aws.requests.find((q) => q.path === '/invocations');
      expect(post?.body).toBe('{"inputs": "hi"}');
    } finally {
      await aws.close();
    }
  });
});
