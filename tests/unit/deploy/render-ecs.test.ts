import * as path from 'path';
import { loadSpec } from '../../../src/config/load';
import { API_KEY_SECRET_PLACEHOLDER, fargateSize, gpuCount } from '../../../src/deploy/render';
import { render as renderStack } from './flow-fixtures';
import type { Deployment } from '../../../src/config/types';
import { validateTemplate } from '../../support/cloudformation/resource-spec';

const spec = loadSpec(path.join(__dirname, '..', '..', '..', 'examples', 'model-deploy.yml'));
const coder = spec.deployments['code-assistant'];
const IMAGE = '111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-llm/code-assistant:abc123';
const SECRET = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:acme-llm/code-assistant/dev/api-key-AbCdEf';
const DATA = 's3://model-deploy-111111111111-us-east-1/models/code-assistant/';

function variant(change: (x: Deployment) => void, d: Deployment = coder): Deployment {
  const copy = structuredClone(d);
  change(copy);
  return copy;
}
type R = ReturnType<typeof renderStack>;
const param = (r: R, key: string) => r.parameters.find((p) => p.ParameterKey === key)?.ParameterValue;
const res = (r: R, id: string) => (r.template.Resources as Record<string, any>)[id];
const render = (d: Deployment, extra: Partial<Parameters<typeof renderStack>[0]> = {}) =>
  renderStack({ deployment: d, region: 'us-east-1', environmentName: 'dev', environment: spec.environments.dev, imageUri: IMAGE, modelDataUrl: DATA, apiKeySecretArn: SECRET, ...extra });

/** Every parameter without a default is given, the rendered template still passes the spec checks. */
function checkComplete(r: R) {
  const declared = r.template.Parameters as Record<string, { Default?: unknown; AllowedValues?: unknown[] }>;
  const given = new Map(r.parameters.map((p) => [p.ParameterKey, p.ParameterValue]));
  for (const [name, p] of Object.entries(declared)) {
    if (p.Default === undefined) expect({ name, given: given.has(name) }).toEqual({ name, given: true });
    if (p.AllowedValues && given.has(name)) expect({ name, allowed: p.AllowedValues.map(String).includes(given.get(name)!) }).toEqual({ name, allowed: true });
  }
  for (const key of given.keys()) expect(Object.keys(declared)).toContain(key);
  expect(validateTemplate(r.template)).toEqual([]);
}
const container = (r: R, name: string) => {
  const defs = res(r, 'TaskDefinition').Properties.ContainerDefinitions.map((c: any) => (c['Fn::If'] ? c['Fn::If'][1] : c));
  return defs.find((c: any) => c.Name === name);
};

