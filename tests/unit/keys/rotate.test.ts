import { CloudFormationClient, DescribeStackResourcesCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import * as SM from '@aws-sdk/client-secrets-manager';
import { DescribeInstanceInformationCommand, ListCommandInvocationsCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import * as path from 'path';
import { DeployError } from '../../../src/core/errors';
import { memoryReporter } from '../../../src/core/log';
import { RotateRequest, RotateResult, rotateKeys, rotationToken } from '../../../src/keys/rotate';
import { EnvInputs } from '../../../src/core/env';
import { exampleTarget } from '../../support/target';
import { ensureApiKeySecret, keyPolicy } from '../../../src/keys/secret';
import { apiKeySecretName, ownershipTags } from '../../../src/config/names';
import { loadSpec } from '../../../src/config/load';
import type { Deployment } from '../../../src/config/types';
import { FakeSecrets, startEndpoint } from '../../support/fake-aws/secrets-manager';
import { stackAnswer } from '../../support/fake-aws/stack-answer';

const spec = loadSpec(path.resolve(__dirname, '../../../examples/model-deploy.yml'), { displayPath: 'examples/model-deploy.yml' });
const ecsDeployment: Deployment = spec.deployments['code-assistant'];
const ec2Deployment: Deployment = { ...ecsDeployment, target: 'ec2' };
const ENV = 'dev';
const SERVICE = 'arn:aws:ecs:us-east-1:111111111111:service/acme-cluster/code-assistant';

const smMock = mockClient(SM.SecretsManagerClient);
const cfnMock = mockClient(CloudFormationClient);
const ecsMock = mockClient(ECSClient);
const ssmMock = mockClient(SSMClient);
const stsMock = mockClient(STSClient);

let fake: FakeSecrets;
let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
let reporter: ReturnType<typeof memoryReporter>;

function wireSecrets() {
  const ops = ['DescribeSecret', 'ListSecretVersionIds', 'GetSecretValue', 'GetRandomPassword', 'CreateSecret', 'PutSecretValue', 'UpdateSecretVersionStage', 'GetResourcePolicy', 'PutResourcePolicy'] as const;
  for (const op of ops) {
     
    const Command = (SM as any)[`${op}Command`];
    smMock.on(Command).callsFake((input: unknown) => fake.handle(op, input));
  }
}

const REFRESH_DOC = 'acme-llm-code-assistant-dev-refresh-keys';

function wireStack(d: Deployment, url: string, extraOutputs: Record<string, string> = d.target === 'ec2' ? { RefreshKeysDocumentName: REFRESH_DOC } : {}) {
  cfnMock.on(DescribeStacksCommand).resolves(stackAnswer({ name: 'x', status: 'UPDATE_COMPLETE', outputs: { EndpointUrl: url, ...extraOutputs } }));
  cfnMock.on(DescribeStackResourcesCommand).resolves({
    StackResources:
      d.target === 'ecs'
        ? [{ LogicalResourceId: 'Service', ResourceType: 'AWS::ECS::Service', PhysicalResourceId: SERVICE, Timestamp: new Date(), ResourceStatus: 'UPDATE_COMPLETE' }]
        : [{ LogicalResourceId: 'Group', ResourceType: 'AWS::AutoScaling::AutoScalingGroup', PhysicalResourceId: 'asg', Timestamp: new Date(), ResourceStatus: 'UPDATE_COMPLETE' }],
  });
}

beforeEach(async () => {
  smMock.reset();
  cfnMock.reset();
  ecsMock.reset();
  ssmMock.reset();
  stsMock.reset();
  fake = new FakeSecrets();
  reporter = memoryReporter();
  endpoint = await startEndpoint(fake);
  wireSecrets();
  wireStack(ecsDeployment, endpoint.url);
  ecsMock.on(UpdateServiceCommand).callsFake(() => {
    fake.reload();
    return { service: { deployments: [{ id: `ecs-svc/${fake.reloads}`, status: 'PRIMARY' }] } };
  });
  ecsMock.on(DescribeServicesCommand).callsFake(() => ({
    services: [{ deployments: [{ id: `ecs-svc/${fake.reloads}`, status: 'PRIMARY', rolloutState: 'COMPLETED', runningCount: 1, desiredCount: 1 }] }],
  }));
  stsMock.on(GetCallerIdentityCommand).resolves({ Account: '111111111111', Arn: 'arn:aws:sts::111111111111:assumed-role/model-deploy-dev/gh-1' });
});
afterEach(async () => {
  await endpoint.close();
});

/** A deployed secret: one version with both serving labels, served by the endpoint. */
function deployedSecret(d = ecsDeployment, created = new Date(Date.now() - 48 * 3600_000)) {
  const v = fake.create(apiKeySecretName(d, ENV), ownershipTags(d, ENV), undefined, created);
  v.stages.push('MD_SERVE_A', 'MD_SERVE_B');
  fake.reload();
  fake.reloads = 0;
  return v;
}

/** One rotate-key run through its door, in us-east-1: GITHUB_RUN_ID `run` of acme/models (the run id is acme/models#run). */
async function rotate(extra: Partial<RotateRequest> & { deployment?: Deployment; run?: string } = {}): Promise<RotateResult> {
  const { deployment = ecsDeployment, run = '4242', ...request } = extra;
  const target = { ...exampleTarget('code-assistant', ENV), deployment, regions: ['us-east-1'] };
  const outcome = await rotateKeys(
    target,
    { mode: 'rotate', timeoutMinutes: 1, pollIntervalMs: 1, probe: { retries: 0, retryDelayMs: 1, rounds: 1 }, ...request },
    { reporter, env: new EnvInputs({ GITHUB_REPOSITORY: 'acme/models', GITHUB_RUN_ID: run }) },
  );
  if (!('results' in outcome) || !outcome.results[0]) throw new Error(`nothing rotated: ${JSON.stringify(outcome)}`);
  return outcome.results[0];
}

/** Moves every version's stored times (creation, and the previous key's expiry) `hours` into the past. */
function backdate(hours: number) {
  const shift = (iso?: string) => (iso ? new Date(Date.parse(iso) - hours * 3600_000).toISOString() : undefined);
  for (const v of fake.versions) {
    const value = JSON.parse(v.value);
    v.value = JSON.stringify({ ...value, createdAt: new Date(Date.now() - hours * 3600_000).toISOString(), previousExpiresAt: shift(value.previousExpiresAt) });
  }
}

function noKeyPrinted() {
  const text = reporter.allText();
  for (const key of fake.keys) expect(text).not.toContain(key);
}

describe('rotateKeys', () => {
  test('full protocol on ECS: pending accepted next to current, wrong key refused, then AWSCURRENT moves', async () => {
    const old = deployedSecret();
    const oldKey = fake.keyOf('AWSCURRENT')!;
    const r = await rotate();
    const token = rotationToken(fake.arn, 'acme/models#4242');
    expect(r).toMatchObject({ rotated: true, created: false, versionId: token, secretArn: fake.arn });
    expect(fake.label('AWSCURRENT')!.id).toBe(token);
    expect(fake.label('AWSPREVIOUS')!.id).toBe(old.id);
    expect(fake.label('AWSPENDING')).toBeUndefined();
    // Grace: the old key is still served (A), the new one too (B).
    expect(fake.label('MD_SERVE_A')!.id).toBe(old.id);
    expect(fake.label('MD_SERVE_B')!.id).toBe(token);
    expect(fake.served).toEqual([oldKey, fake.keyOf('AWSCURRENT')]);
    expect(endpoint.answered).toEqual([200, 200, 401]);
    const put = smMock.commandCalls(SM.PutSecretValueCommand)[0].args[0].input;
    expect(put).toMatchObject({ ClientRequestToken: token, VersionStages: ['AWSPENDING'] });
    // The key is masked before anything is printed.
    expect(reporter.captured.secrets).toEqual(expect.arrayContaining(fake.keys));
    noKeyPrinted();
  });

  test('a re-run of the same run is harmless', async () => {
    deployedSecret();
    await rotate();
    const calls = fake.calls.length;
    const r = await rotate();
    expect(r.rotated).toBe(true);
    expect(fake.calls.slice(calls)).not.toContain('PutSecretValue');
    expect(fake.calls.slice(calls)).not.toContain('UpdateSecretVersionStage');
  });

  test('the next rotation after the grace period retires the previous key', async () => {
    const first = deployedSecret();
    await rotate({ run: 'run-1' });
    const firstKey = JSON.parse(first.value).apiKey as string;
    // Pretend the rotation happened two days ago.
    backdate(48);
    await rotate({ run: 'run-2' });
    expect(fake.served).not.toContain(firstKey);
    expect(fake.served).toHaveLength(2);
    expect(fake.label('MD_SERVE_A')!.id).toBe(fake.label('AWSPREVIOUS')!.id);
  });

  test('a rotation inside the grace period is refused before any change', async () => {
    deployedSecret();
    await rotate({ run: 'run-1' });
    const calls = fake.calls.length;
    const err = await rotate({ run: 'run-2' }).catch((e) => e);
    expect(err).toBeInstanceOf(DeployError);
    expect(err.message).toMatch(/still works until .*grace period 24 h/);
    expect(err.hint).toMatch(/grace-period-hours: 0/);
    expect(fake.calls.slice(calls).filter((c) => /Put|Update/.test(c))).toEqual([]);
  });

  test('the grace period of the rotation is stored with the key and a refresh retires the previous key when it is due (issue 12.7)', async () => {
    const first = deployedSecret();
    const r = await rotate({ gracePeriodHours: 2 });
    const stored = JSON.parse(fake.versions.find((v) => v.id === r.versionId)!.value);
    expect(Date.parse(stored.previousExpiresAt) - Date.parse(stored.createdAt)).toBe(2 * 3600_000);
    // An hourly refresh job with the spec's default grace (24 h): one hour early, nothing; three hours later, retired.
    const early = await rotate({ mode: 'refresh', run: 'refresh-1', now: () => new Date(Date.now() + 1 * 3600_000) });
    expect(early.previousRetired).toBe(false);
    expect(fake.served).toContain(JSON.parse(first.value).apiKey);
    const due = await rotate({ mode: 'refresh', run: 'refresh-2', now: () => new Date(Date.now() + 3 * 3600_000) });
    expect(due.previousRetired).toBe(true);
    expect(fake.served).not.toContain(JSON.parse(first.value).apiKey);
  });

  test('an explicit shorter grace period still ends a stored one early (after a leak)', async () => {
    const first = deployedSecret();
    await rotate({ gracePeriodHours: 48 });
    const r = await rotate({ mode: 'refresh', gracePeriodHours: 0, run: 'refresh-1' });
    expect(r.previousRetired).toBe(true);
    expect(fake.served).not.toContain(JSON.parse(first.value).apiKey);
  });

  test('grace period 0 retires the previous key at once and proves it is refused', async () => {
    const old = deployedSecret();
    const r = await rotate({ gracePeriodHours: 0 });
    expect(r.previousRetired).toBe(true);
    expect(fake.served).toEqual([fake.keyOf('AWSCURRENT'), fake.keyOf('AWSCURRENT')]);
    expect(fake.served).not.toContain(JSON.parse(old.value).apiKey);
    expect(endpoint.answered).toEqual([200, 200, 401, 200, 401]);
  });

  test('failure in testSecret rolls back: AWSPENDING removed, MD_SERVE_B back, the current key keeps working', async () => {
    const old = deployedSecret();
    const oldKey = fake.keyOf('AWSCURRENT')!;
    await endpoint.close();
    endpoint = await startEndpoint(fake, { status: () => 404 });
    wireStack(ecsDeployment, endpoint.url);
    const err = await rotate().catch((e) => e);
    expect(err).toBeInstanceOf(DeployError);
    expect(err.message).toMatch(/failed at step testSecret: .*answered 404/);
    expect(err.hint).toMatch(/Rolled back/);
    expect(fake.label('AWSPENDING')).toBeUndefined();
    expect(fake.label('AWSCURRENT')!.id).toBe(old.id);
    expect(fake.label('MD_SERVE_B')!.id).toBe(old.id);
    expect(fake.served).toEqual([oldKey, oldKey]);
    expect(fake.reloads).toBe(2);
    noKeyPrinted();
  });

  test('failure in setSecret (ECS deployment fails) rolls back and names the step', async () => {
    const old = deployedSecret();
    ecsMock.on(DescribeServicesCommand).resolvesOnce({
      services: [{ deployments: [{ id: 'ecs-svc/1', status: 'PRIMARY', rolloutState: 'FAILED', rolloutStateReason: 'tasks failed to start' }] }],
    });
    const err = await rotate().catch((e) => e);
    expect(err.message).toMatch(/failed at step setSecret: .*tasks failed to start/);
    expect(fake.label('AWSPENDING')).toBeUndefined();
    expect(fake.label('MD_SERVE_B')!.id).toBe(old.id);
    expect(fake.served).toEqual([fake.keyOf('AWSCURRENT'), fake.keyOf('AWSCURRENT')]);
  });

  test('a re-run of a run whose rotation was rolled back rotates (issue 13.6)', async () => {
    const old = deployedSecret();
    await endpoint.close();
    endpoint = await startEndpoint(fake, { status: () => 404 });
    wireStack(ecsDeployment, endpoint.url);
    const failed = await rotate().catch((e) => e);
    expect(failed.hint).toMatch(/Rolled back/);
    // The engine is fixed; the job is re-run (same GITHUB_RUN_ID).
    await endpoint.close();
    endpoint = await startEndpoint(fake);
    wireStack(ecsDeployment, endpoint.url);
    const r = await rotate();
    expect(r.rotated).toBe(true);
    expect(r.versionId).not.toBe(old.id);
    expect(r.versionId).not.toBe(rotationToken(fake.arn, 'acme/models#4242'));
    expect(fake.label('AWSCURRENT')!.id).toBe(r.versionId);
    expect(fake.label('AWSPREVIOUS')!.id).toBe(old.id);
    // And a re-run of that re-run is harmless.
    const again = await rotate();
    expect(again).toMatchObject({ rotated: true, versionId: r.versionId });
  });

  test('a secret without our tags is refused before any change', async () => {
    fake.create(apiKeySecretName(ecsDeployment, ENV), { 'model-deploy:project': 'other' });
    const err = await rotate().catch((e) => e);
    expect(err.title).toBe('Secret not ours');
    expect(err.message).toMatch(/model-deploy:deployment is missing/);
    expect(fake.calls.filter((c) => /Put|Update|Random/.test(c))).toEqual([]);
  });

  test('a recent rotation pending from another token is refused; a stale one is finished', async () => {
    deployedSecret();
    fake.addVersion('other-run-token-0000000000000000000000', 'P'.repeat(48), ['AWSPENDING']);
    const err = await rotate().catch((e) => e);
    expect(err.title).toBe('Rotation already pending');
    expect(fake.calls.filter((c) => /Put|Update|Random/.test(c))).toEqual([]);

    fake.versions.at(-1)!.created = new Date(Date.now() - 3 * 3600_000);
    const r = await rotate();
    expect(r).toMatchObject({ rotated: true, versionId: 'other-run-token-0000000000000000000000' });
    expect(fake.keyOf('AWSCURRENT')).toBe('P'.repeat(48));
    expect(fake.label('AWSPENDING')).toBeUndefined();
  });

  test('an interrupted finishSecret (AWSPENDING left on the current version) is cleaned up', async () => {
    const old = deployedSecret();
    old.stages.push('AWSPENDING');
    const r = await rotate({ mode: 'refresh' });
    expect(fake.label('AWSPENDING')).toBeUndefined();
    expect(r.rotated).toBe(false);
  });

  test('refresh-only retires an expired previous key on EC2 through SSM', async () => {
    wireStack(ec2Deployment, endpoint.url);
    const first = deployedSecret(ec2Deployment);
    ssmMock.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: 'i-1', PingStatus: 'Online' }] });
    ssmMock.on(SendCommandCommand).callsFake(() => {
      fake.reload();
      return { Command: { CommandId: `cmd-${fake.reloads}` } };
    });
    ssmMock.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [{ InstanceId: 'i-1', Status: 'Success' }] });
    await rotate({ deployment: ec2Deployment, run: 'run-1' });
    backdate(25);
    const r = await rotate({ deployment: ec2Deployment, mode: 'refresh', run: 'run-2' });
    expect(r.previousRetired).toBe(true);
    expect(fake.served).not.toContain(JSON.parse(first.value).apiKey);
    expect(ssmMock.commandCalls(SendCommandCommand)[0].args[0].input).toMatchObject({
      InstanceIds: ['i-1'],
      // The stack's own document: the instance role runs one fixed script, no shell from the caller.
      DocumentName: REFRESH_DOC,
    });
    expect(ssmMock.commandCalls(SendCommandCommand)[0].args[0].input.Parameters).toBeUndefined();
    expect(ssmMock.commandCalls(DescribeInstanceInformationCommand)[0].args[0].input.Filters).toEqual([
      { Key: 'tag:aws:cloudformation:stack-name', Values: ['acme-llm-code-assistant-dev'] },
    ]);
    // The last probe proved the retired key is refused.
    expect(endpoint.answered.slice(-3)).toEqual([200, 401, 401]);
    noKeyPrinted();
  });

  test('an ec2 stack without the refresh document output is refused before the key changes', async () => {
    wireStack(ec2Deployment, endpoint.url, {});
    deployedSecret(ec2Deployment);
    const err = await rotate({ deployment: ec2Deployment, run: 'run-1' }).catch((e) => e);
    expect(err.message).toMatch(/RefreshKeysDocumentName/);
    expect(fake.calls.filter((c) => /Put|Update|Random/.test(c))).toEqual([]);
    expect(ssmMock.commandCalls(SendCommandCommand)).toEqual([]);
  });

  test('a missing secret is created with both labels, tags, KMS key and a deny policy', async () => {
    const d = { ...ecsDeployment, apiKey: { ...ecsDeployment.apiKey, kmsKeyId: 'alias/keys', readers: ['arn:aws:iam::222222222222:role/reader'] } };
    const r = await ensureApiKeySecret({ deployment: d, secretName: apiKeySecretName(d, ENV), environmentName: ENV, region: 'us-east-1', reporter });
    expect(r).toEqual({ secretArn: fake.arn, created: true });
    const create = smMock.commandCalls(SM.CreateSecretCommand)[0].args[0].input;
    expect(create).toMatchObject({ Name: 'acme-llm/code-assistant/dev/api-key', KmsKeyId: 'alias/keys' });
    expect(create.Tags).toEqual(expect.arrayContaining([{ Key: 'model-deploy:deployment', Value: 'code-assistant' }, { Key: 'model-deploy:environment', Value: 'dev' }]));
    expect(smMock.commandCalls(SM.GetRandomPasswordCommand)[0].args[0].input).toMatchObject({ PasswordLength: 48, ExcludePunctuation: true });
    expect(fake.label('MD_SERVE_A')!.id).toBe(fake.label('AWSCURRENT')!.id);
    expect(fake.label('MD_SERVE_B')!.id).toBe(fake.label('AWSCURRENT')!.id);
    expect(JSON.parse(fake.policy!)).toEqual(
      keyPolicy({
        deploymentName: 'code-assistant',
        account: '111111111111',
        callers: ['arn:aws:iam::111111111111:role/model-deploy-dev', 'arn:aws:iam::111111111111:role/*/model-deploy-dev'],
        readers: ['arn:aws:iam::222222222222:role/reader'],
      }),
    );
    // Running again changes nothing.
    const again = await ensureApiKeySecret({ deployment: d, secretName: apiKeySecretName(d, ENV), environmentName: ENV, region: 'us-east-1', reporter });
    expect(again.created).toBe(false);
    expect(smMock.commandCalls(SM.PutResourcePolicyCommand)).toHaveLength(1);
    noKeyPrinted();
  });
});

