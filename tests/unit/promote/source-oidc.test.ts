/**
 * Issue 12.2: a promote job runs as the TARGET's promotion role and reads the source with the source
 * account's read-only role, assumed with its own OIDC token (a loopback token endpoint stands in for the
 * runner's; STS is mocked at the SDK boundary). No sts:AssumeRole anywhere: the bootstrap's trust refuses it.
 */
import { AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { DeployError } from '../../../src/core/errors';
import { memoryReporter } from '../../../src/core/log';
import { promoteModel } from '../../../src/promote/promote';
import { planPromotion, PromoteModelRequest } from '../../../src/promote/plan';
import { FakeAws } from '../../support/fake-aws/ecr-s3-sts';
import { mockEcr, mockKms, mockS3, RUN, runContext, spec, target } from './harness';
import { weightsKey } from '../../../src/image/render';
import { startLoopback, Loopback } from '../../support/loopback';
import { useEnv } from '../../support/env';

const TOKEN = 'eyJ0eXAiOiJKV1QifQ.job-oidc-token.sig';
const SOURCE_ROLE = 'arn:aws:iam::111111111111:role/model-deploy-promotion-source-dev';

/** Into prod's us-east-1 (the `region` input). */
function request(over: Partial<PromoteModelRequest> = {}): PromoteModelRequest {
  return { sourceEnvironment: 'dev', tuning: { pollInitialDelayMs: 1, pollMaxDelayMs: 2 }, ...over };
}

/** The job's ambient identity is the target's promotion role; web identity gives the source read-only session. */
function mockTargetJobSts() {
  const m = mockClient(STSClient);
  m.on(GetCallerIdentityCommand).resolves({ Account: '333333333333', Arn: 'arn:aws:sts::333333333333:assumed-role/model-deploy-promotion/gh-42' });
  m.on(AssumeRoleWithWebIdentityCommand).resolves({
    Credentials: { AccessKeyId: 'ASIASOURCEREAD', SecretAccessKey: 'source-read-secret', SessionToken: 'source-read-session', Expiration: new Date(Date.now() + 3600_000) },
  });
  return m;
}

let fake: FakeAws;
let server: Loopback;
let oidc: Loopback;
let stdout: jest.SpyInstance;
const setEnvForTest = useEnv();
beforeEach(async () => {
  fake = new FakeAws();
  mockKms();
  server = await fake.serve();
  oidc = await startLoopback(() => ({ body: { value: TOKEN } }));
  setEnvForTest({ ACTIONS_ID_TOKEN_REQUEST_URL: `${oidc.url}/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runtime-token' });
  // The weights build-model left in the source's bucket.
  fake.putObject('model-deploy-111111111111-us-east-1', `acme/chat/models/${weightsKey(spec().deployment)}/model.safetensors`, 4096);
  fake.bucketOwners.set('model-deploy-111111111111-us-east-1', '111111111111');
  // The job's ambient credentials (what configure-aws-credentials exports): the target's promotion role.
  setEnvForTest({ AWS_ACCESS_KEY_ID: 'ASIATARGETJOB', AWS_SECRET_ACCESS_KEY: 'target-job-secret', AWS_SESSION_TOKEN: 'target-job-session' });
  stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterEach(async () => {
  stdout.mockRestore();
  await Promise.all([server.close(), oidc.close()]);
});

test('the source is read with the read-only role through OIDC, the target written with the job credentials', async () => {
  const digest = fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'v1', [Buffer.alloc(5000, 7)]);
  const s3calls: { op: string; input: Record<string, unknown>; accessKeyId?: string }[] = [];
  mockS3(fake, s3calls);
  const callers: string[] = [];
  mockEcr(fake, [], callers);
  const sts = mockTargetJobSts();
  const reporter = memoryReporter();
  const result = await promoteModel(target('prod', 'us-east-1'), request({ imageUri: `111111111111.dkr.ecr.us-east-1.amazonaws.com/acme/chat:v1` }), runContext(reporter));

  expect(result.targets[0]).toMatchObject({ image: 'copied', imageUri: `333333333333.dkr.ecr.us-east-1.amazonaws.com/acme/chat@${digest}` });
  expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  const [web] = sts.commandCalls(AssumeRoleWithWebIdentityCommand);
  expect(web?.args[0].input).toMatchObject({ RoleArn: SOURCE_ROLE, RoleSessionName: RUN.sessionName, WebIdentityToken: TOKEN });
  expect(new URL(oidc.requests[0]!.path, 'http://x').searchParams.get('audience')).toBe('sts.amazonaws.com');
  // Reads in the source as the read-only session; writes in the target as the job.
  const by = (key: string) => new Set(callers.filter((c) => c.endsWith(` ${key}`)).map((c) => c.split(' ')[0]));
  expect([...by('ASIASOURCEREAD')].sort()).toEqual(['BatchGetImage', 'GetDownloadUrlForLayer']);
  expect(by('ASIATARGETJOB')).toEqual(expect.objectContaining(new Set(['PutImage', 'CompleteLayerUpload'])));
  expect([...by('ASIATARGETJOB')].filter((op) => op === 'GetDownloadUrlForLayer')).toEqual([]);
  // The source listing is the read-only session's; the copy into the target is the job's.
  expect(s3calls.filter((c) => c.op === 'ListObjectsV2').map((c) => c.accessKeyId)).toEqual(['ASIASOURCEREAD']);
  // Across accounts the runner copies: the read-only session reads, the job writes (no server-side copy).
  // The source's weights by the read-only session; the target's manifest (is it current?) by the job.
  expect(s3calls.filter((c) => c.op === 'GetObject').map((c) => c.accessKeyId)).toEqual(['ASIASOURCEREAD', 'ASIATARGETJOB']);
  // The weights, then their manifest beside them.
  expect(s3calls.filter((c) => c.op === 'PutObject').map((c) => c.accessKeyId)).toEqual(['ASIATARGETJOB', 'ASIATARGETJOB']);
  expect(s3calls.filter((c) => c.op === 'CopyObject')).toEqual([]);
  expect(result.targets[0]?.modelDataVersions?.[0]?.versionId).toBeDefined();
  expect(reporter.captured.secrets).toEqual(expect.arrayContaining([TOKEN, 'source-read-secret', 'source-read-session']));
  expect(reporter.allText()).not.toContain(TOKEN);
  expect(reporter.allText()).toMatch(/Reading dev \(111111111111\) as arn:aws:iam::111111111111:role\/model-deploy-promotion-source-dev, with this job's OIDC token/);
});

test('the source-role-arn input replaces the default role', async () => {
  fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'v1', [Buffer.alloc(100, 1)]);
  mockS3(fake);
  mockEcr(fake);
  const sts = mockTargetJobSts();
  const role = 'arn:aws:iam::111111111111:role/custom-reader';
  await promoteModel(target('prod', 'us-east-1'), request({ imageUri: '111111111111.dkr.ecr.us-east-1.amazonaws.com/acme/chat:v1', sourceRoleArn: role }), runContext());
  expect(sts.commandCalls(AssumeRoleWithWebIdentityCommand)[0]?.args[0].input.RoleArn).toBe(role);
});

test('a source-role-arn outside the source account fails before any AWS call', () => {
  expect(() => planPromotion(target('prod', 'us-east-1'), request({ sourceRoleArn: 'arn:aws:iam::333333333333:role/model-deploy-promotion-source-dev' }))).toThrow(
    /input `source-role-arn` is "arn:aws:iam::333333333333:role\/model-deploy-promotion-source-dev", which is not a role in the source environment's account 111111111111/,
  );
});

test('a refused web identity names the trust conditions and copies nothing', async () => {
  fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'v1', [Buffer.alloc(100, 1)]);
  const calls: string[] = [];
  mockEcr(fake, calls);
  const sts = mockTargetJobSts();
  sts.on(AssumeRoleWithWebIdentityCommand).rejects(Object.assign(new Error('Not authorized to perform sts:AssumeRoleWithWebIdentity'), { name: 'AccessDenied' }));
  const err = (await promoteModel(target('prod', 'us-east-1'), request(), runContext()).catch((e) => e)) as DeployError;
  expect(err.describe()).toMatch(/token\.actions\.githubusercontent\.com:sub/);
  expect(err.describe()).toMatch(/PromotionEnvironments of the dev account's bootstrap stack/);
  expect(calls).toEqual([]);
});

test('in the target account without an OIDC token, the message says what to grant', async () => {
  delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const calls: string[] = [];
  mockEcr(fake, calls);
  mockTargetJobSts();
  const err = (await promoteModel(target('prod', 'us-east-1'), request(), runContext()).catch((e) => e)) as DeployError;
  expect(err.describe()).toMatch(/no GitHub OIDC token to read dev \(111111111111\)/);
  expect(err.describe()).toMatch(/id-token: write/);
  expect(calls).toEqual([]);
});

test('a local run with source-account credentials reads with them, says so, and assumes the target role', async () => {
  delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL;
  fake.pushImage('111111111111', 'us-east-1', 'acme/chat', 'v1', [Buffer.alloc(100, 1)]);
  mockS3(fake);
  mockEcr(fake);
  const sts = mockClient(STSClient);
  sts.on(GetCallerIdentityCommand).resolves({ Account: '111111111111', Arn: 'arn:aws:sts::111111111111:assumed-role/admin/me' });
  sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' }));
  const reporter = memoryReporter();
  const err = (await promoteModel(target('prod', 'us-east-1'), request(), runContext(reporter)).catch((e) => e)) as DeployError;
  expect(reporter.allText()).toMatch(/Reading dev with this session's credentials \(arn:aws:sts::111111111111:assumed-role\/admin\/me\): its account 111111111111 is the source's/);
  expect(err.describe()).toMatch(/trusts only the prod environment's GitHub jobs/);
  expect(sts.commandCalls(AssumeRoleWithWebIdentityCommand)).toHaveLength(0);
});
