/**
 * Region truth (issue 22): what a deployment names must live in each of its regions and in their
 * partition, or CloudFormation fails after the merge. KMS keys are regional (a multi-region key
 * mrk-… has a replica of the same id), a load balancer takes a certificate of its own region, a
 * SageMaker model reads its weights from a bucket of its own region, and a region must offer the
 * instance type (instance-regions.ts). Roles are partition-checked in checks.ts, images in
 * image-region.ts. Subnet ids name no region: offline, one VPC given to two regions is refused (a
 * subnet exists in one); that they exist where they are used, only AWS can tell (deploy-endpoint's
 * preflight and the estimate with the plan role, src/deploy/network.ts).
 */
import { formatArn, isAccountId, parseArn } from '../core/arn';
import { partitionOf } from '../core/aws';
import { parseS3Location } from '../core/s3-location';
import { offeringsCommand, regionOffers } from './instance-regions';
import { parseArtifactBucket } from './names';
import { DeployError } from '../core/errors';
import { regionsFor } from './regions';
import type { Deployment, DeploymentDraft, EnvironmentSpec, Spec } from './types';
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
type Placed = Pick<DeploymentDraft, 'instanceType' | 'instanceTypes' | 'security' | 'apiKey' | 'target' | 'model'> & { regions: readonly string[]; environmentName?: string };
type Security = DeploymentDraft['security'];

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

/** The certificate a load balancer takes in one environment and region, and where the spec writes it. */
export interface ChosenCertificate {
  arn?: string;
  field: PathPart[];
  /** How messages name the field: security.certificateArn, or security.certificateArns.ENV. */
  label: string;
}

/** An environment's entry of security.certificateArns, as a list (the schema allows one ARN or a list). */
function environmentCertificates(security: Pick<Security, 'certificateArns'>, environmentName: string | undefined): string[] | undefined {
  const own = environmentName === undefined ? undefined : security.certificateArns?.[environmentName];
  return own === undefined ? undefined : ([] as unknown[]).concat(own).filter((a): a is string => typeof a === 'string');
}

/**
 * The certificate of an environment's load balancer in a region: its entry of
 * security.certificateArns (the ARN of that region when it lists several, else its first), else
 * security.certificateArn. Region truth and the account checks then judge the one chosen.
 */
export function certificateFor(security: Pick<Security, 'certificateArn' | 'certificateArns'>, environmentName: string | undefined, region: string): ChosenCertificate {
  const own = environmentCertificates(security, environmentName);
  if (!own || environmentName === undefined) return { arn: security.certificateArn, field: ['security', 'certificateArn'], label: 'security.certificateArn' };
  const label = `security.certificateArns.${environmentName}`;
  if (own.length === 1) return { arn: own[0], field: ['security', 'certificateArns', environmentName], label };
  const i = Math.max(0, own.findIndex((a) => parseArn(a)?.region === region));
  return { arn: own[i], field: ['security', 'certificateArns', environmentName, i], label };
}

/** The certificate chosen in each region, grouped: one entry per certificate, with the regions it serves. */
function chosenCertificates(d: Pick<Placed, 'security' | 'regions' | 'environmentName'>): { chosen: ChosenCertificate; regions: string[] }[] {
  const byField = new Map<string, { chosen: ChosenCertificate; regions: string[] }>();
  for (const region of d.regions) {
    const chosen = certificateFor(d.security, d.environmentName, region);
    const key = chosen.field.join('.');
    const entry = byField.get(key) ?? { chosen, regions: [] };
    entry.regions.push(region);
    byField.set(key, entry);
  }
  return [...byField.values()];
}

