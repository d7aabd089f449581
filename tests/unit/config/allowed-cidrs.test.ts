/**
 * security.allowedCidrs per environment, and the blocks EC2 would refuse or widen: dev, staging and prod
 * of one deployment are usually reached from different networks (a VPN for dev, a partner range for prod),
 * and a block written with host bits admits more than its reader sees (EC2 masks them: 10.0.0.5/24 admits
 * 10.0.0.0/24), while an octet over 255 or a prefix over 32 fails the deploy ("CIDR block ... is malformed").
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseSpec } from '../../../src/config/load';
import { cidrProblem } from '../../../src/config/cidrs';
import { specProblems } from '../../support/spec-problems';
import { render } from '../deploy/flow-fixtures';

const EXAMPLE = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'examples', 'model-deploy.yml'), 'utf8');
// code-assistant (ec2) gives prod its own VPCs under security.environments; prod's own CIDRs go beside them.
const PROD_VPCS = '        prod:\n          vpcs:\n';
const withProdCidrs = (cidrs: string) => {
  if (!EXAMPLE.includes(PROD_VPCS)) throw new Error('the example changed: security.environments.prod.vpcs not found');
  return EXAMPLE.replace(PROD_VPCS, `        prod:\n          allowedCidrs: ${cidrs}\n          vpcs:\n`);
};

function ingress(text: string, environmentName: string, region = 'us-east-1'): string[] {
  const spec = parseSpec(text, 'model-deploy.yml');
  const d = spec.deployments['code-assistant']!;
  const account = spec.environments[environmentName]!.account;
  const r = render({
    deployment: d, region, environmentName, environment: spec.environments[environmentName],
    imageUri: `${account}.dkr.ecr.${region}.amazonaws.com/acme-llm/code-assistant:md-abc`,
    modelDataUrl: `s3://model-deploy-${account}-${region}/m/`,
    apiKeySecretArn: `arn:aws:secretsmanager:${region}:${account}:secret:x-AbCdEf`,
  });
  const group = (r.template.Resources as Record<string, { Properties: { SecurityGroupIngress: { CidrIp: string; FromPort: number }[] } }>).LoadBalancerSecurityGroup!;
  return group.Properties.SecurityGroupIngress.filter((rule) => rule.FromPort === 443).map((rule) => rule.CidrIp);
}

describe('security.environments.ENV.allowedCidrs', () => {
  it("prod's load balancer admits prod's blocks, in each of its regions; dev and staging keep security.allowedCidrs", () => {
    const text = withProdCidrs('[198.51.100.0/24, 203.0.113.7/32]');
    expect(ingress(text, 'prod', 'us-east-1')).toEqual(['198.51.100.0/24', '203.0.113.7/32']);
    expect(ingress(text, 'prod', 'eu-west-1')).toEqual(['198.51.100.0/24', '203.0.113.7/32']);
    expect(ingress(text, 'dev')).toEqual(['10.0.0.0/8']);
    expect(ingress(text, 'staging')).toEqual(['10.0.0.0/8']);
  });

  it('without its own list an environment keeps the deployment’s (the example as shipped)', () => {
    expect(ingress(EXAMPLE, 'prod')).toEqual(['10.0.0.0/8']);
  });

  it('an empty list is refused where it is written (a load balancer nobody may reach)', () => {
    const problems = specProblems(withProdCidrs('[]'));
    expect(problems.map((p) => p.message).join('\n')).toMatch(/security\.environments\.prod\.allowedCidrs/);
  });
});

describe('CIDR blocks EC2 would refuse or widen', () => {
  it.each([['0.0.0.0/0'], ['10.0.0.0/8'], ['203.0.113.7/32'], ['192.168.4.0/22']])('%s is taken as written', (cidr) => {
    expect(cidrProblem(cidr)).toBeUndefined();
  });

  it.each([
    ['10.0.0.5/24', 'has host bits set: AWS would admit 10.0.0.0/24'],
    ['192.168.5.0/22', 'has host bits set: AWS would admit 192.168.4.0/22'],
    ['255.255.255.255/0', 'has host bits set: AWS would admit 0.0.0.0/0'],
    ['300.1.1.0/24', 'has an octet over 255 (300)'],
    ['10.0.0.0/33', 'has a prefix over 32 (/33)'],
    ['10.0.0/8', 'is not an IPv4 CIDR block (a.b.c.d/n)'],
  ])('%s %s', (cidr, problem) => {
    expect(cidrProblem(cidr)).toBe(problem);
  });

  it("a block with host bits in prod's list is refused at its line, with the block AWS would admit", () => {
    const text = withProdCidrs('[198.51.100.0/24, 203.0.113.9/28]');
    const problems = specProblems(text);
    expect(problems).toHaveLength(1);
    const p = problems[0]!;
    expect(p.message).toMatch(/security\.environments\.prod\.allowedCidrs\[1\] "203\.0\.113\.9\/28" has host bits set: AWS would admit 203\.0\.113\.0\/28/);
    expect(p.hint).toMatch(/Write 203\.0\.113\.0\/28/);
    const line = text.split('\n').findIndex((l) => l.includes('203.0.113.9/28')) + 1;
    expect(p.location?.line).toBe(line);
  });

  it('an octet over 255 in security.allowedCidrs is refused before anything deploys', () => {
    const text = EXAMPLE.replace('allowedCidrs: [10.0.0.0/8]', 'allowedCidrs: [10.0.0.0/8, 256.0.0.0/8]');
    expect(text).not.toBe(EXAMPLE);
    const problems = specProblems(text);
    expect(problems.map((p) => p.message)).toEqual([expect.stringMatching(/security\.allowedCidrs\[1\] "256\.0\.0\.0\/8" has an octet over 255/)]);
  });

  it('a SageMaker deployment is not refused for a list it does not use', () => {
    const text = EXAMPLE.replace(/( {2}qwen-chat:[\s\S]*? {4}security:\n)/, '$1      allowedCidrs: [10.0.0.5/8]\n');
    expect(text).not.toBe(EXAMPLE);
    expect(specProblems(text)).toEqual([]);
  });
});
