/**
 * renderStack: a deployment + region -> the CloudFormation template (data from templates/stacks/),
 * its parameters, tags and stack settings. Pure: no AWS call, so the offline plan uses it too.
 */
import { tagList } from '../core/tags';
import { DeployError } from '../core/errors';
import { partitionOf } from '../core/aws';
import { formatArn } from '../core/arn';
import { parseImageRef } from '../core/image-uri';
import { parseS3Location, S3Location } from '../core/s3-location';
import { ownershipTags, artifactBucketName, refreshKeysDocumentName, serviceRoleName, ServiceRoleKind } from '../config/names';
import { isAccelerated } from '../config/instance-types';
import { wantsTerminationProtection } from '../config/production';
import { certificateFor, securityIn } from '../config/region-truth';
import { containerEnvironment } from '../config/container-env';
import { notificationSubscriptions, stackEndpoint } from '../config/notifications';
import type { Deployment } from '../config/types';
import type { RenderStackInput, RenderedStack } from './types';
import { loadTemplate } from './template-loader';
import { imageForRegion, imageRegionHint } from '../config/image-region';
import { budgetLine, healthBudget, HealthBudget, LoadPath } from './budgets';

/** Placeholder values in an offline plan, naming the build-model output that replaces them. */
export const IMAGE_PLACEHOLDER = '{{build-model.outputs.image-uri}}';
export const MODEL_DATA_PLACEHOLDER = '{{build-model.outputs.model-data-url}}';
export const API_KEY_SECRET_PLACEHOLDER = '{{deploy-endpoint.api-key-secret-arn}}';
const ACCOUNT_PLACEHOLDER = '{{account}}';
const ENVIRONMENT_PLACEHOLDER = '{{environment}}';

type Params = Record<string, string | number | boolean | string[]>;
type Json = Record<string, unknown>;

/**
 * Families whose instances come with local NVMe storage: SageMaker rejects VolumeSizeInGB and a
 * volume KmsKeyId for them (the instance store is hardware-encrypted).
 */
export function hasInstanceStorage(instanceType: string): boolean {
  const family = familyOf(instanceType.replace(/^ml\./, ''));
  // A "d" after the generation number (g4dn, m5d, p4d) means instance storage; the rest by name.
  return family.replace(/^[a-z]+\d+/, '').includes('d') || /^(g5|g6|g6e|p5|p5e|p5en|trn1)$/.test(family);
}

/** "g5" of "g5.xlarge", "xlarge" its size. */
function familyOf(instanceType: string): string {
  return instanceType.split('.')[0] ?? instanceType;
}

function sizeOf(instanceType: string): string {
  return instanceType.split('.')[1] ?? '';
}

/** An S3 location; a value that is no s3:// URL (the offline plan's placeholder) stays whole as the bucket. */
function s3Parts(uri: string): S3Location {
  return parseS3Location(uri) ?? { bucket: uri, key: '' };
}

/** Where the weights load from: the model-data URL given (build-model's output), else the spec's. */
export function modelData(d: Deployment, modelDataUrl: string | undefined): { mode: LoadPath; url: string } {
  const url = modelDataUrl ?? d.model.s3 ?? (d.model.huggingface && !d.model.bakeIntoImage ? MODEL_DATA_PLACEHOLDER : undefined);
  if (!url) return { mode: 'none', url: '' };
  if (url === MODEL_DATA_PLACEHOLDER) return { mode: 'prefix', url };
  if (url.endsWith('.tar.gz')) return { mode: 'tar.gz', url };
  if (url.endsWith('/')) return { mode: 'prefix', url };
  throw new DeployError(`model data ${url} is neither a .tar.gz archive nor a prefix ending in "/"`, {
    location: modelDataUrl ? undefined : { file: d.source.file, line: d.source.line },
    title: 'Invalid model location',
    hint: 'Point model.s3 at s3://bucket/path/model.tar.gz, or at s3://bucket/prefix/ (trailing slash) for uncompressed weights.',
  });
}

