import { estimateDeployment as estimateParts, estimateDeployments, PriceBook } from '../../../src/cost/estimate';
import { formatMoney, formatRange, roundTo } from '../../../src/cost/money';
import { ecs, sagemaker, specOf } from './fixtures';

/** The single-currency deployments these tests price: their one part. */
function estimateDeployment(...args: Parameters<typeof estimateParts>) {
  const parts = estimateParts(...args);
  expect(parts).toHaveLength(1);
  return parts[0]!;
}
const instance = (e: ReturnType<typeof estimateDeployment>) => e.resources[0]!.components[0]!;

describe('estimateDeployment', () => {
  it('prices one ml.g4dn.xlarge in us-east-1 at $0.7364/h as $537.57 a month at 730 h', () => {
    const spec = specOf(sagemaker('chat', 'ml.g4dn.xlarge'));
    const e = estimateDeployment(spec.deployments.chat, { spec });
    expect(instance(e).price?.price).toBe('0.7364');
    expect(instance(e).quantity).toEqual({ low: 730, high: 730 });
    expect(formatMoney(instance(e).monthlyCost!.low, 'USD')).toBe('$537.57');
    expect(instance(e).price?.origin).toBe('catalog');
  });

  it('uses 720 hours when asked', () => {
    const spec = specOf(sagemaker('chat', 'ml.g4dn.xlarge'));
    const e = estimateDeployment(spec.deployments.chat, { spec, hoursPerMonth: 720 });
    expect(roundTo(instance(e).monthlyCost!.low, 2)).toBe(530.21); // 0.7364 × 720 = 530.208
  });

  it('prices ten CodeBuild general1.large minutes at $0.02 as $0.20', () => {
    const spec = specOf(sagemaker('chat', 'ml.g4dn.xlarge', '    build: { estimatedMinutes: 10 }\n'));
    const e = estimateDeployment(spec.deployments.chat, { spec });
    expect(e.oneTime.minutes).toBe(10);
    expect(e.oneTime.price?.price).toBe('0.02');
    expect(formatMoney(e.oneTime.cost!, 'USD')).toBe('$0.20');
  });

  it('gives a range from the autoscaling minimum to the maximum', () => {
    const spec = specOf(sagemaker('chat', 'ml.g5.2xlarge', '    instanceCount: 1\n    autoscaling: { min: 1, max: 3 }\n'));
    const e = estimateDeployment(spec.deployments.chat, { spec });
    expect(instance(e).quantity).toEqual({ low: 730, high: 2190 });
    expect(formatRange(instance(e).monthlyCost!, 'USD')).toBe('$1,105.95 – $3,317.85');
  });

  it('prices an async endpoint at zero from busy hours and says so', () => {
    const spec = specOf(
      sagemaker('batch', 'ml.g5.xlarge', '    instanceCount: 1\n    autoscaling: { min: 0, max: 2 }\n').replace('sagemaker-realtime', 'sagemaker-async').replace('imageSizeGb: 10', 'imageSizeGb: 10, busyHoursPerMonth: 120'),
    );
    const e = estimateDeployment(spec.deployments.batch, { spec });
    expect(instance(e).quantity).toEqual({ low: 120, high: 240 });
    expect(roundTo(instance(e).monthlyCost!.low, 2)).toBe(169.01); // 1.4084 × 120
    expect(e.assumptions.join('\n')).toMatch(/120 busy hours/);
    expect(e.assumptions.join('\n')).toMatch(/real-time hosting rate/);
  });

  it('refuses a scale-to-zero endpoint without busy hours', () => {
    const spec = specOf(sagemaker('batch', 'ml.g5.xlarge', '    instanceCount: 1\n    autoscaling: { min: 0, max: 2 }\n').replace('sagemaker-realtime', 'sagemaker-async'));
    expect(() => estimateDeployment(spec.deployments.batch, { spec })).toThrow(/busyHoursPerMonth/);
  });

  it('prices China regions in CNY from the China price list', () => {
    const spec = specOf(ecs('cn', 'g5.xlarge', 'cn-northwest-1'));
    const e = estimateDeployment(spec.deployments.cn, { spec });
    expect(e.currency).toBe('CNY');
    expect(instance(e).price).toMatchObject({ price: '6.70086', currency: 'CNY' });
    expect(formatMoney(instance(e).monthlyCost!.low, 'CNY')).toBe('¥4,891.63'); // 6.70086 × 730 = 4891.6278
    // Services without a CNY price are listed, never borrowed from a USD price.
    expect(e.unpriced.some((u) => /Application load balancer/.test(u))).toBe(true);
    expect(e.resources.flatMap((r) => r.components).every((c) => !c.price || c.price.currency === 'CNY')).toBe(true);
  });

  it('shows an unknown instance price as unpriced with the nearest priced types, never $0', () => {
    const spec = specOf(sagemaker('chat', 'ml.p3.8xlarge'));
    const e = estimateDeployment(spec.deployments.chat, { spec });
    expect(instance(e).price).toBeNull();
    expect(instance(e).monthlyCost).toBeNull();
    expect(instance(e).note).toMatch(/No known SageMaker hosting price for ml\.p3\.8xlarge in us-east-1.*ml\.p3\.2xlarge.*prices\.json/);
    expect(e.unpriced.join('\n')).toMatch(/Instance usage \(ml\.p3\.8xlarge/);
  });

  it('labels a DERIVED SageMaker price as an estimate where no verified one exists', () => {
    const spec = specOf(sagemaker('chat', 'ml.g5.2xlarge').replace('regions: [us-east-1]', 'regions: [eu-west-1]'));
    const e = estimateDeployment(spec.deployments.chat, { spec });
    expect(instance(e).price).toMatchObject({ origin: 'derived', price: '1.6912' }); // 1.35296 × 1.25
    expect(instance(e).price?.note).toMatch(/Estimate/);
    const ecr = e.resources.find((r) => /ECR/.test(r.name))!.components[0];
    expect(ecr.price).toMatchObject({ origin: 'catalog-other-region', region: 'eu-west-1', price: '0.10' });
  });

  it('prices the ALB, NAT traffic, secret and root volume for ECS on GPU instances, and no KMS key or NAT gateway the stack does not create', () => {
    const spec = specOf(
      ecs('svc', 'g5.2xlarge', 'us-east-1', '    security:\n      certificateArn: "arn:aws:acm:us-east-1:111111111111:certificate/abc"\n      createKmsKey: true\n      vpc: { vpcId: vpc-0a1b2c3d, subnets: [subnet-0a1b2c3d, subnet-0a1b2c3e], securityGroups: [sg-0a1b2c3d], natGateway: true }\n    usage: { imageSizeGb: 10, lcuPerHour: 2, natDataGbPerMonth: 100 }\n'),
    );
    const e = estimateDeployment(spec.deployments.svc, { spec });
    const cost = (name: string) => roundTo(e.resources.flatMap((r) => r.components).find((c) => c.name === name)!.monthlyCost!.low, 2);
    expect(cost('Application load balancer')).toBe(16.43);
    expect(cost('Load balancer capacity units')).toBe(11.68); // 2 × 730 × 0.008
    expect(cost('Data processed')).toBe(4.5);
    expect(cost('Secret')).toBe(0.4);
    const names = e.resources.flatMap((r) => r.components.map((c) => c.name));
    expect(names).not.toContain('NAT gateway');
    expect(names).not.toContain('Customer managed key');
    expect(cost('Image storage')).toBe(1);
    expect(cost('Storage (S3 Standard)')).toBe(0.23);
  });

  it('rejects hours per month outside 1-744', () => {
    const spec = specOf(sagemaker('chat', 'ml.g4dn.xlarge'));
    expect(() => estimateDeployments(Object.values(spec.deployments), { hoursPerMonth: 0 })).toThrow(/hours per month/);
  });

  it('records every price it used, once', () => {
    const spec = specOf(sagemaker('one', 'ml.g4dn.xlarge') + sagemaker('two', 'ml.g4dn.xlarge'));
    const book = new PriceBook();
    estimateDeployments(Object.values(spec.deployments), { prices: book, spec });
    expect(book.usedPrices().filter((p) => p.key === 'ml.g4dn.xlarge')).toHaveLength(1);
  });
});
