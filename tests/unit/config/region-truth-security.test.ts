/**
 * Per-environment security (#22): the bundled example's code-assistant serves dev, staging (another
 * account) and prod (a third account, two regions); each environment and region gets its own VPC
 * from security.environments, in the stack, the hostname check and the estimate alike.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { plan } from '../../../src/plan/plan';
import { loadSpec } from '../../../src/config/load';
import { securityIn, vpcFor } from '../../../src/config/region-truth';
import { checkEndpointHost } from '../../../src/deploy/certificate';
import { memoryReporter } from '../../../src/core/log';
import { render } from '../deploy/flow-fixtures';

const spec = loadSpec(path.join(__dirname, '..', '..', '..', 'examples', 'model-deploy.yml'));
const coder = spec.deployments['code-assistant']!;
const param = (r: ReturnType<typeof render>, key: string) => r.parameters.find((p) => p.ParameterKey === key)?.ParameterValue;

function rendered(environmentName: string, region: string) {
  return render({
    deployment: coder, region, environmentName, environment: spec.environments[environmentName],
    imageUri: `${spec.environments[environmentName]!.account}.dkr.ecr.${region}.amazonaws.com/acme-llm/code-assistant:md-abc`,
    modelDataUrl: `s3://model-deploy-${spec.environments[environmentName]!.account}-${region}/m/`,
    apiKeySecretArn: `arn:aws:secretsmanager:${region}:${spec.environments[environmentName]!.account}:secret:x-AbCdEf`,
  });
}

describe('security.environments in the bundled example', () => {
  it.each([
    ['dev', 'us-east-1', 'vpc-0a1b2c3d4e5f60718', 'subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60002', 'subnet-0a1b2c3d4e5f60011,subnet-0a1b2c3d4e5f60012'],
    ['staging', 'us-east-1', 'vpc-0b1c2d3e4f5a60718', 'subnet-0b1c2d3e4f5a60001,subnet-0b1c2d3e4f5a60002', 'subnet-0b1c2d3e4f5a60011,subnet-0b1c2d3e4f5a60012'],
    ['prod', 'us-east-1', 'vpc-0c1d2e3f4a5b60718', 'subnet-0c1d2e3f4a5b60001,subnet-0c1d2e3f4a5b60002', 'subnet-0c1d2e3f4a5b60011,subnet-0c1d2e3f4a5b60012'],
    ['prod', 'eu-west-1', 'vpc-0d1e2f3a4b5c60718', 'subnet-0d1e2f3a4b5c60001,subnet-0d1e2f3a4b5c60002', 'subnet-0d1e2f3a4b5c60011,subnet-0d1e2f3a4b5c60012'],
  ])('%s in %s: the stack gets that environment and region’s VPC', (env, region, vpcId, subnets, lbSubnets) => {
    const r = rendered(env, region);
    expect(param(r, 'VpcId')).toBe(vpcId);
    expect(param(r, 'SubnetIds')).toBe(subnets);
    expect(param(r, 'LoadBalancerSubnetIds')).toBe(lbSubnets);
    expect(vpcFor(coder.security, env, region).vpc?.vpcId).toBe(vpcId);
  });

  it("an environment's own hostname is the one its certificate must cover; others keep security.hostname", async () => {
    const security = { ...coder.security, environments: { ...coder.security.environments, staging: { ...coder.security.environments?.staging, hostname: 'code-assistant.staging.example.com' } } };
    const d = { ...coder, security };
    expect(securityIn(d.security, 'staging', 'us-east-1').hostname).toBe('code-assistant.staging.example.com');
    expect(securityIn(d.security, 'prod', 'us-east-1').hostname).toBe('code-assistant.example.com');
    const names = async () => ({ DomainName: 'code-assistant.example.com' });
    await expect(checkEndpointHost(d, 'us-east-1', memoryReporter(), names, 'staging')).rejects.toThrow(/names code-assistant.example.com, not security.hostname code-assistant.staging.example.com/);
    await expect(checkEndpointHost(d, 'us-east-1', memoryReporter(), names, 'prod')).resolves.toBeUndefined();
  });

  it.each(['dev', 'staging', 'prod'])('the example plans for %s, every region with its own VPC', async (environment) => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-env-security-'));
    try {
      const result = await plan(spec, { outDir, environment });
      expect(result.environment).toBe(environment);
    } finally {
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  });

  it('the same example with one VPC for every environment: plan for prod is refused at security.vpc', async () => {
    const { environments: _own, ...security } = coder.security;
    const oneVpc = { ...spec, deployments: { ...spec.deployments, 'code-assistant': { ...coder, security } } };
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-env-security-'));
    try {
      await expect(plan(oneVpc, { outDir, environment: 'prod' })).rejects.toThrow(/security.vpc is one VPC, but environment prod deploys to us-east-1, eu-west-1/);
    } finally {
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  });
});
