/**
 * The build infrastructure of a deployment in one region: the artifact bucket (shared per account and
 * region, created when missing, never changed when it exists) and the build stack (ECR repository,
 * CodeBuild project, role, log group) from templates/build/infrastructure.yaml. The stack carries a
 * hash of its template and parameters, so an unchanged spec costs one DescribeStacks.
 */
import { tagList } from '../core/tags';
import { sha256Hex } from '../core/hash';
import * as fs from 'fs';
import * as path from 'path';
import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStackEventsCommand,
  Stack,
  UpdateStackCommand,
} from '@aws-sdk/client-cloudformation';
import {
  CreateBucketCommand,
  HeadBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { awsClient, AwsContext, partitionOf } from '../core/aws';
import { DeployError, errorMessage, errorName, explainAwsError, httpStatus, isNotFound } from '../core/errors';
import type { Reporter } from '../core/log';
import { poll } from '../core/poll';
import { describeStack, stackOutputs } from '../core/stack';
import { ownershipTags, repositoryName, serviceRoleName } from '../config/names';
import type { Deployment } from '../config/types';

export interface BuildInfra {
  repositoryUri: string;
  projectName: string;
  logGroupName: string;
}

export function artifactPrefix(d: Deployment): string {
  return `${d.project}/${d.name}`;
}

export function infraTemplate(root: string): string {
  return fs.readFileSync(path.join(root, 'templates', 'build', 'infrastructure.yaml'), 'utf8');
}

/** The resource types of the build template (its resources' `Type: AWS::Service::Resource` lines). */
export function resourceTypes(template: string): string[] {
  return [...new Set([...template.matchAll(/^ {4}Type: (AWS::\w+::\w+)\s*$/gm)].map((m) => m[1] as string))].sort();
}

/** The stack's parameters; ConfigHash covers the template and every other parameter. */
export function infraParameters(
  d: Deployment,
  opts: { region: string; account: string; bucket: string; template: string; baseRepository?: string; environmentName?: string },
): Record<string, string> & { ConfigHash: string } {
  // What the build role may read beyond the project's own objects (a Hugging Face token, a model bucket, a
  // key) is the bootstrap's to grant (BuildSecretArns, ModelSourceBuckets, KmsKeyArns), not the stack's.
  const params: Record<string, string> = {
    RepositoryName: repositoryName(d),
    KeepImages: String(d.build.keepImages),
    KmsKeyId: d.security.kmsKeyId ?? '',
    ComputeType: d.build.computeType,
    TimeoutMinutes: String(d.build.timeoutMinutes),
    LogRetentionDays: String(d.build.logRetentionDays),
    ArtifactBucket: opts.bucket,
    ArtifactPrefix: artifactPrefix(d),
    DeploymentName: d.name,
    // The bootstrap's build role of the environment running the build (the stack creates no role).
    ServiceRoleArn: `arn:${partitionOf(opts.region)}:iam::${opts.account}:role/${serviceRoleName(d.project, opts.environmentName || '{{environment}}', 'codebuild')}`,
  };
  const hash = sha256Hex(opts.template + JSON.stringify(Object.entries(params).sort())).slice(0, 32);
  return { ...params, ConfigHash: hash };
}

const SETTLED_OK = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE', 'IMPORT_COMPLETE']);

function outputsOf(stack: Stack): BuildInfra {
  const out = stackOutputs(stack);
  if (!out.RepositoryUri || !out.ProjectName || !out.LogGroupName) {
    throw new DeployError(`stack ${stack.StackName} has no RepositoryUri/ProjectName/LogGroupName outputs`, {
      title: 'Unexpected build stack',
      hint: 'The stack was changed outside build-model; delete it (after saving its images) and run build-model again.',
    });
  }
  return { repositoryUri: out.RepositoryUri, projectName: out.ProjectName, logGroupName: out.LogGroupName };
}

/** The existing stack's outputs when it is settled and carries this config hash, else undefined. */
export function upToDate(stack: Stack | undefined, configHash: string): BuildInfra | undefined {
  if (!stack || !SETTLED_OK.has(stack.StackStatus ?? '')) return undefined;
  const current = stack.Parameters?.find((p) => p.ParameterKey === 'ConfigHash')?.ParameterValue;
  return current === configHash ? outputsOf(stack) : undefined;
}

async function failureReasons(cfn: CloudFormationClient, name: string): Promise<string[]> {
  try {
    const out = await cfn.send(new DescribeStackEventsCommand({ StackName: name }));
    return (out.StackEvents ?? [])
      .filter((e) => /FAILED$/.test(e.ResourceStatus ?? '') && e.ResourceStatusReason)
      .slice(0, 5)
      .map((e) => `${e.LogicalResourceId}: ${e.ResourceStatusReason}`);
  } catch {
    return [];
  }
}

export interface EnsureInfraOptions {
  aws: AwsContext;
  d: Deployment;
  /** The build stack (the target's names.buildStack). */
  stackName: string;
  environmentName?: string;
  parameters: Record<string, string>;
  template: string;
  existing: Stack | undefined;
  reporter: Reporter;
  signal?: AbortSignal;
  pollMs?: number;
}

/** Creates or updates the build stack and waits until it settles. */
export async function ensureBuildStack(o: EnsureInfraOptions): Promise<BuildInfra> {
  const cfn = awsClient(CloudFormationClient, o.aws);
  const name = o.stackName;
  const Parameters = Object.entries(o.parameters).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue }));
  const Tags = tagList(ownershipTags(o.d, o.environmentName));
  // The deploy role refuses a stack change that does not name its resource types (CloudFormation then
  // refuses a template with any other type).
  const common = { StackName: name, TemplateBody: o.template, Parameters, Tags, Capabilities: ['CAPABILITY_IAM' as const], ResourceTypes: resourceTypes(o.template) };
  let existing = o.existing;
  if (existing && /_IN_PROGRESS$/.test(existing.StackStatus ?? '')) existing = await waitForStack(cfn, name, o);
  if (existing?.StackStatus === 'ROLLBACK_COMPLETE') {
    // A first create that failed leaves a stack that can only be deleted.
    o.reporter.info(`Stack ${name} is in ROLLBACK_COMPLETE from a failed create: deleting it first.`);
    await cfn.send(new DeleteStackCommand({ StackName: name })).catch((err) => {
      throw explainAwsError(err, `Deleting stack ${name}`);
    });
    await waitForStack(cfn, name, o, true);
    existing = undefined;
  }
  try {
    if (existing) {
      o.reporter.info(`Updating build stack ${name}`);
      await cfn.send(new UpdateStackCommand(common));
    } else {
      o.reporter.info(`Creating build stack ${name} (ECR repository ${o.parameters.RepositoryName}, CodeBuild project)`);
      await cfn.send(new CreateStackCommand({ ...common, OnFailure: 'ROLLBACK' }));
    }
  } catch (err) {
    if (/No updates are to be performed/.test(errorMessage(err)) && existing) return outputsOf(existing);
    throw explainAwsError(err, `${existing ? 'Updating' : 'Creating'} stack ${name}`);
  }
  const settled = await waitForStack(cfn, name, o);
  if (!settled || !SETTLED_OK.has(settled.StackStatus ?? '') || settled.StackStatus === 'UPDATE_ROLLBACK_COMPLETE') {
    const reasons = await failureReasons(cfn, name);
    throw new DeployError(`build stack ${name} ended in ${settled?.StackStatus ?? 'DELETED'}`, {
      title: 'Build infrastructure failed',
      hint: reasons.length ? reasons.join('\n') : 'See the stack events in the CloudFormation console.',
    });
  }
  return outputsOf(settled);
}

