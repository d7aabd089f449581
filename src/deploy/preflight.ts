/**
 * Refusals before anything mutates, for every region of the deploy at once (issue 22): what would
 * otherwise pass the change set and fail at execute, or complete and never serve. The certificate of
 * the load balancer in another region, an image digest ECR does not hold, and weights in another
 * account's artifact bucket, which the bootstrap's permissions boundary forbids every stack role to read.
 */
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { parseArn } from '../core/arn';
import { awsClient, Credentials } from '../core/aws';
import { DeployError, errorName, explainAwsError, throwIfAny } from '../core/errors';
import { parseImageUri } from '../core/image-uri';
import type { Reporter } from '../core/log';
import { parseS3Location } from '../core/s3-location';
import { DLC_ACCOUNT_IDS } from '../config/image-region';
import { artifactBucketAccount } from '../config/names';
import type { Deployment } from '../config/types';

/** What one region deploys: its image and weights as the inputs resolved them. */
export interface PreflightRegion {
  region: string;
  imageUri?: string;
  modelDataUrl?: string;
}

export interface PreflightOptions {
  deployment: Deployment;
  account: string;
  regions: PreflightRegion[];
  reporter: Reporter;
  credentials?: Credentials;
}

/** Every refusal of every region together, thrown before the first region is touched. */
export async function preflightChecks(o: PreflightOptions): Promise<void> {
  const errors: DeployError[] = [];
  for (const r of o.regions) {
    errors.push(...certificateRegionProblems(o.deployment, r.region), ...weightsBucketProblems(o.deployment, r, o.account));
    const image = await imageDigestProblem(o, r);
    if (image) errors.push(image);
  }
  throwIfAny(errors);
}

/** An ALB listener takes an ACM certificate of its own region only (CloudFormation fails with CertificateNotFound). */
export function certificateRegionProblems(d: Deployment, region: string): DeployError[] {
  if (d.target !== 'ec2' && d.target !== 'ecs') return [];
  const arn = parseArn(d.security.certificateArn);
  if (!arn?.region || arn.region === region) return [];
  return [
    new DeployError(`security.certificateArn is a certificate in ${arn.region}, but the load balancer of ${d.name} is in ${region}: ACM certificates serve load balancers of their own region only`, {
      location: d.source,
      title: 'Certificate in another region',
      hint: `Nothing was changed. Request or import a certificate for ${d.security.hostname ?? 'the hostname'} in ${region} (aws acm request-certificate --region ${region}) and give its ARN (arn:…:acm:${region}:…), or deploy this deployment to ${arn.region}.`,
    }),
  ];
}

/**
 * The bootstrap's boundary (OwnAccountArtifactBucketsOnly) denies every stack role reading a
 * model-deploy-* bucket of another account: the endpoint could never load these weights.
 */
export function weightsBucketProblems(d: Deployment, r: PreflightRegion, account: string): DeployError[] {
  const location = r.modelDataUrl ? parseS3Location(r.modelDataUrl) : undefined;
  const owner = location && artifactBucketAccount(location.bucket);
  if (!owner || owner === account) return [];
  return [
    new DeployError(`model-data-url ${r.modelDataUrl} (the weights of ${d.name} in ${r.region}) is in the artifact bucket of account ${owner}, and the deploy is in account ${account}: the permissions boundary of the bootstrap lets stack roles read a model-deploy-* bucket of their own account only`, {
      title: 'Weights in another account',
      hint: `Nothing was changed. Copy the weights into this account with promote-model (it writes s3://model-deploy-${account}-${r.region}/… and outputs model-data-urls), or put them in a bucket of another name whose policy lets this account read them.`,
    }),
  ];
}

/**
 * An image pinned by digest must be in its repository: otherwise the stack may complete and the
 * endpoint never pull. Deep Learning Container registries are AWS's (not readable here, always there);
 * a registry we may not read is a warning.
 */
async function imageDigestProblem(o: PreflightOptions, r: PreflightRegion): Promise<DeployError | undefined> {
  const image = r.imageUri ? parseImageUri(r.imageUri) : undefined;
  if (!image?.digest || DLC_ACCOUNT_IDS.has(image.account)) return undefined;
  const ecr = awsClient(ECRClient, { region: image.region, credentials: o.credentials });
  try {
    await ecr.send(new DescribeImagesCommand({ registryId: image.account, repositoryName: image.repositoryName, imageIds: [{ imageDigest: image.digest }] }));
    return undefined;
  } catch (err) {
    const name = errorName(err);
    if (name === 'ImageNotFoundException' || name === 'RepositoryNotFoundException') {
      return new DeployError(`image-uri ${r.imageUri} is not in ECR: ${name === 'ImageNotFoundException' ? `repository ${image.repositoryName} holds no image ${image.digest}` : `account ${image.account} has no repository ${image.repositoryName} in ${image.region}`}`, {
        title: 'Image not found',
        hint: 'Nothing was changed. Pass the image build-model output for this commit (its image-uri), or promote-model\'s image-uris for another account or region.',
      });
    }
    if (name === 'AccessDeniedException') {
      o.reporter.warning(`Could not read ${r.imageUri} in ECR (${name}): not checked that the digest exists. Allow ecr:DescribeImages on the repository to check it before deploying.`, undefined, 'Image not checked');
      return undefined;
    }
    throw explainAwsError(err, `Looking up image ${r.imageUri} in ECR`);
  }
}
