/**
 * Region truth (issue 22): what a deployment names must live in each of its regions and in their
 * partition, or CloudFormation fails after the merge. KMS keys are regional (a multi-region key
 * mrk-… has a replica of the same id), a load balancer takes a certificate of its own region, a
 * SageMaker model reads its weights from a bucket of its own region, and a region must offer the
 * instance type (instance-regions.ts). Roles are partition-checked in checks.ts, images in
 * image-region.ts; subnet ids name no region, so only deploy-endpoint can tell.
 */
import { formatArn, isAccountId, parseArn } from '../core/arn';
import { partitionOf } from '../core/aws';
import { parseS3Location } from '../core/s3-location';
import { offeringsCommand, regionOffers } from './instance-regions';
import { parseArtifactBucket } from './names';
import { DeployError } from '../core/errors';
import { regionsFor } from './regions';
import type { Deployment, DeploymentDraft, Spec } from './types';
import type { PathPart } from './yaml-positions';

/**
 * A KMS key as named in `region`, or undefined when it cannot be used there: a key id or alias
 * resolves in each region, a multi-region key (mrk-) has a replica of the same id there, a key ARN
 * is one region's and one partition's.
 */
export function kmsKeyIn(key: string | undefined, region: string): string | undefined {
  if (!key) return undefined;
  const arn = parseArn(key);
  if (!arn || arn.service !== 'kms' || !arn.region || !isAccountId(arn.account)) return key;
  if (arn.partition !== partitionOf(region)) return undefined;
  if (arn.region === region) return key;
  return arn.resource.startsWith('key/mrk-') ? formatArn({ ...arn, region }) : undefined;
}

/** Why a KMS key cannot serve these regions, and what would; undefined when it serves them all. */
export function kmsKeyRegionProblem(key: string | undefined, regions: readonly string[]): { message: string; hint: string } | undefined {
  const elsewhere = regions.filter((region) => key && !kmsKeyIn(key, region));
  const arn = parseArn(key);
  if (!key || !arn || elsewhere.length === 0) return undefined;
  const first = elsewhere[0] ?? '';
  const partition = partitionOf(first);
  const where = arn.partition !== partition ? `partition ${arn.partition}, and ${elsewhere.join(', ')} ${elsewhere.length > 1 ? 'are' : 'is'} in partition ${partition}` : `${arn.region}, and KMS keys are regional: it cannot encrypt in ${elsewhere.join(', ')}`;
  return {
    message: `${key} is a key of ${where}`,
    hint: `Name the key by an alias (alias/NAME) created in every region, or use a multi-region key (arn:${partition}:kms:${first}:ACCOUNT:key/mrk-…) replicated into ${elsewhere.join(', ')}.`,
  };
}

/** One problem, at a field of the deployment. */
export interface RegionTruthProblem {
  field: PathPart[];
  message: string;
  hint: string;
}

const SAGEMAKER = new Set(['sagemaker-realtime', 'sagemaker-async']);

/** What the checks read of a deployment, in the regions it is placed in. */
type Placed = Pick<DeploymentDraft, 'instanceType' | 'instanceTypes' | 'security' | 'apiKey' | 'target' | 'model'> & { regions: readonly string[] };

/** Where the i-th type of instanceType is written: its list item when the field is a capacity fallback list. */
export function instanceTypeField(types: readonly string[], i: number): PathPart[] {
  return types.length > 1 ? ['instanceType', i] : ['instanceType'];
}

/** Each type of the list in each region: a fallback type the region does not offer would fail as surely. */
function instanceTypeProblems(d: Placed): RegionTruthProblem[] {
  return d.instanceTypes.flatMap((type, i) =>
    d.regions.flatMap((region) => {
      const o = regionOffers(type, region);
      if (o.offered !== false) return [];
      const others = o.elsewhere.length ? `Regions that offer it: ${o.elsewhere.join(', ')}.` : 'No region the table covers offers it.';
      return [{
        field: instanceTypeField(d.instanceTypes, i),
        message: `instanceType ${type} is not offered in ${region} (${o.source}, in prices.md)`,
        hint: `${others} Choose another type or region; to check a region yourself: ${offeringsCommand(type, region)}`,
      }];
    }),
  );
}