/** arn:...:ecr:REGION:ACCOUNT:repository/NAME of an ECR image URI; undefined for other registries. */
function ecrRepositoryArn(imageUri: string): string | undefined {
  // An untagged URI pulls :latest.
  const image = parseImageRef(imageUri);
  if (!image) return undefined;
  return formatArn({ partition: partitionOf(image.region), service: 'ecr', region: image.region, account: image.account, resource: `repository/${image.repositoryName}` });
}

const ROLLOUT_TYPES = { 'all-at-once': 'ALL_AT_ONCE', canary: 'CANARY', linear: 'LINEAR' } as const;

/**
 * The stack's parameters and the plan's notes: what the stack creates, without the template. The
 * cost estimate prices these, so it never parses a template (renderStack adds the template).
 */
export function stackParameters(input: RenderStackInput): { params: Params; notes: string[]; budget: HealthBudget } {
  const d = input.deployment;
  const account = input.account ?? input.environment?.account ?? ACCOUNT_PLACEHOLDER;
  const notes: string[] = [];
  const data = modelData(d, input.modelDataUrl);
  const budget = healthBudget(d, data.mode);
  const params: Params = {
    DeploymentName: d.name,
    EndpointName: input.names.endpoint,
    ...imageParams(d, input, account),
    ...modelParams(input, data),
    ...targetParams(input, account, data.mode, budget, notes),
    ...serviceRoleParams(input, account),
  };
  return { params, notes, budget };
}

/**
 * The bootstrap's roles of the environment the stack runs as, by name (config/names.ts): the stacks create no
 * role, and the deploy role may pass only these. Without an environment the names keep a placeholder, which
 * the templates' ARN patterns refuse.
 */
function serviceRoleParams(input: RenderStackInput, account: string): Params {
  const d = input.deployment;
  const partition = partitionOf(input.region);
  const environment = input.environmentName || ENVIRONMENT_PLACEHOLDER;
  const iam = (kind: 'role' | 'instance-profile', name: ServiceRoleKind) => `arn:${partition}:iam::${account}:${kind}/${serviceRoleName(d.project, environment, name)}`;
  if (d.target === 'sagemaker-realtime' || d.target === 'sagemaker-async') {
    // A role the spec names (one the bootstrap lists in ExecutionRoleArns) replaces the environment's.
    return { ExecutionRoleArn: d.executionRoleArn ?? iam('role', 'sagemaker') };
  }
  if (d.target === 'ecs') {
    return { TaskRoleArn: iam('role', 'ecs-task'), TaskExecutionRoleArn: iam('role', 'ecs-exec'), InstanceProfileArn: iam('instance-profile', 'ecs-instance') };
  }
  return { InstanceProfileArn: iam('instance-profile', 'ec2-instance'), RefreshKeysDocumentName: refreshKeysDocumentName(d.project, environment) };
}

export function renderStack(asked: RenderStackInput): RenderedStack {
  // The environment's own VPC, hostname and zone in this region (security.environments), read by every step below.
  const input = { ...asked, deployment: { ...asked.deployment, security: securityIn(asked.deployment.security, asked.environmentName, asked.region) } };
  const d = input.deployment;
  const { environmentName } = input;
  const { params, notes, budget } = stackParameters(input);
  const { file, template } = loadTemplate(d.target);
  editTemplate(d, template);
  const declared = template.Parameters as Record<string, unknown>;
  const parameters = Object.entries(params)
    .filter(([key]) => key in declared)
    .map(([ParameterKey, v]) => ({ ParameterKey, ParameterValue: Array.isArray(v) ? v.join(',') : String(v) }));
  return {
    stackName: input.names.stack,
    templateFile: file,
    template,
    templateBody: JSON.stringify(template),
    parameters,
    capabilities: ['CAPABILITY_IAM'],
    tags: tagList(ownershipTags(d, environmentName)),
    terminationProtection: wantsTerminationProtection(environmentName, input.environment),
    endpointName: String(params.EndpointName),
    notes,
    budget: budgetLine(budget),
  };
}

