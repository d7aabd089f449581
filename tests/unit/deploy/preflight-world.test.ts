/**
 * The shared fake AWS answers the network checks' EC2 reads in EC2's own query protocol (the real
 * SDK parses them): the example's network in its accounts, nothing in another account or region.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { checkNetwork } from '../../../src/deploy/network';
import { World } from '../../support/fake-aws/world';
import { selection } from './flow-fixtures';

const world = new World();
beforeAll(() => world.start());
afterAll(() => world.server.close());

function clientOf(account: string, region: string): EC2Client {
  const c = world.credentialsFor(account);
  return new EC2Client({ region, endpoint: world.server.url, credentials: { accessKeyId: c.AWS_ACCESS_KEY_ID, secretAccessKey: c.AWS_SECRET_ACCESS_KEY, sessionToken: c.AWS_SESSION_TOKEN } });
}

describe('the fake world holds the example network', () => {
  it("prod's eu-west-1 VPC in prod's account: found, two zones", async () => {
    const d = selection('code-assistant', 'prod').deployment;
    const c = await checkNetwork({ deployment: d, environmentName: 'prod', region: 'eu-west-1', account: '333333333333', client: clientOf('333333333333', 'eu-west-1') });
    expect(c.problems).toEqual([]);
    expect(c.checked).toMatch(/security.environments.prod.vpcs.eu-west-1 \(vpc-0d1e2f3a4b5c60718; 4 subnets in eu-west-1a, eu-west-1b, 1 security group\) exists there/);
  });

  it("dev's VPC asked with prod's account: nothing of it exists there", async () => {
    const d = selection('code-assistant', 'dev').deployment;
    const c = await checkNetwork({ deployment: d, environmentName: 'dev', region: 'us-east-1', account: '333333333333', client: clientOf('333333333333', 'us-east-1') });
    expect(c.problems.map((p) => p.message)).toEqual([
      'security.vpc: subnets subnet-0a1b2c3d4e5f60001, subnet-0a1b2c3d4e5f60002, subnet-0a1b2c3d4e5f60011, subnet-0a1b2c3d4e5f60012 do not exist in us-east-1 of account 333333333333 (EC2 DescribeSubnets)',
      'security.vpc: security group sg-0a1b2c3d4e5f60021 does not exist in us-east-1 of account 333333333333 (EC2 DescribeSecurityGroups)',
    ]);
  });
});
