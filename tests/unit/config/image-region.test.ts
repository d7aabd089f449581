import { parseSpec } from '../../../src/config/load';

const spec = (image: string, regions: string, target = 'sagemaker-realtime') => `version: 1
project: acme
deployments:
  chat:
    model:
      s3: s3://weights/chat/
      image: ${image}
    target: ${target}
    instanceType: ${target === 'ecs' ? 'g5.2xlarge' : 'ml.g5.2xlarge'}
    regions: [${regions}]
${target === 'ecs' ? `    security: { certificateArn: "arn:aws:acm:${regions.split(',')[0]}:111111111111:certificate/abc", vpc: { vpcId: vpc-0123456789abcdef0, subnets: [subnet-0123456789abcdef0, subnet-0123456789abcdef1], securityGroups: [sg-0123456789abcdef0] } }\n` : ''}`;

function errorOf(text: string): { message: string; location?: unknown; hint?: string } | undefined {
  try {
    parseSpec(text, 'model-deploy.yml');
    return undefined;
  } catch (err) {
    return err as { message: string; location?: unknown; hint?: string };
  }
}

describe('spec: model.image for SageMaker in each of its regions', () => {
  const own = '111111111111.dkr.ecr.us-east-1.amazonaws.com/acme/llm:v1';

  it('refuses an own ECR image for a region it is not in, at the image line', () => {
    const e = errorOf(spec(own, 'us-east-1, eu-west-1'));
    expect(e?.message).toMatch(/model\.image .* is not in eu-west-1, where the endpoint runs/);
    expect(e?.location).toEqual({ file: 'model-deploy.yml', line: 7, column: 14 });
    expect(e?.hint).toMatch(/replication/);
  });

  it('accepts it in its own region, a DLC tag in any region, and any region on ECS (which pulls across regions)', () => {
    expect(errorOf(spec(own, 'us-east-1'))).toBeUndefined();
    expect(errorOf(spec('763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.4.0-tgi2.4.0-gpu-py311-cu124-ubuntu22.04', 'us-east-1, eu-west-1'))).toBeUndefined();
    expect(errorOf(spec(own, 'eu-west-1', 'ecs'))).toBeUndefined();
  });
});