/** The image and the ECR repository the roles may pull from (offline plans name the build's repository). */
function imageParams(d: Deployment, input: RenderStackInput, account: string): Params {
  const { region } = input;
  const given = input.imageUri ?? d.model.image;
  const imageUri = given && d.target.startsWith('sagemaker') ? imageForRegion(given, region) : (given ?? IMAGE_PLACEHOLDER);
  if (!imageUri) {
    throw new DeployError(`image ${given} is in another region than the endpoint (${region})`, {
      location: input.imageUri ? undefined : { file: d.source.file, line: d.source.line },
      title: 'Image in another region',
      hint: imageRegionHint(given ?? '', region),
    });
  }
  const imageRepositoryArn =
    imageUri === IMAGE_PLACEHOLDER
      ? formatArn({ partition: partitionOf(region), service: 'ecr', region, account, resource: `repository/${input.names.repository}` })
      : ecrRepositoryArn(imageUri);
  if (!imageRepositoryArn) {
    throw new DeployError(`image ${imageUri} is not in Amazon ECR`, {
      location: { file: d.source.file, line: d.source.line },
      title: 'Unsupported image registry',
      hint: 'SageMaker, and the least-privilege roles here, pull from ECR: push the image to ECR (build-model does) and use its URI.',
    });
  }
  // The roles pull from ECR only (the bootstrap's PullImagesPolicy): the check above is the one use of the ARN.
  return { ImageUri: imageUri };
}

/** Parameters every target declares beside the names and the image: weights, size, encryption. */
function modelParams(input: RenderStackInput, data: ReturnType<typeof modelData>): Params {
  const d = input.deployment;
  return {
    ModelDataMode: data.mode,
    ModelDataUrl: data.url,
    ModelEnvironmentId: d.model.huggingface?.id ?? d.model.s3 ?? d.model.image ?? '',
    InstanceType: d.instanceType,
    InstanceCount: d.instanceCount,
  };
}

/** The target's own parameters. */
function targetParams(input: RenderStackInput, account: string, mode: string, budget: HealthBudget, notes: string[]): Params {
  const d = input.deployment;
  const { region } = input;
  const params: Params = {};
  if (d.target === 'sagemaker-realtime' || d.target === 'sagemaker-async') Object.assign(params, sagemakerParams(d, budget, notes));
  if (d.target === 'sagemaker-realtime') Object.assign(params, realtimeParams(d, region, account, input.environmentName, notes));
  if (d.target === 'sagemaker-async') Object.assign(params, asyncParams(d, region, account, input.environmentName));
  if (d.target === 'ec2' || d.target === 'ecs') Object.assign(params, containerParams(d, input, mode, budget, notes));
  return params;
}

/** The edits a parameter cannot express (maps, lists, alarms), made to the loaded template. */
function editTemplate(d: Deployment, template: Json): void {
  if (d.target === 'sagemaker-realtime' || d.target === 'sagemaker-async') {
    // Engine environment: a map, so it goes into the template rather than a parameter.
    const env = (resource(template, 'Model').Properties as Json).PrimaryContainer as Json;
    env.Environment = { ...(env.Environment as Json), ...containerEnvironment(d) };
  }
  if (d.target === 'sagemaker-async') addSubscriptions(d, template);
  if (d.target === 'sagemaker-realtime') addRollbackAlarms(d, template);
  if (d.target === 'ec2' || d.target === 'ecs') {
    allowCidrs(template, d.security.allowedCidrs);
    // Without a zone the record is never made: leave its type out, so the deploy role need not allow it.
    if (!d.security.hostedZoneId) delete (template.Resources as Json).DnsRecord;
    if (d.target === 'ecs') {
      const env = ((resource(template, 'TaskDefinition').Properties as Json).ContainerDefinitions as Json[]).find((c) => c.Name === 'model')!;
      env.Environment = [...(env.Environment as Json[]), ...Object.entries(containerEnvironment(d)).map(([Name, Value]) => ({ Name, Value }))];
    }
  }
}

