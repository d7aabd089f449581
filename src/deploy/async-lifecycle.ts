/**
 * The async output lifecycle: requests, results and failures of a sagemaker-async deployment under its own
 * prefix of the artifact bucket expire after async.outputExpirationDays. The bucket has ONE lifecycle
 * configuration shared by every deployment (and by whatever else its owner put there), so the rule is merged:
 * every other rule is kept, ours (a stable ID per project and deployment) is replaced, and nothing is written
 * when it is already as wanted. Locations outside that prefix (another bucket, another prefix) are the user's:
 * untouched, and said once per run.
 */
import {
  BucketLifecycleConfiguration,
  GetBucketLifecycleConfigurationCommand,
  GetBucketVersioningCommand,
  LifecycleRule,
  PutBucketLifecycleConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { awsClient, Credentials } from '../core/aws';
import { DeployError, errorName, explainAwsError } from '../core/errors';
import type { Reporter } from '../core/log';
import { parseS3Location } from '../core/s3-location';
import type { Deployment } from '../config/types';
import { ensureArtifactBucket } from '../image/infra';
import { asyncOutputUri, environmentFolder } from './render';
import { compareText } from '../core/compare';

export interface AsyncLifecyclePlan {
  bucket: string;
  /** The deployment's async prefix (async/PROJECT/ENV/DEPLOYMENT/): input/, output/ and failure/ beside each other. */
  prefix: string;
  ruleId: string;
  days: number;
  /** Output or failure locations outside that prefix: not expired by us. */
  foreign: string[];
}

/**
 * One rule per project, environment and deployment (S3 caps an ID at 255 characters). Dots occur in none of the
 * names, so no other deployment's ID, nor the ID of the rule before environments had folders
 * (model-deploy-async-PROJECT-DEPLOYMENT, kept: it still expires what was written there), can equal it.
 */
export function asyncRuleId(d: Deployment, environment: string | undefined): string {
  return `model-deploy-async-${d.project}.${environmentFolder(environment)}.${d.name}`.slice(0, 255);
}

/** Where the rule goes: the parent of the default output folder that render.ts gives the deployment in its environment. */
export function asyncLifecyclePlan(d: Deployment, region: string, account: string, environment: string | undefined): AsyncLifecyclePlan {
  const ownDefault = s3(asyncOutputUri({ ...d, async: { ...d.async, outputPath: undefined } }, region, account, environment));
  const prefix = ownDefault.key.replace(/[^/]+\/$/, '');
  const inside = (uri: string) => {
    const l = s3(uri);
    return l.bucket === ownDefault.bucket && l.key.startsWith(prefix);
  };
  const foreign = [d.async.outputPath, d.async.failurePath].filter((u): u is string => Boolean(u) && !inside(u as string));
  return { bucket: ownDefault.bucket, prefix, ruleId: asyncRuleId(d, environment), days: d.async.outputExpirationDays, foreign };
}

function s3(uri: string): { bucket: string; key: string } {
  const l = parseS3Location(uri);
  if (!l) throw new DeployError(`not an S3 URI: ${uri}`);
  return l;
}

/** Our rule; in a versioned bucket an expired result also leaves a noncurrent version, which goes a day later. */
export function asyncRule(plan: AsyncLifecyclePlan, versioned: boolean): LifecycleRule {
  return {
    ID: plan.ruleId,
    Status: 'Enabled',
    Filter: { Prefix: plan.prefix },
    Expiration: { Days: plan.days },
    AbortIncompleteMultipartUpload: { DaysAfterInitiation: Math.min(plan.days, 7) },
    ...(versioned ? { NoncurrentVersionExpiration: { NoncurrentDays: 1 } } : {}),
  };
}

/** The configuration with our rule in place of any earlier copy of it, every other rule as it was. */
export function mergeRule(existing: LifecycleRule[], rule: LifecycleRule): LifecycleRule[] {
  return [...existing.filter((r) => r.ID !== rule.ID), rule];
}

/** Stable comparison: key order and absent-vs-undefined fields do not count as a change. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).sort(([a], [b]) => compareText(a, b))) : v,
  );
}

export interface AsyncLifecycleOptions {
  d: Deployment;
  region: string;
  account: string;
  /** The environment deployed to: its folder of the async prefix. */
  environment: string | undefined;
  reporter: Reporter;
  credentials?: Credentials;
}

