/**
 * What the schema cannot say about a spec: instance types per target, engines and Neuron, scaling
 * bounds, server targets' HTTPS and VPC, SageMaker-only fields, image regions, async settings,
 * partitions, the benchmark workload, shared endpoint names and Bedrock throughput targets.
 */
import * as fs from 'fs';
import * as path from 'path';
import { arnPartition } from '../core/arn';
import { DeployError, DeployErrors, SourceLocation } from '../core/errors';
import type { Deployment, DeploymentDraft, EnvironmentSpec } from './types';
import { didYouMean, nearest } from './suggest';
import { knownInstanceTypes, neuronCores, previousGeneration } from './instance-types';
import { chinaSplit, environmentProblems, partitionOfAll } from './partitions';
import { imageForRegion, imageRegionHint } from './image-region';
import { allowedCidrProblems } from './cidrs';
import { bedrockThroughputTargets } from './regions';
import { certificateEnvironmentProblems, environmentSecurityProblems, regionTruthProblems } from './region-truth';
import { resolveWorkload, Workload } from './workload';
import { ParsedYaml, PathPart, valueAt } from './yaml-positions';

const SAGEMAKER = new Set(['sagemaker-realtime', 'sagemaker-async']);

/** What each semantic check gets: the deployment, where its fields are written, and where to report. */
interface CheckContext {
  d: DeploymentDraft;
  yaml: ParsedYaml;
  specDir: string;
  at(...p: PathPart[]): SourceLocation;
  add(message: string, location: SourceLocation, hint?: string): void;
}

/** Each type of instanceType (one, or the capacity fallback's ordered list). */
function checkInstanceType(ctx: CheckContext): void {
  for (const type of ctx.d.instanceTypes) checkOneInstanceType(ctx, type);
}

function checkOneInstanceType({ d, at, add }: CheckContext, type: string): void {
  const known = knownInstanceTypes(d.target);
  if (known.includes(type)) return;
  const old = previousGeneration(type, d.target);
  if (old) {
    add(`instanceType "${type}" is a previous-generation type (${old.family}), which model-deploy does not deploy to`, at('instanceType'), `Use the current generation: "${old.current}".`);
    return;
  }
  const sm = SAGEMAKER.has(d.target);
  const wrongPrefix = sm ? !type.startsWith('ml.') : type.startsWith('ml.');
  add(
    `instanceType "${type}" is not a known ${sm ? 'SageMaker' : 'EC2'} instance type for target ${d.target}`,
    at('instanceType'),
    wrongPrefix
      ? sm
        ? `SageMaker instance types start with "ml.": try "ml.${type}".`
        : `EC2 and ECS use EC2 instance types without "ml.": try "${type.replace(/^ml\./, '')}".`
      : didYouMean(type, known) || `Closest known types: ${nearest(type, known).join(', ')}.`,
  );
}

function checkEngine({ d, specDir, at, add }: CheckContext): void {
  if (!d.model.image && !d.engine) {
    add('engine is required unless model.image names a prebuilt image', at('model'), 'Add engine: { name: vllm } (or tgi, lmi, custom).');
  }
  if (d.model.image && d.model.bakeIntoImage) {
    add('model.bakeIntoImage needs a build, but model.image names a prebuilt image', at('model', 'bakeIntoImage'), 'Remove bakeIntoImage: the container loads the model files from model.s3 at start.');
  }
  if (d.engine?.name === 'custom') {
    if (!d.engine.dockerfile) {
      add('engine custom needs engine.dockerfile', at('engine'), 'Set engine.dockerfile to the path of your Dockerfile, relative to the spec file.');
    } else if (!fs.existsSync(path.resolve(specDir, d.engine.dockerfile))) {
      add(`engine.dockerfile "${d.engine.dockerfile}" does not exist`, at('engine', 'dockerfile'), `Looked for ${path.resolve(specDir, d.engine.dockerfile)}; paths are relative to the spec file.`);
    }
  } else if (d.engine?.dockerfile) {
    add(`engine.dockerfile is only used with engine name custom (this is ${d.engine.name})`, at('engine', 'dockerfile'), 'Remove it, or set engine.name: custom.');
  }
}

