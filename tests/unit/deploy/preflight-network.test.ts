/**
 * Subnets and security groups (#22): their ids carry no region, so deploy-endpoint's preflight asks EC2
 * (DescribeSubnets, DescribeSecurityGroups by id filter) in each region deployed, before anything
 * mutates. Shapes from the EC2 API Reference (Subnet, SecurityGroup; UnauthorizedOperation).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { mockClient } from 'aws-sdk-client-mock';
import { GetServiceQuotaCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { CostRequest, estimateCost } from '../../../src/cost/flow';
import { CloudFormationClient, CreateChangeSetCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ACMClient, DescribeCertificateCommand } from '@aws-sdk/client-acm';
import { DescribeSecurityGroupsCommand, DescribeSubnetsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { deployEndpoint, DeployRequest } from '../../../src/deploy/flow';
import { checkNetwork } from '../../../src/deploy/network';
import type { Target } from '../../../src/config/select';
import { DeployError } from '../../../src/core/errors';
import { EnvInputs } from '../../../src/core/env';
import { memoryReporter } from '../../../src/core/log';
import { fakeClock, fakeRender, selection } from './flow-fixtures';
import { stackNotFound } from '../../support/fake-aws/stack-answer';
import { ecrHoldsEveryImage } from '../../support/fake-aws/ecr-holds-images';
import { addVpc, answerNetwork, exampleNetwork, FakeNetwork } from '../../support/fake-aws/ec2-network';

const cfn = mockClient(CloudFormationClient);
const sts = mockClient(STSClient);
const secrets = mockClient(SecretsManagerClient);
const acm = mockClient(ACMClient);
const ec2 = mockClient(EC2Client);
ecrHoldsEveryImage();

const DEV_SUBNETS = ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002', 'subnet-0a1b2c3d4e5f60011', 'subnet-0a1b2c3d4e5f60012'];

function deploy(target: Target, account: string, over: Partial<DeployRequest> = {}) {
  sts.on(GetCallerIdentityCommand).resolves({ Account: account, Arn: `arn:aws:sts::${account}:assumed-role/deploy/gh` });
  const reporter = memoryReporter();
  const request: DeployRequest = {
    mode: 'create-only', timeoutMinutes: 60, failOnEmptyChangeSet: false, skipQuotaCheck: true, smokeTest: false,
    render: fakeRender(), pollOverrides: fakeClock(),
    imageUri: `${account}.dkr.ecr.us-east-1.amazonaws.com/acme-llm/code-assistant:md-abcdef0`,
    modelDataUrl: `s3://model-deploy-${account}-us-east-1/acme-llm/code-assistant/models/abcdef0/`,
    imageUris: target.regions.length > 1 ? JSON.stringify(Object.fromEntries(target.regions.map((r) => [r, `${account}.dkr.ecr.${r}.amazonaws.com/acme-llm/code-assistant:md-abcdef0`]))) : undefined,
    modelDataUrls: target.regions.length > 1 ? JSON.stringify(Object.fromEntries(target.regions.map((r) => [r, `s3://model-deploy-${account}-${r}/acme-llm/code-assistant/models/abcdef0/`]))) : undefined,
    ...over,
  };
  return { reporter, result: deployEndpoint(target, request, { reporter, env: new EnvInputs({ GITHUB_SHA: 'abcdef0123456789abcdef0123456789abcdef01', GITHUB_RUN_ID: '7' }) }) };
}

/** Past the preflight: the deploy reached its first mutating step (the API-key secret of ECS). */
function expectPastPreflight(): void {
  expect(secrets.calls().length).toBeGreaterThan(0);
}

function expectNothingMutated(): void {
  expect(secrets.calls()).toHaveLength(0);
  expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
}

/** The example's network with one change. */
function network(change: (net: FakeNetwork) => void): FakeNetwork {
  const net = exampleNetwork();
  change(net);
  return net;
}

