/**
 * webIdentityRole: the job's OIDC token from the runner's token endpoint (a loopback server standing in
 * for ACTIONS_ID_TOKEN_REQUEST_URL), exchanged at STS (mocked at the SDK boundary); the token is masked.
 */
import { mockClient } from 'aws-sdk-client-mock';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DeployError } from '../../../src/core/errors';
import { memoryReporter } from '../../../src/core/log';
import { hasGitHubOidc, oidcAudience, webIdentityRole } from '../../../src/core/credentials';
import { startLoopback, Loopback } from '../../support/loopback';
import { useEnv } from '../../support/env';

const ROLE = 'arn:aws:iam::111111111111:role/model-deploy-promotion-source-dev';
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.oidc-token-payload.signature';

let oidc: Loopback;
const setEnvForTest = useEnv();
let stdout: jest.SpyInstance;
beforeEach(async () => {
  oidc = await startLoopback((req) => (req.headers.authorization === 'Bearer runtime-token' ? { body: { value: TOKEN } } : { status: 401, body: {} }));
  // GitHub's URL carries a query (api-version); @actions/core appends &audience=.
  setEnvForTest({ ACTIONS_ID_TOKEN_REQUEST_URL: `${oidc.url}/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runtime-token' });
  stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterEach(async () => {
  stdout.mockRestore();
  await oidc.close();
});

test('the audience follows the partition', () => {
  expect(oidcAudience('us-east-1')).toBe('sts.amazonaws.com');
  expect(oidcAudience('us-gov-west-1')).toBe('sts.amazonaws.com');
  expect(oidcAudience('cn-north-1')).toBe('sts.amazonaws.com.cn');
});

test('exchanges the job token for the role, masks the token and the keys, and caches the session', async () => {
  const sts = mockClient(STSClient);
  sts.on(AssumeRoleWithWebIdentityCommand).resolves({
    Credentials: { AccessKeyId: 'ASIASOURCE', SecretAccessKey: 'source-secret', SessionToken: 'source-session', Expiration: new Date(Date.now() + 3600_000) },
  });
  const reporter = memoryReporter();
  const provider = webIdentityRole({ roleArn: ROLE, region: 'cn-north-1', sessionName: 'promote-x', reporter });
  expect(await provider()).toMatchObject({ accessKeyId: 'ASIASOURCE', secretAccessKey: 'source-secret' });
  await provider();
  expect(sts.commandCalls(AssumeRoleWithWebIdentityCommand)).toHaveLength(1);
  expect(sts.commandCalls(AssumeRoleWithWebIdentityCommand)[0]!.args[0].input).toMatchObject({ RoleArn: ROLE, RoleSessionName: 'promote-x', WebIdentityToken: TOKEN });
  expect(oidc.requests).toHaveLength(1);
  expect(new URL(oidc.requests[0]!.path, 'http://x').searchParams.get('audience')).toBe('sts.amazonaws.com.cn');
  expect(reporter.captured.secrets).toEqual(expect.arrayContaining([TOKEN, 'source-secret', 'source-session']));
  expect(reporter.allText()).not.toContain(TOKEN);
  // @actions/core masks it for the runner as well.
  expect(stdout.mock.calls.map((c) => String(c[0])).join('')).toContain(`::add-mask::${TOKEN}`);
});

test('a refused token names the trust conditions to check', async () => {
  mockClient(STSClient)
    .on(AssumeRoleWithWebIdentityCommand)
    .rejects(Object.assign(new Error('Not authorized to perform sts:AssumeRoleWithWebIdentity'), { name: 'AccessDenied' }));
  const err = (await webIdentityRole({ roleArn: ROLE, region: 'us-east-1' })().catch((e) => e)) as DeployError;
  expect(err).toBeInstanceOf(DeployError);
  expect(err.describe()).toMatch(/Could not assume arn:aws:iam::111111111111:role\/model-deploy-promotion-source-dev with this job's OIDC token/);
  expect(err.describe()).toMatch(/token\.actions\.githubusercontent\.com:sub/);
  expect(err.describe()).toMatch(/audience sts\.amazonaws\.com \(:aud\)/);
  expect(err.describe()).not.toContain(TOKEN);
  // The core knows no domain's role names: what the role is for is the caller's to say.
  expect(err.describe()).not.toMatch(/PromotionEnvironments/);
});

test("a refused token carries the caller's hint after the trust conditions", async () => {
  mockClient(STSClient)
    .on(AssumeRoleWithWebIdentityCommand)
    .rejects(Object.assign(new Error('Not authorized to perform sts:AssumeRoleWithWebIdentity'), { name: 'InvalidIdentityToken' }));
  const err = (await webIdentityRole({ roleArn: ROLE, region: 'us-east-1', deniedHint: 'Ask the dev account.' })().catch((e) => e)) as DeployError;
  expect(err.describe()).toMatch(/\(:aud\)\. Ask the dev account\./);
});

test('without id-token: write there is no token, and the message says so before any STS call', async () => {
  delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL;
  expect(hasGitHubOidc()).toBe(false);
  const sts = mockClient(STSClient);
  const err = (await webIdentityRole({ roleArn: ROLE, region: 'us-east-1' })().catch((e) => e)) as DeployError;
  expect(err.describe()).toMatch(/id-token: write/);
  expect(sts.calls()).toHaveLength(0);
});

test('a token endpoint that refuses says so', async () => {
  process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = 'wrong';
  const sts = mockClient(STSClient);
  const err = (await webIdentityRole({ roleArn: ROLE, region: 'us-east-1' })().catch((e) => e)) as DeployError;
  expect(err.describe()).toMatch(/Could not get the job's OIDC token/);
  expect(sts.calls()).toHaveLength(0);
});