/** async.notifications: one subscription per entry on the stack's own topic (SQS gets the raw message). */
function addSubscriptions(d: Deployment, template: Json): void {
  notificationSubscriptions(d).forEach((s, i) => {
    (template.Resources as Json)[`${s.topic === 'success' ? 'Success' : 'Error'}Subscription${i + 1}`] = {
      Type: 'AWS::SNS::Subscription',
      Properties: { TopicArn: { Ref: s.topic === 'success' ? 'SuccessTopic' : 'ErrorTopic' }, Protocol: s.protocol, Endpoint: stackEndpoint(s.endpoint), ...(s.protocol === 'sqs' ? { RawMessageDelivery: true } : {}) },
    };
  });
}

function addRollbackAlarms(d: Deployment, template: Json): void {
  const alarms = ((((resource(template, 'Endpoint').Properties as Json).DeploymentConfig as Json).AutoRollbackConfiguration as Json).Alarms) as unknown[];
  for (const alarm of d.rollout.rollbackAlarms ?? []) alarms.push({ AlarmName: alarm });
  if (alarms.length > 10) {
    throw new DeployError(`rollout.rollbackAlarms has ${alarms.length - 2} alarms; SageMaker takes at most 10 with the 2 built-in ones`, {
      location: { file: d.source.file, line: d.source.line },
      title: 'Too many rollback alarms',
      hint: 'Keep at most 8 alarms in rollout.rollbackAlarms, or combine them into a composite alarm.',
    });
  }
}

function resource(template: Json, logicalId: string): Json {
  const found = (template.Resources as Record<string, Json | undefined>)[logicalId];
  // The templates are ours: a missing resource is a bug in templates/stacks, not in the user's spec.
  if (!found) throw new Error(`template has no resource ${logicalId}`);
  return found;
}

function sagemakerParams(d: Deployment, budget: HealthBudget, notes: string[]): Params {
  const storage = hasInstanceStorage(d.instanceType);
  if (d.volumeSizeGb && storage) {
    notes.push(`volumeSizeGb ${d.volumeSizeGb} is ignored: ${d.instanceType} has local NVMe storage and SageMaker accepts no EBS volume size for it.`);
  }
  const capture = d.security.dataCapture;
  if (d.target === 'sagemaker-async' && capture?.enabled) {
    // The async template has no DataCaptureConfig: refuse rather than deploy without the capture asked for.
    throw new DeployError('security.dataCapture is not supported for sagemaker-async endpoints (requests and results are already in S3)', {
      location: { file: d.source.file, line: d.source.line },
      title: 'Invalid deployment spec',
      hint: 'Remove security.dataCapture (or set enabled: false); the async inputs and outputs stay under async.outputPath.',
    });
  }
  const kmsKeyId = d.security.kmsKeyId;
  return {
    KmsKeyId: kmsKeyId ?? '',
    CreateKmsKey: d.security.createKmsKey && !kmsKeyId,
    StartupTimeoutSeconds: budget.startup.seconds,
    DownloadTimeoutSeconds: budget.download.seconds,
    VolumeSizeGb: d.volumeSizeGb && !storage ? d.volumeSizeGb : 0,
    EncryptVolume: !storage,
    SubnetIds: d.security.vpc?.subnets ?? [],
    SecurityGroupIds: d.security.vpc?.securityGroups ?? [],
    NetworkIsolation: d.security.networkIsolation,
    AutoscalingEnabled: d.autoscaling !== undefined,
    AutoscalingMin: d.autoscaling?.min ?? d.instanceCount,
    AutoscalingMax: d.autoscaling?.max ?? d.instanceCount,
    ScaleInCooldownSeconds: d.autoscaling?.scaleInCooldownSeconds ?? 300,
    ScaleOutCooldownSeconds: d.autoscaling?.scaleOutCooldownSeconds ?? 60,
  };
}

/**
 * The folder of an environment's keys under a project's prefix (async/, datacapture/, promoted/): in a bucket the
 * environments of an account share, S3 decides by object ARN alone, so each environment's roles are granted
 * their own folder (templates/bootstrap). Without an environment (an offline plan of none), "default".
 */