describe("rotate-key sends the keys only to the stack's own https endpoint (issue 20, Low)", () => {
  let rogue: Awaited<ReturnType<typeof startEndpoint>>;
  beforeEach(async () => {
    // A listener that is not the stack's endpoint: it would accept the keys, and must never see them.
    rogue = await startEndpoint(fake);
  });
  afterEach(() => rogue.close());
  const port = (url: string) => new URL(url).port;
  const nothingChanged = () => {
    expect(fake.calls.filter((c) => /Put|Update|Random/.test(c))).toEqual([]);
    expect(ecsMock.commandCalls(UpdateServiceCommand)).toEqual([]);
    expect(endpoint.answered).toEqual([]);
    expect(rogue.answered).toEqual([]);
  };

  test.each([
    ['plain http to the stack host', () => `http://127.0.0.1:${port(endpoint.url)}`, /endpoint-url.*must be https/],
    ['another host', () => `https://localhost:${port(rogue.url)}`, /endpoint-url.*host localhost.*127\.0\.0\.1/],
    ['the stack host on another port', () => `https://127.0.0.1:${port(rogue.url)}`, /endpoint-url.*port/],
    ['credentials in the URL', () => `https://user:pw@127.0.0.1:${port(endpoint.url)}`, /endpoint-url.*user name or password/],
    ['a query string', () => `https://127.0.0.1:${port(endpoint.url)}/?to=elsewhere`, /endpoint-url.*query/],
    ['not a URL', () => 'endpoint.example.com', /endpoint-url.*not a URL/],
  ])('endpoint-url with %s is refused before anything changes, and no key is sent', async (_what, url, message) => {
    deployedSecret();
    const err = await rotate({ endpointUrl: url() }).catch((e) => e);
    expect(err).toBeInstanceOf(DeployError);
    expect(err.message).toMatch(message);
    nothingChanged();
  });

  test("a stack whose URL output is plain http is refused: the keys would cross the network in clear", async () => {
    wireStack(ecsDeployment, `http://127.0.0.1:${port(endpoint.url)}`);
    deployedSecret();
    const err = await rotate().catch((e) => e);
    expect(err).toBeInstanceOf(DeployError);
    expect(err.message).toMatch(/URL output of stack .*must be https/);
    nothingChanged();
  });

  test("endpoint-url naming the stack's own origin (here with a trailing slash) is used", async () => {
    deployedSecret();
    const own = new URL(endpoint.url);
    const r = await rotate({ endpointUrl: `${own.protocol}//${own.host}/` });
    expect(r.rotated).toBe(true);
    expect(endpoint.answered).toEqual([200, 200, 401]);
    expect(rogue.answered).toEqual([]);
  });
});

// Emulator finding (#23.0): a cancelled deploy's rollback runs on after its job ends; rotating then would
// force service redeploys into a stack CloudFormation is still changing. deploy and destroy refuse that.
describe('rotate-key refuses a busy stack, as deploy and destroy do', () => {
  test.each(['UPDATE_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS', 'CREATE_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS'])('%s: nothing changes', async (status) => {
    deployedSecret();
    const before = JSON.stringify(fake.versions);
    cfnMock.on(DescribeStacksCommand).resolves(stackAnswer({ name: 'acme-llm-code-assistant-dev', status, outputs: { EndpointUrl: endpoint.url } }));
    const err = await rotate().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeployError);
    expect(String((err as DeployError).message)).toContain(`is ${status}`);
    expect((err as DeployError).hint).toMatch(/Wait for it to finish/);
    expect(ecsMock.commandCalls(UpdateServiceCommand)).toHaveLength(0);
    expect(smMock.commandCalls(SM.PutSecretValueCommand)).toHaveLength(0);
    expect(smMock.commandCalls(SM.UpdateSecretVersionStageCommand)).toHaveLength(0);
    expect(JSON.stringify(fake.versions)).toBe(before);
  });
});
