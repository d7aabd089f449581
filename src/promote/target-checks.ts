/**
 * Every target of a promotion checked before anything is copied (issue 23): in each target region, the
 * artifact bucket belongs to the target account (or does not exist yet), the KMS key is usable, and the
 * image repository is readable by the promotion role. A target that fails here fails the same way on every
 * re-run, so the message says what to change and that nothing was copied, never "re-run to finish".
 */
import { DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { awsClient } from '../core/aws';
import { DeployError, errorName, explainAwsError, httpStatus, isNotFound, throwIfAny } from '../core/errors';
import { artifactBucketName, repositoryName } from '../config/names';
import { kmsKeyIn } from './kms-key';
import type { PromotionPlan } from './plan';
import type { Promotion } from './promotion';

const NOTHING_COPIED = 'Nothing was copied.';

/** The artifact bucket promoted weights go to in one target region. */
export function targetBucket(plan: PromotionPlan, region: string): string {
  return plan.target.env.artifactBucket ?? artifactBucketName(plan.target.env.account, region);
}

/** Every problem of every target region at once, before the first copy; throws when there is any. */
export async function checkTargets(p: Promotion): Promise<void> {
  const { plan } = p;
  const problems = await Promise.all(plan.target.regions.map((region) => regionProblems(p, region)));
  throwIfAny(problems.flat());
}

async function regionProblems(p: Promotion, region: string): Promise<DeployError[]> {
  const { plan } = p;
  const checks: Promise<DeployError | undefined>[] = [];
  if (plan.modelData) checks.push(bucketProblem(p, region));
  const key = kmsKeyIn(plan.target.env.kmsKeyId, region);
  if (key && (plan.modelData || plan.image)) checks.push(keyProblem(p, region, key));
  if (plan.image) checks.push(repositoryProblem(p, region, plan.target.env.ecrReplication ? plan.image.repositoryName : repositoryName(plan.deployment)));
  return (await Promise.all(checks)).filter((e): e is DeployError => e !== undefined);
}

/** HeadBucket naming the target account: a bucket of that name in another account answers 403. */
async function bucketProblem(p: Promotion, region: string): Promise<DeployError | undefined> {
  const { target } = p.plan;
  const bucket = targetBucket(p.plan, region);
  const s3 = awsClient(S3Client, { region, credentials: p.targetActor.credentials });
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket, ExpectedBucketOwner: target.env.account }));
    return undefined;
  } catch (err) {
    // Absent: promote-model creates it.
    if (isNotFound(err)) return undefined;
    if (httpStatus(err) === 403) {
      return new DeployError(`${region}: artifact bucket ${bucket} is not owned by ${target.env.account} (${target.name}), or ${p.targetActor.principal} may not list it. ${NOTHING_COPIED}`, {
        title: 'Target artifact bucket not usable',
        location: p.plan.spec.locate(['environments', target.name]),
        hint: `Bucket names are global: when another account holds ${bucket}, set environments.${target.name}.artifactBucket to a bucket ${target.env.account} owns (the bootstrap's CreateArtifactBucket makes one), then promote.`,
      });
    }
    return new DeployError(`${region}: ${explainAwsError(err, `Checking artifact bucket ${bucket}`).message} ${NOTHING_COPIED}`, { cause: err, title: 'Target artifact bucket not usable' });
  }
}

/** The key must exist, be reachable by the promotion role and be enabled. */
async function keyProblem(p: Promotion, region: string, key: string): Promise<DeployError | undefined> {
  const { target } = p.plan;
  const where = `environments.${target.name}.kmsKeyId`;
  const location = p.plan.spec.locate(['environments', target.name, 'kmsKeyId']);
  const kms = awsClient(KMSClient, { region, credentials: p.targetActor.credentials });
  try {
    const out = await kms.send(new DescribeKeyCommand({ KeyId: key }));
    const state = out.KeyMetadata?.KeyState;
    if (state === 'Enabled') return undefined;
    return new DeployError(`${region}: KMS key ${key} is ${state ?? 'in an unknown state'}, not Enabled. ${NOTHING_COPIED}`, {
      title: 'Target KMS key not usable',
      location,
      hint: `Enable the key (or cancel its deletion) in ${target.env.account} ${region}, or name another key in ${where}.`,
    });
  } catch (err) {
    const missing = isNotFound(err);
    return new DeployError(`${region}: KMS key ${key} ${missing ? `does not exist in ${target.env.account} ${region}` : `cannot be described by ${p.targetActor.principal} (${errorName(err)})`}. ${NOTHING_COPIED}`, {
      cause: err,
      title: 'Target KMS key not usable',
      location,
      hint: missing
        ? `Name a key of ${target.env.account} in ${where} (a multi-region key needs a replica in ${region}).`
        : 'The promotion role needs kms:DescribeKey on the key (the bootstrap grants it on the account\'s keys; a key policy may still refuse it).',
    });
  }
}

/** The target repository: absent is fine (it is created), unreadable is not. */
async function repositoryProblem(p: Promotion, region: string, name: string): Promise<DeployError | undefined> {
  const { target } = p.plan;
  const ecr = awsClient(ECRClient, { region, credentials: p.targetActor.credentials });
  try {
    await ecr.send(new DescribeRepositoriesCommand({ registryId: target.env.account, repositoryNames: [name] }));
    return undefined;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    return new DeployError(`${region}: ${explainAwsError(err, `ecr:DescribeRepositories on ${name} in ${target.env.account} as ${p.targetActor.principal}`).message} ${NOTHING_COPIED}`, {
      cause: err,
      title: 'Target image repository not usable',
      hint: `The promotion role of ${target.name} needs ecr:DescribeRepositories and ecr:CreateRepository on ${name} (the bootstrap's promotion role has them).`,
    });
  }
}