export function environmentFolder(environment: string | undefined): string {
  return environment ?? 'default';
}

/**
 * Where captured requests go: the artifact bucket's datacapture/PROJECT/ENV/ prefix, the only place the bootstrap's
 * SageMaker role of that environment may write them (SageMaker would otherwise fail every capture write, silently to
 * the endpoint). A given s3Uri names a path under datacapture/PROJECT/ (one spec serves every environment): it is
 * placed in the environment's folder, said in `notes`, unless it already is.
 */
export function dataCaptureUri(d: Deployment, region: string, account: string, environment: string | undefined, notes: string[] = []): string {
  const root = `s3://${artifactBucketName(account, region)}/datacapture/${d.project}/`;
  const own = `${root}${environmentFolder(environment)}/`;
  const given = d.security.dataCapture?.s3Uri;
  if (!given) return `${own}${d.name}/`;
  // An offline plan knows no account: the bucket of any account in this region stands for it there.
  const bucket = /^\d{12}$/.test(account) ? artifactBucketName(account, region) : artifactBucketName('\\d{12}', region);
  const under = new RegExp(`^s3://${bucket}/datacapture/${d.project.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`).exec(given);
  if (!under) {
    throw new DeployError(`security.dataCapture.s3Uri "${given}" is outside ${root}: the endpoint's role may write captures only there`, {
      location: d.source,
      title: 'Data capture outside the artifact bucket',
      hint: `Leave s3Uri out (captures go to ${own}${d.name}/) or give a path under ${root}.`,
    });
  }
  const rest = given.slice(under[0].length);
  if (rest.startsWith(`${environmentFolder(environment)}/`)) return given;
  const placed = `${given.slice(0, under[0].length)}${environmentFolder(environment)}/${rest}`;
  notes.push(`security.dataCapture.s3Uri ${given} is placed in this environment's folder: captures go to ${placed} (another environment's endpoint can neither read nor write there).`);
  return placed;
}

function realtimeParams(d: Deployment, region: string, account: string, environment: string | undefined, notes: string[]): Params {
  const r = d.rollout;
  const capture = d.security.dataCapture?.enabled ? d.security.dataCapture : undefined;
  return {
    DataCaptureS3Uri: capture ? dataCaptureUri(d, region, account, environment, notes) : '',
    DataCapturePercent: d.security.dataCapture?.samplingPercentage ?? 10,
    RolloutType: ROLLOUT_TYPES[r.strategy],
    TrafficStepPercent: r.strategy === 'linear' ? r.linearStepPercent : r.canaryPercent,
    WaitSeconds: r.waitSeconds,
    TerminationWaitSeconds: r.terminationWaitSeconds,
    MaxExecutionSeconds: r.maxExecutionSeconds,
    // ModelLatency is reported in microseconds.
    LatencyThresholdMicroseconds: Math.round(r.latencyThresholdMs * 1000),
    TargetInvocationsPerInstance: d.autoscaling?.targetInvocationsPerInstance ?? 100,
  };
}

/**
 * Without paths, requests, responses and failures go to the artifact bucket under the deployment's own prefix in
 * its environment's folder (async/PROJECT/ENV/DEPLOYMENT/): the one the environment's roles are granted.
 */
function asyncBase(d: Deployment, region: string, account: string, environment: string | undefined): string {
  return `s3://${artifactBucketName(account, region)}/async/${d.project}/${environmentFolder(environment)}/${d.name}/`;
}

export function asyncOutputUri(d: Deployment, region: string, account: string, environment: string | undefined): string {
  return d.async.outputPath ?? `${asyncBase(d, region, account, environment)}output/`;
}

function asyncParams(d: Deployment, region: string, account: string, environment: string | undefined): Params {
  const output = asyncOutputUri(d, region, account, environment);
  const failure = d.async.failurePath ?? `${asyncBase(d, region, account, environment)}failure/`;
  return {
    OutputS3Uri: output,
    FailureS3Uri: failure,
    MaxConcurrentInvocationsPerInstance: d.async.maxConcurrentInvocationsPerInstance,
    TargetBacklogPerInstance: d.autoscaling?.targetBacklogPerInstance ?? 5,
  };
}

