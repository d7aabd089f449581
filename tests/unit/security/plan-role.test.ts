/**
 * The bootstrap's read-only plan role (issue 22.5), decided by @cloud-copilot/iam-simulate over the rendered
 * template: a same-repository pull request's estimate reads quotas, offerings and prices, and writes nothing
 * anywhere. Every refused write has a read twin that is allowed, so the suite cannot pass by denying everything.
 */
import { ACCOUNT, resolveTemplate } from '../../support/cloudformation/resolve';
import { readTemplate } from '../../support/cloudformation/template';
import { Call, Decision, decide, principalOf } from '../../support/cloudformation/simulate';
import { evaluate, list, Statement } from '../../support/cloudformation/iam';

const bootstrap = readTemplate('templates/bootstrap/model-deploy-bootstrap.yaml');
const BASE = { Repository: 'acme/llm-platform', RepositoryOwnerId: '1234', RepositoryId: '5678', Project: 'acme-llm', Environment: 'dev' };
const dev = resolveTemplate(bootstrap, BASE);
const planRole = principalOf(dev, 'PlanRole');
const arn = (service: string, rest: string) => `arn:aws:${service}:us-east-1:${ACCOUNT}:${rest}`;

describe('plan role: reads what the estimate checks', () => {
  it.each<[string, Call]>([
    ['ListServiceQuotas of SageMaker', { action: 'servicequotas:ListServiceQuotas', resource: '*' }],
    ['ListAWSDefaultServiceQuotas', { action: 'servicequotas:ListAWSDefaultServiceQuotas', resource: '*' }],
    ['GetServiceQuota of an EC2 quota', { action: 'servicequotas:GetServiceQuota', resource: arn('servicequotas', 'ec2/L-DB2E81BA') }],
    ['GetAWSDefaultServiceQuota', { action: 'servicequotas:GetAWSDefaultServiceQuota', resource: '*' }],
    ['DescribeInstanceTypeOfferings', { action: 'ec2:DescribeInstanceTypeOfferings', resource: '*' }],
    // The subnets and security groups of security.vpc (no resource-level permission for Describe*).
    ['DescribeSubnets', { action: 'ec2:DescribeSubnets', resource: '*' }],
    ['DescribeSecurityGroups', { action: 'ec2:DescribeSecurityGroups', resource: '*' }],
    // The size of model.s3 weights without sizeGb: the keys of the account's artifact buckets.
    ['ListBucket of an artifact bucket', { action: 's3:ListBucket', resource: `arn:aws:s3:::model-deploy-${ACCOUNT}-us-east-1`, context: { 's3:ResourceAccount': ACCOUNT } }],
    ['Price List GetProducts', { action: 'pricing:GetProducts', resource: '*' }],
    // estimate-cost bill-days (issue 24): the bill of the deployments a pull request touches. The request names
    // no BillingViewArn, so Cost Explorer reads the account's primary billing view.
    ['Cost Explorer GetCostAndUsage', { action: 'ce:GetCostAndUsage', resource: `arn:aws:billing::${ACCOUNT}:billingview/primary` }],
    ['Cost Explorer ListCostAllocationTags', { action: 'ce:ListCostAllocationTags', resource: '*' }],
  ])('%s is allowed', async (_label, call) => {
    expect(await decide(planRole, call)).toBe<Decision>('Allowed');
  });
});

