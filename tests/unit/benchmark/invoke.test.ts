/**
 * model-deploy invoke at the SDK boundary (aws-sdk-client-mock) and, for ecs, against a loopback
 * server: each target's route, the async input under the prefix the stack grants, and the API key
 * sent but never printed.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { InvokeEndpointAsyncCommand, InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { runCli } from '../../support/cli-in-process';
import { stackAnswer } from '../../support/fake-aws/stack-answer';

const REV = '0123456789abcdef0123456789abcdef01234567';
const KEY = 'mdk-invoke-test-9Zq3Rv7Lp2Xw5Tn8';
const cfn = mockClient(CloudFormationClient);
const runtime = mockClient(SageMakerRuntimeClient);
const s3 = mockClient(S3Client);
const sts = mockClient(STSClient);
const secrets = mockClient(SecretsManagerClient);

const body = (text: string) => ({ transformToString: async () => text });

function specDir(target: string, extra = ''): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-invoke-'));
  fs.writeFileSync(
    path.join(dir, 'model-deploy.yml'),
    `version: 1\nproject: acme\ndeployments:\n  chat:\n    model: { huggingface: { id: org/model, revision: "${REV}" }, sizeGb: 10 }\n    engine: { name: vllm }\n    target: ${target}\n    regions: [us-east-1]\n${extra}`,
  );
  fs.writeFileSync(path.join(dir, 'request.json'), '{"inputs": "from a file"}');
  return dir;
}

const cli = (dir: string, args: string[]) => runCli(dir, ['invoke', ...args]);

beforeEach(() => {
  for (const m of [cfn, runtime, s3, sts, secrets]) m.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: '111122223333' });
  process.env.AWS_ACCESS_KEY_ID = 'AKIAEXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'secret';
});

describe('model-deploy invoke', () => {
  it('real-time: InvokeEndpoint on the stack\'s endpoint with the body, and prints the answer', async () => {
    const dir = specDir('sagemaker-realtime', '    instanceType: ml.g5.2xlarge\n');
    cfn.on(DescribeStacksCommand).resolves(stackAnswer({ name: 's', outputs: { EndpointName: 'acme-chat-ep' } }));
    runtime.on(InvokeEndpointCommand).resolves({ Body: new TextEncoder().encode('{"generated_text": "hi there"}') as never });
    const r = await cli(dir, ['--body', '@request.json']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('{"generated_text": "hi there"}');
    const call = runtime.commandCalls(InvokeEndpointCommand)[0]?.args[0].input;
    expect(call?.EndpointName).toBe('acme-chat-ep');
    expect(Buffer.from(call?.Body as Uint8Array).toString()).toBe('{"inputs": "from a file"}');
  });

  it('async: uploads under the input prefix beside the output folder, queues it, waits for the output and prints it', async () => {
    const dir = specDir('sagemaker-async', '    instanceType: ml.g5.2xlarge\n');
    cfn.on(DescribeStacksCommand).resolves(stackAnswer({ name: 's', outputs: { EndpointName: 'acme-chat-async', OutputS3Uri: 's3://acme-async-bucket/chat/output/' } }));
    runtime.on(InvokeEndpointAsyncCommand).resolves({ InferenceId: 'inf-1', OutputLocation: 's3://acme-async-bucket/chat/output/inf-1.out', FailureLocation: 's3://acme-async-bucket/chat/failure/inf-1-error.out' });
    let heads = 0;
    s3.on(HeadObjectCommand, { Key: 'chat/output/inf-1.out' }).callsFake(() => {
      if (++heads < 3) throw Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
      return {};
    });
    s3.on(HeadObjectCommand, { Key: 'chat/failure/inf-1-error.out' }).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }));
    s3.on(GetObjectCommand).resolves({ Body: body('{"answer": 42}') as never });
    const r = await cli(dir, ['--body', '{"inputs": "hello"}', '--timeout', '30']);
    expect(r.out).toContain('{"answer": 42}');
    expect(r.code).toBe(0);
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    // The role the stack creates reads chat/input/* (InputObjectArn): the request must be there.
    expect(put?.Bucket).toBe('acme-async-bucket');
    expect(put?.Key).toMatch(/^chat\/input\/invoke-[0-9a-f-]{36}$/);
    expect(put?.ExpectedBucketOwner).toBe('111122223333');
    expect(runtime.commandCalls(InvokeEndpointAsyncCommand)[0]?.args[0].input.InputLocation).toBe(`s3://acme-async-bucket/${put?.Key}`);
    expect(heads).toBe(3);
  });

  it('async: a failure object is the answer, printed, exit 1', async () => {
    const dir = specDir('sagemaker-async', '    instanceType: ml.g5.2xlarge\n');
    cfn.on(DescribeStacksCommand).resolves(stackAnswer({ name: 's', outputs: { OutputS3Uri: 's3://acme-async-bucket/chat/output/' } }));
    runtime.on(InvokeEndpointAsyncCommand).resolves({ OutputLocation: 's3://acme-async-bucket/chat/output/x.out', FailureLocation: 's3://acme-async-bucket/chat/failure/x-error.out' });
    s3.on(HeadObjectCommand, { Key: 'chat/output/x.out' }).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }));
    s3.on(HeadObjectCommand, { Key: 'chat/failure/x-error.out' }).resolves({});
    s3.on(GetObjectCommand).resolves({ Body: body('CUDA out of memory') as never });
    const r = await cli(dir, ['--body', '{}']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('CUDA out of memory');
    expect(r.out).toContain('failure at s3://acme-async-bucket/chat/failure/x-error.out');
  });

  it('ecs: HTTPS to the service URL with the key from its secret, never printed', async () => {
    const seen: { auth?: string; path?: string; body?: string }[] = [];
    const server = http.createServer((req, res) => {
      let b = '';
      req.on('data', (c) => (b += c));
      req.on('end', () => {
        seen.push({ auth: req.headers.authorization, path: req.url, body: b });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`{"echo": "got it", "auth": "${req.headers.authorization}"}`);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const dir = specDir('ecs', `    instanceType: g5.2xlarge\n    security:\n      certificateArn: "arn:aws:acm:us-east-1:111111111111:certificate/abc"\n      vpc: { vpcId: vpc-0a1b2c3d, subnets: [subnet-0a1b2c3d, subnet-0a1b2c3e], securityGroups: [sg-0a1b2c3d] }\n`);
      cfn.on(DescribeStacksCommand).resolves(stackAnswer({ name: 's', outputs: { EndpointUrl: url, ApiKeySecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:acme-key' } }));
      secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ apiKey: KEY }) });
      const r = await cli(dir, ['--body', '{"messages": []}', '--path', '/v1/chat/completions']);
      expect(r.code).toBe(0);
      expect(seen).toEqual([{ auth: `Bearer ${KEY}`, path: '/v1/chat/completions', body: '{"messages": []}' }]);
      // The server quoted the header back: the printed answer has it masked.
      expect(r.out).toContain('"echo": "got it"');
      expect(r.out).not.toContain(KEY);
    } finally {
      server.close();
    }
  });

  it('refuses a body that is not JSON before any AWS call', async () => {
    const dir = specDir('sagemaker-realtime', '    instanceType: ml.g5.2xlarge\n');
    const r = await cli(dir, ['--body', '{not json']);
    expect(r.code).toBe(2);
    expect(r.out).toContain('--body is not valid JSON');
    expect(cfn.calls()).toHaveLength(0);
  });
});