/** The bucket and prefix the endpoint's role may read requests from (InputObjectArn). */
export function asyncInputLocation(outputUri: string): S3Location {
  return { bucket: s3Parts(outputUri).bucket, key: asyncInputPrefix(outputUri) };
}

/** Where callers put async requests: an input/ folder beside the output folder. */
export function asyncInputPrefix(outputUri: string): string {
  const key = s3Parts(outputUri).key.replace(/\/+$/, '');
  const parent = key.includes('/') ? key.slice(0, key.lastIndexOf('/') + 1) : '';
  return `${parent}input/`;
}

/** GPUs per instance of the GPU families ec2/ecs run (the ECS task asks for all of them). */
export function gpuCount(instanceType: string): number | undefined {
  const family = familyOf(instanceType);
  const size = sizeOf(instanceType);
  if (/^(g4dn|g5|g6|g6e)$/.test(family)) return { '12xlarge': 4, '24xlarge': 4, '48xlarge': 8 }[size] ?? 1;
  if (family === 'p3') return { '2xlarge': 1, '8xlarge': 4, '16xlarge': 8 }[size];
  if (family === 'p5') return size === '4xlarge' ? 1 : 8;
  if (/^(p4d|p4de|p5e|p5en)$/.test(family)) return 8;
  return undefined;
}

const VCPUS: Record<string, number | undefined> = { large: 2, xlarge: 4, '2xlarge': 8, '4xlarge': 16, '8xlarge': 32, '9xlarge': 36, '12xlarge': 48, '16xlarge': 64, '18xlarge': 72, '24xlarge': 96, '48xlarge': 192 };
const GIB_PER_VCPU: Record<string, number | undefined> = { m5: 4, m6i: 4, c5: 2, c7i: 2, r5: 8 };
/** Fargate's largest task and, per vCPU count, its memory range (GiB) and step. */
const FARGATE_MEMORY: Record<number, [number, number, number] | undefined> = { 2: [4, 16, 1], 4: [8, 30, 1], 8: [16, 60, 4], 16: [32, 120, 8] };

/** The Fargate size closest to a CPU instance type (Fargate stops at 16 vCPU and 120 GiB). */
export function fargateSize(instanceType: string): { cpu: number; memoryMiB: number; exact: boolean } {
  const vcpus = VCPUS[sizeOf(instanceType)] ?? 4;
  const cpu = Math.min(Math.max(vcpus, 2), 16);
  const [lo, hi, step] = FARGATE_MEMORY[cpu] ?? [4, 16, 1];
  const want = vcpus * (GIB_PER_VCPU[familyOf(instanceType)] ?? 4);
  const gib = Math.min(Math.max(Math.floor(want / step) * step, lo), hi);
  return { cpu: cpu * 1024, memoryMiB: gib * 1024, exact: cpu === vcpus && gib === want };
}

type Vpc = NonNullable<Deployment['security']['vpc']>;

/** The HTTPS listener's certificate: the environment's own in this region (security.certificateArns), else security.certificateArn. */
const certificateArnFor = (d: Deployment, input: RenderStackInput) => certificateFor(d.security, input.environmentName, input.region).arn;
interface Storage { modelGb: number; imageGb: number; neededGb: number }