/** Remembers per run (reporter) which foreign locations were already reported. */
const reported = new WeakMap<Reporter, Set<string>>();

/**
 * Ensures the deployment's async output rule on the artifact bucket. Returns true when it wrote the
 * configuration. Every call names the owner (ExpectedBucketOwner): a bucket of that name in another account
 * is never read or changed.
 */
export async function ensureAsyncOutputLifecycle(o: AsyncLifecycleOptions): Promise<boolean> {
  const plan = asyncLifecyclePlan(o.d, o.region, o.account, o.environment);
  reportForeign(plan, o.reporter, o.d);
  // Both locations elsewhere: nothing of this deployment lands in the artifact bucket.
  if (plan.foreign.length === 2) return false;
  // A prebuilt image deploys without a build, which is what otherwise makes the bucket the endpoint writes to.
  await ensureArtifactBucket({ region: o.region, credentials: o.credentials }, plan.bucket, o.d.security.kmsKeyId, o.reporter);
  const s3client = awsClient(S3Client, { region: o.region, credentials: o.credentials });
  const owner = { Bucket: plan.bucket, ExpectedBucketOwner: o.account };
  const where = `s3://${plan.bucket}/${plan.prefix}`;
  try {
    const versioning = await s3client.send(new GetBucketVersioningCommand(owner));
    const current = await currentConfiguration(s3client, owner);
    const rule = asyncRule(plan, versioning.Status === 'Enabled' || versioning.Status === 'Suspended');
    if (canonical(current.Rules?.find((r) => r.ID === rule.ID)) === canonical(rule)) {
      o.reporter.debug(`Lifecycle rule ${rule.ID} on ${plan.bucket} is up to date.`);
      return false;
    }
    const LifecycleConfiguration: BucketLifecycleConfiguration = { Rules: mergeRule(current.Rules ?? [], rule) };
    await s3client.send(
      new PutBucketLifecycleConfigurationCommand({ ...owner, LifecycleConfiguration, TransitionDefaultMinimumObjectSize: current.TransitionDefaultMinimumObjectSize }),
    );
    o.reporter.info(`Async requests, results and failures under ${where} expire after ${plan.days} days (lifecycle rule ${rule.ID}).`);
    return true;
  } catch (err) {
    throw explainAwsError(err, `Setting the async output lifecycle on ${where}`);
  }
}

async function currentConfiguration(s3client: S3Client, owner: { Bucket: string; ExpectedBucketOwner: string }) {
  try {
    const out = await s3client.send(new GetBucketLifecycleConfigurationCommand(owner));
    return { Rules: out.Rules, TransitionDefaultMinimumObjectSize: out.TransitionDefaultMinimumObjectSize };
  } catch (err) {
    // Not isNotFound: a missing bucket (NoSuchBucket) must fail, only a bucket without rules is empty.
    if (errorName(err) === 'NoSuchLifecycleConfiguration') return { Rules: [] as LifecycleRule[], TransitionDefaultMinimumObjectSize: undefined };
    throw err;
  }
}

function reportForeign(plan: AsyncLifecyclePlan, reporter: Reporter, d: Deployment): void {
  const seen = reported.get(reporter) ?? new Set<string>();
  reported.set(reporter, seen);
  const fresh = plan.foreign.filter((u) => !seen.has(u));
  if (!fresh.length) return;
  for (const u of fresh) seen.add(u);
  reporter.warning(
    `${fresh.join(' and ')} ${fresh.length > 1 ? 'are' : 'is'} outside the deployment's async prefix s3://${plan.bucket}/${plan.prefix}: model-deploy does not expire ${fresh.length > 1 ? 'them' : 'it'} (async.outputExpirationDays applies only there). Add a lifecycle rule to that bucket if its objects should expire.`,
    d.source,
    'Async outputs do not expire',
  );
}
