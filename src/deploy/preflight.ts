/**
 * Refusals before anything mutates, for every region of the deploy at once (issue 22): what would
 * otherwise pass the change set and fail at execute, or complete and never serve. Region truth in the
 * regions actually deployed (config/region-truth.ts: keys, the certificate of the load balancer,
 * weights, the instance type, confirmed with EC2 where the offline table is silent), an image (by
 * digest or by tag) ECR does not hold, subnets and security groups EC2 does not hold there
 * (network.ts), S3 weights too big for the instance once listed (a size the spec did not give), and
 * weights in another account's artifact bucket, which the bootstrap's permissions boundary forbids
 * every stack role to read.
 */
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { DescribeInstanceTypeOfferingsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { awsClient, Credentials } from '../core/aws';
import { DeployError, errorName, explainAwsError, throwIfAny } from '../core/errors';
import { parseImageUri } from '../core/image-uri';
import type { Reporter } from '../core/log';
import { parseS3Location } from '../core/s3-location';
import { DLC_ACCOUNT_IDS } from '../config/image-region';
import { offeringsCommand, regionOffers } from '../config/instance-regions';
import { certificateAccountProblems, regionTruthProblems } from '../config/region-truth';
import { parseArtifactBucket } from '../config/names';
import { checkNetwork } from './network';
import { checkDeployment, checkErrors } from '../fit/check';
import { listS3Url } from '../core/s3-copy';
import type { Deployment } from '../config/types';

/** What one region deploys: its image and weights as the inputs resolved them. */
export interface PreflightRegion {
  region: string;
  imageUri?: string;
  modelDataUrl?: string;
}

export interface PreflightOptions {
  deployment: Deployment;
  /** The environment deployed (its certificate of security.certificateArns). */
  environmentName?: string;
  account: string;
  regions: PreflightRegion[];
  reporter: Reporter;
  credentials?: Credentials;
}

/** Every refusal of every region together, thrown before the first region is touched. */
export async function preflightChecks(o: PreflightOptions): Promise<void> {
  const d = o.deployment;
  const regions = o.regions.map((r) => r.region);
  const where = { ...d, regions, environmentName: o.environmentName };
  const placed = [...regionTruthProblems(where), ...certificateAccountProblems(where, o.account, 'the deploy is in')];
  const errors = placed.map((p) => new DeployError(`deployments.${d.name}: ${p.message}`, { location: d.source, hint: `Nothing was changed. ${p.hint}`, title: 'Not deployable here' }));
  // The reads are independent: asked at once, region by region, and reported in a fixed order.
  const [fit, ...perRegion] = await Promise.all([
    o.regions[0] ? listedWeightsFit(o, o.regions[0]) : [],
    ...o.regions.map(async (r) => {
      const [image, offering, network] = await Promise.all([imageProblem(o, r), offeringProblem(o, r.region), networkProblems(o, r.region)]);
      return [...weightsBucketProblems(d, r, o.account), ...[image, offering].filter((p): p is DeployError => p !== undefined), ...network];
    }),
  ]);
  errors.push(...fit, ...perRegion.flat());
  throwIfAny(errors);
}

/**
 * Where the offline table (config/instance-regions.ts) does not cover the region, EC2
 * DescribeInstanceTypeOfferings says whether it offers the type (SageMaker hosts on the same capacity).
 */
async function offeringProblem(o: PreflightOptions, region: string): Promise<DeployError | undefined> {
  const type = o.deployment.instanceType;
  if (regionOffers(type, region).offered !== 'unknown') return undefined;
  const ec2 = awsClient(EC2Client, { region, credentials: o.credentials });
  try {
    const out = await ec2.send(new DescribeInstanceTypeOfferingsCommand({ LocationType: 'region', Filters: [{ Name: 'instance-type', Values: [type.replace(/^ml\./, '')] }] }));
    if ((out.InstanceTypeOfferings ?? []).length > 0) return undefined;
    return new DeployError(`deployments.${o.deployment.name}: instanceType ${type} is not offered in ${region} (EC2 DescribeInstanceTypeOfferings lists no offering there)`, {
      location: o.deployment.source,
      title: 'Not deployable here',
      hint: `Nothing was changed. Choose a type the region offers, or another region: ${offeringsCommand(type, region)}`,
    });
  } catch (err) {
    const name = errorName(err);
    if (name !== 'UnauthorizedOperation' && name !== 'AccessDenied' && name !== 'AccessDeniedException') throw explainAwsError(err, `Asking EC2 whether ${region} offers ${type}`);
    o.reporter.warning(`Could not ask EC2 whether ${region} offers ${type} (${name}): not checked. Allow ec2:DescribeInstanceTypeOfferings to check it before deploying.`, undefined, 'Instance type not checked');
    return undefined;
  }
}

/**
 * S3 weights the spec gives no size for: the memory check before the merge said "not checked"; the
 * deploy role lists the weights deployed (model-data-url, else model.s3) and the check runs with their size.
 */
async function listedWeightsFit(o: PreflightOptions, r: PreflightRegion): Promise<DeployError[]> {
  const d = o.deployment;
  if (d.model.huggingface || !d.model.s3 || d.model.sizeGb !== undefined) return [];
  const url = r.modelDataUrl ?? d.model.s3;
  const deployed = { ...d, regions: [r.region as Deployment['regions'][number]], model: { ...d.model, s3: url } };
  const check = await checkDeployment({ locate: () => d.source }, deployed, { listS3: (u, region) => listS3Url(u, region, o.credentials) });
  o.reporter.info(`${check.summary}${check.facts.weightsBytes !== undefined ? ` (weights listed in ${url})` : ''}`);
  for (const gap of check.facts.gaps) o.reporter.info(`${d.name}: ${gap}`);
  return checkErrors([check]).map((e) => new DeployError(e.message, { location: d.source, title: e.title, hint: `Nothing was changed. ${e.hint ?? ''}`.trim() }));
}

/** The environment's subnets and security groups in this region, as EC2 holds them (network.ts). */
async function networkProblems(o: PreflightOptions, region: string): Promise<DeployError[]> {
  const check = await checkNetwork({ deployment: o.deployment, environmentName: o.environmentName, region, account: o.account, credentials: o.credentials });
  if (check.notChecked) o.reporter.warning(`${o.deployment.name}: ${check.notChecked}.`, o.deployment.source, 'Network not checked');
  for (const w of check.warnings) o.reporter.warning(`${o.deployment.name}: ${w}`, o.deployment.source, 'Network');
  return check.problems.map((p) => new DeployError(`deployments.${o.deployment.name}: ${p.message}`, { location: o.deployment.source, title: 'Network not found', hint: `Nothing was changed. ${p.hint}` }));
}

/**
 * The bootstrap's boundary (OwnAccountArtifactBucketsOnly) denies every stack role reading a
 * model-deploy-* bucket of another account: the endpoint could never load these weights.
 */
export function weightsBucketProblems(d: Deployment, r: PreflightRegion, account: string): DeployError[] {
  const location = r.modelDataUrl ? parseS3Location(r.modelDataUrl) : undefined;
  const owner = location && parseArtifactBucket(location.bucket)?.account;
  if (!owner || owner === account) return [];
  return [
    new DeployError(`model-data-url ${r.modelDataUrl} (the weights of ${d.name} in ${r.region}) is in the artifact bucket of account ${owner}, and the deploy is in account ${account}: the permissions boundary of the bootstrap lets stack roles read a model-deploy-* bucket of their own account only`, {
      title: 'Weights in another account',
      hint: `Nothing was changed. Copy the weights into this account with promote-model (it writes s3://model-deploy-${account}-${r.region}/… and outputs model-data-urls), or put them in a bucket of another name whose policy lets this account read them.`,
    }),
  ];
}

/**
 * The image the stack will pull must be in its repository, whether pinned by digest or by tag:
 * otherwise the stack may complete and the endpoint never pull (or fail at execute, long after the
 * secret and the change set were made). Deep Learning Container registries are AWS's (not readable
 * here, always there); a registry we may not read is a warning.
 */
async function imageProblem(o: PreflightOptions, r: PreflightRegion): Promise<DeployError | undefined> {
  const image = r.imageUri ? parseImageUri(r.imageUri) : undefined;
  if (!image || DLC_ACCOUNT_IDS.has(image.account)) return undefined;
  // Both given: the digest is what is pulled (the tag is only a label), so the digest is what must exist.
  const imageId = image.digest ? { imageDigest: image.digest } : { imageTag: image.tag };
  const pinned = image.digest ? `image ${image.digest}` : `tag ${image.tag}`;
  const ecr = awsClient(ECRClient, { region: image.region, credentials: o.credentials });
  try {
    await ecr.send(new DescribeImagesCommand({ registryId: image.account, repositoryName: image.repositoryName, imageIds: [imageId] }));
    return undefined;
  } catch (err) {
    const name = errorName(err);
    if (name === 'ImageNotFoundException' || name === 'RepositoryNotFoundException') {
      const build = image.digest
        ? "Pass the image build-model output for this commit (its image-uri), or promote-model's image-uris for another account or region."
        : `Build it with build-model for this deployment in ${image.region} (its image-uri output is pinned by digest; pass that), or push ${image.repositoryName}:${image.tag} to account ${image.account} in ${image.region}; promote-model's image-uris bring an image to another account or region.`;
      return new DeployError(`image-uri ${r.imageUri} is not in ECR: ${name === 'ImageNotFoundException' ? `repository ${image.repositoryName} in ${image.region} holds no ${pinned}` : `account ${image.account} has no repository ${image.repositoryName} in ${image.region}`}`, {
        title: 'Image not found',
        hint: `Nothing was changed. ${build}`,
      });
    }
    if (name === 'AccessDeniedException') {
      o.reporter.warning(`Could not read ${r.imageUri} in ECR (${name}): not checked that its ${image.digest ? 'digest' : 'tag'} exists. Allow ecr:DescribeImages on the repository to check it before deploying.`, undefined, 'Image not checked');
      return undefined;
    }
    throw explainAwsError(err, `Looking up image ${r.imageUri} in ECR`);
  }
}