function containerParams(d: Deployment, input: RenderStackInput, mode: string, budget: HealthBudget, notes: string[]): Params {
  const where = { file: d.source.file, line: d.source.line };
  const vpc = d.security.vpc;
  if (!vpc?.vpcId || !certificateArnFor(d, input)) {
    // The spec loader refuses these already; a hand-built Deployment may not have gone through it.
    throw new DeployError(`target ${d.target} needs security.vpc.vpcId and security.certificateArn`, { location: where, title: 'Invalid deployment spec' });
  }
  const gpus = gpuCount(d.instanceType);
  if (isAccelerated(d.instanceType) && gpus === undefined) {
    throw new DeployError(`instanceType ${d.instanceType} has Neuron accelerators, which target ${d.target} does not set up (device mapping, Neuron AMI)`, {
      location: where,
      title: 'Unsupported instance type',
      hint: 'Use a GPU type (g5, g6, g6e, p4d, p5) for ec2/ecs, or target sagemaker-realtime for Inferentia and Trainium.',
    });
  }
  const modelGb = d.model.sizeGb ?? 30;
  const imageGb = d.usage.imageSizeGb ?? 15;
  // Layers are stored compressed and unpacked; an archive sits beside what it unpacks to.
  const storage = { modelGb, imageGb, neededGb: Math.ceil(2 * imageGb + (mode === 'tar.gz' ? 2 : 1) * modelGb + 20) };
  const params = loadBalancedParams(d, vpc, input, storage.neededGb);
  containerNotes(d, params, notes);
  // The health grace covers the download and the start-up: the load balancer's checks count only after it.
  const graceSeconds = budget.download.seconds + budget.startup.seconds;
  if (d.target === 'ec2') return { ...params, ...ec2Params(d, gpus !== undefined, input.environmentName, graceSeconds) };
  return ecsParams(d, vpc, params, gpus, storage, graceSeconds, notes);
}

/** The load balancer, the network, the API key and the scaling bounds ec2 and ecs share. */
function loadBalancedParams(d: Deployment, vpc: Vpc, input: RenderStackInput, neededGb: number): Params {
  // Instances in private subnets when the load balancer has public ones, or when a NAT gateway serves them.
  const privatePlacement = Boolean(vpc.publicSubnets?.length) || vpc.natGateway;
  const apiKeyArn = d.apiKey.enabled ? (input.apiKeySecretArn ?? API_KEY_SECRET_PLACEHOLDER) : '';
  return {
    VpcId: vpc.vpcId ?? '',
    SubnetIds: vpc.subnets,
    LoadBalancerSubnetIds: vpc.publicSubnets?.length ? vpc.publicSubnets : vpc.subnets,
    SecurityGroupIds: vpc.securityGroups,
    LoadBalancerScheme: privatePlacement && !vpc.publicSubnets?.length ? 'internal' : 'internet-facing',
    AssignPublicIp: !privatePlacement,
    CertificateArn: certificateArnFor(d, input) ?? '',
    Hostname: d.security.hostname ?? '',
    HostedZoneId: d.security.hostedZoneId ?? '',
    HealthCheckPath: d.healthCheck.path,
    KmsKeyId: d.security.kmsKeyId ?? '',
    ApiKeySecretArn: apiKeyArn,
    RootVolumeGb: d.volumeSizeGb ?? Math.max(100, neededGb),
    AutoscalingEnabled: d.autoscaling !== undefined,
    AutoscalingMin: d.autoscaling?.min ?? d.instanceCount,
    AutoscalingMax: d.autoscaling?.max ?? d.instanceCount,
  };
}

function containerNotes(d: Deployment, params: Params, notes: string[]): void {
  if (params.LoadBalancerScheme === 'internal') {
    notes.push('the load balancer is internal: the instances sit in private subnets (natGateway) and no security.vpc.publicSubnets are given.');
  }
  if (d.security.createKmsKey && !d.security.kmsKeyId) notes.push(`security.createKmsKey is not used by target ${d.target}: volumes use the aws/ebs key unless security.kmsKeyId names one.`);
  if (!d.apiKey.enabled) notes.push('apiKey.enabled is false: the endpoint serves anyone allowed by security.allowedCidrs without a key.');
  if (!['/ping', '/health'].includes(d.healthCheck.path)) {
    notes.push(`healthCheck.path ${d.healthCheck.path}: the gateway answers it without a key only if it is the engine's health path; /ping always is.`);
  }
}

