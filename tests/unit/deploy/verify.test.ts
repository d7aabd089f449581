import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { readApiKey, smokeTestHttp, verifySageMakerEndpoint } from '../../../src/deploy/verify';
import { DeployError } from '../../../src/core/errors';
import { memoryReporter } from '../../../src/core/log';
import { fakeClock, selection } from './flow-fixtures';

const sm = mockClient(SageMakerClient);
beforeEach(() => sm.reset());

function verify(clock = fakeClock()) {
  const sel = selection('qwen-chat', 'dev');
  return verifySageMakerEndpoint({
    sm: new SageMakerClient({ region: 'us-east-1' }), cfn: new CloudFormationClient({ region: 'us-east-1' }), stackId: 'arn:stack', endpointName: 'ep',
    deadline: clock.now() + 600000, reporter: memoryReporter(), deployment: sel.deployment, locate: sel.spec.locate.bind(sel.spec), pollOverrides: clock, expectedConfig: 'cfg-new',
  });
}

describe('verifySageMakerEndpoint', () => {
  it('waits while the endpoint updates and accepts InService on the new config', async () => {
    sm.on(DescribeEndpointCommand)
      .resolvesOnce({ EndpointStatus: 'Updating', EndpointConfigName: 'cfg-old' })
      .resolves({ EndpointStatus: 'InService', EndpointConfigName: 'cfg-new', EndpointArn: 'arn:ep' });
    await expect(verify()).resolves.toMatchObject({ endpointArn: 'arn:ep', endpointConfigName: 'cfg-new' });
  });

  it('catches SageMaker rolling back by itself to the old config, with the health-check advice', async () => {
    sm.on(DescribeEndpointCommand).resolves({
      EndpointStatus: 'InService', EndpointConfigName: 'cfg-old',
      FailureReason: 'The primary container for production variant AllTraffic did not pass the ping health check.',
    });
    const err = (await verify().catch((e) => e)) as DeployError;
    expect(err.title).toBe('SageMaker rolled back the update');
    expect(err.message).toContain('InService on cfg-old, not on the new config cfg-new');
    expect(err.hint).toContain('raise healthCheck.startupTimeoutSeconds');
    expect(err.location?.file).toBe('model-deploy.yml');
  });
});

describe('HTTP smoke test (ec2, ecs)', () => {
  const smoke = { payload: { messages: [] }, contentType: 'application/json', expectStatus: 200 };
  const fakeFetch = (keyOk: string) =>
    (async (_url: string, init: RequestInit) => {
      const auth = (init.headers as Record<string, string>).authorization;
      return new Response(auth === `Bearer ${keyOk}` ? '{"ok":true}' : '{"error":"unauthorized"}', { status: auth === `Bearer ${keyOk}` ? 200 : 401 });
    }) as unknown as typeof fetch;

  it('reads the key masked, proves a request without it is refused, and passes with it', async () => {
    const secrets = mockClient(SecretsManagerClient);
    const key = 'k'.repeat(48);
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ apiKey: key, createdAt: 'x' }) });
    const reporter = memoryReporter();
    const apiKey = await readApiKey(new SecretsManagerClient({ region: 'us-east-1' }), 'arn:secret', reporter);
    expect(reporter.captured.secrets).toContain(key);
    await expect(smokeTestHttp({ url: 'https://api.example.com/', smoke, apiKey, reporter, fetchImpl: fakeFetch(key) })).resolves.toMatchObject({ ok: true, status: 200 });
    expect(reporter.allText()).not.toContain(key);
  });

  it('fails when the service answers without a key', async () => {
    const open = (async () => new Response('{}', { status: 200 })) as unknown as typeof fetch;
    await expect(smokeTestHttp({ url: 'https://api.example.com', smoke, apiKey: 'secret-key', reporter: memoryReporter(), fetchImpl: open })).rejects.toThrow(/WITHOUT an API key/);
  });
});
