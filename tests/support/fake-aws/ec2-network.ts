/**
 * The EC2 reads of the network checks (src/deploy/network.ts), as EC2 answers them: DescribeSubnets
 * and DescribeSecurityGroups filtered by id return the ones the account holds in the region and leave
 * the others out (EC2 API Reference: DescribeSubnets, Subnet; DescribeSecurityGroups, SecurityGroup;
 * by id instead of by filter, a missing one is InvalidSubnetID.NotFound / InvalidGroup.NotFound).
 * What the world holds by default is the bundled example's network: every VPC its code-assistant
 * names, in the account of the environment that names it, two availability zones per VPC.
 */
import * as path from 'path';
import { AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { DescribeSecurityGroupsCommand, DescribeSubnetsCommand, EC2Client, type Filter, type SecurityGroup, type Subnet } from '@aws-sdk/client-ec2';
import { loadSpec } from '../../../src/config/load';

export interface FakeNetwork {
  subnets: (Subnet & { Region: string })[];
  groups: (SecurityGroup & { Region: string })[];
}

interface VpcShape {
  vpcId?: string;
  subnets: string[];
  publicSubnets?: string[];
  securityGroups: string[];
}

/** Adds one VPC's subnets (alternating zones a and b) and groups to a network. */
export function addVpc(net: FakeNetwork, account: string, region: string, vpc: VpcShape): void {
  const vpcId = vpc.vpcId ?? `vpc-${'0'.repeat(17)}`;
  [...vpc.subnets, ...(vpc.publicSubnets ?? [])].forEach((id, i) => {
    if (net.subnets.some((s) => s.SubnetId === id && s.Region === region)) return;
    net.subnets.push({ SubnetId: id, VpcId: vpcId, AvailabilityZone: `${region}${i % 2 ? 'b' : 'a'}`, AvailableIpAddressCount: 250, State: 'available', OwnerId: account, Region: region });
  });
  for (const id of vpc.securityGroups) {
    if (!net.groups.some((g) => g.GroupId === id && g.Region === region)) net.groups.push({ GroupId: id, GroupName: `group-${id}`, VpcId: vpcId, OwnerId: account, Region: region });
  }
}

/** The bundled example's network: code-assistant's VPC in dev, and staging's and prod's of security.environments. */
export function exampleNetwork(): FakeNetwork {
  const spec = loadSpec(path.join(__dirname, '..', '..', '..', 'examples', 'model-deploy.yml'));
  const net: FakeNetwork = { subnets: [], groups: [] };
  const d = spec.deployments['code-assistant']!;
  const account = (env: string) => spec.environments[env]?.account ?? '111111111111';
  if (d.security.vpc) addVpc(net, account('dev'), d.regions[0] ?? 'us-east-1', d.security.vpc);
  for (const [env, own] of Object.entries(d.security.environments ?? {})) {
    if (own.vpc) addVpc(net, account(env), spec.environments[env]?.regions?.[0] ?? d.regions[0] ?? 'us-east-1', own.vpc);
    for (const [region, vpc] of Object.entries(own.vpcs ?? {})) addVpc(net, account(env), region, vpc);
  }
  return net;
}

const valuesOf = (filters: Filter[] | undefined, name: string) => filters?.find((f) => f.Name === name)?.Values;
const strip = <T extends { Region: string }>({ Region: _region, ...rest }: T) => rest;

/** DescribeSubnets by subnet-id filter: the subnets of the region asked that the network holds. */
export function describeSubnets(net: FakeNetwork, region: string | undefined, input: { Filters?: Filter[]; SubnetIds?: string[] }) {
  const ids = valuesOf(input.Filters, 'subnet-id') ?? input.SubnetIds;
  return { Subnets: net.subnets.filter((s) => (!region || s.Region === region) && (!ids || ids.includes(s.SubnetId!))).map(strip) };
}

/** DescribeSecurityGroups by group-id filter. */
export function describeSecurityGroups(net: FakeNetwork, region: string | undefined, input: { Filters?: Filter[]; GroupIds?: string[] }) {
  const ids = valuesOf(input.Filters, 'group-id') ?? input.GroupIds;
  return { SecurityGroups: net.groups.filter((g) => (!region || g.Region === region) && (!ids || ids.includes(g.GroupId!))).map(strip) };
}

/** Points an EC2 mock's network reads at `net` (every region: the mock cannot see the client's). */
export function answerNetwork(ec2: AwsClientStub<EC2Client>, net: FakeNetwork = exampleNetwork()): void {
  ec2.on(DescribeSubnetsCommand).callsFake((input) => describeSubnets(net, undefined, input));
  ec2.on(DescribeSecurityGroupsCommand).callsFake((input) => describeSecurityGroups(net, undefined, input));
}

/** For suites about something else: EC2 holds the example's network. */
export function ec2HoldsTheExampleNetwork(): AwsClientStub<EC2Client> {
  const ec2 = mockClient(EC2Client);
  answerNetwork(ec2);
  return ec2;
}
