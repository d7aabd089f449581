import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { awsClient, clientConfig, isPartition, partitionOf } from '../../../src/core/aws';
import { assumeRole, defaultSessionName } from '../../../src/core/credentials';
import { DeployError, explainAwsError } from '../../../src/core/errors';
import { memoryReporter } from '../../../src/core/log';
import { VERSION } from '../../../src/core/version';

describe('AWS clients', () => {
  it('use adaptive retries and name the project in the user agent', () => {
    const c = clientConfig({ region: 'eu-west-1' });
    expect(c).toMatchObject({ region: 'eu-west-1', retryMode: 'adaptive', customUserAgent: [['model-deploy-actions', VERSION]] });
    expect(c.credentials).toBeUndefined();
  });

  it('are reused per class, region and credentials', () => {
    const a = awsClient(CloudFormationClient, { region: 'us-east-1' });
    expect(awsClient(CloudFormationClient, { region: 'us-east-1' })).toBe(a);
    expect(awsClient(CloudFormationClient, { region: 'us-west-2' })).not.toBe(a);
    expect(awsClient(CloudFormationClient, { region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } })).not.toBe(a);
  });

  it('knows the China partition', () => {
    expect(partitionOf('cn-north-1')).toBe('aws-cn');
    expect(partitionOf('eu-west-1')).toBe('aws');
  });
});

describe('assumeRole', () => {
  const sts = mockClient(STSClient);
  afterEach(() => sts.reset());

  it('names the run in the session and masks what STS returns', async () => {
    sts.on(AssumeRoleCommand).resolves({
      Credentials: { AccessKeyId: 'ASIATEST', SecretAccessKey: 'very-secret-key', SessionToken: 'token-xyz', Expiration: new Date(Date.now() + 3600_000) },
    });
    const reporter = memoryReporter();
    const provider = assumeRole({ roleArn: 'arn:aws:iam::222222222222:role/promote', region: 'us-east-1', reporter, sessionName: defaultSessionName({ GITHUB_RUN_ID: '77', GITHUB_REPOSITORY: 'acme/models' }) });
    const creds = await provider();
    expect(creds.accessKeyId).toBe('ASIATEST');
    await provider(); // cached until near expiry
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
    expect(sts.commandCalls(AssumeRoleCommand)[0].args[0].input).toMatchObject({ RoleSessionName: 'model-deploy-models-gh-77-1' });
    expect(reporter.captured.secrets).toEqual(['very-secret-key', 'token-xyz']);
  });

  it('explains a denied assumption and the TagSession trap', async () => {
    sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('User is not authorized to perform: sts:TagSession'), { name: 'AccessDenied' }));
    const provider = assumeRole({ roleArn: 'arn:aws:iam::222222222222:role/promote', region: 'us-east-1', tags: { run: '1' } });
    await expect(provider()).rejects.toMatchObject({ title: 'Role chaining needs sts:TagSession' });
  });

  it('rejects a malformed role ARN before calling STS', () => {
    expect(() => assumeRole({ roleArn: 'promote-role', region: 'us-east-1' })).toThrow(DeployError);
    expect(sts.calls()).toHaveLength(0);
  });
});

describe('explainAwsError', () => {
  it.each([
    [{ name: 'AccessDenied', message: 'Not authorized to perform sts:AssumeRoleWithWebIdentity' }, 'OIDC role assumption denied', /id-token: write/],
    [{ name: 'CredentialsProviderError', message: 'Could not load credentials from any providers' }, 'No AWS credentials', /configure-aws-credentials/],
    [{ name: 'ResourceLimitExceeded', message: "The account-level service limit 'ml.g5.2xlarge for endpoint usage' is 0 Instances" }, 'Service quota exceeded', /Service Quotas/],
    [{ name: 'AccessDeniedException', message: 'not authorized to perform: ecr:BatchGetImage' }, 'Permission denied', /bootstrap/],
  ])('gives %o an actionable message', (raw, title, hint) => {
    const e = explainAwsError(Object.assign(new Error(raw.message), { name: raw.name }), 'Deploying stack x');
    expect(e.title).toBe(title);
    expect(e.message).toContain('Deploying stack x failed');
    expect(e.hint).toMatch(hint);
  });
});

describe('partitions', () => {
  it('knows the three partitions this project deploys to', () => {
    expect(['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', ''].map(isPartition)).toEqual([true, true, true, false, false]);
  });
});
