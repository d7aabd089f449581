/**
 * build-model: for each region, make sure the build infrastructure exists, and build the serving image
 * only when ECR lacks its content-addressed tag. An unchanged spec costs GetCallerIdentity (the
 * credentials must be the environment's account) + DescribeStacks + DescribeImages.
 */
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { awsClient, AwsContext } from '../core/aws';
import { DeployError, explainAwsError, isNotFound } from '../core/errors';
import { describeStack } from '../core/stack';
import { formatBytes } from '../core/bytes';
import { pinnedDigest } from '../core/image-uri';
import type { RunContext } from '../core/action';
import type { Reporter } from '../core/log';
import { checkEnvironmentAccount, Target, TargetNames } from '../config/select';
import { callerIdentity } from '../core/identity';
import { artifactBucketName } from '../config/names';
import type { Deployment, EnvironmentSpec, Spec } from '../config/types';
import { runBuild } from './codebuild';
import { dlcRegistry } from './engines';
import { artifactPrefix, ensureArtifactBucket, ensureBuildStack, infraParameters, infraTemplate, upToDate, BuildInfra } from './infra';
import { checkBeforeCreate } from '../fit/check';
import { renderBuild, RenderedBuild, templatesRoot } from './render';
import { regionalModelData } from './regional';
import { createZip } from './zip';

/** One build-model run: the target and request, with what every region step needs from them. */
interface BuildContext {
  d: Deployment;
  regions: string[];
  environmentName?: string;
  environment?: EnvironmentSpec;
  reporter: Reporter;
  signal?: AbortSignal;
  specDir: string;
  locate: Spec['locate'];
  names: TargetNames;
  request: BuildRequest;
}

export interface RegionBuild {
  region: string;
  imageUri: string;
  imageDigest: string;
  modelDataUrl: string;
  buildId: string;
  skipped: boolean;
  buildSeconds: number;
}

/**
 * The account the credentials belong to, checked against the environment's before anything is
 * created: with another environment's role the build would land in that account (as deploy checks).
 */
async function checkedAccount(o: BuildContext, aws: AwsContext): Promise<string> {
  const { account } = await callerIdentity(aws);
  checkEnvironmentAccount(account, o.environmentName, o.environment, o.locate);
  return account;
}

async function findImage(aws: AwsContext, repository: string, tag: string): Promise<string | undefined> {
  try {
    const out = await awsClient(ECRClient, aws).send(new DescribeImagesCommand({ repositoryName: repository, imageIds: [{ imageTag: tag }] }));
    return out.imageDetails?.[0]?.imageDigest;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw explainAwsError(err, `Looking up ${repository}:${tag} in ECR`);
  }
}

function modelDataUrl(rendered: RenderedBuild, bucket: string, d: Deployment): string {
  switch (rendered.weights.kind) {
    case 'huggingface':
      return `s3://${bucket}/${artifactPrefix(d)}/models/${rendered.weights.key}/`;
    case 's3':
      return rendered.weights.uri;
    default:
      return '';
  }
}

/** What build-model asks for, beyond the target. */
export interface BuildRequest {
  force?: boolean;
  sourceBucket?: string;
  timeoutMinutes?: number;
  pollSeconds?: number;
  /** Seam for tests: the build stack's wait interval, ms (default 5 s). */
  stackPollMs?: number;
}

/**
 * build-model's one domain call. A deployment with a prebuilt image (model.image) needs no build:
 * the result points at that image in every region (and at its model files, copied per region).
 */
export async function buildImage(target: Target, request: BuildRequest, run: RunContext): Promise<RegionBuild[]> {
  // Before any AWS call: refuse a model that cannot start on its type; build the commit a branch names now.
  const d = await checkBeforeCreate(target.spec, target.deployment, run.reporter);
  const o: BuildContext = {
    d,
    regions: target.regions,
    environmentName: target.environmentName,
    environment: target.environment,
    reporter: run.reporter,
    signal: run.signal,
    specDir: target.specDir,
    locate: target.spec.locate,
    names: target.names,
    request,
  };
  return o.d.model.image ? prebuiltImage(o, o.d.model.image) : buildRegions(o);
}

/** A prebuilt image: no build; model.s3 (if any) in each region's own bucket. */
async function prebuiltImage(o: BuildContext, image: string): Promise<RegionBuild[]> {
  o.reporter.info(`${o.d.name} uses the prebuilt image ${image}: no build.`);
  const digest = pinnedDigest(image) ?? '';
  const urls = await modelDataByRegion(o);
  return o.regions.map((region) => ({ region, imageUri: image, imageDigest: digest, modelDataUrl: urls?.get(region) ?? '', buildId: '', skipped: true, buildSeconds: 0 }));
}

/** The artifact bucket of a region: the request's, the environment's, else model-deploy's own. */
function artifactBucket(o: BuildContext, account: string, region: string): string {
  return o.request.sourceBucket ?? o.environment?.artifactBucket ?? artifactBucketName(account, region);
}

/** model.s3 (not baked into the image) per region, copied where its bucket is in another region. */
async function modelDataByRegion(o: BuildContext, known?: string): Promise<Map<string, string> | undefined> {
  if (!o.d.model.s3 || o.d.model.bakeIntoImage) return undefined;
  const first = o.regions[0];
  if (!first) return undefined;
  const account = known ?? (await checkedAccount(o, { region: first }));
  return regionalModelData({
    d: o.d,
    regions: o.regions,
    account,
    bucketFor: (region) => artifactBucket(o, account, region),
    reporter: o.reporter,
    sourceLocation: o.locate(['deployments', o.d.name, 'model', 's3']),
  });
}

