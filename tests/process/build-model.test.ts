/**
 * The built build-model bundle against a loopback server playing STS, CloudFormation, ECR, S3,
 * CodeBuild and CloudWatch Logs. Needs `node scripts/build.js build-model` first.
 */
import * as fs from 'fs';
import * as path from 'path';
import { jsonError, Loopback, queryResponse, RecordedRequest, Reply, startLoopback } from '../support/loopback';
import { runBundle, ROOT } from '../support/bundle';
import { infraParameters, infraTemplate } from '../../src/image/infra';
import { renderBuild } from '../../src/image/render';
import { loadSpec } from '../../src/config/load';
import { stackAnswerReply } from '../support/fake-aws/stack-answer';

const SPEC = `
version: 1
project: acme
environments:
  dev:
    account: "111111111111"
deployments:
  chat:
    model:
      huggingface:
        id: Qwen/Qwen2.5-7B-Instruct
        revision: a09a35458c702b33eeacc393d103063234e8bc28
        tokenSecretArn: arn:aws:secretsmanager:us-east-1:111111111111:secret:hf-AbCdEf
    engine:
      name: vllm
      version: "0.8.5"
    target: sagemaker-realtime
    instanceType: ml.g5.2xlarge
    instanceCount: 1
    regions: [us-east-1]
`;
const REPO_URI = '111111111111.dkr.ecr.us-east-1.amazonaws.com/acme/chat';

function workspace(spec = SPEC): string {
  const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'md-bm-ws-'));
  fs.writeFileSync(path.join(dir, 'model-deploy.yml'), spec);
  return dir;
}

const ws = workspace();
const d = loadSpec(path.join(ws, 'model-deploy.yml')).deployments.chat;
const hash = infraParameters(d, { region: 'us-east-1', account: '111111111111', bucket: 'model-deploy-111111111111-us-east-1', template: infraTemplate(ROOT), baseRepository: 'vllm', environmentName: 'dev' }).ConfigHash;
const tag = renderBuild(d, { region: 'us-east-1', root: ROOT }).tag;

const buildStack = { name: 'acme-chat-build', status: 'UPDATE_COMPLETE', created: new Date('2024-01-01T00:00:00Z'), parameters: { ConfigHash: hash }, outputs: { RepositoryUri: REPO_URI, ProjectName: 'Project-abc', LogGroupName: 'acme-chat-build-LogGroup' } };

type Status = 'SUCCEEDED' | 'FAILED';

function aws(options: { imageExists: boolean; status?: Status; account?: string }): (req: RecordedRequest) => Reply | undefined {
  const account = options.account ?? '111111111111';
  return (req) => {
    switch (req.operation) {
      case 'GetCallerIdentity':
        return queryResponse('GetCallerIdentity', `<Arn>arn:aws:sts::${account}:assumed-role/build/gh</Arn><UserId>AROA:gh</UserId><Account>${account}</Account>`, 'https://sts.amazonaws.com/doc/2011-06-15/');
      case 'DescribeStacks':
        return stackAnswerReply(buildStack);
      case 'DescribeImages':
        return options.imageExists ? { body: { imageDetails: [{ imageDigest: 'sha256:existing', imageTags: [tag] }] } } : jsonError('ImageNotFoundException', 'no such image');
      case 'StartBuild':
        return { body: { build: { id: 'Project-abc:b-1', buildStatus: 'IN_PROGRESS' } } };
      case 'BatchGetBuilds':
        return {
          body: {
            builds: [
              options.status === 'FAILED'
                ? {
                    id: 'Project-abc:b-1', buildStatus: 'FAILED',
                    phases: [{ phaseType: 'BUILD', phaseStatus: 'FAILED', contexts: [{ statusCode: 'COMMAND_EXECUTION_ERROR', message: 'docker build exited 1' }] }],
                  }
                : { id: 'Project-abc:b-1', buildStatus: 'SUCCEEDED', exportedEnvironmentVariables: [{ name: 'IMAGE_DIGEST', value: 'sha256:built' }] },
            ],
          },
        };
      case 'GetLogEvents': {
        const first = !(req.params as { nextToken?: string }).nextToken;
        return { body: { events: first ? [{ message: 'Step 1/9 : FROM vllm\n' }, { message: 'ERROR: out of disk\n' }] : [], nextForwardToken: 'f1', nextBackwardToken: 'b1' } };
      }
    }
    if (req.method === 'HEAD' && req.path.startsWith('/model-deploy-111111111111-us-east-1')) return { status: 200, body: '' };
    if (req.method === 'PUT' && req.path.startsWith(`/model-deploy-111111111111-us-east-1/acme/chat/sources/${tag}.zip`)) return { status: 200, headers: { etag: '"e"' }, body: '' };
    return undefined;
  };
}

