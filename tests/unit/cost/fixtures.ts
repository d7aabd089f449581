import { parseSpec } from '../../../src/config/load';
import type { Spec } from '../../../src/config/types';

/** A spec with the given deployments (YAML fragments under `deployments:`). */
export function specOf(deployments: string, extra = ''): Spec {
  return parseSpec(`version: 1\nproject: test\n${extra}\ndeployments:\n${deployments}`, 'model-deploy.yml');
}

export function sagemaker(name: string, instanceType: string, more = ''): string {
  return `  ${name}:
    model: { huggingface: { id: org/model, revision: "0123456789abcdef0123456789abcdef01234567" }, sizeGb: 10 }
    engine: { name: vllm }
    target: sagemaker-realtime
    instanceType: ${instanceType}
    regions: [us-east-1]
    usage: { imageSizeGb: 10 }
${more}`;
}

export function ecs(name: string, instanceType: string, region = 'us-east-1', more = ''): string {
  return `  ${name}:
    model: { huggingface: { id: org/model, revision: "0123456789abcdef0123456789abcdef01234567" }, sizeGb: 10 }
    engine: { name: vllm }
    target: ecs
    instanceType: ${instanceType}
    regions: [${region}]
${more || `    security:\n      certificateArn: "arn:${region.startsWith('cn-') ? 'aws-cn' : 'aws'}:acm:${region}:111111111111:certificate/abc"\n      vpc: { vpcId: vpc-0a1b2c3d, subnets: [subnet-0a1b2c3d, subnet-0a1b2c3e], securityGroups: [sg-0a1b2c3d] }\n`}`;
}

/** dev and a prod with a promotion role in two regions: what Bedrock throughput and promotion estimates need. */
export const TWO_ENVIRONMENTS = `environments:
  dev:
    account: "111111111111"
  prod:
    account: "333333333333"
    promotionRoleArn: arn:aws:iam::333333333333:role/model-deploy-promotion
    regions: [us-east-1, us-west-2]`;

export const SIX_REGIONS = ['us-east-1', 'us-east-2', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-northeast-1'];

/** `count` SageMaker deployments in `regions`, cycling through `types` from `shift` (the large-spec cases). */
export function manyDeployments(count: number, regions: string[], types: string[], shift = 0): string {
  return Array.from({ length: count }, (_, i) => sagemaker(`model-${i}`, types[(i + shift) % types.length] ?? 'ml.g5.xlarge').replace('regions: [us-east-1]', `regions: [${regions.join(', ')}]`)).join('');
}

/**
 * The bill tests' week: run on 2026-12-06, the seven full days before it, the cost allocation tags the
 * estimate groups by, and ml.g5.2xlarge hosting in us-east-1 at $1.515 an hour.
 */
export const BILL: { NOW: Date; WEEK: string[]; TAGS: string[]; HOST: number } = {
  NOW: new Date('2026-12-06T07:40:00Z'),
  WEEK: ['2026-11-29', '2026-11-30', '2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04', '2026-12-05'],
  TAGS: ['model-deploy:project', 'model-deploy:deployment', 'model-deploy:environment'],
  HOST: 1.515,
};
