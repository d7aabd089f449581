/**
 * `model-deploy status` and `model-deploy destroy` from the built CLI against the fake AWS of
 * tests/support/fake-aws/world.ts: a deployment standing in dev (account 111111111111), prod in another
 * account than the credentials'. Status reads the stack, the SageMaker endpoint, the image the stack pins
 * and the last deploy; destroy previews, refuses without --yes where there is no terminal, then deletes.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli } from '../support/cli';
import { World } from '../support/fake-aws/world';

const DEV = '111111111111';
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const UPDATED = new Date('2026-11-30T10:20:30Z');
const SPEC = `version: 1
project: acme-llm
environments:
  dev: { account: "${DEV}" }
  prod: { account: "333333333333" }
deployments:
  qwen-chat:
    model:
      huggingface: { id: Qwen/Qwen2.5-7B-Instruct, revision: a09a35458c702b33eeacc393d103063234e8bc28 }
    engine: { name: vllm }
    target: sagemaker-realtime
    instanceType: ml.g5.2xlarge
    regions: [us-east-1]
`;
const STACK = 'acme-llm-qwen-chat-dev';
const URL = `https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/${STACK}/invocations`;

const world = new World();
let env: Record<string, string>;
let cwd: string;

/** The stack a deploy of qwen-chat to dev leaves (resources, outputs, the ImageUri parameter). */
function standingStack(): void {
  const resources = [
    { logical: 'Model', type: 'AWS::SageMaker::Model', physical: 'acme-llm-qwen-chat-dev-model', properties: {} },
    { logical: 'EndpointConfig', type: 'AWS::SageMaker::EndpointConfig', physical: 'acme-llm-qwen-chat-dev-config', properties: {} },
    { logical: 'Endpoint', type: 'AWS::SageMaker::Endpoint', physical: STACK, properties: {} },
  ];
  world.stacks.push({
    account: DEV, region: 'us-east-1', name: STACK, id: `arn:aws:cloudformation:us-east-1:${DEV}:stack/${STACK}/0a1b2c3d4e5f`, status: 'UPDATE_COMPLETE',
    templateBody: JSON.stringify({ Resources: Object.fromEntries(resources.map((r) => [r.logical, { Type: r.type }])) }),
    parameters: { ImageUri: `${DEV}.dkr.ecr.us-east-1.amazonaws.com/acme-llm/qwen-chat@${DIGEST}` },
    outputs: { EndpointName: STACK, EndpointUrl: URL },
    resources, events: [], changeSets: [], protection: false, created: UPDATED,
  });
}

beforeAll(async () => {
  await world.start();
  env = { ...world.credentialsFor(DEV), AWS_ENDPOINT_URL: world.server.url, AWS_REGION: 'us-east-1' };
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'md-cli-status-'));
  fs.writeFileSync(path.join(cwd, 'model-deploy.yml'), SPEC);
  standingStack();
});

afterAll(async () => {
  await world.server.close();
  fs.rmSync(cwd, { recursive: true, force: true });
});

const mutations = () => world.server.requests.map((r) => r.operation).filter((op) => /^(Delete|Create|Update|Execute|Put)/.test(op));

describe('dist/cli status', () => {
  it('shows, per environment and region, the stack, the endpoint state, the image digest, the last deploy and the URL', async () => {
    const r = await runCli(['status'], env, cwd);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^DEPLOYMENT +ENVIRONMENT +REGION +STACK +ENDPOINT +IMAGE +LAST DEPLOY +URL$/);
    const dev = lines.find((l) => /qwen-chat +dev /.test(l));
    expect(dev).toMatch(new RegExp(`qwen-chat +dev +us-east-1 +UPDATE_COMPLETE +InService +${DIGEST.slice(0, 19)} +2026-11-30T10:20:30Z +${URL.replace(/\./g, '\\.')}`));
    // prod is another account: said, not reported as "not deployed".
    expect(lines.find((l) => /qwen-chat +prod /.test(l))).toContain('skipped: account 333333333333, credentials are 111111111111');
    expect(mutations()).toEqual([]);
  });

  it('--json gives the same rows as data', async () => {
    const r = await runCli(['status', '--environment', 'dev', '--json'], env, cwd);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(rows).toEqual([{ deployment: 'qwen-chat', environment: 'dev', region: 'us-east-1', stackName: STACK, stackStatus: 'UPDATE_COMPLETE', endpointState: 'InService', url: URL, imageDigest: DIGEST, lastDeployed: UPDATED.toISOString() }]);
  });
});