const inputs = { environment: 'dev', 'poll-seconds': '1' };
let server: Loopback | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('build-model bundle', () => {
  it('skips an unchanged build with three AWS calls and points at the existing image', async () => {
    server = await startLoopback(aws({ imageExists: true }));
    const run = await runBundle('build-model', { inputs, workspace: ws, awsEndpoint: server.url });
    expect(run.stdout).not.toContain('::error');
    expect(run.code).toBe(0);
    expect(server.calls()).toEqual(['GetCallerIdentity', 'DescribeStacks', 'DescribeImages']);
    expect(run.outputs).toMatchObject({ 'image-uri': `${REPO_URI}:${tag}`, 'image-digest': 'sha256:existing', skipped: 'true', 'build-id': '', 'build-seconds': '0' });
    expect(run.outputs['model-data-url']).toMatch(/^s3:\/\/model-deploy-111111111111-us-east-1\/acme\/chat\/models\/[0-9a-f]{16}\/$/);
  });

  it('uploads the source, runs the build, streams its log in a group and outputs the new image', async () => {
    server = await startLoopback(aws({ imageExists: false, status: 'SUCCEEDED' }));
    const run = await runBundle('build-model', { inputs, workspace: ws, awsEndpoint: server.url });
    expect(run.code).toBe(0);
    expect(server.calls()).toEqual(expect.arrayContaining(['DescribeStacks', 'DescribeImages', 'StartBuild', 'BatchGetBuilds', 'GetLogEvents']));
    const put = server.requests.find((r) => r.method === 'PUT')!;
    expect(put.path).toContain(`/acme/chat/sources/${tag}.zip`);
    const start = server.requests.find((r) => r.operation === 'StartBuild')!.params as { sourceLocationOverride: string };
    expect(start.sourceLocationOverride).toBe(`model-deploy-111111111111-us-east-1/acme/chat/sources/${tag}.zip`);
    expect(run.stdout).toMatch(/::group::CodeBuild Project-abc:b-1\nStep 1\/9 : FROM vllm\n/);
    expect(run.outputs).toMatchObject({ 'image-uri': `${REPO_URI}:${tag}`, 'image-digest': 'sha256:built', skipped: 'false', 'build-id': 'Project-abc:b-1' });
    // Never reads the Hugging Face token itself.
    expect(server.calls()).not.toContain('GetSecretValue');
  });

  it('fails a failed build with the phase, the reason and the last log lines as an annotation', async () => {
    server = await startLoopback(aws({ imageExists: false, status: 'FAILED' }));
    const run = await runBundle('build-model', { inputs, workspace: ws, awsEndpoint: server.url });
    expect(run.code).toBe(1);
    const annotation = run.stdout.split('\n').find((l) => l.startsWith('::error title=Image build failed (BUILD)::'));
    expect(annotation).toBeDefined();
    expect(annotation).toContain('FAILED in phase BUILD: COMMAND_EXECUTION_ERROR: docker build exited 1');
    expect(annotation).toContain('ERROR: out of disk');
    expect(run.outputs['image-uri']).toBeUndefined();
  });

  it('refuses the credentials of another account before anything is created there', async () => {
    server = await startLoopback(aws({ imageExists: false, status: 'SUCCEEDED', account: '999999999999' }));
    const run = await runBundle('build-model', { inputs, workspace: ws, awsEndpoint: server.url });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('The AWS credentials are for account 999999999999, but environment dev is account 111111111111.');
    expect(run.stdout).toContain("Assume the environment's role");
    expect(server.calls()).toEqual(['GetCallerIdentity']);
  });

  it.each([
    ['a repository name ECR would reject', SPEC.replace('project: acme', 'project: acme--x'), /ECR repository name "acme--x\/chat"/],
    ['a model id that is not owner/name', SPEC.replace('id: Qwen/Qwen2.5-7B-Instruct', 'id: Qwen2.5-7B-Instruct'), /model\.huggingface\.id/],
    ['an unknown engine', SPEC.replace('name: vllm', 'name: vllmx'), /engine\.name is "vllmx", which is not valid/],
    ['a custom Dockerfile that does not exist', SPEC.replace('name: vllm', 'name: custom\n      dockerfile: docker/Dockerfile').replace('      version: "0.8.5"\n', ''), /engine\.dockerfile "docker\/Dockerfile" does not exist/],
  ])('rejects %s before any AWS call', async (_what, spec, message) => {
    server = await startLoopback(() => undefined);
    const run = await runBundle('build-model', { inputs, workspace: workspace(spec), awsEndpoint: server.url });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(message);
    expect(server.requests).toHaveLength(0);
  });
});

