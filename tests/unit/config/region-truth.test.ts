/**
 * Region truth (issue 22.3): specs a user could write, each with its verdict and message, run through
 * validate (the spec loader) and plan (with the environment whose regions it deploys to).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseSpec } from '../../../src/config/load';
import { DeployError } from '../../../src/core/errors';
import { plan } from '../../../src/plan/plan';
import { COVERED_REGIONS, regionOffers } from '../../../src/config/instance-regions';
import { kmsKeyIn } from '../../../src/config/region-truth';

const HF = '{ id: Qwen/Qwen2.5-7B-Instruct, revision: a09a35458c702b33eeacc393d103063234e8bc28 }';
const VPC = '{ vpcId: vpc-0123456789abcdef0, subnets: [subnet-0123456789abcdef0, subnet-0123456789abcdef1], securityGroups: [sg-0123456789abcdef0] }';

interface Row {
  name: string;
  /** The deployment's lines below `chat:` (six spaces in). */
  body: string;
  environments?: string;
  /** Plan with this environment. */
  environment?: string;
  /** undefined: accepted; else the message and the line it is said at. */
  refused?: { message: RegExp; line?: number; hint?: RegExp; by?: 'validate' | 'plan' };
}

const sagemaker = (type: string, regions: string, extra = '') =>
  `    model: { huggingface: ${HF} }\n    engine: { name: vllm }\n    target: sagemaker-realtime\n    instanceType: ${type}\n    regions: [${regions}]\n${extra}`;
const ecs = (type: string, regions: string, cert: string) =>
  `    model: { huggingface: ${HF} }\n    engine: { name: vllm }\n    target: ecs\n    instanceType: ${type}\n    regions: [${regions}]\n    security:\n      certificateArn: ${cert}\n      hostname: chat.example.com\n      vpc: ${VPC}\n`;

const KEY_USE1 = 'arn:aws:kms:us-east-1:111111111111:key/11111111-2222-3333-4444-555555555555';
const MRK_USE1 = 'arn:aws:kms:us-east-1:111111111111:key/mrk-1234567890abcdef1234567890abcdef';
const CERT = (region: string, account = '111111111111') => `arn:aws:acm:${region}:${account}:certificate/2f1c3a4e-8b7d-4c6e-9a0b-1d2e3f4a5b6c`;