function ec2Params(d: Deployment, onGpu: boolean, environmentName: string | undefined, graceSeconds: number): Params {
  const env = Object.entries(containerEnvironment(d));
  for (const [k, v] of env) {
    if (/[\r\n]/.test(k + v) || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
      throw new DeployError(`engine.env/env ${k} cannot go into a container environment file (names are [A-Za-z_][A-Za-z0-9_]*, values one line)`, {
        location: { file: d.source.file, line: d.source.line },
        title: 'Invalid engine.env',
      });
    }
  }
  return {
    // The instances carry it: rotate-key may run the refresh document only on its own environment's.
    EnvironmentName: environmentName ?? '',
    Accelerated: onGpu,
    AmiId: onGpu
      ? '/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id'
      : '/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id',
    EngineEnvironmentBase64: env.length ? Buffer.from(env.map(([k, v]) => `${k}=${v}\n`).join('')).toString('base64') : '',
    // Boot and pull (~5 min) come before the weight download and the engine start-up.
    ReadyTimeoutSeconds: 300 + graceSeconds,
    TargetRequestsPerInstance: d.autoscaling?.targetInvocationsPerInstance ?? 100,
  };
}

/** ECS on GPU instances, or on Fargate sized from the instance type. */
function ecsParams(d: Deployment, vpc: Vpc, params: Params, gpus: number | undefined, storage: Storage, graceSeconds: number, notes: string[]): Params {
  const ecs: Params = {
    ...params,
    Compute: gpus !== undefined ? 'gpu' : 'fargate',
    GpuCount: gpus ?? 0,
    HealthCheckGraceSeconds: graceSeconds,
    // Twice the tasks: a rolling deployment (and a key rotation) starts new GPU tasks before old ones stop.
    CapacityMax: 2 * (d.autoscaling?.max ?? d.instanceCount),
    ScalingMetric: 'requests',
    ScaleInCooldownSeconds: d.autoscaling?.scaleInCooldownSeconds ?? 300,
    ScaleOutCooldownSeconds: d.autoscaling?.scaleOutCooldownSeconds ?? 60,
    TargetRequestsPerTask: d.autoscaling?.targetInvocationsPerInstance ?? 100,
  };
  if (gpus !== undefined) {
    if (!vpc.natGateway) {
      notes.push('ECS tasks on GPU instances (awsvpc) get no public IP: without security.vpc.natGateway the subnets need VPC endpoints (ECR, S3, CloudWatch Logs, Secrets Manager) to pull the image and the weights.');
    }
    return ecs;
  }
  const { modelGb, imageGb, neededGb } = storage;
  const size = fargateSize(d.instanceType);
  if (!size.exact) notes.push(`${d.instanceType} runs on Fargate as ${size.cpu / 1024} vCPU and ${size.memoryMiB / 1024} GiB, the closest Fargate size.`);
  // Fargate's task storage holds the unpacked image and the weights.
  if (neededGb > 200) {
    throw new DeployError(`the image (${imageGb} GB) and model (${modelGb} GB) need about ${neededGb} GiB of task storage; Fargate offers at most 200`, {
      location: { file: d.source.file, line: d.source.line },
      title: 'Model too large for Fargate',
      hint: 'Use a GPU instance type (ECS on EC2) or target ec2, or bake the model into a smaller image.',
    });
  }
  if (d.volumeSizeGb) notes.push(`volumeSizeGb ${d.volumeSizeGb} is ignored on Fargate: task storage is sized from the image and model (${Math.max(21, neededGb)} GiB).`);
  return { ...ecs, TaskCpu: size.cpu, TaskMemory: size.memoryMiB, EphemeralStorageGb: Math.max(21, neededGb) };
}

/** 443 and 80 (redirected) from each allowed CIDR: a list CloudFormation parameters cannot loop over. */
function allowCidrs(template: Json, cidrs: string[]): void {
  const group = resource(template, 'LoadBalancerSecurityGroup').Properties as Json;
  group.SecurityGroupIngress = cidrs.flatMap((CidrIp) => [
    { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp, Description: 'HTTPS' },
    { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, CidrIp, Description: 'HTTP (redirected to HTTPS)' },
  ]);
}