function certificateProblems(d: Placed): RegionTruthProblem[] {
  if (SAGEMAKER.has(d.target)) return [];
  return chosenCertificates(d).flatMap(({ chosen, regions }) => {
    const arn = parseArn(chosen.arn);
    if (!arn?.region) return [];
    const elsewhere = regions.filter((r) => r !== arn.region || partitionOf(r) !== arn.partition);
    if (elsewhere.length === 0) return [];
    const partition = partitionOf(elsewhere[0] ?? '');
    const what = arn.partition !== partition ? `an ARN of partition ${arn.partition}, but ${elsewhere.join(', ')} ${elsewhere.length > 1 ? 'are' : 'is'} in partition ${partition}` : `a certificate in ${arn.region}, but the load balancer runs in ${elsewhere.join(', ')}`;
    const perEnvironment = d.environmentName
      ? `list one certificate per region under security.certificateArns.${d.environmentName}`
      : 'give each environment its certificates under security.certificateArns (ENVIRONMENT: [one ARN per region])';
    return [{
      field: chosen.field,
      message: `${chosen.label} is ${what}: ACM certificates serve load balancers of their own region only`,
      hint: `Use a certificate of ${elsewhere.join(', ')} (aws acm request-certificate --region ${elsewhere[0]}), and ${perEnvironment}.`,
    }];
  });
}

/**
 * A load balancer takes a certificate of its own account (`where` says whose account that is); with
 * an environment and its regions, the certificate each region chooses.
 */
export function certificateAccountProblems(d: Pick<DeploymentDraft, 'target' | 'security'> & { regions?: readonly string[]; environmentName?: string }, account: string, where: string): RegionTruthProblem[] {
  if (SAGEMAKER.has(d.target)) return [];
  const regions = d.regions?.length ? d.regions : [''];
  const chosen = chosenCertificates({ ...d, regions }).map((c) => c.chosen);
  return chosen.flatMap((c) => {
    const certAccount = parseArn(c.arn)?.account;
    if (!certAccount || certAccount === account) return [];
    const fix = d.environmentName ? `name it under security.certificateArns.${d.environmentName}` : 'give each environment its certificate under security.certificateArns (ENVIRONMENT: ARN)';
    return [{
      field: c.field,
      message: `${c.label} is a certificate of account ${certAccount}, and ${where} account ${account}: a load balancer takes certificates of its own account only`,
      hint: `Request or import a certificate in account ${account}, and ${fix}.`,
    }];
  });
}

/**
 * What validate can say of security.certificateArns with the spec's environments at hand: each key
 * names an environment, and each entry holds a certificate of that environment's account for every
 * region it deploys to; an environment named nowhere needs security.certificateArn.
 */
export function certificateEnvironmentProblems(d: DeploymentDraft, environments: Record<string, EnvironmentSpec>): RegionTruthProblem[] {
  if (SAGEMAKER.has(d.target) || !d.security.certificateArns) return [];
  const names = Object.keys(environments);
  const named = Object.keys(d.security.certificateArns);
  const without = d.security.certificateArn ? [] : names.filter((n) => !named.includes(n));
  const uncovered = without.map((name) => ({
    field: ['security', 'certificateArns'],
    message: `environment ${name} has no certificate: security.certificateArns does not name it, and there is no security.certificateArn`,
    hint: `Add ${name}: ARN (one per region it deploys to) under security.certificateArns, or set security.certificateArn for the environments not named there.`,
  }));
  return [...uncovered, ...named.flatMap((name) => {
    const env = environments[name];
    if (!env) {
      return [{
        field: ['security', 'certificateArns', name],
        message: `security.certificateArns.${name} names no environment of the spec`,
        hint: names.length ? `Environments: ${names.join(', ')}.` : 'The spec has no environments: use security.certificateArn.',
      }];
    }
    const placed = { ...d, regions: regionsFor(d, env), environmentName: name };
    const missing = placed.regions.filter((r) => parseArn(certificateFor(d.security, name, r).arn)?.region !== r);
    const own = environmentCertificates(d.security, name) ?? [];
    const missingProblems = own.length > 1 && missing.length > 0
      ? [{ field: ['security', 'certificateArns', name], message: `security.certificateArns.${name} has no certificate of ${missing.join(', ')}, where environment ${name} deploys`, hint: `Add the ARN of a certificate in ${missing.join(', ')} of account ${env.account} to the list.` }]
      : [];
    return [...(missingProblems.length ? missingProblems : certificateProblems(placed)), ...certificateAccountProblems(placed, env.account, `environment ${name} deploys to`)];
  })];
}