describe('ecs on a GPU instance type (the example code-assistant)', () => {
  const r = render(coder);

  it('renders a GPU capacity provider in the private subnets and an internet-facing ALB in the public ones', () => {
    checkComplete(r);
    expect(r.templateFile).toBe('templates/stacks/ecs.yaml');
    expect(param(r, 'Compute')).toBe('gpu');
    expect(param(r, 'GpuCount')).toBe('1');
    expect(param(r, 'SubnetIds')).toBe('subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60002');
    expect(param(r, 'LoadBalancerSubnetIds')).toBe('subnet-0a1b2c3d4e5f60011,subnet-0a1b2c3d4e5f60012');
    expect(param(r, 'LoadBalancerScheme')).toBe('internet-facing');
    expect(param(r, 'AssignPublicIp')).toBe('false');
    expect(param(r, 'HealthCheckPath')).toBe('/health');
    // The download and start-up budgets of its 15.2 GB from an S3 prefix (src/deploy/budgets.ts).
    expect(param(r, 'HealthCheckGraceSeconds')).toBe('588');
    expect(param(r, 'CapacityMax')).toBe('2');
    expect(param(r, 'RootVolumeGb')).toBe('100');
    expect(r.notes).toEqual([]);
    const lt = res(r, 'LaunchTemplate').Properties.LaunchTemplateData;
    expect(lt.MetadataOptions).toEqual({ HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 });
    expect(lt.BlockDeviceMappings[0].Ebs).toEqual(expect.objectContaining({ Encrypted: true, VolumeType: 'gp3' }));
    expect(JSON.stringify(lt.UserData)).toMatch(/ECS_AWSVPC_BLOCK_IMDS=true/);
    expect((r.template.Parameters as any).GpuAmiId).toEqual(expect.objectContaining({ Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>', Default: '/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id' }));
  });

  it("injects both API keys from Secrets Manager labels; the tasks run as the environment's bootstrap roles", () => {
    expect(param(r, 'ApiKeySecretArn')).toBe(SECRET);
    const model = container(r, 'model');
    expect(model.Secrets['Fn::If'][1]).toEqual([
      { Name: 'MODEL_DEPLOY_API_KEY_A', ValueFrom: { 'Fn::Sub': '${ApiKeySecretArn}:apiKey:MD_SERVE_A:' } },
      { Name: 'MODEL_DEPLOY_API_KEY_B', ValueFrom: { 'Fn::Sub': '${ApiKeySecretArn}:apiKey:MD_SERVE_B:' } },
    ]);
    expect(model.PortMappings).toEqual([{ ContainerPort: 8080, Protocol: 'tcp', Name: 'http' }]);
    expect(model.ResourceRequirements['Fn::If'][1]).toEqual([{ Type: 'GPU', Value: { Ref: 'GpuCount' } }]);
    // Issue 20: what the roles may read (this environment's secrets, the project's images) is the bootstrap's.
    const task = res(r, 'TaskDefinition').Properties;
    expect(task.TaskRoleArn).toEqual({ Ref: 'TaskRoleArn' });
    expect(task.ExecutionRoleArn).toEqual({ Ref: 'TaskExecutionRoleArn' });
    expect(param(r, 'TaskRoleArn')).toBe('arn:aws:iam::111111111111:role/acme-llm.dev.ecs-task');
    expect(param(r, 'TaskExecutionRoleArn')).toBe('arn:aws:iam::111111111111:role/acme-llm.dev.ecs-exec');
    expect(param(r, 'InstanceProfileArn')).toBe('arn:aws:iam::111111111111:instance-profile/acme-llm.dev.ecs-instance');
    expect(res(r, 'LaunchTemplate').Properties.LaunchTemplateData.IamInstanceProfile).toEqual({ Arn: { Ref: 'InstanceProfileArn' } });
  });

  it('copies the weights in an init container', () => {
    // Promoted weights by version id (tests/unit/security/weights-at-boot.test.ts runs it); a dev prefix synced.
    const script = container(r, 'model-sync').Command[0]['Fn::Sub'] as string;
    expect(script).toMatch(/fetch_pinned_weights '\$\{ModelDataUrl\}' \/opt\/ml\/model/);
    expect(script).toContain(`aws s3 sync '\${ModelDataUrl}' /opt/ml/model --only-show-errors`);
    expect(container(r, 'model').DependsOn['Fn::If'][2]['Fn::If'][1]).toEqual([{ ContainerName: 'model-sync', Condition: 'SUCCESS' }]);
  });

  it('keeps capacity during deployments, rolls back failed ones and lets only the ALB reach port 8080', () => {
    const svc = res(r, 'Service').Properties;
    expect(svc.DeploymentConfiguration).toEqual({ MinimumHealthyPercent: 100, MaximumPercent: 200, DeploymentCircuitBreaker: { Enable: true, Rollback: true } });
    expect(svc.LoadBalancers).toEqual([{ ContainerName: 'model', ContainerPort: 8080, TargetGroupArn: { Ref: 'TargetGroup' } }]);
    expect(res(r, 'TaskIngressFromLoadBalancer').Properties).toEqual(expect.objectContaining({ FromPort: 8080, ToPort: 8080, SourceSecurityGroupId: { Ref: 'LoadBalancerSecurityGroup' } }));
    expect(res(r, 'LoadBalancerSecurityGroup').Properties.SecurityGroupIngress).toEqual([
      { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: '10.0.0.0/8', Description: 'HTTPS' },
      { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, CidrIp: '10.0.0.0/8', Description: 'HTTP (redirected to HTTPS)' },
    ]);
    expect(res(r, 'HttpsListener').Properties.SslPolicy).toBe('ELBSecurityPolicy-TLS13-1-2-2021-06');
    expect(res(r, 'HttpListener').Properties.DefaultActions[0].RedirectConfig).toEqual({ Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' });
    expect(Object.keys(r.template.Outputs as object)).toEqual(expect.arrayContaining(['EndpointName', 'EndpointArn', 'EndpointUrl', 'ClusterName', 'ServiceName', 'LoadBalancerDnsName', 'ApiKeySecretArn']));
  });

  it('puts a placeholder for the secret in the offline plan and serves keyless when the key is off', () => {
    const offline = renderStack({ deployment: coder, region: 'us-east-1' });
    expect(param(offline, 'ApiKeySecretArn')).toBe(API_KEY_SECRET_PLACEHOLDER);
    const open = render(variant((x) => (x.apiKey.enabled = false)));
    expect(param(open, 'ApiKeySecretArn')).toBe('');
    expect(open.notes).toEqual([expect.stringMatching(/apiKey.enabled is false/)]);
  });

  it('scales the service on requests per target, with room for a rolling deployment', () => {
    const r2 = render(variant((x) => { x.autoscaling = { min: 1, max: 3, targetInvocationsPerInstance: 40, targetBacklogPerInstance: 5, scaleInCooldownSeconds: 300, scaleOutCooldownSeconds: 60 }; }));
    checkComplete(r2);
    expect(param(r2, 'AutoscalingEnabled')).toBe('true');
    expect(param(r2, 'CapacityMax')).toBe('6');
    expect(param(r2, 'TargetRequestsPerTask')).toBe('40');
    expect(res(r2, 'Service').Properties.DesiredCount).toEqual({ 'Fn::If': ['HasAutoscaling', { Ref: 'AWS::NoValue' }, { Ref: 'InstanceCount' }] });
  });

  it('outputs https://HOSTNAME, the name the certificate covers, and makes the alias record only with a zone (13.4)', () => {
    const r = render(coder);
    checkComplete(r);
    expect(param(r, 'Hostname')).toBe('code-assistant.example.com');
    expect(param(r, 'HostedZoneId')).toBe('');
    expect((r.template.Outputs as any).EndpointUrl.Value).toEqual({ 'Fn::If': ['HasHostname', { 'Fn::Sub': 'https://${Hostname}' }, { 'Fn::Sub': 'https://${LoadBalancer.DNSName}' }] });
    expect(res(r, 'DnsRecord')).toBeUndefined();
    const zoned = render(variant((x) => { x.security.hostedZoneId = 'Z0123456789ABC'; }));
    checkComplete(zoned);
    expect(param(zoned, 'HostedZoneId')).toBe('Z0123456789ABC');
    expect(res(zoned, 'DnsRecord').Condition).toBe('CreateDnsRecord');
    expect(res(zoned, 'DnsRecord').Properties).toMatchObject({ Name: { Ref: 'Hostname' }, Type: 'A', AliasTarget: { DNSName: { 'Fn::GetAtt': ['LoadBalancer', 'DNSName'] } } });
  });

  it('adds engine.env to the model container', () => {
    const r2 = render(variant((x) => (x.engine!.env = { VLLM_LOGGING_LEVEL: 'DEBUG' })));
    expect(container(r2, 'model').Environment).toEqual(expect.arrayContaining([{ Name: 'VLLM_LOGGING_LEVEL', Value: 'DEBUG' }]));
  });

  it('unpacks a .tar.gz with the serving image after the CLI container copied it', () => {
    const r2 = render(coder, { modelDataUrl: 's3://weights/coder/model.tar.gz' });
    expect(param(r2, 'ModelDataMode')).toBe('tar.gz');
    expect(container(r2, 'model-unpack').DependsOn).toEqual([{ ContainerName: 'model-sync', Condition: 'SUCCESS' }]);
    expect(param(r2, 'RootVolumeGb')).toBe('100');
  });

  it('refuses Neuron instance types and warns about GPU tasks without NAT', () => {
    expect(() => render(variant((x) => (x.instanceType = 'inf2.xlarge')))).toThrow(/Neuron accelerators/);
    const noNat = render(variant((x) => { x.security.vpc!.natGateway = false; }));
    expect(noNat.notes).toEqual([expect.stringMatching(/VPC endpoints/)]);
  });
});

describe('ecs on a CPU instance type (Fargate)', () => {
  const cpu = variant((x) => { x.instanceType = 'm5.2xlarge'; x.model.sizeGb = 3; x.usage.imageSizeGb = 5; x.security.vpc!.publicSubnets = undefined; x.security.vpc!.natGateway = false; });

  it('runs on Fargate with a matching size and a public IP in public subnets', () => {
    const r = render(cpu);
    checkComplete(r);
    expect(param(r, 'Compute')).toBe('fargate');
    expect(param(r, 'TaskCpu')).toBe('8192');
    expect(param(r, 'TaskMemory')).toBe('32768');
    expect(param(r, 'EphemeralStorageGb')).toBe('33');
    expect(param(r, 'AssignPublicIp')).toBe('true');
    expect(param(r, 'LoadBalancerScheme')).toBe('internet-facing');
    expect(param(r, 'LoadBalancerSubnetIds')).toBe(param(r, 'SubnetIds'));
  });

  it('puts the ALB inside when the instances are private and no public subnets are given', () => {
    const r = render(variant((x) => (x.security.vpc!.natGateway = true), cpu));
    expect(param(r, 'LoadBalancerScheme')).toBe('internal');
    expect(param(r, 'AssignPublicIp')).toBe('false');
    expect(r.notes).toEqual([expect.stringMatching(/load balancer is internal/)]);
  });

  it('refuses a model too large for Fargate storage', () => {
    expect(() => render(variant((x) => (x.model.sizeGb = 190), cpu))).toThrow(/need about 220 GiB of task storage; Fargate offers at most 200/);
  });
});

describe('ec2', () => {
  const ec2 = variant((x) => (x.target = 'ec2'));
  const r = render(ec2);

  it('renders an Auto Scaling group from the ECS GPU AMI that signals when /ping answers', () => {
    checkComplete(r);
    expect(r.templateFile).toBe('templates/stacks/ec2.yaml');
    expect(param(r, 'AmiId')).toBe('/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id');
    expect(param(r, 'Accelerated')).toBe('true');
    // Boot and pull, then the download and start-up budgets of 15.2 GB from an S3 prefix.
    expect(param(r, 'ReadyTimeoutSeconds')).toBe('888');
    const asg = res(r, 'AutoScalingGroup');
    expect(asg.CreationPolicy.ResourceSignal).toEqual({ Count: { Ref: 'InstanceCount' }, Timeout: { 'Fn::Sub': 'PT${ReadyTimeoutSeconds}S' } });
    expect(asg.UpdatePolicy).toEqual({ AutoScalingReplacingUpdate: { WillReplace: true } });
    const lt = res(r, 'LaunchTemplate').Properties.LaunchTemplateData;
    expect(lt.MetadataOptions.HttpTokens).toBe('required');
    const userData = lt.UserData['Fn::Base64']['Fn::Sub'] as string;
    expect(userData).toMatch(/--gpus all/);
    expect(userData).toMatch(/-v \/etc\/model-deploy\/keys:\/etc\/model-deploy\/keys:ro/);
    expect(userData).toMatch(/docker cp "\$cid:\/opt\/model-deploy\/refresh-keys.sh" \/opt\/model-deploy\/refresh-keys.sh/);
    expect(userData).toMatch(/OnUnitActiveSec=1min/);
    expect(userData).toMatch(/signal SUCCESS/);
    // Shell variables in Fn::Sub must not look like template references.
    expect(validateTemplate(r.template)).toEqual([]);
  });

  it("runs the instances as the environment's bootstrap role and names the bootstrap's refresh document", () => {
    // Issue 20: the instance role (SSM, images, weights, the environment's keys) and the document are the bootstrap's.
    expect(param(r, 'InstanceProfileArn')).toBe('arn:aws:iam::111111111111:instance-profile/acme-llm.dev.ec2-instance');
    expect(res(r, 'LaunchTemplate').Properties.LaunchTemplateData.IamInstanceProfile).toEqual({ Arn: { Ref: 'InstanceProfileArn' } });
    expect(param(r, 'RefreshKeysDocumentName')).toBe('acme-llm.dev.refresh-keys');
    expect((r.template.Outputs as any).RefreshKeysDocumentName.Value).toEqual({ Ref: 'RefreshKeysDocumentName' });
    expect(Object.keys(r.template.Outputs as object)).toEqual(expect.arrayContaining(['EndpointName', 'EndpointArn', 'EndpointUrl', 'AutoScalingGroupName', 'LoadBalancerDnsName']));
  });

  it('passes engine.env as an env file and refuses values that would break it', () => {
    const r2 = render(variant((x) => (x.engine!.env = { VLLM_LOGGING_LEVEL: 'DEBUG' }), ec2));
    expect(Buffer.from(param(r2, 'EngineEnvironmentBase64')!, 'base64').toString()).toBe('VLLM_LOGGING_LEVEL=DEBUG\n');
    expect(() => render(variant((x) => (x.engine!.env = { A: 'x\ny' }), ec2))).toThrow(/environment file/);
  });

  it('uses the plain ECS AMI without GPUs for CPU types', () => {
    const r2 = render(variant((x) => (x.instanceType = 'c7i.2xlarge'), ec2));
    expect(param(r2, 'Accelerated')).toBe('false');
    expect(param(r2, 'AmiId')).toBe('/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id');
  });
});

describe('instance sizing helpers', () => {
  it('counts GPUs per instance type', () => {
    expect(['g5.2xlarge', 'g5.12xlarge', 'g5.48xlarge', 'g6e.xlarge', 'p4d.24xlarge', 'p5.4xlarge', 'p3.8xlarge', 'm5.xlarge'].map(gpuCount)).toEqual([1, 4, 8, 1, 8, 1, 4, undefined]);
  });
  it('maps CPU types to valid Fargate sizes', () => {
    expect(fargateSize('m5.xlarge')).toEqual({ cpu: 4096, memoryMiB: 16384, exact: true });
    expect(fargateSize('c5.large')).toEqual({ cpu: 2048, memoryMiB: 4096, exact: true });
    expect(fargateSize('r5.xlarge')).toEqual({ cpu: 4096, memoryMiB: 30720, exact: false });
    expect(fargateSize('r5.4xlarge')).toEqual({ cpu: 16384, memoryMiB: 122880, exact: false });
    expect(fargateSize('c5.9xlarge')).toEqual({ cpu: 16384, memoryMiB: 73728, exact: false });
  });
});