function kmsProblems(d: Placed): RegionTruthProblem[] {
  const keys: [string[], string | undefined][] = [[['security', 'kmsKeyId'], d.security.kmsKeyId], [['apiKey', 'kmsKeyId'], d.apiKey.kmsKeyId]];
  return keys.flatMap(([field, key]) => {
    const p = kmsKeyRegionProblem(key, d.regions);
    return p ? [{ field, message: `${field.join('.')} ${p.message}`, hint: p.hint }] : [];
  });
}

function certificateProblems(d: Placed): RegionTruthProblem[] {
  const arn = parseArn(d.security.certificateArn);
  if (SAGEMAKER.has(d.target) || !arn?.region) return [];
  const elsewhere = d.regions.filter((r) => r !== arn.region || partitionOf(r) !== arn.partition);
  if (elsewhere.length === 0) return [];
  const partition = partitionOf(elsewhere[0] ?? '');
  const what = arn.partition !== partition ? `an ARN of partition ${arn.partition}, but ${elsewhere.join(', ')} ${elsewhere.length > 1 ? 'are' : 'is'} in partition ${partition}` : `a certificate in ${arn.region}, but the load balancer runs in ${elsewhere.join(', ')}`;
  return [{
    field: ['security', 'certificateArn'],
    message: `security.certificateArn is ${what}: ACM certificates serve load balancers of their own region only`,
    hint: `Use a certificate of ${elsewhere.join(', ')} (aws acm request-certificate --region ${elsewhere[0]}), and put each region that needs another certificate in a deployment of its own.`,
  }];
}

/** A load balancer takes a certificate of its own account (`where` says whose account that is). */
export function certificateAccountProblems(d: Pick<DeploymentDraft, 'target' | 'security'>, account: string, where: string): RegionTruthProblem[] {
  const certAccount = parseArn(d.security.certificateArn)?.account;
  if (SAGEMAKER.has(d.target) || !certAccount || certAccount === account) return [];
  return [{
    field: ['security', 'certificateArn'],
    message: `security.certificateArn is a certificate of account ${certAccount}, and ${where} account ${account}: a load balancer takes certificates of its own account only`,
    hint: `Request or import a certificate in account ${account}, and give each environment its certificate in a deployment of its own.`,
  }];
}

/** SageMaker reads model data from a bucket of the endpoint's region; an artifact bucket's name says its region. */
function weightsBucketProblems(d: Placed): RegionTruthProblem[] {
  const location = d.model.s3 ? parseS3Location(d.model.s3) : undefined;
  const bucket = location && parseArtifactBucket(location.bucket);
  if (!SAGEMAKER.has(d.target) || !bucket) return [];
  const elsewhere = d.regions.filter((r) => r !== bucket.region);
  if (elsewhere.length === 0) return [];
  return [{
    field: ['model', 's3'],
    message: `model.s3 is in the artifact bucket of ${bucket.region}, but the endpoint runs in ${elsewhere.join(', ')}: SageMaker reads model data from a bucket of its own region`,
    hint: `Copy the weights to s3://model-deploy-${bucket.account}-${elsewhere[0]}/… (promote-model does it per region), or deploy this deployment to ${bucket.region} only.`,
  }];
}

/** Every region-truth problem of one deployment. */
export function regionTruthProblems(d: Placed): RegionTruthProblem[] {
  return [...instanceTypeProblems(d), ...kmsProblems(d), ...certificateProblems(d), ...weightsBucketProblems(d)];
}

/**
 * The same truths in the regions an environment deploys to (environments.X.regions may add regions
 * the deployment's own list has not), and a certificate of the environment's account: plan and
 * deploy-endpoint for that environment refuse what would fail there.
 */
export function environmentRegionTruth(spec: Pick<Spec, 'environments' | 'locate'>, deployments: readonly Deployment[], environmentName: string | undefined): DeployError[] {
  const env = environmentName ? spec.environments[environmentName] : undefined;
  if (!env || !environmentName) return [];
  return deployments.flatMap((d) => {
    const problems = regionTruthProblems({ ...d, regions: regionsFor(d, env) });
    problems.push(...certificateAccountProblems(d, env.account, `environment ${environmentName} deploys to`));
    return problems.map(
      (p) => new DeployError(`deployments.${d.name} in environment ${environmentName}: ${p.message}`, { location: spec.locate(['deployments', d.name, ...p.field]), hint: p.hint, title: 'Invalid deployment spec' }),
    );
  });
}