const ROWS: Row[] = [
  { name: 'a type in a region that offers it', body: sagemaker('ml.g5.2xlarge', 'us-east-1, us-west-2') },
  {
    name: 'region without the type: ml.g6.xlarge in eu-west-1, with the regions that offer it',
    body: sagemaker('ml.g6.xlarge', 'eu-west-1'),
    refused: { message: /instanceType ml.g6.xlarge is not offered in eu-west-1 \(S2 g6_instances.js/, line: 8, hint: /Regions that offer it: us-east-1, us-east-2, us-west-2, eu-west-2, eu-central-1, ap-northeast-1, ap-southeast-2, ap-south-1\..*describe-instance-type-offerings/ },
  },
  { name: 'region without the type on ec2: g6e.xlarge in ap-south-1', body: ecs('g6e.xlarge', 'ap-south-1', CERT('ap-south-1')), refused: { message: /g6e.xlarge is not offered in ap-south-1/, line: 8 } },
  { name: 'p5 in eu-central-1 (S2 has no price there)', body: sagemaker('ml.p5.48xlarge', 'eu-central-1'), refused: { message: /ml.p5.48xlarge is not offered in eu-central-1/ } },
  { name: 'a region the table does not cover is not judged offline', body: sagemaker('ml.g6.xlarge', 'ca-central-1') },
  { name: 'China: g5 in Beijing', body: sagemaker('ml.g5.xlarge', 'cn-north-1') },
  { name: 'China: g6 has no China offering', body: sagemaker('ml.g6.xlarge', 'cn-north-1'), refused: { message: /ml.g6.xlarge is not offered in cn-north-1/ } },
  { name: 'China: p4d in Ningxia only', body: sagemaker('ml.p4d.24xlarge', 'cn-north-1'), refused: { message: /not offered in cn-north-1/, hint: /Regions that offer it: .*cn-northwest-1/ } },
  { name: 'China: an aws-partition key ARN for a China region', body: sagemaker('ml.g5.xlarge', 'cn-north-1', `    security: { kmsKeyId: "${KEY_USE1.replace('us-east-1', 'cn-north-1')}" }\n`), refused: { message: /security.kmsKeyId .* is a key of partition aws, and cn-north-1 is in partition aws-cn/, line: 10, hint: /arn:aws-cn:kms:cn-north-1/ } },
  {
    name: 'wrong-region key: a us-east-1 key ARN for an endpoint in us-west-2',
    body: sagemaker('ml.g5.2xlarge', 'us-west-2', `    security: { kmsKeyId: "${KEY_USE1}" }\n`),
    refused: { message: /security.kmsKeyId arn:aws:kms:us-east-1:.* is a key of us-east-1, and KMS keys are regional: it cannot encrypt in us-west-2/, line: 10, hint: /alias\/NAME.*mrk-/ },
  },
  { name: 'a multi-region key maps to its replica', body: sagemaker('ml.g5.2xlarge', 'us-east-1, us-west-2', `    security: { kmsKeyId: "${MRK_USE1}" }\n`) },
  { name: 'an alias resolves in every region', body: sagemaker('ml.g5.2xlarge', 'us-east-1, us-west-2', '    security: { kmsKeyId: alias/models }\n') },
  { name: 'the API key secret key in another region', body: ecs('g5.2xlarge', 'us-west-2', CERT('us-west-2')) + `    apiKey: { kmsKeyId: "${KEY_USE1}" }\n`, refused: { message: /apiKey.kmsKeyId .* cannot encrypt in us-west-2/ } },
  { name: 'certificate of another region than the load balancer', body: ecs('g5.2xlarge', 'us-west-2', CERT('us-east-1')), refused: { message: /security.certificateArn is a certificate in us-east-1, but the load balancer runs in us-west-2/, line: 11 } },
  { name: "SageMaker weights in another region's artifact bucket", body: sagemaker('ml.g5.2xlarge', 'us-west-2').replace(`{ huggingface: ${HF} }`, '{ s3: "s3://model-deploy-111111111111-us-east-1/acme/chat/" }'), refused: { message: /model.s3 is in the artifact bucket of us-east-1, but the endpoint runs in us-west-2/, hint: /s3:\/\/model-deploy-111111111111-us-west-2/ } },
  { name: 'China: a certificate ARN of the aws partition for Beijing', body: ecs('g5.xlarge', 'cn-north-1', CERT('cn-north-1')), refused: { message: /security.certificateArn is an ARN of partition aws, but cn-north-1 is in partition aws-cn/ } },
  { name: 'China: the same with its aws-cn ARN', body: ecs('g5.xlarge', 'cn-north-1', CERT('cn-north-1').replace('arn:aws:', 'arn:aws-cn:')) },
  {
    name: 'plan for an environment whose regions add one without the type',
    body: sagemaker('ml.g6.xlarge', 'us-east-1'),
    environments: 'environments:\n  prod:\n    account: "333333333333"\n    regions: [us-east-1, eu-west-1]\n',
    environment: 'prod',
    refused: { by: 'plan', message: /deployments.chat in environment prod: instanceType ml.g6.xlarge is not offered in eu-west-1/, line: 12 },
  },
  {
    name: 'plan for an environment of another account than the certificate',
    body: ecs('g5.2xlarge', 'us-east-1', CERT('us-east-1')),
    environments: 'environments:\n  prod:\n    account: "333333333333"\n',
    environment: 'prod',
    refused: { by: 'plan', message: /security.certificateArn is a certificate of account 111111111111, and environment prod deploys to account 333333333333/ },
  },
  // Subnets and security groups carry no region, but each exists in one (#22: per-environment security).
  { name: 'one VPC for a deployment in two regions', body: sagemaker('ml.g5.2xlarge', 'us-east-1, us-west-2', `    security: { vpc: ${VPC} }\n`), refused: { message: /security.vpc is one VPC, but the deployment deploys to us-east-1, us-west-2: a VPC, its subnets and its security groups exist in one region/, line: 10, hint: /security.environments.ENVIRONMENT.vpcs \(us-east-1: \{ vpcId, subnets, securityGroups \}, us-west-2:/ } },
  {
    name: "an environment in two regions with the deployment's one VPC",
    body: sagemaker('ml.g5.2xlarge', 'us-east-1', `    security: { vpc: ${VPC} }\n`),
    environments: 'environments:\n  prod:\n    account: "333333333333"\n    regions: [us-east-1, eu-west-1]\n',
    environment: 'prod',
    refused: { by: 'plan', message: /security.vpc is one VPC, but environment prod deploys to us-east-1, eu-west-1/, line: 14, hint: /security.environments.prod.vpcs/ },
  },
  {
    name: 'each region of the environment with its own VPC (security.environments.prod.vpcs)',
    body: sagemaker('ml.g5.2xlarge', 'us-east-1', `    security:\n      vpc: ${VPC}\n      environments:\n        prod:\n          vpcs:\n            us-east-1: ${VPC}\n            eu-west-1: ${VPC.replace(/0123456789abcdef/g, 'fedcba9876543210')}\n`),
    environments: 'environments:\n  prod:\n    account: "333333333333"\n    regions: [us-east-1, eu-west-1]\n',
    environment: 'prod',
  },
  {
    name: 'security.environments.prod.vpcs without a region prod deploys to',
    body: sagemaker('ml.g5.2xlarge', 'us-east-1', `    security:\n      environments:\n        prod:\n          vpcs:\n            us-east-1: ${VPC}\n`),
    environments: 'environments:\n  prod:\n    account: "333333333333"\n    regions: [us-east-1, eu-west-1]\n',
    refused: { message: /security.environments.prod.vpcs has no VPC for eu-west-1, where environment prod deploys/, line: 18, hint: /account 333333333333/ },
  },
  {
    name: 'security.environments.prod with both vpc and vpcs',
    body: sagemaker('ml.g5.2xlarge', 'us-east-1', `    security:\n      environments:\n        prod:\n          vpc: ${VPC}\n          vpcs:\n            us-east-1: ${VPC}\n`),
    environments: 'environments:\n  prod:\n    account: "333333333333"\n',
    refused: { message: /security.environments.prod gives both vpc and vpcs/, hint: /Keep vpcs \(one VPC per region: us-east-1\), or vpc alone/ },
  },
  {
    name: 'security.environments naming no environment of the spec',
    body: sagemaker('ml.g5.2xlarge', 'us-east-1', `    security:\n      environments:\n        prdo:\n          vpc: ${VPC}\n`),
    environments: 'environments:\n  prod:\n    account: "333333333333"\n',
    refused: { message: /security.environments.prdo names no environment of the spec/, line: 16, hint: /Environments: prod/ },
  },
  {
    name: 'ecs with a VPC for prod only: dev has none',
    body: ecs('g5.2xlarge', 'us-east-1', CERT('us-east-1')).replace(`      vpc: ${VPC}\n`, `      environments:\n        prod:\n          vpc: ${VPC}\n`),
    environments: 'environments:\n  dev:\n    account: "111111111111"\n  prod:\n    account: "111111111111"\n',
    refused: { message: /target ecs needs a VPC with vpcId in environment dev \(us-east-1\): none is given/, hint: /security.environments.dev.vpc/ },
  },
  {
    name: 'ecs with each environment its own VPC and no security.vpc',
    body: ecs('g5.2xlarge', 'us-east-1', CERT('us-east-1')).replace(`      vpc: ${VPC}\n`, `      environments:\n        dev:\n          vpc: ${VPC}\n        prod:\n          vpc: ${VPC}\n`),
    environments: 'environments:\n  dev:\n    account: "111111111111"\n  prod:\n    account: "111111111111"\n',
    environment: 'prod',
  },
];

function specText(row: Row): string {
  return `version: 1\nproject: acme\n${row.environments ?? ''}deployments:\n  chat:\n${row.body}`;
}

async function verdict(row: Row): Promise<{ by: 'validate' | 'plan'; error: DeployError } | undefined> {
  let spec;
  try {
    spec = parseSpec(specText(row), 'model-deploy.yml');
  } catch (err) {
    return { by: 'validate', error: err as DeployError };
  }
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-region-'));
  try {
    await plan(spec, { outDir, environment: row.environment });
    return undefined;
  } catch (err) {
    return { by: 'plan', error: err as DeployError };
  } finally {
    fs.rmSync(outDir, { recursive: true, force: true });
  }
}

describe('region truth: validate and plan', () => {
  it.each(ROWS.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    const got = await verdict(row);
    if (!row.refused) {
      expect(got?.error.message).toBeUndefined();
      return;
    }
    expect(got?.by).toBe(row.refused.by ?? 'validate');
    expect(got?.error).toBeInstanceOf(DeployError);
    expect(got?.error.message).toMatch(row.refused.message);
    if (row.refused.line) expect(got?.error.location).toMatchObject({ file: 'model-deploy.yml', line: row.refused.line });
    if (row.refused.hint) expect(got?.error.hint).toMatch(row.refused.hint);
  });
});

describe('the availability table', () => {
  it('answers every covered region for the families it lists, and nothing outside them', () => {
    expect(regionOffers('ml.g5.xlarge', 'ca-central-1')).toEqual({ offered: 'unknown' });
    expect(regionOffers('ml.m5.xlarge', 'cn-north-1')).toEqual({ offered: 'unknown' });
    for (const region of COVERED_REGIONS) expect(regionOffers('g4dn.xlarge', region)).toEqual({ offered: true });
  });

  it('a multi-region key names its replica; a key ARN of another partition is no key there', () => {
    expect(kmsKeyIn(MRK_USE1, 'eu-west-1')).toBe(MRK_USE1.replace('us-east-1', 'eu-west-1'));
    expect(kmsKeyIn(MRK_USE1, 'cn-north-1')).toBeUndefined();
    expect(kmsKeyIn('alias/models', 'cn-north-1')).toBe('alias/models');
  });
});
