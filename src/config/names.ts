/**
 * Resource names derived from the spec, in one place: build-model, deploy-endpoint, rotate-key and
 * promote-model must agree on them, and users must be able to predict them.
 */
import type { Deployment } from './types';

/** CloudFormation stack of a deployment in an environment (128 chars max, [A-Za-z0-9-]). */
export function stackName(d: Pick<Deployment, 'project' | 'name'>, environment?: string): string {
  return [d.project, d.name, environment].filter(Boolean).join('-').slice(0, 128);
}

/** Stack that holds the build infrastructure (ECR repository, CodeBuild project) of a deployment. */
export function buildStackName(d: Deployment): string {
  return `${d.project}-${d.name}-build`.slice(0, 128);
}

/** ECR repository: lower case, [a-z0-9._/-], 2-256 chars. */
export function repositoryName(d: Pick<Deployment, 'project' | 'name'>): string {
  return `${d.project}/${d.name}`;
}

/** SageMaker endpoint names: [a-zA-Z0-9-], 63 chars max. */
export function endpointName(d: Pick<Deployment, 'project' | 'name' | 'endpointName'>, environment?: string): string {
  if (d.endpointName) return d.endpointName;
  return stackName(d, environment).slice(0, 63).replace(/-+$/, '');
}

/** The API-key secret of a deployment in an environment. */
export function apiKeySecretName(d: Deployment, environment?: string): string {
  return `${d.project}/${d.name}/${environment ?? 'default'}/api-key`;
}

/** Default artifact bucket of an account in a region (weights, build sources, large templates). */
export function artifactBucketName(account: string, region: string): string {
  return `model-deploy-${account}-${region}`;
}

/** The account and region a default artifact bucket name says (model-deploy-ACCOUNT-REGION), else undefined. */
export function parseArtifactBucket(bucket: string): { account: string; region: string } | undefined {
  const [, account, region] = /^model-deploy-(\d{12})-([a-z]{2}(?:-[a-z]+)+-\d)$/.exec(bucket) ?? [];
  return account && region ? { account, region } : undefined;
}

/** The tag naming the deployment a resource belongs to (IAM conditions match roles by it). */
export const DEPLOYMENT_TAG = 'model-deploy:deployment';

/** The tags that say a resource is ours: checked before anything of it changes. */
export function ownershipMarks(d: Pick<Deployment, 'project' | 'name'>, environment?: string): Record<string, string> {
  return {
    'model-deploy:project': d.project,
    [DEPLOYMENT_TAG]: d.name,
    ...(environment ? { 'model-deploy:environment': environment } : {}),
  };
}

/** Tags every resource we create carries: the spec's tags and the ownership marks. */
export function ownershipTags(d: Pick<Deployment, 'project' | 'name' | 'tags'>, environment?: string): Record<string, string> {
  return { ...d.tags, ...ownershipMarks(d, environment) };
}

/** The roles the bootstrap creates for an environment, one per kind of workload (the stacks create none). */
export type ServiceRoleKind = 'sagemaker' | 'ecs-task' | 'ecs-exec' | 'ecs-instance' | 'ec2-instance' | 'codebuild';

/**
 * PROJECT.ENVIRONMENT.KIND: a service role of templates/bootstrap (and the instance profile of the same name for
 * the instance kinds). The dot occurs in no project name, so no grant by one project's name reaches another's.
 */
export function serviceRoleName(project: string, environment: string, kind: ServiceRoleKind): string {
  return `${project}.${environment}.${kind}`;
}

/** The bootstrap's SSM document that refreshes the API key file on an environment's ec2 instances. */
/** Every PROJECT.ENVIRONMENT.SUFFIX name the bootstrap creates: each must fit IAM's 64 characters. */
export const BOOTSTRAP_NAME_SUFFIXES: readonly string[] = ['sagemaker', 'ecs-task', 'ecs-exec', 'ecs-instance', 'ec2-instance', 'codebuild', 'provenance-recorder', 'refresh-keys'];

/** IAM role and instance-profile names: 64 characters at most. */
export const IAM_ROLE_NAME_MAX = 64;

export function refreshKeysDocumentName(project: string, environment: string): string {
  return `${project}.${environment}.refresh-keys`;
}
