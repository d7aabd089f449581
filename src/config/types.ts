/**
 * The deployment spec as code sees it after loading. The schema's shape is generated from
 * schema/model-deploy.schema.json (./spec-types.generated.ts, scripts/spec-types.js); what resolution
 * adds is written here: the fields a deployment may take from `defaults:` (required once merged), the
 * sections every deployment has, the resolved workload, the deployment's name and position.
 */
import type { BedrockThroughputSpec, DeploymentFields, EnvironmentSpec, Region, TargetKind as SchemaTarget, WorkloadFields } from './spec-types.generated';
import type { Workload } from './workload';

export type {
  AutoscalingSpec,
  BedrockThroughputSpec,
  Commitment,
  ComputeType,
  DeploymentFields,
  EngineName,
  EngineSpec,
  EnvironmentSpec,
  ModelSource,
  Region,
  RolloutStrategy,
} from './spec-types.generated';

/** Where a Deployment runs: every target but bedrock, whose deployments the loader keeps apart (BedrockDeployment). */
export type TargetKind = Exclude<SchemaTarget, 'bedrock'>;

/** Fields a deployment must have, written on it or under `defaults:` (./defaults.ts reports the missing ones). */
export type RequiredField = 'model' | 'target' | 'instanceType' | 'regions';

/** Sections every deployment has: absent ones start empty (./defaults.ts) and the schema's defaults fill them. */
export type Section = 'healthCheck' | 'rollout' | 'async' | 'apiKey' | 'security' | 'build' | 'usage' | 'tags';

/** One deployment's fields with defaults merged and applied. */
export interface DeploymentSpec extends Omit<DeploymentFields, RequiredField | Section | 'workload'>, Required<Pick<DeploymentFields, Exclude<RequiredField, 'instanceType' | 'target'> | Section>> {
  target: TargetKind;
  /** The benchmark's load, defaults applied (./workload.ts). */
  workload: Workload;
  /** The type deployed: the first of `instanceTypes`. */
  instanceType: string;
  /** instanceType as a list (one type written as a string is a list of one): the capacity fallback order (src/deploy/capacity.ts). */
  instanceTypes: string[];
}

/** One deployment, resolved: defaults merged and applied, with where it was written. */
export interface Deployment extends DeploymentSpec {
  name: string;
  project: string;
  /** Spec file path as given (relative to the workspace) and the line of the deployment's key. */
  source: { file: string; line: number };
}

/** A deployment while the spec loads: everything but its workload is resolved (the last check resolves it). */
export interface DeploymentDraft extends Omit<Deployment, 'workload'> {
  workload?: WorkloadFields;
}

/**
 * A `target: bedrock` deployment: a Bedrock custom model that promote-model copies into each region of a target
 * environment and serves through provisioned throughput. No instance type, engine, image or stack: the loader
 * keeps these apart from `deployments`, so nothing that builds, deploys or prices instances ever sees one.
 */
export interface BedrockDeployment {
  name: string;
  project: string;
  target: 'bedrock';
  description?: string;
  /** model.bedrock: the custom model's ARN in its own (the source environment's) account. */
  model: { bedrock: string };
  /** The regions of the copies (an environment's `regions` narrow them, as for any deployment). */
  regions: Region[];
  bedrockThroughput?: BedrockThroughputSpec;
  tags: Record<string, string>;
  /** The environment whose account holds model.bedrock: what promote-model copies from. */
  sourceEnvironment: string;
  source: { file: string; line: number };
}

export interface Spec {
  file: string;
  project: string;
  environments: Record<string, EnvironmentSpec>;
  deployments: Record<string, Deployment>;
  /** The `target: bedrock` deployments, by name (none in `deployments`). */
  bedrockDeployments: Record<string, BedrockDeployment>;
  /** Finds the file position of a field path, for errors found after loading. */
  locate(path: (string | number)[]): { file: string; line?: number; column?: number };
}