export type Vpc = NonNullable<Security['vpc']>;

/** The VPC a stack gets in one environment and region, and where the spec writes it. */
export interface ChosenVpc {
  vpc?: Vpc;
  field: PathPart[];
  /** How messages name the field: security.vpc, security.environments.ENV.vpcs.REGION... */
  label: string;
}

/**
 * The VPC of a deployment in an environment and region: security.environments.ENV (vpcs.REGION, or
 * vpc), else security.vpc. Every reader (render, preflight, the estimate, the checks) takes it here.
 */
export function vpcFor(security: Pick<Security, 'vpc' | 'environments'>, environmentName: string | undefined, region: string): ChosenVpc {
  const own = environmentName === undefined ? undefined : security.environments?.[environmentName];
  if (own?.vpcs) return { vpc: own.vpcs[region], field: ['security', 'environments', environmentName!, 'vpcs', region], label: `security.environments.${environmentName}.vpcs.${region}` };
  if (own?.vpc) return { vpc: own.vpc, field: ['security', 'environments', environmentName!, 'vpc'], label: `security.environments.${environmentName}.vpc` };
  return { vpc: security.vpc, field: ['security', 'vpc'], label: 'security.vpc' };
}

/**
 * A deployment's security settings as one environment and region get them: security.environments.ENV's
 * hostname, hostedZoneId, allowedCidrs and VPC over the deployment's own (certificates: certificateFor).
 */
export function securityIn<S extends Security>(security: S, environmentName: string | undefined, region: string): S {
  const own = environmentName === undefined ? undefined : security.environments?.[environmentName];
  if (!own) return security;
  return {
    ...security,
    vpc: vpcFor(security, environmentName, region).vpc,
    hostname: own.hostname ?? security.hostname,
    hostedZoneId: own.hostedZoneId ?? security.hostedZoneId,
    allowedCidrs: own.allowedCidrs ?? security.allowedCidrs,
  };
}

/** A subnet exists in one region: one VPC given to several regions cannot serve them all. */
function vpcRegionProblems(d: Placed): RegionTruthProblem[] {
  const byField = new Map<string, { chosen: ChosenVpc; regions: string[] }>();
  for (const region of d.regions) {
    const chosen = vpcFor(d.security, d.environmentName, region);
    if (!chosen.vpc) continue;
    const key = chosen.field.join('.');
    const entry = byField.get(key) ?? { chosen, regions: [] };
    entry.regions.push(region);
    byField.set(key, entry);
  }
  return [...byField.values()].filter((e) => e.regions.length > 1).map(({ chosen, regions }) => {
    const env = d.environmentName;
    return {
      field: chosen.field,
      message: `${chosen.label} is one VPC, but ${env ? `environment ${env} deploys` : 'the deployment deploys'} to ${regions.join(', ')}: a VPC, its subnets and its security groups exist in one region`,
      hint: `Give each region its own VPC under security.environments.${env ?? 'ENVIRONMENT'}.vpcs (${regions.map((r) => `${r}: { vpcId, subnets, securityGroups }`).join(', ')}).`,
    };
  });
}

/**
 * What validate can say of security.environments with the spec's environments at hand: each key names
 * an environment, vpcs names exactly the regions it deploys to, each region of a named environment gets
 * a VPC of its own, and ec2/ecs have a VPC with vpcId and two load balancer subnets in every environment.
 */