describe('dist/cli status --wait', () => {
  const stack = () => world.stacks.find((s) => s.name === STACK && s.status !== 'DELETE_COMPLETE')!;
  const event = (status: string, reason?: string) => ({ id: `ev-wait-${status}`, logical: STACK, physical: stack().id, type: 'AWS::CloudFormation::Stack', status, token: 'op-7', reason, time: new Date() });

  /** The stack is mid-update; once the CLI has read its events twice, the update rolls back. */
  async function rollBackWhileWatched(): Promise<void> {
    const seen = () => world.server.requests.filter((r) => r.operation === 'DescribeStackEvents').length;
    const before = seen();
    while (seen() < before + 2) await new Promise((r) => setTimeout(r, 50));
    stack().events.unshift(event('UPDATE_ROLLBACK_IN_PROGRESS', 'Resource Endpoint failed: ping health check'));
    stack().events.unshift(event('UPDATE_ROLLBACK_COMPLETE'));
    stack().status = 'UPDATE_ROLLBACK_COMPLETE';
  }

  afterEach(() => {
    stack().status = 'UPDATE_COMPLETE';
    stack().events = [];
  });

  it('follows an update in progress to its end and exits 1 when it rolled back', async () => {
    stack().status = 'UPDATE_IN_PROGRESS';
    stack().events = [event('UPDATE_IN_PROGRESS')];
    const [r] = await Promise.all([runCli(['status', '--environment', 'dev', '--wait', '5'], env, cwd), rollBackWhileWatched()]);
    expect(r.out).toContain('ping health check');
    expect(r.stdout).toMatch(/qwen-chat +dev +us-east-1 +UPDATE_ROLLBACK_COMPLETE \(waited \d+s\)/);
    expect(r.out).toContain(`${STACK} (us-east-1) ended UPDATE_ROLLBACK_COMPLETE`);
    expect(r.code).toBe(1);
    expect(mutations()).toEqual([]);
  });

  it('refuses a wait that is not whole minutes, before any AWS call', async () => {
    const calls = world.server.requests.length;
    const r = await runCli(['status', '--wait', '0'], env, cwd);
    expect(r.code).toBe(2);
    expect(r.out).toContain('--wait is "0", which is not valid');
    expect(r.out).toContain('whole minutes from 1 to 720');
    expect(world.server.requests.length).toBe(calls);
  });
});

describe('dist/cli destroy', () => {
  it('refuses another account\'s environment before reading or deleting anything', async () => {
    const r = await runCli(['destroy', '--environment', 'prod', '--yes'], env, cwd);
    expect(r.code).toBe(2);
    expect(r.out).toContain('333333333333');
    expect(mutations()).toEqual([]);
  });

  it('refuses a region the deployment does not use, naming its regions', async () => {
    const r = await runCli(['destroy', '--environment', 'dev', '--region', 'eu-west-3', '--yes'], env, cwd);
    expect(r.code).toBe(2);
    expect(r.out).toContain('"eu-west-3", which deployment qwen-chat does not use in dev');
    expect(r.out).toContain('Its regions: us-east-1.');
    expect(mutations()).toEqual([]);
  });

  it('without --yes and no terminal: previews what it would delete and keep, deletes nothing', async () => {
    const r = await runCli(['destroy', '--environment', 'dev'], env, cwd);
    expect(r.code).toBe(2);
    expect(r.out).toContain(`### Destroy \`${STACK}\` would (us-east-1)`);
    expect(r.out).toMatch(/\*\*Delete\*\* \(3\):/);
    expect(r.out).toContain(`Endpoint (AWS::SageMaker::Endpoint: ${STACK})`);
    expect(r.out).toContain('images in the ECR repository acme-llm/qwen-chat');
    expect(r.out).toContain('pass --yes to delete what is listed above');
    expect(mutations()).toEqual([]);
    expect(world.stacks.find((s) => s.name === STACK)?.status).toBe('UPDATE_COMPLETE');
  });

  it('with --yes deletes the stack and says what went and what stayed; status then says NOT_DEPLOYED', async () => {
    const r = await runCli(['destroy', '--environment', 'dev', '--yes'], env, cwd);
    expect(r.out).toContain(`### Destroyed \`${STACK}\` (us-east-1)`);
    expect(r.code).toBe(0);
    expect(mutations()).toEqual(['DeleteStack']);
    expect(world.stacks.find((s) => s.name === STACK)?.status).toBe('DELETE_COMPLETE');
    const status = await runCli(['status', '--environment', 'dev', '--json'], env, cwd);
    expect((JSON.parse(status.stdout) as { stackStatus: string }[])[0]?.stackStatus).toBe('NOT_DEPLOYED');
  });
});
