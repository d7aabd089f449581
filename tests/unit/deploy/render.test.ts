import * as path from 'path';
import { loadSpec } from '../../../src/config/load';
import { IMAGE_PLACEHOLDER, MODEL_DATA_PLACEHOLDER, asyncInputPrefix, dataCaptureUri, hasInstanceStorage } from '../../../src/deploy/render';
import { exampleTarget } from '../../support/target';
import { render as renderStack, renderParameters as stackParameters } from './flow-fixtures';
import { planStack } from '../../../src/deploy/plan';
import type { Deployment } from '../../../src/config/types';
import { validateTemplate } from '../../support/cloudformation/resource-spec';

const spec = loadSpec(path.join(__dirname, '..', '..', '..', 'examples', 'model-deploy.yml'));
const chat = spec.deployments['qwen-chat'];
const batch = spec.deployments['summarizer-batch'];
const IMAGE = '111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-llm/qwen-chat:abc123';

function variant(d: Deployment, change: (x: Deployment) => void): Deployment {
  const copy = structuredClone(d);
  change(copy);
  return copy;
}
const param = (r: ReturnType<typeof renderStack>, key: string) => r.parameters.find((p) => p.ParameterKey === key)?.ParameterValue;
const res = (r: ReturnType<typeof renderStack>, id: string) => (r.template.Resources as Record<string, any>)[id];

function checkComplete(r: ReturnType<typeof renderStack>) {
  const declared = r.template.Parameters as Record<string, { Default?: unknown }>;
  const given = new Set(r.parameters.map((p) => p.ParameterKey));
  for (const [name, p] of Object.entries(declared)) if (p.Default === undefined) expect({ name, given: given.has(name) }).toEqual({ name, given: true });
  expect(validateTemplate(r.template)).toEqual([]);
  expect(JSON.parse(r.templateBody)).toEqual(r.template);
}