describe('build-model bundle: a prebuilt image with model files in S3 (issue 16.1, 16.3)', () => {
  const PREBUILT = SPEC.replace(
    '      huggingface:\n        id: Qwen/Qwen2.5-7B-Instruct\n        revision: a09a35458c702b33eeacc393d103063234e8bc28\n        tokenSecretArn: arn:aws:secretsmanager:us-east-1:111111111111:secret:hf-AbCdEf\n',
    '      image: 763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.31.0-lmi13.0.0-cu124\n      s3: s3://acme-models/llama/model.tar.gz\n',
  ).replace('    engine:\n      name: vllm\n      version: "0.8.5"\n', '').replace('regions: [us-east-1]', 'regions: [us-east-1, eu-west-1]');

  function s3Fake(req: RecordedRequest): Reply | undefined {
    if (req.operation === 'GetCallerIdentity') return aws({ imageExists: true })(req);
    // Path-style: the SDK writes a bucket as /bucket/ (and /bucket/?location).
    const at = req.path.replace(/\/(?=\?|$)/, '');
    // GetBucketLocation: the source bucket is in us-east-1 (an empty constraint).
    if (req.method === 'GET' && at.startsWith('/acme-models?location')) return { status: 200, headers: { 'content-type': 'application/xml' }, body: '<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></LocationConstraint>' };
    if (req.method === 'HEAD' && at === '/acme-models/llama/model.tar.gz') return { status: 200, headers: { 'content-length': '1234', etag: '"abc"' }, body: '' };
    if (req.method === 'HEAD' && at === '/model-deploy-111111111111-eu-west-1') return { status: 200, body: '' };
    if (req.method === 'HEAD' && at === '/model-deploy-111111111111-eu-west-1/llama/model.tar.gz') return { status: 404, body: '' };
    if (req.method === 'PUT' && at.startsWith('/model-deploy-111111111111-eu-west-1/llama/model.tar.gz')) {
      return { status: 200, headers: { 'content-type': 'application/xml', 'x-amz-version-id': 'v1' }, body: '<CopyObjectResult><ETag>"abc"</ETag></CopyObjectResult>' };
    }
    return undefined;
  }

  it('builds nothing, copies the model into the other region and outputs each region\'s location', async () => {
    server = await startLoopback(s3Fake);
    const run = await runBundle('build-model', { inputs, workspace: workspace(PREBUILT), awsEndpoint: server.url });
    expect(run.stdout).not.toContain('::error');
    expect(run.code).toBe(0);
    const copy = server.requests.find((r) => r.method === 'PUT');
    expect(copy?.headers['x-amz-copy-source']).toBe('acme-models/llama/model.tar.gz');
    expect(server.requests.map((r) => r.operation)).not.toEqual(expect.arrayContaining(['StartBuild', 'DescribeStacks']));
    expect(JSON.parse(run.outputs.images ?? '{}')).toEqual({
      'us-east-1': { imageUri: '763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.31.0-lmi13.0.0-cu124', imageDigest: '', modelDataUrl: 's3://acme-models/llama/model.tar.gz' },
      'eu-west-1': { imageUri: '763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.31.0-lmi13.0.0-cu124', imageDigest: '', modelDataUrl: 's3://model-deploy-111111111111-eu-west-1/llama/model.tar.gz' },
    });
    expect(run.outputs['model-data-url']).toBe('s3://acme-models/llama/model.tar.gz');
  });
});
