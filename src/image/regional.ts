/**
 * model.s3 in several regions: SageMaker reads model data only from a bucket in the endpoint's own
 * region, so each region whose bucket is elsewhere gets a copy in that region's artifact bucket
 * (server-side, with the artifact copier of core/s3-copy.ts: unchanged objects are skipped on the next run).
 */
import { DEPLOYMENT_TAG } from '../config/names';
import { GetBucketLocationCommand, S3Client } from '@aws-sdk/client-s3';
import { awsClient, Credentials } from '../core/aws';
import { DeployError, errorName, explainAwsError, isNotFound } from '../core/errors';
import { parseS3Location, S3Location } from '../core/s3-location';
import type { Reporter } from '../core/log';
import type { Deployment } from '../config/types';
import { copyArtifacts, Bucket } from '../core/s3-copy';
import { ensureArtifactBucket } from './infra';

export interface RegionalCopyOptions {
  d: Deployment;
  regions: string[];
  account: string;
  /** The artifact bucket of a region (the same rule as the build's). */
  bucketFor(region: string): string;
  reporter: Reporter;
  credentials?: Credentials;
  /** Where to point an error about the source (model.s3 in the spec). */
  sourceLocation?: { file: string; line?: number };
}

/** GetBucketLocation answers from any region; "" is us-east-1 and "EU" the old name of eu-west-1. */
async function bucketRegion(source: S3Location, o: RegionalCopyOptions): Promise<string> {
  const client = awsClient(S3Client, { region: o.regions[0] ?? 'us-east-1', credentials: o.credentials });
  try {
    const out = await client.send(new GetBucketLocationCommand({ Bucket: source.bucket, ExpectedBucketOwner: o.account }));
    const constraint = out.LocationConstraint as string | undefined;
    return !constraint ? 'us-east-1' : constraint === 'EU' ? 'eu-west-1' : constraint;
  } catch (err) {
    if (errorName(err) === 'AccessDenied' || isNotFound(err)) {
      throw new DeployError(`model.s3 bucket ${source.bucket} is not readable as a bucket of account ${o.account} (${errorName(err)})`, {
        title: 'Model data not reachable',
        location: o.sourceLocation,
        hint: `The deployment's regions (${o.regions.join(', ')}) each need the model in their own region: keep model.s3 in a bucket of account ${o.account} that the deploy role can read (s3:GetBucketLocation, s3:ListBucket, s3:GetObject).`,
      });
    }
    throw explainAwsError(err, `Finding the region of s3://${source.bucket} (s3:GetBucketLocation)`);
  }
}

function bucketOf(region: string, bucket: string, o: RegionalCopyOptions): Bucket {
  const actor = { principal: 'the deploy role', account: o.account, credentials: o.credentials };
  return { client: awsClient(S3Client, { region, credentials: o.credentials }), actor, bucket, region, owner: o.account };
}

/** The model data URL of each region: model.s3 itself in its bucket's region, a copy in the others. */
export async function regionalModelData(o: RegionalCopyOptions): Promise<Map<string, string>> {
  const uri = o.d.model.s3 ?? '';
  const source = parseS3Location(uri);
  if (!source) throw new DeployError(`model.s3 "${uri}" is not an s3:// location`, { title: 'Invalid model location', location: o.sourceLocation });
  const home = await bucketRegion(source, o);
  const urls = new Map<string, string>();
  for (const region of o.regions) {
    if (region === home) {
      urls.set(region, uri);
      continue;
    }
    urls.set(region, await copyToRegion(source, home, region, o));
  }
  return urls;
}

async function copyToRegion(source: S3Location, home: string, region: string, o: RegionalCopyOptions): Promise<string> {
  const target = o.bucketFor(region);
  if (target === source.bucket) {
    throw new DeployError(`the artifact bucket ${target} is the bucket of model.s3, in ${home}; SageMaker in ${region} needs the model in ${region}`, {
      title: 'One bucket for several regions',
      location: o.sourceLocation,
      hint: 'Remove environments.<env>.artifactBucket so each region gets its own model-deploy bucket, or deploy this model in one region per deployment.',
    });
  }
  await ensureArtifactBucket({ region, credentials: o.credentials }, target, undefined, o.reporter);
  const result = await copyArtifacts(bucketOf(home, source.bucket, o), source.key, bucketOf(region, target, o), {
    tags: { [DEPLOYMENT_TAG]: o.d.name, 'model-deploy:source-region': home },
    missingHint: 'Check model.s3 in the spec.',
  });
  o.reporter.info(`${region}: model data at ${result.url} (${result.objectsCopied} copied, ${result.objectsSkipped} already current, ${result.bytesCopied} bytes)`);
  return result.url;
}