async function waitForStack(cfn: CloudFormationClient, name: string, o: EnsureInfraOptions, untilGone = false): Promise<Stack | undefined> {
  const result = await poll<Stack | undefined>({
    what: `stack ${name}`,
    check: () => describeStack(cfn, name),
    done: (s) => !s || !/_IN_PROGRESS$/.test(s.StackStatus ?? '') || (untilGone && s.StackStatus === 'DELETE_COMPLETE'),
    initialDelayMs: o.pollMs ?? 5000,
    maxDelayMs: Math.max(o.pollMs ?? 5000, 15000),
    timeoutMs: 30 * 60_000,
    signal: o.signal,
  });
  return result.value?.StackStatus === 'DELETE_COMPLETE' ? undefined : result.value;
}

/** Creates the artifact bucket when missing: SSE, public access blocked, owner-enforced, TLS only. */
export async function ensureArtifactBucket(aws: AwsContext, bucket: string, kmsKeyId: string | undefined, reporter: Reporter): Promise<void> {
  const s3 = awsClient(S3Client, aws);
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return;
  } catch (err) {
    if (httpStatus(err) === 403) {
      throw new DeployError(`artifact bucket ${bucket} exists but this role cannot use it (403)`, {
        title: 'Artifact bucket not accessible',
        hint: 'Another account may own the name, or the role lacks s3:ListBucket on it. Set environments.<env>.artifactBucket to a bucket you own.',
      });
    }
    if (!isNotFound(err)) throw explainAwsError(err, `Checking bucket ${bucket}`);
  }
  reporter.info(`Creating artifact bucket ${bucket}`);
  try {
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        ObjectOwnership: 'BucketOwnerEnforced',
        CreateBucketConfiguration: aws.region === 'us-east-1' ? undefined : { LocationConstraint: aws.region as never },
      }),
    );
  } catch (err) {
    if (errorName(err) !== 'BucketAlreadyOwnedByYou') throw explainAwsError(err, `Creating bucket ${bucket}`);
  }
  try {
    await configureBucket(s3, bucket, aws.region, kmsKeyId);
  } catch (err) {
    throw explainAwsError(err, `Securing the new bucket ${bucket}`);
  }
}

async function configureBucket(s3: S3Client, bucket: string, region: string, kmsKeyId: string | undefined): Promise<void> {
  await s3.send(
    new PutPublicAccessBlockCommand({
      Bucket: bucket,
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
    }),
  );
  await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: bucket, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
  await s3.send(
    new PutBucketEncryptionCommand({
      Bucket: bucket,
      ServerSideEncryptionConfiguration: {
        Rules: [
          kmsKeyId
            ? { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: kmsKeyId }, BucketKeyEnabled: true }
            : { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
        ],
      },
    }),
  );
  const partition = partitionOf(region);
  await s3.send(
    new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'DenyInsecureTransport',
            Effect: 'Deny',
            Principal: '*',
            Action: 's3:*',
            Resource: [`arn:${partition}:s3:::${bucket}`, `arn:${partition}:s3:::${bucket}/*`],
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ],
      }),
    }),
  );
}