describe('renderStack on the example spec', () => {
  it('renders the real-time endpoint with names, tags and placeholders for build outputs', () => {
    const r = renderStack({ deployment: chat, region: 'us-east-1', environmentName: 'dev', environment: spec.environments.dev });
    checkComplete(r);
    expect(r.stackName).toBe('acme-llm-qwen-chat-dev');
    expect(r.endpointName).toBe('acme-llm-qwen-chat-dev');
    expect(r.templateFile).toBe('templates/stacks/sagemaker-realtime.yaml');
    expect(r.capabilities).toEqual(['CAPABILITY_IAM']);
    expect(r.terminationProtection).toBe(false);
    expect(r.tags).toEqual(expect.arrayContaining([{ Key: 'model-deploy:deployment', Value: 'qwen-chat' }, { Key: 'team', Value: 'ml-platform' }, { Key: 'model-deploy:environment', Value: 'dev' }]));
    expect(param(r, 'ImageUri')).toBe(IMAGE_PLACEHOLDER);
    expect(param(r, 'ModelDataUrl')).toBe(MODEL_DATA_PLACEHOLDER);
    // The model runs as the bootstrap's SageMaker role of dev (issue 20: the stack makes no role).
    expect(param(r, 'ExecutionRoleArn')).toBe('arn:aws:iam::111111111111:role/acme-llm.dev.sagemaker');
    expect(param(r, 'RolloutType')).toBe('ALL_AT_ONCE');
    expect(param(r, 'AutoscalingEnabled')).toBe('true');
    expect(param(r, 'AutoscalingMax')).toBe('3');
    expect(param(r, 'TargetInvocationsPerInstance')).toBe('60');
    // Captures go where the bootstrap's SageMaker role may write them (issue 20: it writes nowhere else).
    // In dev's folder: a bucket the environments of an account share is guarded by prefix alone.
    expect(param(r, 'DataCaptureS3Uri')).toBe('s3://model-deploy-111111111111-us-east-1/datacapture/acme-llm/dev/qwen-chat/');
    expect(param(r, 'DataCapturePercent')).toBe('5');
    expect(param(r, 'LatencyThresholdMicroseconds')).toBe('10000000');
    // ml.g5 has NVMe storage: SageMaker takes neither a volume size nor a volume key there.
    expect(param(r, 'VolumeSizeGb')).toBe('0');
    expect(param(r, 'EncryptVolume')).toBe('false');
    expect(r.notes).toEqual([expect.stringMatching(/volumeSizeGb 64 is ignored: ml\.g5\.2xlarge has local NVMe storage/)]);
    expect(res(r, 'Endpoint').Properties.RetainAllVariantProperties).toBe(true);
    expect(res(r, 'Model').Properties.PrimaryContainer.Environment).toEqual(expect.objectContaining({ MODEL_DEPLOY_DEPLOYMENT: { Ref: 'DeploymentName' } }));
  });

  it('protects prod stacks unless the environment says otherwise', () => {
    expect(renderStack({ deployment: chat, region: 'eu-west-1', environmentName: 'prod', environment: spec.environments.prod }).terminationProtection).toBe(true);
    expect(renderStack({ deployment: chat, region: 'us-east-1', environmentName: 'prod' }).terminationProtection).toBe(true);
    expect(renderStack({ deployment: chat, region: 'us-east-1', environmentName: 'prod', environment: { ...spec.environments.prod, terminationProtection: false } }).terminationProtection).toBe(false);
  });

  it('renders the async endpoint with its paths, topics and scale-to-zero', () => {
    const r = renderStack({ deployment: batch, region: 'us-east-1', environmentName: 'dev', environment: spec.environments.dev, imageUri: IMAGE, modelDataUrl: 's3://model-deploy-111111111111-us-east-1/models/summarizer/' });
    checkComplete(r);
    expect(r.templateFile).toBe('templates/stacks/sagemaker-async.yaml');
    expect(param(r, 'OutputS3Uri')).toBe('s3://acme-llm-async/summarizer/output/');
    expect(param(r, 'FailureS3Uri')).toBe('s3://acme-llm-async/summarizer/failure/');
    expect(param(r, 'MaxConcurrentInvocationsPerInstance')).toBe('4');
    expect(param(r, 'AutoscalingMin')).toBe('0');
    expect(param(r, 'TargetBacklogPerInstance')).toBe('5');
    expect(res(r, 'WakeFromZeroScaling').Properties.PolicyType).toBe('StepScaling');
    expect(res(r, 'BacklogWithoutCapacityAlarm').Properties.AlarmActions).toEqual([{ Ref: 'WakeFromZeroScaling' }]);
    expect(res(r, 'SuccessTopic').Properties.KmsMasterKeyId).toEqual({ 'Fn::If': ['UseKms', expect.anything(), 'alias/aws/sns'] });
    expect(res(r, 'TopicsPolicy').Properties.PolicyDocument.Statement[0]).toEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
  });

  it("defaults async paths to the artifact bucket under the deployment, in its environment's folder", () => {
    const d = variant(batch, (x) => (x.async = { maxConcurrentInvocationsPerInstance: 10, outputExpirationDays: 30 }));
    const r = renderStack({ deployment: d, region: 'eu-west-1', account: '222222222222', environmentName: 'prod' });
    expect(param(r, 'OutputS3Uri')).toBe('s3://model-deploy-222222222222-eu-west-1/async/acme-llm/prod/summarizer-batch/output/');
    expect(param(r, 'FailureS3Uri')).toBe('s3://model-deploy-222222222222-eu-west-1/async/acme-llm/prod/summarizer-batch/failure/');
    // Issue 20: dev's endpoint, in the same account, gets another folder, which prod's role is not granted.
    const devR = renderStack({ deployment: d, region: 'eu-west-1', account: '222222222222', environmentName: 'dev' });
    expect(param(devR, 'OutputS3Uri')).toBe('s3://model-deploy-222222222222-eu-west-1/async/acme-llm/dev/summarizer-batch/output/');
  });

  it('renders the ECS deployment from templates/stacks/ecs.yaml (details in render-ecs.test.ts)', () => {
    const r = renderStack({ deployment: spec.deployments['code-assistant'], region: 'us-east-1' });
    checkComplete(r);
    expect(r.templateFile).toBe('templates/stacks/ecs.yaml');
  });
});