function checkScaling({ d, at, add }: CheckContext): void {
  if (d.autoscaling) {
    if (d.autoscaling.min > d.autoscaling.max) add(`autoscaling.min (${d.autoscaling.min}) is above autoscaling.max (${d.autoscaling.max})`, at('autoscaling'), 'Make min ≤ max.');
    if (d.autoscaling.min === 0 && d.target !== 'sagemaker-async') {
      add('autoscaling.min is 0, but only sagemaker-async endpoints can scale to zero', at('autoscaling', 'min'), 'Use min: 1, or target: sagemaker-async.');
    }
    if (d.instanceCount < d.autoscaling.min || d.instanceCount > d.autoscaling.max) {
      add(`instanceCount ${d.instanceCount} is outside autoscaling bounds ${d.autoscaling.min}-${d.autoscaling.max}`, at('instanceCount'), 'Set instanceCount within [min, max]; it is the initial count.');
    }
  }
  if (d.rollout.strategy === 'canary' && d.autoscaling === undefined && d.instanceCount < 2) {
    add('a canary rollout needs at least 2 instances (the canary is at most half of them)', at('rollout', 'strategy'), 'Raise instanceCount, or use strategy all-at-once.');
  }
}

/** ec2 and ecs serve HTTPS from a load balancer in the user's VPC. */
function checkServerTarget({ d, at, add }: CheckContext): void {
  if (SAGEMAKER.has(d.target)) return;
  if (!d.security.certificateArn && !d.security.certificateArns) {
    add(`target ${d.target} serves HTTPS and needs security.certificateArn`, at('target'), 'Give the ARN of an ACM certificate in the deployment region (arn:aws:acm:REGION:ACCOUNT:certificate/ID).');
  }
  const vpc = d.security.vpc;
  // With security.environments and no security.vpc, each environment's VPC is checked where it is chosen (region-truth.ts).
  const perEnvironment = !vpc && d.security.environments !== undefined;
  if (!perEnvironment && !vpc?.vpcId) {
    add(`target ${d.target} needs security.vpc with vpcId, subnets and securityGroups`, at('security'), 'The load balancer and the instances are placed in your VPC: give its id, the subnets for the instances and at least one security group.');
  } else if (vpc && (vpc.publicSubnets ?? vpc.subnets).length < 2) {
    add(`the load balancer needs two subnets in different availability zones (${vpc.publicSubnets ? 'security.vpc.publicSubnets' : 'security.vpc.subnets'} has one)`, at('security', 'vpc'), 'Add a second subnet in another availability zone.');
  }
  if (d.security.networkIsolation) add('security.networkIsolation applies to SageMaker targets only', at('security', 'networkIsolation'));
  if (d.security.dataCapture) add('security.dataCapture applies to SageMaker targets only', at('security', 'dataCapture'));
}

/** endpointName and executionRoleArn: SageMaker only; the role in the regions' partition. */
function checkSageMakerFields({ d, at, add }: CheckContext): void {
  for (const field of ['endpointName', 'executionRoleArn'] as const) {
    if (d[field] !== undefined && !SAGEMAKER.has(d.target)) add(`${field} applies to SageMaker targets only`, at(field));
  }
  const role = arnPartition(d.executionRoleArn);
  const partition = partitionOfAll(d.regions);
  if (role && partition && role !== partition) {
    add(
      `executionRoleArn is an ARN of partition ${role}, but the deployment deploys to ${d.regions.join(', ')} (partition ${partition})`,
      at('executionRoleArn'),
      `A role in ${partition} starts with arn:${partition}:iam::.`,
    );
  }
}

/** A prebuilt image a SageMaker endpoint can pull in each region (ECR in that region, or a DLC tag). */
function checkImageRegion({ d, at, add }: CheckContext): void {
  const image = d.model.image;
  if (!image || !SAGEMAKER.has(d.target)) return;
  const elsewhere = d.regions.filter((region) => imageForRegion(image, region) === undefined);
  if (elsewhere.length === 0) return;
  const first = elsewhere[0] ?? '';
  add(`model.image ${image} is not in ${elsewhere.join(', ')}, where the endpoint runs`, at('model', 'image'), imageRegionHint(image, first));
}

