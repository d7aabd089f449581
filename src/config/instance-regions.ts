/**
 * Which regions offer an instance family, offline: a type a region does not offer fails in
 * CloudFormation after the merge (EC2: Unsupported; SageMaker: a ValidationException on the endpoint
 * config). SageMaker hosts on EC2 capacity, so a family EC2 does not offer in a region is not hosted
 * there either; the table refuses only what its sources say is absent, and says nothing of a region
 * it does not cover (deploy-endpoint then asks EC2 DescribeInstanceTypeOfferings).
 *
 * Sources (the shared price reference, prices.md; the same data as src/prices/catalog/prices.json):
 * - S2: tsaol/aws-gpu data/<family>_instances.js and data/<family>_instances_cn.js at 77fcd9f
 *   (instances.vantage.sh linux.ondemand, 2026-01-21): a family with no price in a region is not
 *   offered there; the repository has no China file for g6, g6e, inf2 or p5.
 * - S9: QuinnyPig/aws-price-watcher processed/ec2.json at 07c8174 (AWS's own pricing-page data
 *   files, 2025-06-13) for m5, c5, trn1 and the regions of prices.md section 4b.
 * Live check: aws ec2 describe-instance-type-offerings --location-type region --filters Name=instance-type,Values=TYPE --region REGION
 */

/** The regions the table covers: outside them it neither accepts nor refuses. */
export const COVERED_REGIONS: readonly string[] = [
  'us-east-1', 'us-east-2', 'us-west-2', 'eu-west-1', 'eu-west-2', 'eu-central-1',
  'ap-northeast-1', 'ap-southeast-1', 'ap-southeast-2', 'ap-south-1', 'cn-north-1', 'cn-northwest-1',
];

const ALL_OUTSIDE_CHINA = COVERED_REGIONS.filter((r) => !r.startsWith('cn-'));
const except = (...absent: string[]) => ALL_OUTSIDE_CHINA.filter((r) => !absent.includes(r));

interface FamilyRegions {
  /** Covered regions that offer the family. */
  offered: readonly string[];
  /** Covered regions the sources are silent on (no row at all): neither accepted nor refused. */
  unknown?: readonly string[];
  source: string;
}

const CHINA = ['cn-north-1', 'cn-northwest-1'];

const FAMILIES: Record<string, FamilyRegions> = {
  g4dn: { offered: [...ALL_OUTSIDE_CHINA, ...CHINA], source: 'S2 g4dn_instances.js, g4dn_instances_cn.js' },
  g5: { offered: [...except('ap-southeast-1'), ...CHINA], source: 'S2 g5_instances.js, g5_instances_cn.js' },
  g6: { offered: except('eu-west-1', 'ap-southeast-1'), source: 'S2 g6_instances.js (no China file)' },
  g6e: { offered: except('eu-west-1', 'eu-west-2', 'ap-southeast-1', 'ap-southeast-2', 'ap-south-1'), source: 'S2 g6e_instances.js (no China file)' },
  inf2: { offered: ALL_OUTSIDE_CHINA, source: 'S2 inf2_instances.js (no China file)' },
  trn1: { offered: ['us-east-1', 'us-east-2', 'us-west-2'], unknown: CHINA, source: 'S9 processed/ec2.json' },
  p4d: { offered: [...ALL_OUTSIDE_CHINA, 'cn-northwest-1'], source: 'S2 p4d_instances.js, p4d_instances_cn.js (Ningxia only)' },
  p4de: { offered: ['us-east-1', 'us-west-2', 'eu-central-1', 'ap-northeast-1'], unknown: ['us-east-2', 'eu-west-2', 'ap-southeast-1', 'ap-southeast-2', 'ap-south-1', ...CHINA], source: 'S2 p4de_instances.js' },
  p5: { offered: except('eu-west-1', 'eu-central-1', 'ap-southeast-1'), source: 'S2 p5_instances.js (no China file)' },
  p5en: { offered: ['us-east-1', 'us-west-2', 'ap-northeast-1'], unknown: ['us-east-2', 'eu-west-2', 'ap-southeast-1', 'ap-southeast-2', 'ap-south-1', ...CHINA], source: 'S2 p5en_instances.js' },
  p3: { offered: CHINA, unknown: ALL_OUTSIDE_CHINA, source: 'S2 p3_instances_cn.js' },
  m5: { offered: ALL_OUTSIDE_CHINA, unknown: CHINA, source: 'S9 processed/ec2.json' },
  c5: { offered: ALL_OUTSIDE_CHINA, unknown: CHINA, source: 'S9 processed/ec2.json' },
};

/** The family of an instance type, with or without "ml.". */
export function instanceFamily(instanceType: string): string {
  return instanceType.replace(/^ml\./, '').split('.')[0] ?? '';
}

export type Offering = { offered: true } | { offered: false; elsewhere: string[]; source: string } | { offered: 'unknown' };

/** Whether `region` offers the type's family, by the table; 'unknown' outside what its sources cover. */
export function regionOffers(instanceType: string, region: string): Offering {
  const family = FAMILIES[instanceFamily(instanceType)];
  if (!family || !COVERED_REGIONS.includes(region) || family.unknown?.includes(region)) return { offered: 'unknown' };
  if (family.offered.includes(region)) return { offered: true };
  return { offered: false, elsewhere: [...family.offered], source: family.source };
}

/** The EC2 DescribeInstanceTypeOfferings command that confirms one type in one region. */
export function offeringsCommand(instanceType: string, region: string): string {
  return `aws ec2 describe-instance-type-offerings --location-type region --filters Name=instance-type,Values=${instanceType.replace(/^ml\./, '')} --region ${region}`;
}