describe('plan role: no write right anywhere', () => {
  it.each<[string, Call]>([
    ['RequestServiceQuotaIncrease', { action: 'servicequotas:RequestServiceQuotaIncrease', resource: arn('servicequotas', 'sagemaker/L-1A2B3C4D') }],
    ['CreateChangeSet', { action: 'cloudformation:CreateChangeSet', resource: arn('cloudformation', 'stack/acme-llm-qwen-chat-dev/0a1b2c3d-4e5f-6789-abcd-ef0123456789') }],
    ['ExecuteChangeSet', { action: 'cloudformation:ExecuteChangeSet', resource: arn('cloudformation', 'stack/acme-llm-qwen-chat-dev/0a1b2c3d-4e5f-6789-abcd-ef0123456789') }],
    ['PutObject into the artifact bucket', { action: 's3:PutObject', resource: `arn:aws:s3:::model-deploy-${ACCOUNT}-us-east-1/x` }],
    ['GetObject of the weights (reading data is not planning)', { action: 's3:GetObject', resource: `arn:aws:s3:::model-deploy-${ACCOUNT}-us-east-1/acme-llm/qwen-chat/models/x` }],
    ['ListBucket of a bucket that is not an artifact bucket', { action: 's3:ListBucket', resource: 'arn:aws:s3:::acme-secrets', context: { 's3:ResourceAccount': ACCOUNT } }],
    ["ListBucket of another account's artifact bucket", { action: 's3:ListBucket', resource: 'arn:aws:s3:::model-deploy-999999999999-us-east-1', context: { 's3:ResourceAccount': '999999999999' } }],
    ['CreateSecurityGroup', { action: 'ec2:CreateSecurityGroup', resource: arn('ec2', 'vpc/vpc-0123456789abcdef0') }],
    ['GetSecretValue of an API key', { action: 'secretsmanager:GetSecretValue', resource: arn('secretsmanager', 'secret:acme-llm/code-assistant/dev/api-key-AbCdEf') }],
    ['CreateSecret', { action: 'secretsmanager:CreateSecret', resource: arn('secretsmanager', 'secret:acme-llm/x') }],
    ['PassRole', { action: 'iam:PassRole', resource: `arn:aws:iam::${ACCOUNT}:role/acme-llm.dev.sagemaker`, context: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } }],
    ['CreateEndpoint', { action: 'sagemaker:CreateEndpoint', resource: arn('sagemaker', 'endpoint/acme-llm-qwen-chat-dev') }],
    ['RunInstances', { action: 'ec2:RunInstances', resource: arn('ec2', 'instance/i-0123456789abcdef0') }],
    ['PutImage', { action: 'ecr:PutImage', resource: arn('ecr', 'repository/acme-llm/qwen-chat') }],
    ['StartBuild', { action: 'codebuild:StartBuild', resource: arn('codebuild', 'project/acme-llm-build') }],
    ['UpdateCostAllocationTagsStatus (activating tags is the payer account\'s decision)', { action: 'ce:UpdateCostAllocationTagsStatus', resource: '*' }],
    ['CreateAnomalyMonitor', { action: 'ce:CreateAnomalyMonitor', resource: '*' }],
  ])('%s is refused', async (_label, call) => {
    expect(await decide(planRole, call)).not.toBe<Decision>('Allowed');
  });

  it('grants only Get, List and Describe actions, and nothing but its two read-only statements', () => {
    const allows = planRole.policies.filter((s) => s.Effect === 'Allow');
    expect(allows).toHaveLength(2);
    for (const action of allows.flatMap((s) => list(s.Action))) expect(action).toMatch(/^[a-z0-9]+:(Get|List|Describe)[A-Za-z]+$/);
    expect(dev.resources.PlanRole?.Properties.ManagedPolicyArns).toBeUndefined();
  });
});

describe('plan role: trusted by pull request jobs of this repository only', () => {
  const trust = dev.resources.PlanRole?.Properties.AssumeRolePolicyDocument.Statement as Statement[];
  const assume = (sub: string) => evaluate(trust, { action: 'sts:AssumeRoleWithWebIdentity', resource: '*', context: { 'token.actions.githubusercontent.com:sub': sub, 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' } }).decision;

  it.each([
    ['a pull request of acme/llm-platform (immutable ids, the default subject form)', 'repo:acme@1234/llm-platform@5678:pull_request', 'allow'],
    ['the name-only subject while the default form is set', 'repo:acme/llm-platform:pull_request', 'implicit-deny'],
    ['a push to main', 'repo:acme@1234/llm-platform@5678:ref:refs/heads/main', 'implicit-deny'],
    ['a job of the dev environment (the deploy role is for it)', 'repo:acme@1234/llm-platform@5678:environment:dev', 'implicit-deny'],
    ['a pull request of a repository renamed into the name (other ids)', 'repo:acme@9999/llm-platform@5678:pull_request', 'implicit-deny'],
  ])('%s: %s', (_label, sub, decision) => {
    expect(assume(sub)).toBe(decision);
  });

  it('with SubjectForm repository-name, trusts the name-only subject of pull requests', () => {
    const named = resolveTemplate(bootstrap, { ...BASE, SubjectForm: 'repository-name' }).resources.PlanRole?.Properties.AssumeRolePolicyDocument.Statement as Statement[];
    const decision = (sub: string) => evaluate(named, { action: 'sts:AssumeRoleWithWebIdentity', resource: '*', context: { 'token.actions.githubusercontent.com:sub': sub, 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' } }).decision;
    expect(decision('repo:acme/llm-platform:pull_request')).toBe('allow');
    expect(decision('repo:someone/llm-platform:pull_request')).toBe('implicit-deny');
  });

  it('names no wildcard subject', () => {
    expect(JSON.stringify(trust)).not.toMatch(/StringLike|\*/);
  });
});