/** bedrockThroughput is bought in a target environment: one that exists, or (by default) one with a promotionRoleArn. */
export function bedrockThroughputChecks(environments: Record<string, EnvironmentSpec>, deployments: Pick<DeploymentDraft, 'name' | 'bedrockThroughput' | 'regions'>[], yaml: ParsedYaml): DeployError[] {
  const names = Object.keys(environments);
  return deployments.flatMap((d) => {
    const t = d.bedrockThroughput;
    if (!t || bedrockThroughputTargets(d, environments).length > 0) return [];
    const field = ['deployments', d.name, 'bedrockThroughput'];
    const written = (p: PathPart[]) => (valueAt(yaml.data, [...field, ...p]) !== undefined ? [...field, ...p] : ['defaults', 'bedrockThroughput', ...p]);
    const [message, location, hint] =
      t.environment !== undefined
        ? [`bedrockThroughput.environment is "${t.environment}", which is not an environment of the spec`, written(['environment']), names.length ? `${didYouMean(t.environment, names)} Environments: ${names.join(', ')}.`.trim() : 'Add the target environment under environments:.']
        : ['bedrockThroughput has no target environment: no environment has a promotionRoleArn', written([]), 'Name the environment promote-model copies the Bedrock model to (bedrockThroughput.environment: prod), or give it a promotionRoleArn.'];
    return [new DeployError(`deployments.${d.name}: ${message}`, { location: yaml.locate(location), hint, title: 'Invalid deployment spec' })];
  });
}

/** Two deployments with one endpoint name would replace each other's endpoint. */
function endpointNameChecks(deployments: DeploymentDraft[], yaml: ParsedYaml): DeployError[] {
  const owner = new Map<string, string>();
  const errors: DeployError[] = [];
  for (const d of deployments) {
    if (!d.endpointName) continue;
    const first = owner.get(d.endpointName);
    if (first === undefined) {
      owner.set(d.endpointName, d.name);
      continue;
    }
    errors.push(
      new DeployError(`deployments.${d.name}: endpointName "${d.endpointName}" is also the endpoint name of deployment ${first}`, {
        location: yaml.locate(['deployments', d.name, 'endpointName']),
        hint: 'Give each deployment its own endpointName, or leave it out for a generated one.',
        title: 'Invalid deployment spec',
      }),
    );
  }
  return errors;
}

function checkAsync({ d, yaml, at, add }: CheckContext): void {
  if (d.target !== 'sagemaker-async' && valueAt(yaml.data, ['deployments', d.name, 'async']) !== undefined) {
    add('async settings are only used by target sagemaker-async', at('async'));
  }
}

function checkRegions({ d, at, add }: CheckContext): void {
  const { china, other } = chinaSplit(d.regions);
  if (china.length > 0 && other.length > 0) {
    add('mixes China regions with other regions', at('regions'), 'China regions live in a separate partition (aws-cn) with accounts of their own: list them in an environment of their own instead (environments.NAME.regions: [cn-north-1]; an environment\'s regions replace the deployment\'s), as examples/china.yml does.');
  }
}

/** Regions an environment gives its deployments, and its roles, against the partitions they use. */
function environmentChecks(environments: Record<string, EnvironmentSpec>, deployments: DeploymentDraft[], yaml: ParsedYaml): DeployError[] {
  return Object.entries(environments).flatMap(([name, env]) =>
    environmentProblems(name, env, deployments).map((p) => new DeployError(p.message, { location: yaml.locate(p.path), hint: p.hint, title: 'Invalid deployment spec' })),
  );
}

/** Each environment's certificate of security.certificateArns and VPCs of security.environments, in its account and regions (region-truth.ts). */
function certificateChecks(environments: Record<string, EnvironmentSpec>, deployments: DeploymentDraft[], yaml: ParsedYaml): DeployError[] {
  return deployments.flatMap((d) =>
    [...certificateEnvironmentProblems(d, environments), ...environmentSecurityProblems(d, environments)].map((p) => new DeployError(`deployments.${d.name}: ${p.message}`, { location: yaml.locate(['deployments', d.name, ...p.field]), hint: p.hint, title: 'Invalid deployment spec' })),
  );
}

/** Engines with a verified Neuron build (src/image/engines.ts); SageMaker hosts the Neuron devices. */
const NEURON_ENGINES = new Set(['lmi', 'tgi', 'custom']);