describe('renderStack variants', () => {
  it('reads a .tar.gz archive through ModelDataUrl', () => {
    const d = variant(chat, (x) => { delete x.model.huggingface; x.model.s3 = 's3://weights/qwen/model.tar.gz'; });
    const r = renderStack({ deployment: d, region: 'us-east-1', imageUri: IMAGE });
    checkComplete(r);
    expect(param(r, 'ModelDataMode')).toBe('tar.gz');
    expect(param(r, 'ModelDataUrl')).toBe('s3://weights/qwen/model.tar.gz');
  });

  it('reads a prefix uncompressed', () => {
    const d = variant(chat, (x) => { delete x.model.huggingface; x.model.s3 = 's3://weights/qwen/'; });
    const r = renderStack({ deployment: d, region: 'us-east-1', imageUri: IMAGE });
    expect(param(r, 'ModelDataMode')).toBe('prefix');
    const src = res(r, 'Model').Properties.PrimaryContainer.ModelDataSource;
    expect(src['Fn::If'][1]).toEqual({ S3DataSource: { S3Uri: { Ref: 'ModelDataUrl' }, S3DataType: 'S3Prefix', CompressionType: 'None' } });
  });

  it('rejects model data that is neither an archive nor a prefix', () => {
    expect(() => renderStack({ deployment: chat, region: 'us-east-1', modelDataUrl: 's3://weights/qwen/model.bin' })).toThrow(/neither a \.tar\.gz archive nor a prefix/);
  });

  it('needs no model data for an image with baked weights', () => {
    const d = variant(chat, (x) => { delete x.model.huggingface; x.model.image = IMAGE; });
    const r = renderStack({ deployment: d, region: 'us-east-1' });
    expect(param(r, 'ModelDataMode')).toBe('none');
    expect(param(r, 'ImageUri')).toBe(IMAGE);
  });

  it('refuses an image outside ECR', () => {
    const d = variant(chat, (x) => { delete x.model.huggingface; x.model.image = 'ghcr.io/acme/model:1'; });
    expect(() => renderStack({ deployment: d, region: 'us-east-1' })).toThrow(/not in Amazon ECR/);
  });

  it('puts the model in a VPC with network isolation', () => {
    const d = variant(chat, (x) => { x.security.vpc = { subnets: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'], securityGroups: ['sg-0123456789abcdef0'], natGateway: false }; x.security.networkIsolation = true; });
    const r = renderStack({ deployment: d, region: 'us-east-1', imageUri: IMAGE });
    expect(param(r, 'SubnetIds')).toBe('subnet-0123456789abcdef0,subnet-0123456789abcdef1');
    expect(param(r, 'SecurityGroupIds')).toBe('sg-0123456789abcdef0');
    expect(param(r, 'NetworkIsolation')).toBe('true');
  });

  it('uses a KMS key by ARN or alias, on volumes only without NVMe storage', () => {
    const arn = 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const byArn = renderStack({ deployment: variant(chat, (x) => { x.security.kmsKeyId = arn; x.instanceType = 'ml.m5.xlarge'; }), region: 'us-east-1', account: '111111111111' });
    expect(param(byArn, 'KmsKeyId')).toBe(arn);
    expect(param(byArn, 'EncryptVolume')).toBe('true');
    expect(param(byArn, 'VolumeSizeGb')).toBe('64');
    const byAlias = renderStack({ deployment: variant(chat, (x) => (x.security.kmsKeyId = 'alias/models')), region: 'us-east-1', account: '111111111111' });
    expect(param(byAlias, 'KmsKeyId')).toBe('alias/models');
    expect(param(byAlias, 'EncryptVolume')).toBe('false');
    const created = renderStack({ deployment: variant(chat, (x) => (x.security.createKmsKey = true)), region: 'us-east-1' });
    expect(param(created, 'CreateKmsKey')).toBe('true');
  });

  it.each([
    ['canary', 'CANARY', '10'],
    ['linear', 'LINEAR', '20'],
  ] as const)('rolls out %s with the 5xx, latency and extra rollback alarms', (strategy, type, step) => {
    const d = variant(chat, (x) => { x.rollout.strategy = strategy; x.rollout.rollbackAlarms = ['team-slo-alarm']; });
    const r = renderStack({ deployment: d, region: 'us-east-1', imageUri: IMAGE });
    checkComplete(r);
    expect(param(r, 'RolloutType')).toBe(type);
    expect(param(r, 'TrafficStepPercent')).toBe(step);
    expect(res(r, 'Endpoint').Properties.DeploymentConfig.AutoRollbackConfiguration.Alarms).toEqual([
      { AlarmName: { Ref: 'ErrorsAlarm' } },
      { AlarmName: { Ref: 'LatencyAlarm' } },
      { AlarmName: 'team-slo-alarm' },
    ]);
  });

  it('refuses more rollback alarms than SageMaker takes', () => {
    const d = variant(chat, (x) => (x.rollout.rollbackAlarms = Array.from({ length: 9 }, (_, i) => `a${i}`)));
    expect(() => renderStack({ deployment: d, region: 'us-east-1' })).toThrow(/at most 10/);
  });

  it('renders ARNs in the China partition', () => {
    const r = renderStack({ deployment: chat, region: 'cn-north-1', account: '123456789012', imageUri: '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/acme-llm/qwen-chat:1' });
    expect(param(r, 'ExecutionRoleArn')).toBe('arn:aws-cn:iam::123456789012:role/acme-llm.{{environment}}.sagemaker');
  });
});

describe('renderStack: names and roles from the spec (security review)', () => {
  it("names the environment's service roles (a placeholder without one, which the role ARN pattern refuses)", () => {
    expect(param(renderStack({ deployment: chat, region: 'us-east-1', environmentName: 'dev', account: '111111111111' }), 'ExecutionRoleArn')).toBe('arn:aws:iam::111111111111:role/acme-llm.dev.sagemaker');
    const placeholder = param(renderStack({ deployment: chat, region: 'us-east-1', account: '111111111111' }), 'ExecutionRoleArn') ?? '';
    expect(placeholder).toBe('arn:aws:iam::111111111111:role/acme-llm.{{environment}}.sagemaker');
    const pattern = new RegExp((renderStack({ deployment: chat, region: 'us-east-1' }).template.Parameters as any).ExecutionRoleArn.AllowedPattern);
    expect(pattern.test(placeholder)).toBe(false);
    expect(pattern.test('arn:aws:iam::111111111111:role/acme-llm.dev.sagemaker')).toBe(true);
  });

  it('names the endpoint endpointName from the spec when set', () => {
    const named = variant(chat, (x) => { x.endpointName = 'chat-prod'; });
    const r = renderStack({ deployment: named, region: 'us-east-1', environmentName: 'prod' });
    expect(r.endpointName).toBe('chat-prod');
    expect(param(r, 'EndpointName')).toBe('chat-prod');
    expect(r.stackName).toBe('acme-llm-qwen-chat-prod');
  });

  it.each([['realtime', () => chat], ['async', () => batch]])('%s: an executionRoleArn given replaces the environment\'s role; the stack creates none', (_, d) => {
    const role = 'arn:aws:iam::111111111111:role/existing-sagemaker';
    const r = renderStack({ deployment: variant(d(), (x) => { x.executionRoleArn = role; }), region: 'us-east-1', environmentName: 'dev' });
    checkComplete(r);
    expect(param(r, 'ExecutionRoleArn')).toBe(role);
    expect(Object.values(r.template.Resources as Record<string, { Type: string }>).filter((x) => x.Type.startsWith('AWS::IAM::'))).toEqual([]);
    expect(res(r, 'Model').Properties.ExecutionRoleArn).toEqual({ Ref: 'ExecutionRoleArn' });
    const without = renderStack({ deployment: d(), region: 'us-east-1', environmentName: 'dev', account: '111111111111' });
    expect(param(without, 'ExecutionRoleArn')).toBe('arn:aws:iam::111111111111:role/acme-llm.dev.sagemaker');
  });
});

describe('renderStack: async data capture (issue 16.5)', () => {
  it('refuses dataCapture on an async endpoint instead of dropping it silently', () => {
    const captured = variant(batch, (x) => { x.security.dataCapture = { enabled: true, s3Uri: 's3://captures/batch/', samplingPercentage: 10 }; });
    expect(() => renderStack({ deployment: captured, region: 'us-east-1', environmentName: 'dev' })).toThrow(
      expect.objectContaining({ title: 'Invalid deployment spec', message: expect.stringMatching(/security.dataCapture is not supported for sagemaker-async/) }),
    );
    const off = variant(batch, (x) => { x.security.dataCapture = { enabled: false, s3Uri: 's3://captures/batch/', samplingPercentage: 10 }; });
    expect(() => renderStack({ deployment: off, region: 'us-east-1', environmentName: 'dev' })).not.toThrow();
  });
});

describe('data capture', () => {
  const chat = exampleTarget('qwen-chat').deployment;
  const withUri = (s3Uri?: string) => ({ ...chat, security: { ...chat.security, dataCapture: { enabled: true, samplingPercentage: 5, ...(s3Uri ? { s3Uri } : {}) } } }) as typeof chat;

  it("defaults to the artifact bucket prefix the environment's SageMaker role may write", () => {
    expect(dataCaptureUri(withUri(), 'eu-west-1', '222222222222', 'prod')).toBe('s3://model-deploy-222222222222-eu-west-1/datacapture/acme-llm/prod/qwen-chat/');
  });

  it("takes a path under that prefix, of any account in an offline plan, in the environment's folder (said in a note)", () => {
    const notes: string[] = [];
    expect(dataCaptureUri(withUri('s3://model-deploy-222222222222-eu-west-1/datacapture/acme-llm/x/'), 'eu-west-1', '222222222222', 'prod', notes)).toBe('s3://model-deploy-222222222222-eu-west-1/datacapture/acme-llm/prod/x/');
    expect(notes).toEqual([expect.stringMatching(/captures go to s3:\/\/model-deploy-222222222222-eu-west-1\/datacapture\/acme-llm\/prod\/x\//)]);
    // Already in the environment's folder: as given, no note.
    expect(dataCaptureUri(withUri('s3://model-deploy-222222222222-eu-west-1/datacapture/acme-llm/prod/x/'), 'eu-west-1', '222222222222', 'prod', notes)).toBe('s3://model-deploy-222222222222-eu-west-1/datacapture/acme-llm/prod/x/');
    expect(notes).toHaveLength(1);
    expect(dataCaptureUri(withUri('s3://model-deploy-222222222222-eu-west-1/datacapture/acme-llm/x/'), 'eu-west-1', '{{account}}', 'dev')).toMatch(/datacapture\/acme-llm\/dev\/x\//);
  });

  it('refuses a bucket the role may not write, before anything is deployed, saying where captures may go', () => {
    expect(() => dataCaptureUri(withUri('s3://acme-llm-data-capture/qwen-chat/'), 'us-east-1', '111111111111', 'dev')).toThrow(/outside s3:\/\/model-deploy-111111111111-us-east-1\/datacapture\/acme-llm\//);
    expect(() => dataCaptureUri(withUri('s3://model-deploy-999999999999-us-east-1/datacapture/acme-llm/'), 'us-east-1', '111111111111', 'dev')).toThrow(/outside/);
    expect(() => dataCaptureUri(withUri('s3://model-deploy-111111111111-us-east-1/datacapture/acme-llm-other/'), 'us-east-1', '111111111111', 'dev')).toThrow(/outside/);
  });
});

describe('helpers', () => {
  it('knows which instance types have local storage', () => {
    expect(['ml.g5.2xlarge', 'ml.g4dn.xlarge', 'ml.p4d.24xlarge', 'ml.m5d.large', 'ml.g6e.xlarge'].map(hasInstanceStorage)).toEqual([true, true, true, true, true]);
    expect(['ml.m5.xlarge', 'ml.c5.large', 'ml.inf2.xlarge', 'ml.c7i.large'].map(hasInstanceStorage)).toEqual([false, false, false, false]);
  });
  it('places async requests beside the outputs', () => {
    expect(asyncInputPrefix('s3://bkt/x/output/')).toBe('x/input/');
    expect(asyncInputPrefix('s3://bkt/output/')).toBe('input/');
  });
});

describe('planStack', () => {
  it('writes template.json and parameters.json with a summary', () => {
    const part = planStack(chat, { spec, region: 'us-east-1', environmentName: 'prod', environment: spec.environments.prod });
    expect(part.files.map((f) => f.path)).toEqual(['template.json', 'parameters.json']);
    expect(JSON.parse(part.files[0].content).Resources.Endpoint.Type).toBe('AWS::SageMaker::Endpoint');
    expect(JSON.parse(part.files[1].content)).toEqual(expect.arrayContaining([{ ParameterKey: 'EndpointName', ParameterValue: 'acme-llm-qwen-chat-prod' }]));
    expect(part.summary[0]).toMatch(/^qwen-chat \(us-east-1\): stack acme-llm-qwen-chat-prod from templates\/stacks\/sagemaker-realtime\.yaml, \d+ resources, endpoint acme-llm-qwen-chat-prod, termination protection on$/);
    expect(part.summary[1]).toMatch(/wait budgets: model download \d+ s \(derived from 15 GB/);
    expect(part.summary[2]).toMatch(/note: volumeSizeGb 64 is ignored/);
  });
});

describe('stackParameters: what the cost estimate prices is what the template declares', () => {
  const examples = require('fs').readdirSync(path.join(__dirname, '..', '..', '..', 'examples')).filter((f: string) => f.endsWith('.yml'));
  const deployments: Deployment[] = examples.flatMap((f: string) => Object.values(loadSpec(path.join(__dirname, '..', '..', '..', 'examples', f)).deployments));
  const ecs = deployments.find((d) => d.target === 'ecs')!;
  // ec2, ECS on Fargate, KMS and data capture: parameters that only some targets declare.
  deployments.push(variant(ecs, (x) => { x.target = 'ec2'; x.security.kmsKeyId = 'alias/models'; }));
  deployments.push(variant(ecs, (x) => { x.instanceType = 'c7i.2xlarge'; x.security.createKmsKey = true; }));
  deployments.push(variant(chat, (x) => { x.security.dataCapture = { enabled: true, s3Uri: 's3://model-deploy-111111111111-us-east-1/datacapture/acme-llm/chat/', samplingPercentage: 5 } as never; x.security.kmsKeyId = 'alias/models'; }));

  it.each(deployments.map((d) => [`${d.name} (${d.target}, ${d.instanceType})`, d] as const))('%s: every parameter is declared by its template', (_, d) => {
    const { params } = stackParameters({ deployment: d, region: 'us-east-1' });
    const declared = renderStack({ deployment: d, region: 'us-east-1' }).template.Parameters as Record<string, unknown>;
    expect(Object.keys(params).filter((k) => !(k in declared))).toEqual([]);
  });
});

describe('a prebuilt image in each endpoint region (SageMaker pulls from ECR in its own region)', () => {
  const DLC = '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.4.0-tgi2.4.0-gpu-py311-cu124-ubuntu22.04';
  const prebuilt = (image: string) => variant(chat, (x) => { delete x.model.huggingface; x.model.s3 = 's3://weights/qwen/'; x.model.image = image; delete x.engine; });

  it('maps a Deep Learning Container tag to the region\'s own DLC registry', () => {
    expect(param(renderStack({ deployment: prebuilt(DLC), region: 'us-east-1' }), 'ImageUri')).toBe(DLC);
    expect(param(renderStack({ deployment: prebuilt(DLC), region: 'eu-west-1' }), 'ImageUri')).toBe(DLC.replace('us-east-1', 'eu-west-1'));
    expect(param(renderStack({ deployment: prebuilt(DLC), region: 'af-south-1' }), 'ImageUri')).toBe(DLC.replace('763104351884', '626614931356').replace('us-east-1', 'af-south-1'));
  });

  it('refuses an own ECR image of another region, naming what to do', () => {
    const own = '111111111111.dkr.ecr.us-east-1.amazonaws.com/acme/llm:v1';
    expect(() => renderStack({ deployment: prebuilt(own), region: 'eu-west-1' })).toThrow(/image 111111111111\.dkr\.ecr\.us-east-1\.amazonaws\.com\/acme\/llm:v1 is in another region than the endpoint \(eu-west-1\)/);
    expect(() => renderStack({ deployment: prebuilt(own), region: 'eu-west-1', imageUri: own.replace(/us-east-1/, 'eu-west-1') })).not.toThrow();
    // A digest is not mapped (it may differ per region), even for a DLC.
    let error: { hint?: string } | undefined;
    try {
      renderStack({ deployment: prebuilt(`${DLC.split(':')[0]}@sha256:${'a'.repeat(64)}`), region: 'eu-west-1' });
    } catch (err) {
      error = err as { hint?: string };
    }
    expect(error?.hint).toMatch(/replication rule.*use its tag/);
  });
});
