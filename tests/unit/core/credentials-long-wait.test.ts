/**
 * credentialsForWait (#23.4): under GitHub OIDC with the environment's role, a session of our own that is
 * renewed; otherwise a warning at the start when the job's static session can end before the longest wait.
 */
import { mockClient } from 'aws-sdk-client-mock';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { EnvInputs } from '../../../src/core/env';
import { memoryReporter } from '../../../src/core/log';
import { credentialsForWait } from '../../../src/core/wait-credentials';
import { startLoopback } from '../../support/loopback';
import { setEnv } from '../../support/env';

const ROLE = 'arn:aws:iam::111111111111:role/model-deploy-dev';
const NOW = Date.UTC(2026, 0, 1, 12);
const STATIC = { AWS_ACCESS_KEY_ID: 'ASIAJOB', AWS_SECRET_ACCESS_KEY: 'job-secret', AWS_SESSION_TOKEN: 'job-session' };

async function warnings(env: Record<string, string>, waitMinutes: number, roleArn?: string) {
  const reporter = memoryReporter();
  const credentials = await credentialsForWait({ region: 'us-east-1', roleArn, waitMinutes, reporter, env: new EnvInputs(env), now: () => NOW });
  return { credentials, warnings: reporter.captured.annotations.filter((a) => a.level === 'warning'), reporter };
}

test('a session that expires before the wait ends is warned about, with the duration to ask for', async () => {
  const out = await warnings({ ...STATIC, AWS_CREDENTIAL_EXPIRATION: new Date(NOW + 60 * 60000).toISOString() }, 180);
  expect(out.credentials).toBeUndefined();
  expect(out.warnings).toHaveLength(1);
  const w = out.warnings[0]!;
  expect(w.title).toBe('AWS session may end before the wait');
  expect(w.message).toMatch(/expires at 2026-01-01T13:00:00.000Z, about 55 minutes from now, and the deploy may wait up to 180 minutes \(timeout-minutes\)/);
  // 180 minutes and 10 of checks, rounded up to a quarter-hour.
  expect(w.message).toMatch(/role-duration-seconds: 11700 in configure-aws-credentials/);
  expect(w.message).toMatch(/--max-session-duration 11700; 12 hours at most/);
  expect(w.message).toMatch(/id-token: write/);
  expect(out.reporter.allText()).not.toMatch(/job-secret|job-session/);
});

test('a session long enough, long-term keys, and no keys at all are not warned about', async () => {
  expect((await warnings({ ...STATIC, AWS_CREDENTIAL_EXPIRATION: new Date(NOW + 4 * 3600_000).toISOString() }, 180)).warnings).toEqual([]);
  expect((await warnings({ AWS_ACCESS_KEY_ID: 'AKIAUSER', AWS_SECRET_ACCESS_KEY: 'user-secret' }, 720)).warnings).toEqual([]);
  expect((await warnings({}, 720)).warnings).toEqual([]);
});

test('a session of unknown expiry is warned about only when the wait is longer than the default hour', async () => {
  expect((await warnings(STATIC, 60)).warnings).toEqual([]);
  const [w] = (await warnings(STATIC, 120)).warnings;
  expect(w?.message).toMatch(/no known expiry: configure-aws-credentials gives one hour unless role-duration-seconds says more, and the deploy may wait up to 120 minutes/);
  expect(w?.message).toMatch(/role-duration-seconds: 8100/);
});

test('the role capped at 12 hours: the advice never asks for more', async () => {
  const [w] = (await warnings({ ...STATIC, AWS_CREDENTIAL_EXPIRATION: new Date(NOW + 3600_000).toISOString() }, 720)).warnings;
  expect(w?.message).toMatch(/role-duration-seconds: 43200 /);
});

describe('under GitHub OIDC', () => {
  const OIDC = { ACTIONS_ID_TOKEN_REQUEST_URL: 'http://127.0.0.1:1/token', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runtime-token' };

  test('without the environment role nothing is assumed: the static check applies', async () => {
    const sts = mockClient(STSClient);
    const out = await warnings({ ...STATIC, ...OIDC }, 120);
    expect(out.credentials).toBeUndefined();
    expect(out.warnings[0]?.title).toBe('AWS session may end before the wait');
    expect(sts.calls()).toHaveLength(0);
  });

  test("a role the job's token cannot take: the job's own credentials, with a warning that they are not renewed", async () => {
    const oidc = await startLoopback(() => ({ body: { value: 'eyJ.job-token.sig' } }));
    const env = { ...OIDC, ACTIONS_ID_TOKEN_REQUEST_URL: `${oidc.url}/token?api-version=2.0` };
    const restoreEnv = setEnv(env); // @actions/core reads the token request variables from process.env
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const sts = mockClient(STSClient);
    sts.on(AssumeRoleWithWebIdentityCommand).rejects(Object.assign(new Error('Not authorized to perform sts:AssumeRoleWithWebIdentity'), { name: 'AccessDenied' }));
    try {
      const out = await warnings({ ...STATIC, ...env }, 120, ROLE);
      expect(out.credentials).toBeUndefined();
      expect(sts.commandCalls(AssumeRoleWithWebIdentityCommand)[0]!.args[0].input).toMatchObject({ RoleArn: ROLE, WebIdentityToken: 'eyJ.job-token.sig', DurationSeconds: 3600 });
      expect(out.warnings.map((w) => w.title)).toEqual(['AWS credentials not renewable', 'AWS session may end before the wait']);
      expect(out.warnings[0]!.message).toMatch(/Could not take arn:aws:iam::111111111111:role\/model-deploy-dev with this job's OIDC token, so this step's AWS session cannot be renewed: .*Not authorized/);
      expect(out.reporter.allText()).not.toContain('eyJ.job-token.sig');
    } finally {
      stdout.mockRestore();
      restoreEnv();
      await oidc.close();
    }
  });
});