/** Inferentia/Trainium: SageMaker with a Neuron build of the engine; ec2/ecs hosts lack the Neuron AMI and devices. */
function checkNeuron({ d, at, add }: CheckContext): void {
  if (neuronCores(d.instanceType) === undefined) return;
  if (!SAGEMAKER.has(d.target)) {
    add(
      `target ${d.target} cannot run ${d.instanceType} (AWS Neuron) yet: its hosts have no Neuron AMI or device mapping`,
      at('instanceType'),
      `Use target: sagemaker-realtime (or sagemaker-async) with instanceType ml.inf2.xlarge (or another ml.inf2/ml.trn1 type) and engine lmi or tgi; or a GPU type such as g5.2xlarge on ${d.target}.`,
    );
  } else if (d.engine && !NEURON_ENGINES.has(d.engine.name)) {
    add(
      `engine ${d.engine.name} has no verified Neuron build for ${d.instanceType} (Inferentia/Trainium)`,
      at('engine'),
      'Use engine: { name: lmi } (DJL LMI neuronx) or engine: { name: tgi } (TGI neuronx), or a GPU instance type (ml.g5.2xlarge) for vllm.',
    );
  }
}

/** KMS keys, certificates, weights buckets and instance types in each region and partition (region-truth.ts). */
function checkRegionTruth({ d, at, add }: CheckContext): void {
  for (const p of regionTruthProblems(d)) add(p.message, at(...p.field), p.hint);
}

/** ec2/ecs: the load balancer's allowed CIDR blocks, as EC2 takes them (cidrs.ts). */
function checkAllowedCidrs({ d, at, add }: CheckContext): void {
  if (SAGEMAKER.has(d.target)) return;
  for (const p of allowedCidrProblems(d.security)) add(p.message, at(...p.field), p.hint);
}

const SEMANTIC_CHECKS = [checkInstanceType, checkEngine, checkNeuron, checkScaling, checkServerTarget, checkSageMakerFields, checkImageRegion, checkAsync, checkRegions, checkRegionTruth, checkAllowedCidrs];

/**
 * The benchmark workload: the rules a schema cannot say (concurrency or rate, steps), defaults
 * applied; undefined when it has errors (each added at its field).
 */
function resolveDeploymentWorkload({ d, at, add }: CheckContext): Workload | undefined {
  try {
    // No location here: each error is pointed at its field below (positions cost a second parse).
    return resolveWorkload(d.workload, { path: 'workload' });
  } catch (err) {
    for (const e of err instanceof DeployErrors ? err.errors : [err]) {
      if (!(e instanceof DeployError)) throw e;
      // "workload.objective.p95TtftMs is ...": point at that field where it is written.
      const field = /^workload\.([\w.]+)/.exec(e.message)?.[1]?.split('.') ?? [];
      add(e.message, at('workload', ...field), e.hint);
    }
    return undefined;
  }
}

/**
 * The per-deployment checks, in order, each problem said at the field where it is written; the
 * workload is resolved last, and the deployment is complete once it is.
 */
export function semanticChecks(d: DeploymentDraft, yaml: ParsedYaml, specDir: string): { deployment?: Deployment; errors: DeployError[] } {
  const errs: DeployError[] = [];
  const ctx: CheckContext = {
    d,
    yaml,
    specDir,
    // A field's position: where the deployment writes it, else where defaults: does, else the deployment's key.
    at: (...p) => {
      for (const written of [['deployments', d.name, ...p], ['defaults', ...p]]) {
        if (valueAt(yaml.data, written) !== undefined) return yaml.locate(written);
      }
      return yaml.locate(['deployments', d.name], true);
    },
    add: (message, location, hint) =>
      errs.push(new DeployError(`deployments.${d.name}: ${message}`, { location, hint, title: 'Invalid deployment spec' })),
  };
  for (const check of SEMANTIC_CHECKS) check(ctx);
  const workload = resolveDeploymentWorkload(ctx);
  return { deployment: workload && { ...d, workload }, errors: errs };
}

/** The checks across deployments and environments: partitions, shared endpoint names, Bedrock throughput targets. */
export function specChecks(environments: Record<string, EnvironmentSpec>, deployments: DeploymentDraft[], yaml: ParsedYaml): DeployError[] {
  return [...environmentChecks(environments, deployments, yaml), ...certificateChecks(environments, deployments, yaml), ...endpointNameChecks(deployments, yaml), ...bedrockThroughputChecks(environments, deployments, yaml)];
}