export function environmentSecurityProblems(d: DeploymentDraft, environments: Record<string, EnvironmentSpec>): RegionTruthProblem[] {
  const own = d.security.environments ?? {};
  const names = Object.keys(environments);
  const unknown = Object.keys(own).filter((n) => !environments[n]).map((n) => ({
    field: ['security', 'environments', n],
    message: `security.environments.${n} names no environment of the spec`,
    hint: names.length ? `Environments: ${names.join(', ')}.` : 'The spec has no environments: give the settings under security directly.',
  }));
  const perEnvironment = Object.entries(environments).flatMap(([name, env]) => {
    const regions = regionsFor(d, env);
    const entry = own[name];
    const problems: RegionTruthProblem[] = [];
    if (entry?.vpc && entry.vpcs) {
      problems.push({ field: ['security', 'environments', name, 'vpcs'], message: `security.environments.${name} gives both vpc and vpcs`, hint: `Keep vpcs (one VPC per region: ${regions.join(', ')}), or vpc alone when environment ${name} deploys to one region.` });
    }
    if (entry?.vpcs) {
      const extra = Object.keys(entry.vpcs).filter((r) => !regions.includes(r));
      const missing = regions.filter((r) => !entry.vpcs?.[r]);
      if (extra.length) problems.push({ field: ['security', 'environments', name, 'vpcs', extra[0]!], message: `security.environments.${name}.vpcs names ${extra.join(', ')}, where environment ${name} does not deploy ${d.name}`, hint: `Its regions: ${regions.join(', ')}.` });
      if (missing.length) problems.push({ field: ['security', 'environments', name, 'vpcs'], message: `security.environments.${name}.vpcs has no VPC for ${missing.join(', ')}, where environment ${name} deploys`, hint: `Add ${missing.map((r) => `${r}: { vpcId, subnets, securityGroups }`).join(', ')} (VPCs of account ${env.account}).` });
    }
    // As with certificates: an environment the spec gives its own settings is checked here; one that takes the
    // deployment's (the same VPC in regions of its own) is checked by plan and deploy for that environment.
    if (entry) problems.push(...vpcRegionProblems({ ...d, regions, environmentName: name }));
    if (!SAGEMAKER.has(d.target) && (entry || d.security.environments)) {
      for (const region of regions) {
        const chosen = vpcFor(d.security, name, region);
        if (!chosen.vpc?.vpcId) problems.push({ field: chosen.vpc ? chosen.field : ['security'], message: `target ${d.target} needs a VPC with vpcId in environment ${name} (${region}): ${chosen.vpc ? `${chosen.label} has no vpcId` : 'none is given'}`, hint: `Give security.environments.${name}.vpc (or vpcs by region) with vpcId, subnets and securityGroups.` });
        else if ((chosen.vpc.publicSubnets ?? chosen.vpc.subnets).length < 2) problems.push({ field: chosen.field, message: `the load balancer needs two subnets in different availability zones (${chosen.label}.${chosen.vpc.publicSubnets ? 'publicSubnets' : 'subnets'} has one)`, hint: 'Add a second subnet in another availability zone.' });
      }
    }
    return problems;
  });
  // One problem said once (an environment's VPC may serve several regions and fail each the same way).
  const seen = new Set<string>();
  return [...unknown, ...perEnvironment].filter((p) => (seen.has(p.message) ? false : (seen.add(p.message), true)));
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
  return [...instanceTypeProblems(d), ...kmsProblems(d), ...certificateProblems(d), ...weightsBucketProblems(d), ...vpcRegionProblems(d)];
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
    const placed = { ...d, regions: regionsFor(d, env), environmentName };
    const problems = [...regionTruthProblems(placed), ...certificateAccountProblems(placed, env.account, `environment ${environmentName} deploys to`)];
    return problems.map(
      (p) => new DeployError(`deployments.${d.name} in environment ${environmentName}: ${p.message}`, { location: spec.locate(['deployments', d.name, ...p.field]), hint: p.hint, title: 'Invalid deployment spec' }),
    );
  });
}