/** Everything that can be wrong with the input fails here, before the first AWS call. */
function renderAll(o: BuildContext, root: string): Map<string, RenderedBuild> {
  const { d } = o;
  // An unpinned revision was resolved to its commit (or warned about) by checkBeforeCreate.
  return new Map(o.regions.map((region) => [region, renderBuild(d, { region, root, specDir: o.specDir, locate: o.locate })]));
}

async function buildRegions(o: BuildContext): Promise<RegionBuild[]> {
  const root = templatesRoot();
  const rendered = renderAll(o, root);
  const template = infraTemplate(root);
  let account: string | undefined;
  let modelData: Map<string, string> | undefined;
  const results: RegionBuild[] = [];
  for (const [region, build] of rendered) {
    const aws: AwsContext = { region };
    if (account === undefined) {
      account = await checkedAccount(o, aws);
      modelData = await modelDataByRegion(o, account);
    }
    results.push(await buildRegion(o, { aws, account, build, template, modelData: modelData?.get(region) }));
  }
  return results;
}

interface RegionStep {
  aws: AwsContext;
  account: string;
  build: RenderedBuild;
  template: string;
  /** model.s3 in this region (a copy when its bucket is elsewhere). */
  modelData?: string;
}

/** One region: infrastructure when its hash changed, then a build unless ECR has the tag. */
async function buildRegion(o: BuildContext, step: RegionStep): Promise<RegionBuild> {
  const { d, reporter } = o;
  const { aws, build } = step;
  const region = aws.region;
  const bucket = artifactBucket(o, step.account, region);
  const repository = o.names.repository;
  const { infra, bucketReady } = await ensureInfra(o, step, bucket);
  const imageUri = `${infra.repositoryUri}:${build.tag}`;
  const modelData = step.modelData ?? modelDataUrl(build, bucket, d);
  const existing = o.request.force ? undefined : await findImage(aws, repository, build.tag);
  if (existing) {
    reporter.info(`${imageUri} already exists (${existing}): nothing changed, no build.`);
    return { region, imageUri, imageDigest: existing, modelDataUrl: modelData, buildId: '', skipped: true, buildSeconds: 0 };
  }
  if (!bucketReady) await ensureArtifactBucket(aws, bucket, d.security.kmsKeyId, reporter);
  const key = await uploadSource(aws, bucket, `${artifactPrefix(d)}/sources/${build.tag}.zip`, build, reporter);
  const outcome = await runBuild({
    aws,
    projectName: infra.projectName,
    logGroupName: infra.logGroupName,
    sourceLocation: `${bucket}/${key}`,
    environment: {
      IMAGE_REPO_URI: infra.repositoryUri,
      IMAGE_TAG: build.tag,
      WEIGHTS_S3_URI: build.weights.kind === 'huggingface' ? modelData : '',
      BASE_REGISTRY: build.engine.fromDlc ? dlcRegistry(region) : '',
    },
    timeoutMinutes: o.request.timeoutMinutes ?? d.build.timeoutMinutes,
    reporter,
    signal: o.signal,
    pollMs: (o.request.pollSeconds ?? 10) * 1000,
  });
  // This build's own push (its exported variables), never a lookup of the tag: anyone who may push could have
  // moved or taken it meanwhile, and a protected ref's build records this digest as promotable.
  const digest = outcome.exported.IMAGE_DIGEST;
  if (!digest) {
    throw new DeployError(`build ${outcome.buildId} succeeded but exported no image digest of its own push (IMAGE_DIGEST is "${digest ?? ''}")`, {
      title: 'Image digest missing after build',
      hint: 'The buildspec reads the digest from its own docker push; check the build log. What the tag points at now is not used: it may not be this build\'s image.',
    });
  }
  const builtUri = outcome.exported.IMAGE_PUSHED_TAG ? `${infra.repositoryUri}:${outcome.exported.IMAGE_PUSHED_TAG}` : imageUri;
  reporter.info(`Built ${builtUri} (${digest}) in ${outcome.seconds} s`);
  return { region, imageUri: builtUri, imageDigest: digest, modelDataUrl: modelData, buildId: outcome.buildId, skipped: false, buildSeconds: outcome.seconds };
}

/** The build stack's outputs; an unchanged config hash costs one DescribeStacks and touches nothing. */
async function ensureInfra(o: BuildContext, step: RegionStep, bucket: string): Promise<{ infra: BuildInfra; bucketReady: boolean }> {
  const { d } = o;
  const { aws, template } = step;
  const parameters = infraParameters(d, { region: aws.region, account: step.account, bucket, template, baseRepository: step.build.engine.baseRepository, environmentName: o.environmentName });
  const stack = await describeStack(awsClient(CloudFormationClient, aws), o.names.buildStack);
  const current = upToDate(stack, parameters.ConfigHash);
  if (current) return { infra: current, bucketReady: false };
  await ensureArtifactBucket(aws, bucket, d.security.kmsKeyId, o.reporter);
  const infra = await ensureBuildStack({
    aws,
    d,
    stackName: o.names.buildStack,
    environmentName: o.environmentName,
    parameters,
    template,
    existing: stack,
    reporter: o.reporter,
    signal: o.signal,
    pollMs: o.request.stackPollMs,
  });
  return { infra, bucketReady: true };
}

async function uploadSource(aws: AwsContext, bucket: string, key: string, build: RenderedBuild, reporter: Reporter): Promise<string> {
  const zip = createZip(build.files);
  try {
    await awsClient(S3Client, aws).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: zip, ContentType: 'application/zip' }));
  } catch (err) {
    throw explainAwsError(err, `Uploading the build source to s3://${bucket}/${key}`);
  }
  reporter.info(`Uploaded the build source (${build.files.length} files, ${formatBytes(zip.length)}) to s3://${bucket}/${key}`);
  return key;
}
