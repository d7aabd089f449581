import { parseSpec } from '../../../src/config/load';
import type { Deployment, Spec } from '../../../src/config/types';
import { planStack } from '../../../src/deploy/plan';
import { render } from './flow-fixtures';

/** A one-deployment spec with the given model and healthCheck lines. */
function loaded(target: string, model: string, extra = ''): Spec {
  const text = [
    'version: 1',
    'project: acme',
    'deployments:',
    '  big:',
    `    model: ${model}`,
    '    engine: { name: vllm }',
    `    target: ${target}`,
    `    instanceType: ${target.startsWith('sagemaker') ? 'ml.p4d.24xlarge' : 'p4d.24xlarge'}`,
    '    regions: [us-east-1]',
    '    security: { vpc: { vpcId: vpc-0123456789abcdef0, subnets: [subnet-0123456789abcdef0, subnet-0123456789abcdef1], securityGroups: [sg-0123456789abcdef0], natGateway: true }, certificateArn: "arn:aws:acm:us-east-1:111111111111:certificate/abc" }',
    extra,
  ].join('\n');
  return parseSpec(text, 'model-deploy.yml');
}
const deployment = (target: string, model: string, extra = ''): Deployment => loaded(target, model, extra).deployments.big!;
const param = (d: Deployment, key: string) =>
  render({ deployment: d, region: 'us-east-1', account: '111111111111', imageUri: '111111111111.dkr.ecr.us-east-1.amazonaws.com/acme/big:t' }).parameters.find((p) => p.ParameterKey === key)?.ParameterValue;

describe('wait budgets from the deployment', () => {
  it('gives a 140 GB model in an S3 prefix a longer download and start-up than a 3 GB one', () => {
    const big = deployment('sagemaker-realtime', '{ s3: "s3://weights/llama-70b/", sizeGb: 140 }');
    const small = deployment('sagemaker-realtime', '{ s3: "s3://weights/small/", sizeGb: 3 }');
    const bigDownload = Number(param(big, 'DownloadTimeoutSeconds'));
    const bigStartup = Number(param(big, 'StartupTimeoutSeconds'));
    expect(bigDownload).toBeGreaterThan(1200);
    expect(bigStartup).toBeGreaterThan(600);
    expect(Number(param(small, 'DownloadTimeoutSeconds'))).toBeLessThan(600);
    expect(Number(param(small, 'StartupTimeoutSeconds'))).toBeLessThan(600);
  });

  it('budgets an archive longer than a prefix (it is unpacked after the download)', () => {
    const prefix = deployment('sagemaker-realtime', '{ s3: "s3://weights/m/", sizeGb: 40 }');
    const archive = deployment('sagemaker-realtime', '{ s3: "s3://weights/m/model.tar.gz", sizeGb: 40 }');
    expect(Number(param(archive, 'DownloadTimeoutSeconds'))).toBeGreaterThan(Number(param(prefix, 'DownloadTimeoutSeconds')));
  });

  it("stays within SageMaker's 60-3600 s for the largest models", () => {
    const huge = deployment('sagemaker-realtime', '{ s3: "s3://weights/huge/model.tar.gz", sizeGb: 900 }');
    expect(Number(param(huge, 'DownloadTimeoutSeconds'))).toBe(3600);
    expect(Number(param(huge, 'StartupTimeoutSeconds'))).toBeLessThanOrEqual(3600);
    const tiny = deployment('sagemaker-realtime', '{ s3: "s3://weights/tiny/", sizeGb: 0.1 }');
    expect(Number(param(tiny, 'DownloadTimeoutSeconds'))).toBeGreaterThanOrEqual(60);
  });

  it('gives Inferentia and Trainium time to compile the model at start', () => {
    const gpu = deployment('sagemaker-realtime', '{ s3: "s3://weights/m/", sizeGb: 16 }');
    const inf2 = { ...gpu, instanceType: 'ml.inf2.24xlarge' };
    expect(Number(param(inf2, 'StartupTimeoutSeconds'))).toBeGreaterThan(Number(param(gpu, 'StartupTimeoutSeconds')) + 600);
  });

  it('lets a value the spec sets win over the derived one', () => {
    const d = deployment('sagemaker-realtime', '{ s3: "s3://weights/llama-70b/", sizeGb: 140 }', '    healthCheck: { startupTimeoutSeconds: 300 }');
    expect(param(d, 'StartupTimeoutSeconds')).toBe('300');
    expect(Number(param(d, 'DownloadTimeoutSeconds'))).toBeGreaterThan(1200);
  });

  it('sets the ECS health grace from the same budget', () => {
    const big = deployment('ecs', '{ s3: "s3://weights/llama-70b/", sizeGb: 140 }');
    const small = deployment('ecs', '{ s3: "s3://weights/small/", sizeGb: 3 }');
    expect(Number(param(big, 'HealthCheckGraceSeconds'))).toBeGreaterThan(Number(param(small, 'HealthCheckGraceSeconds')));
    const set = deployment('ecs', '{ s3: "s3://weights/llama-70b/", sizeGb: 140 }', '    healthCheck: { startupTimeoutSeconds: 300, modelDownloadTimeoutSeconds: 200 }');
    expect(param(set, 'HealthCheckGraceSeconds')).toBe('500');
  });

  it('says in the plan summary which budget is derived and which the spec set', () => {
    const spec = loaded('sagemaker-realtime', '{ s3: "s3://weights/llama-70b/", sizeGb: 140 }', '    healthCheck: { startupTimeoutSeconds: 300 }');
    const summary = planStack(spec.deployments.big!, { spec, region: 'us-east-1' }).summary.join('\n');
    expect(summary).toMatch(/model download \d+ s \(derived from 140 GB/);
    expect(summary).toMatch(/container start-up 300 s \(healthCheck\.startupTimeoutSeconds\)/);
  });
});
