/**
 * Subnets and security groups (#22): their ids carry no region, so only EC2 can say they exist in the
 * region and account a stack deploys to, lie in the VPC the spec gives, and span what the target
 * needs. Read-only (DescribeSubnets, DescribeSecurityGroups by filter, so every missing id is named at
 * once): deploy-endpoint's preflight refuses what fails before anything mutates, and the PR estimate
 * with the read-only plan role says it beside the quotas.
 */
import { EC2Client, paginateDescribeSecurityGroups, paginateDescribeSubnets, type SecurityGroup, type Subnet } from '@aws-sdk/client-ec2';
import { awsClient, Credentials } from '../core/aws';
import { errorName, explainAwsError } from '../core/errors';
import { vpcFor } from '../config/region-truth';
import type { Deployment } from '../config/types';

export interface NetworkFinding {
  message: string;
  hint: string;
}

export interface NetworkCheck {
  /** What fails: refused by the preflight, said by the estimate. */
  problems: NetworkFinding[];
  /** What works but is fragile (a SageMaker endpoint of several instances in one zone). */
  warnings: string[];
  /** Why EC2 could not be read (the role may not call it); nothing else is said then. */
  notChecked?: string;
  /** One line of what was checked, for the estimate. */
  checked?: string;
}

export interface NetworkPlacement {
  deployment: Pick<Deployment, 'name' | 'target' | 'security' | 'instanceCount' | 'autoscaling'>;
  environmentName?: string;
  region: string;
  /** The account the stack deploys to, for messages. */
  account?: string;
  credentials?: Credentials;
  /** A seam for tests: the EC2 client of the region. */
  client?: EC2Client;
}

const DENIED = new Set(['UnauthorizedOperation', 'AccessDenied', 'AccessDeniedException']);

// The SDK's paginators follow NextToken (an id filter may still span pages).
async function describeSubnets(ec2: EC2Client, ids: string[]): Promise<Subnet[]> {
  const out: Subnet[] = [];
  for await (const page of paginateDescribeSubnets({ client: ec2 }, { Filters: [{ Name: 'subnet-id', Values: ids }] })) out.push(...(page.Subnets ?? []));
  return out;
}

async function describeGroups(ec2: EC2Client, ids: string[]): Promise<SecurityGroup[]> {
  const out: SecurityGroup[] = [];
  for await (const page of paginateDescribeSecurityGroups({ client: ec2 }, { Filters: [{ Name: 'group-id', Values: ids }] })) out.push(...(page.SecurityGroups ?? []));
  return out;
}

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

