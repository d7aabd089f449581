import { mockClient } from 'aws-sdk-client-mock';
import { GetAWSDefaultServiceQuotaCommand, GetServiceQuotaCommand, ListAWSDefaultServiceQuotasCommand, ListServiceQuotasCommand, NoSuchResourceException, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { DescribeEndpointCommand, DescribeEndpointConfigCommand, EndpointStatus, ListEndpointsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { checkQuotas, quotaFor, quotaNeed, sagemakerUsage, vcpusOf } from '../../../src/deploy/quotas';
import { DeployError } from '../../../src/core/errors';
import { memoryReporter } from '../../../src/core/log';
import { selection } from './flow-fixtures';

const sq = mockClient(ServiceQuotasClient);
const sm = mockClient(SageMakerClient);
beforeEach(() => {
  sq.reset();
  sm.reset();
});
const client = () => new ServiceQuotasClient({ region: 'us-east-1' });

describe('quota arithmetic', () => {
  it('counts vCPUs by size and picks the quota per target and family', () => {
    expect(vcpusOf('g5.2xlarge')).toBe(8);
    expect(vcpusOf('p4d.24xlarge')).toBe(96);
    expect(vcpusOf('ml.g5.xlarge')).toBe(4);
    expect(vcpusOf('m5.large')).toBe(2);
    const chat = selection('qwen-chat').deployment;
    expect(quotaFor(chat)).toMatchObject({ serviceCode: 'sagemaker', name: 'ml.g5.2xlarge for endpoint usage', unit: 'instances' });
    const ecs = selection('code-assistant').deployment;
    expect(quotaFor(ecs)).toMatchObject({ serviceCode: 'ec2', quotaCode: 'L-DB2E81BA', unit: 'vCPUs' });
    expect(quotaFor({ ...ecs, instanceType: 'p5.48xlarge' })).toMatchObject({ quotaCode: 'L-417A185B', name: 'Running On-Demand P instances' });
    expect(quotaFor({ ...ecs, instanceType: 'c7i.large' })).toMatchObject({ serviceCode: 'fargate' });
  });

  it('needs a second fleet while a SageMaker blue/green update moves traffic', () => {
    const chat = selection('qwen-chat').deployment;
    expect(quotaNeed(chat, quotaFor(chat), false)).toEqual({ needed: 1, peak: 3 });
    expect(quotaNeed(chat, quotaFor(chat), true).needed).toBe(2);
    const ecs = selection('code-assistant').deployment;
    expect(quotaNeed(ecs, quotaFor(ecs), true).needed).toBe(8);
  });
});

describe('checkQuotas', () => {
  it('fails early naming the SageMaker quota, the figures and the command that raises it', async () => {
    sq.on(ListServiceQuotasCommand)
      .resolvesOnce({ Quotas: [{ QuotaName: 'ml.g5.xlarge for endpoint usage', QuotaCode: 'L-1111', Value: 4 }], NextToken: 'n' })
      .resolvesOnce({ Quotas: [{ QuotaName: 'ml.g5.2xlarge for endpoint usage', QuotaCode: 'L-2222', Value: 0, Adjustable: true }] });
    const d = selection('qwen-chat').deployment;
    const err = (await checkQuotas({ sq: client(), deployment: d, region: 'us-east-1', replacesFleet: false, reporter: memoryReporter() }).catch((e) => e)) as DeployError;
    expect(err).toBeInstanceOf(DeployError);
    expect(err.message).toBe('The quota "ml.g5.2xlarge for endpoint usage" is 0 instances in us-east-1, and this deploy needs 1 instances.');
    expect(err.describe()).toContain('aws service-quotas request-service-quota-increase --service-code sagemaker --quota-code L-2222 --desired-value 3 --region us-east-1');
  });

  it('passes with enough quota and warns when autoscaling could outgrow it', async () => {
    sq.on(ListServiceQuotasCommand).resolves({ Quotas: [{ QuotaName: 'ml.g5.2xlarge for endpoint usage', QuotaCode: 'L-2222', Value: 2 }] });
    const reporter = memoryReporter();
    const r = await checkQuotas({ sq: client(), deployment: selection('qwen-chat').deployment, region: 'us-east-1', replacesFleet: true, reporter });
    expect(r).toMatchObject({ value: 2, needed: 2 });
    expect(reporter.captured.annotations.map((a) => a.title)).toEqual(['Quota below autoscaling maximum']);
  });

  it('reads the EC2 G and VT vCPU quota, falling back to the AWS default when never changed', async () => {
    sq.on(GetServiceQuotaCommand).rejects(new NoSuchResourceException({ message: 'none', $metadata: {} }));
    sq.on(GetAWSDefaultServiceQuotaCommand).resolves({ Quota: { QuotaName: 'Running On-Demand G and VT instances', Value: 4 } });
    const err = (await checkQuotas({ sq: client(), deployment: selection('code-assistant').deployment, region: 'us-east-1', replacesFleet: false, reporter: memoryReporter() }).catch((e) => e)) as DeployError;
    expect(sq.commandCalls(GetServiceQuotaCommand)[0].args[0].input).toEqual({ ServiceCode: 'ec2', QuotaCode: 'L-DB2E81BA' });
    expect(err.message).toContain('"Running On-Demand G and VT instances" is 4 vCPUs in us-east-1, and this deploy needs 8 vCPUs (1 × g5.2xlarge)');
  });

  it('warns rather than fails when the quota cannot be read or found', async () => {
    sq.on(ListServiceQuotasCommand).resolves({ Quotas: [] });
    sq.on(ListAWSDefaultServiceQuotasCommand).resolves({ Quotas: [] });
    const reporter = memoryReporter();
    await checkQuotas({ sq: client(), deployment: selection('qwen-chat').deployment, region: 'us-east-1', replacesFleet: false, reporter });
    expect(reporter.captured.annotations[0]).toMatchObject({ level: 'warning', title: 'Quota not found' });
  });
});

describe('sagemakerUsage: what other endpoints hold of the quota', () => {
  const endpoint = (EndpointName: string, EndpointStatus: EndpointStatus) => ({ EndpointName, EndpointStatus, EndpointArn: `arn:${EndpointName}`, CreationTime: new Date(), LastModifiedTime: new Date() });
  const smClient = () => new SageMakerClient({ region: 'us-east-1' });

  it('sums the instances of the type over every page of endpoints, skipping our own and the idle ones', async () => {
    sm.on(ListEndpointsCommand)
      .resolvesOnce({ Endpoints: [endpoint('a', 'InService'), endpoint('own', 'InService')], NextToken: 'p2' })
      .resolvesOnce({ Endpoints: [endpoint('b', 'Updating'), endpoint('gone', 'OutOfService')] });
    sm.on(DescribeEndpointCommand, { EndpointName: 'a' }).resolves({ EndpointConfigName: 'cfg-a', ProductionVariants: [{ VariantName: 'v', CurrentInstanceCount: 2, DesiredInstanceCount: 2 }] });
    // Scaling out: the desired count is what the quota must hold.
    sm.on(DescribeEndpointCommand, { EndpointName: 'b' }).resolves({ EndpointConfigName: 'cfg-b', ProductionVariants: [{ VariantName: 'g', CurrentInstanceCount: 1, DesiredInstanceCount: 3 }, { VariantName: 'c', CurrentInstanceCount: 4 }] });
    sm.on(DescribeEndpointConfigCommand, { EndpointConfigName: 'cfg-a' }).resolves({ ProductionVariants: [{ VariantName: 'v', InstanceType: 'ml.g5.2xlarge' }] });
    sm.on(DescribeEndpointConfigCommand, { EndpointConfigName: 'cfg-b' }).resolves({ ProductionVariants: [{ VariantName: 'g', InstanceType: 'ml.g5.2xlarge' }, { VariantName: 'c', InstanceType: 'ml.c5.xlarge' }] });
    const usage = await sagemakerUsage(smClient(), 'ml.g5.2xlarge', 'own');
    expect(usage).toEqual({ used: 5, holders: ['a (2)', 'b (3)'] });
    expect(sm.commandCalls(ListEndpointsCommand)[1]?.args[0].input.NextToken).toBe('p2');
    expect(sm.commandCalls(DescribeEndpointCommand).map((c) => c.args[0].input.EndpointName).sort()).toEqual(['a', 'b']);
  });

  it('refuses a deploy that fits the quota value but not what is left of it', async () => {
    sq.on(ListServiceQuotasCommand).resolves({ Quotas: [{ QuotaName: 'ml.g5.2xlarge for endpoint usage', QuotaCode: 'L-2222', Value: 4 }] });
    const usage = async () => ({ used: 4, holders: ['a (4)'] });
    const err = (await checkQuotas({ sq: client(), deployment: selection('qwen-chat').deployment, region: 'us-east-1', replacesFleet: false, reporter: memoryReporter(), usage }).catch((e) => e)) as DeployError;
    expect(err.message).toBe('The quota "ml.g5.2xlarge for endpoint usage" is 4 instances in us-east-1; 4 are in use by a (4), and this deploy needs 1 instances.');
    expect(err.describe()).toContain('--desired-value 7');
  });

  it('checks the quota value alone, with a warning, when usage cannot be read', async () => {
    sq.on(ListServiceQuotasCommand).resolves({ Quotas: [{ QuotaName: 'ml.g5.2xlarge for endpoint usage', QuotaCode: 'L-2222', Value: 4 }] });
    sm.on(ListEndpointsCommand).rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));
    const reporter = memoryReporter();
    const r = await checkQuotas({ sq: client(), deployment: selection('qwen-chat').deployment, region: 'us-east-1', replacesFleet: false, reporter, usage: () => sagemakerUsage(smClient(), 'ml.g5.2xlarge', 'own') });
    expect(r).toMatchObject({ value: 4, needed: 1 });
    expect(reporter.captured.annotations[0]).toMatchObject({ level: 'warning', title: 'Quota usage not counted' });
  });
});
