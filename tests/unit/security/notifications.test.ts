/**
 * async.notifications: the deploy role may subscribe its own async topics by email or to a queue or function
 * of its account, through CloudFormation only; nothing of another account, no other protocol, no other topic.
 * Decided by iam-simulate with the keys SNS really sends (sns:Protocol and sns:Endpoint on Subscribe only).
 */
import { ACCOUNT, resolveTemplate } from '../../support/cloudformation/resolve';
import { readTemplate } from '../../support/cloudformation/template';
import { Call, decide, principalOf } from '../../support/cloudformation/simulate';

const P = 'acme-llm';
const dev = resolveTemplate(readTemplate('templates/bootstrap/model-deploy-bootstrap.yaml'), { Repository: 'acme/llm-platform', Project: P, Environment: 'dev' });
const deployRole = principalOf(dev, 'DeployRole');
const VIA_CFN = { 'aws:CalledVia': ['cloudformation.amazonaws.com'], 'aws:ViaAWSService': 'false' };
const topic = (env: string) => `arn:aws:sns:us-east-1:${ACCOUNT}:${P}-sd-async-${env}-SuccessTopic-ABC123`;
const subscribe = (protocol: string, endpoint: string, resource = topic('dev'), context: Record<string, unknown> = VIA_CFN): Call => ({
  action: 'sns:Subscribe',
  resource,
  context: { ...context, 'sns:Protocol': protocol, 'sns:Endpoint': endpoint },
});

describe('async notification subscriptions', () => {
  it.each<[string, Call, boolean]>([
    ['an email on its own topic', subscribe('email', 'ops@example.com'), true],
    ['a queue of its account', subscribe('sqs', `arn:aws:sqs:us-east-1:${ACCOUNT}:sd-results`), true],
    ['a function of its account', subscribe('lambda', `arn:aws:lambda:us-east-1:${ACCOUNT}:function:on-failure`), true],
    ['a queue of another account', subscribe('sqs', 'arn:aws:sqs:us-east-1:999999999999:theirs'), false],
    ['a function of another account', subscribe('lambda', 'arn:aws:lambda:us-east-1:999999999999:function:theirs'), false],
    ['an https endpoint (data leaves AWS)', subscribe('https', 'https://attacker.example/hook'), false],
    ["prod's topic", subscribe('email', 'ops@example.com', topic('prod')), false],
    ['a topic of another project', subscribe('email', 'ops@example.com', `arn:aws:sns:us-east-1:${ACCOUNT}:other-sd-async-dev-SuccessTopic-1`), false],
    ['directly, not through CloudFormation', subscribe('email', 'ops@example.com', topic('dev'), {}), false],
  ])('%s', async (label, call, allowed) => {
    expect({ label, allowed: (await decide(deployRole, call)) === 'Allowed' }).toEqual({ label, allowed });
  });
});