beforeEach(() => {
  for (const m of [cfn, sts, secrets, acm, ec2]) m.reset();
  cfn.on(DescribeStacksCommand).rejects(stackNotFound('any'));
  acm.on(DescribeCertificateCommand).resolves({ Certificate: { DomainName: '*.example.com' } });
  answerNetwork(ec2);
});

describe('deploy-endpoint preflight: subnets and security groups in the region and account deployed', () => {
  it('the example in dev: its subnets and group are found, one DescribeSubnets and one DescribeSecurityGroups by id filter', async () => {
    const { result } = deploy(selection('code-assistant', 'dev'), '111111111111');
    await result.catch(() => undefined);
    expect(ec2.commandCalls(DescribeSubnetsCommand).map((c) => c.args[0].input)).toEqual([{ Filters: [{ Name: 'subnet-id', Values: DEV_SUBNETS }] }]);
    expect(ec2.commandCalls(DescribeSecurityGroupsCommand).map((c) => c.args[0].input)).toEqual([{ Filters: [{ Name: 'group-id', Values: ['sg-0a1b2c3d4e5f60021'] }] }]);
    expectPastPreflight();
  });

  it("another account's subnets (none here): every missing subnet and group named, with the field to fix, before anything mutates", async () => {
    answerNetwork(ec2, { subnets: [], groups: [] });
    const { result } = deploy(selection('code-assistant', 'dev'), '111111111111');
    const text = ((await result.catch((e) => e)) as DeployError).describe();
    expect(text).toMatch(`deployments.code-assistant: security.vpc: subnets ${DEV_SUBNETS.join(', ')} do not exist in us-east-1 of account 111111111111 (EC2 DescribeSubnets)`);
    expect(text).toMatch('security.vpc: security group sg-0a1b2c3d4e5f60021 does not exist in us-east-1 of account 111111111111 (EC2 DescribeSecurityGroups)');
    expect(text).toMatch(/Nothing was changed. Subnet and security group ids belong to one account and one region: give environment dev its own in us-east-1 under security.environments.dev.vpc \(or .vpcs.us-east-1\)/);
    expectNothingMutated();
  });

  it("prod in eu-west-1 reads prod's own VPC of that region (security.environments.prod.vpcs), in each region's EC2", async () => {
    const { result } = deploy(selection('code-assistant', 'prod'), '333333333333');
    await result.catch(() => undefined);
    const asked = ec2.commandCalls(DescribeSubnetsCommand).map((c) => c.args[0].input.Filters?.[0]?.Values?.[0]);
    expect(asked).toEqual(['subnet-0c1d2e3f4a5b60001', 'subnet-0d1e2f3a4b5c60001']);
    expectPastPreflight();
  });

  it('prod without its own VPCs: one VPC for two regions is refused before any AWS read of the network', async () => {
    const target = selection('code-assistant', 'prod');
    const { environments: _own, ...security } = target.deployment.security;
    const { result } = deploy({ ...target, deployment: { ...target.deployment, security } }, '333333333333');
    const text = ((await result.catch((e) => e)) as DeployError).describe();
    expect(text).toMatch(/security.vpc is one VPC, but environment prod deploys to us-east-1, eu-west-1/);
    expectNothingMutated();
  });

  it('a role that may not describe the network: a warning, and the deploy goes on', async () => {
    const denied = Object.assign(new Error('You are not authorized to perform this operation. User: arn:aws:sts::111111111111:assumed-role/deploy/gh is not authorized to perform: ec2:DescribeSubnets because no identity-based policy allows the ec2:DescribeSubnets action'), { name: 'UnauthorizedOperation', $metadata: { httpStatusCode: 403 } });
    ec2.on(DescribeSubnetsCommand).rejects(denied);
    const { reporter, result } = deploy(selection('code-assistant', 'dev'), '111111111111');
    await result.catch(() => undefined);
    expect(reporter.captured.annotations).toContainEqual(expect.objectContaining({ level: 'warning', title: 'Network not checked', message: expect.stringMatching(/security.vpc in us-east-1: not checked \(UnauthorizedOperation: allow ec2:DescribeSubnets and ec2:DescribeSecurityGroups/) }));
    expectPastPreflight();
  });
});

describe('what EC2 says of a VPC (checkNetwork)', () => {
  const coder = selection('code-assistant', 'dev').deployment;
  const check = (net: FakeNetwork, d = coder) => {
    answerNetwork(ec2, net);
    return checkNetwork({ deployment: d, environmentName: 'dev', region: 'us-east-1', account: '111111111111', client: new EC2Client({ region: 'us-east-1' }) });
  };

  it('the example holds: nothing to say, and a line of what was checked', async () => {
    const c = await check(exampleNetwork());
    expect(c.problems).toEqual([]);
    expect(c.checked).toBe('code-assistant in us-east-1: security.vpc (vpc-0a1b2c3d4e5f60718; 4 subnets in us-east-1a, us-east-1b, 1 security group) exists there');
  });

  it('a subnet of another VPC than vpcId, and a security group of another VPC', async () => {
    const c = await check(network((net) => {
      net.subnets.find((s) => s.SubnetId === 'subnet-0a1b2c3d4e5f60002')!.VpcId = 'vpc-0fffffffffffffff0';
      net.groups[0]!.VpcId = 'vpc-0fffffffffffffff0';
    }));
    expect(c.problems.map((p) => p.message)).toEqual([
      'security.vpc: subnet-0a1b2c3d4e5f60002 is in vpc-0fffffffffffffff0, not in vpcId vpc-0a1b2c3d4e5f60718',
      'security.vpc: security group sg-0a1b2c3d4e5f60021 (vpc-0fffffffffffffff0) is not in vpc-0a1b2c3d4e5f60718, the VPC of the subnets',
    ]);
  });

  it("the load balancer's subnets in one availability zone: an Application Load Balancer needs two", async () => {
    const c = await check(network((net) => {
      for (const s of net.subnets) s.AvailabilityZone = 'us-east-1a';
    }));
    expect(c.problems).toEqual([expect.objectContaining({ message: expect.stringMatching(/the load balancer's subnets \(subnet-0a1b2c3d4e5f60011, subnet-0a1b2c3d4e5f60012\) are all in us-east-1a; an Application Load Balancer needs subnets in at least two availability zones/) })]);
  });

  it('a subnet of the instances with no free address', async () => {
    const c = await check(network((net) => {
      net.subnets.find((s) => s.SubnetId === 'subnet-0a1b2c3d4e5f60001')!.AvailableIpAddressCount = 0;
    }));
    expect(c.problems.map((p) => p.message)).toEqual(['security.vpc: subnet-0a1b2c3d4e5f60001 has no free IP address: no instance or task can start there']);
  });

  it('SageMaker with several instances in one zone: a warning, not a refusal', async () => {
    const net: FakeNetwork = { subnets: [], groups: [] };
    addVpc(net, '111111111111', 'us-east-1', { vpcId: 'vpc-0123456789abcdef0', subnets: ['subnet-0123456789abcdef0'], securityGroups: ['sg-0123456789abcdef0'] });
    const chat = selection('qwen-chat', 'dev').deployment;
    const d = { ...chat, instanceCount: 2, security: { ...chat.security, vpc: { vpcId: 'vpc-0123456789abcdef0', subnets: ['subnet-0123456789abcdef0'], securityGroups: ['sg-0123456789abcdef0'], natGateway: false } } };
    const c = await check(net, d);
    expect(c.problems).toEqual([]);
    expect(c.warnings).toEqual([expect.stringMatching(/every subnet of qwen-chat is in us-east-1a; SageMaker spreads an endpoint's instances \(up to 3\)/)]);
  });
});

describe('the PR estimate with the plan role (check-quotas): the network said before the merge', () => {
  const sq = mockClient(ServiceQuotasClient);
  const REVISION = '0123456789abcdef0123456789abcdef01234567';
  const VPC = (id: string) => `{ vpcId: vpc-0${id}, subnets: [subnet-0${id}1, subnet-0${id}2], securityGroups: [sg-0${id}3] }`;
  const spec = `version: 1\nproject: acme\nenvironments:\n  dev:\n    account: "111111111111"\ndeployments:\n  svc:\n    model: { huggingface: { id: org/model, revision: "${REVISION}" }, sizeGb: 10 }\n    engine: { name: vllm }\n    target: ecs\n    instanceType: g5.2xlarge\n    regions: [us-east-1]\n    security:\n      certificateArn: arn:aws:acm:us-east-1:111111111111:certificate/abc\n      hostname: svc.example.com\n      vpc: ${VPC('aaaaaaaaaaaaaaa')}\n    usage: { imageSizeGb: 10 }\n`;
  const samePr = { pull_request: { number: 7, head: { sha: 'a'.repeat(40), repo: { full_name: 'acme/models', fork: false } }, base: { sha: 'b'.repeat(40) } } };

  function estimate(net: FakeNetwork) {
    answerNetwork(ec2, net);
    sq.reset();
    sq.on(GetServiceQuotaCommand).resolves({ Quota: { ServiceCode: 'ec2', QuotaCode: 'L-DB2E81BA', QuotaName: 'Running On-Demand G and VT instances', Value: 64 } });
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'network-estimate-'));
    fs.writeFileSync(path.join(workspace, 'model-deploy.yml'), spec);
    fs.writeFileSync(path.join(workspace, 'event.json'), JSON.stringify(samePr));
    const reporter = memoryReporter();
    const request: CostRequest = { hoursPerMonth: 730, livePrices: false, mode: 'estimate', behavior: 'update', skipIfUnchanged: false, resultFile: 'cost.json', checkQuotas: true };
    const env = new EnvInputs({ GITHUB_REPOSITORY: 'acme/models', GITHUB_EVENT_PATH: path.join(workspace, 'event.json') });
    return { reporter, result: estimateCost({ workspace, config: 'model-deploy.yml', environment: 'dev' }, request, { reporter, env }) };
  }

  it('subnets the plan role cannot find: a line and a warning at the deployment, the estimate still made', async () => {
    const { reporter, result } = estimate({ subnets: [], groups: [] });
    const { report } = await result;
    const lines = report.priceNotes.filter((n) => n.startsWith('Network'));
    expect(lines).toEqual([
      expect.stringMatching(/^Network of svc in us-east-1: security.vpc: subnets subnet-0aaaaaaaaaaaaaaa1, subnet-0aaaaaaaaaaaaaaa2 do not exist in us-east-1 of account 111111111111 \(EC2 DescribeSubnets\)/),
      expect.stringMatching(/security group sg-0aaaaaaaaaaaaaaa3 does not exist/),
    ]);
    expect(reporter.captured.annotations).toContainEqual(expect.objectContaining({ level: 'warning', title: 'Network not found' }));
  });

  it('subnets that exist: what was checked', async () => {
    const net: FakeNetwork = { subnets: [], groups: [] };
    addVpc(net, '111111111111', 'us-east-1', { vpcId: 'vpc-0aaaaaaaaaaaaaaa', subnets: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2'], securityGroups: ['sg-0aaaaaaaaaaaaaaa3'] });
    const { report } = await estimate(net).result;
    expect(report.priceNotes.filter((n) => n.startsWith('Network'))).toEqual(['Network: svc in us-east-1: security.vpc (vpc-0aaaaaaaaaaaaaaa; 2 subnets in us-east-1a, us-east-1b, 1 security group) exists there.']);
  });
});
