/**
 * The deployment spec as code sees it after loading: the shape of schema/model-deploy.schema.json
 * (the source of truth, with its defaults applied) plus what resolution adds (name, file positions).
 */
import type { Workload } from './workload';

export type Target = 'sagemaker-realtime' | 'sagemaker-async' | 'ec2' | 'ecs';
export type EngineName = 'vllm' | 'tgi' | 'lmi' | 'custom';
export type RolloutStrategy = 'all-at-once' | 'canary' | 'linear';
export type ComputeType =
  | 'BUILD_GENERAL1_SMALL'
  | 'BUILD_GENERAL1_MEDIUM'
  | 'BUILD_GENERAL1_LARGE'
  | 'BUILD_GENERAL1_XLARGE'
  | 'BUILD_GENERAL1_2XLARGE';

export interface EnvironmentSpec {
  account: string;
  roleArn?: string;
  promotionRoleArn?: string;
  regions?: string[];
  kmsKeyId?: string;
  artifactBucket?: string;
  ecrReplication: boolean;
  terminationProtection?: boolean;
}

export interface ModelSource {
  huggingface?: { id: string; revision: string; tokenSecretArn?: string };
  s3?: string;
  image?: string;
  sizeGb?: number;
  bakeIntoImage: boolean;
}

export interface EngineSpec {
  name: EngineName;
  version?: string;
  dockerfile?: string;
  args?: string[];
  env?: Record<string, string>;
}

/** `none`: billed by the hour, deletable at any time; a term is billed for every hour of it. */
export type Commitment = 'none' | 'OneMonth' | 'SixMonths';

export interface BedrockThroughputSpec {
  modelUnits: number;
  commitment: Commitment;
  /** The target environment; absent: every environment with a promotionRoleArn (bedrockThroughputTargets). */
  environment?: string;
}

export interface AutoscalingSpec {
  min: number;
  max: number;
  targetInvocationsPerInstance: number;
  targetBacklogPerInstance: number;
  scaleInCooldownSeconds: number;
  scaleOutCooldownSeconds: number;
}

export interface DeploymentSpec {
  description?: string;
  model: ModelSource;
  /** Absent only for a prebuilt image. */
  engine?: EngineSpec;
  target: Target;
  instanceType: string;
  instanceCount: number;
  autoscaling?: AutoscalingSpec;
  regions: string[];
  volumeSizeGb?: number;
  /** SageMaker only: the endpoint's name instead of the generated one. */
  endpointName?: string;
  /** SageMaker only: an existing role for the model instead of the one the stack creates. */
  executionRoleArn?: string;
  healthCheck: { startupTimeoutSeconds: number; modelDownloadTimeoutSeconds: number; path: string };
  rollout: {
    strategy: RolloutStrategy;
    canaryPercent: number;
    linearStepPercent: number;
    waitSeconds: number;
    terminationWaitSeconds: number;
    maxExecutionSeconds: number;
    rollbackAlarms?: string[];
    latencyThresholdMs: number;
  };
  async: { outputPath?: string; failurePath?: string; maxConcurrentInvocationsPerInstance: number; outputExpirationDays: number };
  apiKey: { enabled: boolean; gracePeriodHours: number; kmsKeyId?: string; readers?: string[] };
  security: {
    kmsKeyId?: string;
    createKmsKey: boolean;
    vpc?: { vpcId?: string; subnets: string[]; securityGroups: string[]; publicSubnets?: string[]; natGateway: boolean };
    networkIsolation: boolean;
    dataCapture?: { enabled: boolean; s3Uri: string; samplingPercentage: number };
    certificateArn?: string;
    /** ec2/ecs: the name clients call, which the certificate covers; hostedZoneId adds its alias record. */
    hostname?: string;
    hostedZoneId?: string;
    allowedCidrs: string[];
  };
  build: {
    computeType: ComputeType;
    estimatedMinutes?: number;
    timeoutMinutes: number;
    keepImages: number;
    logRetentionDays: number;
    args?: Record<string, string>;
  };
  smokeTest?: { payload: unknown; contentType: string; expectStatus: number };
  /** Provisioned throughput promote-model buys for the deployment's promoted Bedrock model (src/promote/throughput.ts). */
  bedrockThroughput?: BedrockThroughputSpec;
  usage: {
    busyHoursPerMonth?: number;
    requestsPerMonth?: number;
    imageSizeGb?: number;
    lcuPerHour: number;
    natDataGbPerMonth: number;
  };
  tags: Record<string, string>;
  /** The benchmark's load, defaults applied (./workload.ts). */
  workload: Workload;
}

/** One deployment, resolved: defaults merged and applied, with where it was written. */
export interface Deployment extends DeploymentSpec {
  name: string;
  project: string;
  /** Spec file path as given (relative to the workspace) and the line of the deployment's key. */
  source: { file: string; line: number };
}

export interface Spec {
  file: string;
  project: string;
  environments: Record<string, EnvironmentSpec>;
  deployments: Record<string, Deployment>;
  /** Finds the file position of a field path, for errors found after loading. */
  locate(path: (string | number)[]): { file: string; line?: number; column?: number };
}