/** The VPC a deployment gets in one environment and region, against what EC2 holds there. */
export async function checkNetwork(p: NetworkPlacement): Promise<NetworkCheck> {
  const d = p.deployment;
  const chosen = vpcFor(d.security, p.environmentName, p.region);
  const vpc = chosen.vpc;
  if (!vpc) return { problems: [], warnings: [] };
  const where = `${p.region}${p.account ? ` of account ${p.account}` : ''}`;
  const own = `security.environments.${p.environmentName ?? 'ENVIRONMENT'}.vpc (or .vpcs.${p.region})`;
  const fix = `Subnet and security group ids belong to one account and one region: give ${p.environmentName ? `environment ${p.environmentName}` : 'the environment'} its own in ${p.region} under ${own}; aws ec2 describe-subnets --region ${p.region} lists the account's.`;
  const ec2 = p.client ?? awsClient(EC2Client, { region: p.region, credentials: p.credentials });
  const hostSubnets = vpc.subnets;
  const lbSubnets = vpc.publicSubnets ?? vpc.subnets;
  const subnetIds = [...new Set([...hostSubnets, ...(vpc.publicSubnets ?? [])])];
  let subnets: Subnet[];
  let groups: SecurityGroup[];
  try {
    [subnets, groups] = await Promise.all([describeSubnets(ec2, subnetIds), describeGroups(ec2, vpc.securityGroups)]);
  } catch (err) {
    const name = errorName(err);
    if (DENIED.has(name)) {
      return { problems: [], warnings: [], notChecked: `${chosen.label} in ${p.region}: not checked (${name}: allow ec2:DescribeSubnets and ec2:DescribeSecurityGroups to check it)` };
    }
    throw explainAwsError(err, `Reading the subnets and security groups of ${chosen.label} in ${p.region}`);
  }
  const problems: NetworkFinding[] = [];
  const warnings: string[] = [];
  const byId = new Map(subnets.map((s) => [s.SubnetId, s]));
  const missing = subnetIds.filter((id) => !byId.has(id));
  if (missing.length) {
    problems.push({ message: `${chosen.label}: ${plural(missing.length, 'subnet', 'subnets')} ${missing.join(', ')} ${plural(missing.length, 'does', 'do')} not exist in ${where} (EC2 DescribeSubnets)`, hint: fix });
  }
  // The VPC the subnets are in: the one the spec names, else the first subnet's.
  const vpcId = vpc.vpcId ?? subnets[0]?.VpcId;
  const elsewhere = subnets.filter((s) => s.VpcId !== vpcId);
  if (elsewhere.length) {
    problems.push({
      message: `${chosen.label}: ${elsewhere.map((s) => `${s.SubnetId} is in ${s.VpcId}`).join(', ')}, not in ${vpc.vpcId ? `vpcId ${vpcId}` : `${vpcId} with ${subnets[0]?.SubnetId}`}`,
      hint: `Every subnet of a stack is in one VPC: use subnets of ${vpcId}${vpc.vpcId ? ', or set vpcId to theirs' : ''}.`,
    });
  }
  const foundGroups = new Map(groups.map((g) => [g.GroupId, g]));
  const missingGroups = vpc.securityGroups.filter((id) => !foundGroups.has(id));
  if (missingGroups.length) {
    problems.push({ message: `${chosen.label}: security ${plural(missingGroups.length, 'group', 'groups')} ${missingGroups.join(', ')} ${plural(missingGroups.length, 'does', 'do')} not exist in ${where} (EC2 DescribeSecurityGroups)`, hint: fix });
  }
  const strayGroups = groups.filter((g) => vpcId && g.VpcId !== vpcId);
  if (strayGroups.length) {
    problems.push({ message: `${chosen.label}: security ${plural(strayGroups.length, 'group', 'groups')} ${strayGroups.map((g) => `${g.GroupId} (${g.VpcId})`).join(', ')} ${plural(strayGroups.length, 'is', 'are')} not in ${vpcId}, the VPC of the subnets`, hint: `A security group attaches only to interfaces of its own VPC: use groups of ${vpcId}.` });
  }
  const full = hostSubnets.map((id) => byId.get(id)).filter((s): s is Subnet => s?.AvailableIpAddressCount === 0);
  if (full.length) {
    problems.push({ message: `${chosen.label}: ${full.map((s) => s.SubnetId).join(', ')} ${plural(full.length, 'has', 'have')} no free IP address: no ${d.target.startsWith('sagemaker') ? 'endpoint instance' : 'instance or task'} can start there`, hint: 'Free addresses in them, or use other subnets of the VPC.' });
  }
  const zones = (ids: string[]) => new Set(ids.map((id) => byId.get(id)?.AvailabilityZone).filter((z): z is string => Boolean(z)));
  if (!d.target.startsWith('sagemaker')) {
    const lbZones = zones(lbSubnets);
    // Only when every subnet was found: a missing one is said above.
    if (lbSubnets.every((id) => byId.has(id)) && lbZones.size < 2) {
      problems.push({ message: `${chosen.label}: the load balancer's subnets (${lbSubnets.join(', ')}) are all in ${[...lbZones].join(', ')}; an Application Load Balancer needs subnets in at least two availability zones`, hint: `Add a subnet of ${vpcId} in another availability zone to ${vpc.publicSubnets ? 'publicSubnets' : 'subnets'}.` });
    }
  } else {
    const most = Math.max(d.instanceCount, d.autoscaling?.max ?? 0);
    const hostZones = zones(hostSubnets);
    if (most > 1 && hostZones.size === 1) warnings.push(`${chosen.label}: every subnet of ${d.name} is in ${[...hostZones][0]}; SageMaker spreads an endpoint's instances (up to ${most}) across the subnets' availability zones, so one zone's outage stops them all. Add a subnet in another zone.`);
  }
  const checked = `${d.name} in ${p.region}: ${chosen.label} (${vpcId ?? 'no VPC'}; ${subnetIds.length} ${plural(subnetIds.length, 'subnet', 'subnets')} in ${[...zones(subnetIds)].sort().join(', ') || 'no zone'}, ${vpc.securityGroups.length} security ${plural(vpc.securityGroups.length, 'group', 'groups')}) ${problems.length ? 'has problems' : 'exists there'}`;
  return { problems, warnings, checked };
}
