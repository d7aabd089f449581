/**
 * Issues 12 and 20: over the rendered bootstrap and stack templates, statement by statement, no deploy role can
 * create a role or write a policy at all (issue 20: the bootstrap owns every role), pass any role but its
 * environment's bootstrap service roles, or write to another environment's resources. Statement sweeps use the
 * hand-written evaluator (tests/support/cloudformation/iam.ts); the attack cases with the request context AWS
 * really sends are decided by @cloud-copilot/iam-simulate in least-privilege.test.ts.
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadSpec } from '../../../src/config/load';
import { renderStack } from '../../../src/deploy/render';
import { targetNames } from '../../../src/config/select';
import type { Deployment } from '../../../src/config/types';
import { validateTemplate } from '../../support/cloudformation/resource-spec';
import { ROOT } from '../../support/bundle';
import { Request, Statement, evaluate, list, roleStatements } from '../../support/cloudformation/iam';
import { ACCOUNT, resolveTemplate } from '../../support/cloudformation/resolve';
import { readTemplate } from '../../support/cloudformation/template';

const bootstrap = readTemplate('templates/bootstrap/model-deploy-bootstrap.yaml');

const PROJECT = 'acme-llm';
const BOUNDARY = `arn:aws:iam::${ACCOUNT}:policy/model-deploy-permissions-boundary`;
const ATTACHABLE = ['arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore'];
const PASS_TO = ['sagemaker.amazonaws.com', 'ecs-tasks.amazonaws.com', 'ec2.amazonaws.com', 'codebuild.amazonaws.com'];
const VIA_CFN = { 'aws:CalledVia': ['cloudformation.amazonaws.com'] };
const ENV_TAG = 'model-deploy:environment';

const dev = resolveTemplate(bootstrap, { Repository: 'acme/llm-platform', Project: PROJECT, Environment: 'dev', PromotionEnvironments: 'staging,prod' });
const devRole = roleStatements(dev, 'DeployRole');
const boundary = (dev.resources.PermissionsBoundary?.Properties.PolicyDocument.Statement ?? []) as Statement[];
const allowed = (req: Request, statements = devRole) => evaluate(statements, req).decision === 'allow';
const arn = (service: string, rest: string, region = 'us-east-1') => `arn:aws:${service}:${region}:${ACCOUNT}:${rest}`;
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

/** Every action of the deploy role's allow statements, with the statement that grants it. */
const grants = devRole.filter((s) => s.Effect === 'Allow').flatMap((s) => list(s.Action).map((action) => ({ action, s })));

const SERVICE_ROLES: [string, string][] = [
  ['sagemaker', 'sagemaker.amazonaws.com'],
  ['ecs-task', 'ecs-tasks.amazonaws.com'],
  ['ecs-exec', 'ecs-tasks.amazonaws.com'],
  ['ecs-instance', 'ec2.amazonaws.com'],
  ['ec2-instance', 'ec2.amazonaws.com'],
  ['codebuild', 'codebuild.amazonaws.com'],
];

describe('deploy role: no role, no policy (issue 20, High 2)', () => {
  it('renders the deploy role with the guardrails attached', () => {
    expect(devRole.length).toBeGreaterThan(25);
    expect(devRole.some((s) => s.Sid === 'DenyIamWrites')).toBe(true);
  });

  it('holds no IAM write beyond passing, reading, service-linked roles and removing the roles of earlier stacks', () => {
    const iamWrites = grants.map((g) => g.action).filter((a) => /^iam:/.test(a) && !/^iam:(Get|List)/.test(a));
    for (const a of iamWrites) expect(a).not.toMatch(/\*/);
    expect([...new Set(iamWrites)].sort()).toEqual(
      ['iam:PassRole', 'iam:CreateServiceLinkedRole', 'iam:DeleteRole', 'iam:DeleteRolePolicy', 'iam:DetachRolePolicy', 'iam:RemoveRoleFromInstanceProfile', 'iam:DeleteInstanceProfile'].sort(),
    );
  });

  const roleArn = role(`${PROJECT}-qwen-chat-dev-ExecutionRole-ABC`);
  const bounded = { ...VIA_CFN, 'iam:PermissionsBoundary': BOUNDARY, [`aws:ResourceTag/${ENV_TAG}`]: 'dev' };
  it.each<[string, Request]>([
    ['CreateRole with the boundary, tags of dev', { action: 'iam:CreateRole', resource: roleArn, context: { ...VIA_CFN, 'iam:PermissionsBoundary': BOUNDARY, [`aws:RequestTag/${ENV_TAG}`]: 'dev', 'aws:RequestTag/model-deploy:deployment': 'qwen-chat' } }],
    ['PutRolePolicy on a bounded dev role', { action: 'iam:PutRolePolicy', resource: roleArn, context: bounded }],
    ['UpdateAssumeRolePolicy on a bounded dev role', { action: 'iam:UpdateAssumeRolePolicy', resource: roleArn, context: bounded }],
    ['PutRolePermissionsBoundary', { action: 'iam:PutRolePermissionsBoundary', resource: roleArn, context: bounded }],
    ['DeleteRolePermissionsBoundary', { action: 'iam:DeleteRolePermissionsBoundary', resource: roleArn, context: bounded }],
    ['AttachRolePolicy AmazonSSMManagedInstanceCore', { action: 'iam:AttachRolePolicy', resource: roleArn, context: { ...bounded, 'iam:PolicyARN': ATTACHABLE[0] } }],
    ['CreateInstanceProfile', { action: 'iam:CreateInstanceProfile', resource: `arn:aws:iam::${ACCOUNT}:instance-profile/${PROJECT}-x`, context: VIA_CFN }],
    ['CreatePolicyVersion of the boundary', { action: 'iam:CreatePolicyVersion', resource: BOUNDARY, context: VIA_CFN }],
    ['CreatePolicy', { action: 'iam:CreatePolicy', resource: `arn:aws:iam::${ACCOUNT}:policy/${PROJECT}-x`, context: VIA_CFN }],
    ['CreateUser', { action: 'iam:CreateUser', resource: `arn:aws:iam::${ACCOUNT}:user/${PROJECT}-x`, context: VIA_CFN }],
    ['PutRolePolicy on a bootstrap service role', { action: 'iam:PutRolePolicy', resource: role(`${PROJECT}.dev.sagemaker`), context: { ...VIA_CFN, [`aws:ResourceTag/${ENV_TAG}`]: 'dev' } }],
    ['a change to the deploy role itself', { action: 'iam:PutRolePolicy', resource: role('model-deploy-dev'), context: { ...bounded } }],
  ])('%s is refused', (_label, req) => {
    expect(allowed(req)).toBe(false);
  });

  it('removes a role of an earlier dev stack through CloudFormation, not one of prod', () => {
    expect(allowed({ action: 'iam:DeleteRole', resource: roleArn, context: { ...VIA_CFN, [`aws:ResourceTag/${ENV_TAG}`]: 'dev' } })).toBe(true);
    expect(allowed({ action: 'iam:DeleteRole', resource: roleArn, context: { ...VIA_CFN, [`aws:ResourceTag/${ENV_TAG}`]: 'prod' } })).toBe(false);
    expect(allowed({ action: 'iam:DeleteRole', resource: roleArn, context: { [`aws:ResourceTag/${ENV_TAG}`]: 'dev' } })).toBe(false);
  });
});

describe('deploy role: passes only its environment\'s bootstrap service roles, each to its one service', () => {
  it('every PassRole statement names bootstrap roles (or the listed execution roles) and one service', () => {
    const pass = grants.filter((g) => g.action === 'iam:PassRole');
    expect(pass.length).toBeGreaterThan(3);
    for (const { s } of pass) {
      for (const r of list(s.Resource)) expect(r).toMatch(new RegExp(`^arn:aws:iam::${ACCOUNT}:role/${PROJECT}\\.dev\\.[a-z0-9-]+$`));
      expect(list(s.Condition!.StringEquals['iam:PassedToService'] as string[]).every((x) => PASS_TO.includes(x))).toBe(true);
    }
  });

  it.each(SERVICE_ROLES)('%s goes to %s and nowhere else', (kind, service) => {
    expect(allowed({ action: 'iam:PassRole', resource: role(`${PROJECT}.dev.${kind}`), context: { 'iam:PassedToService': service } })).toBe(true);
    for (const other of [...PASS_TO, 'lambda.amazonaws.com', 'cloudformation.amazonaws.com'].filter((x) => x !== service)) {
      expect({ other, allowed: allowed({ action: 'iam:PassRole', resource: role(`${PROJECT}.dev.${kind}`), context: { 'iam:PassedToService': other } }) }).toEqual({ other, allowed: false });
    }
    expect(allowed({ action: 'iam:PassRole', resource: role(`${PROJECT}.prod.${kind}`), context: { 'iam:PassedToService': service } })).toBe(false);
  });

  it.each<[string, Request]>([
    ['a role a dev stack made', { action: 'iam:PassRole', resource: role(`${PROJECT}-x-dev-ExecutionRole-1`), context: { 'iam:PassedToService': 'sagemaker.amazonaws.com', [`aws:ResourceTag/${ENV_TAG}`]: 'dev' } }],
    ['a role outside the project', { action: 'iam:PassRole', resource: role('OrganizationAccountAccessRole'), context: { 'iam:PassedToService': 'ec2.amazonaws.com' } }],
    ['the deploy role itself', { action: 'iam:PassRole', resource: role('model-deploy-dev'), context: { 'iam:PassedToService': 'codebuild.amazonaws.com', [`aws:ResourceTag/${ENV_TAG}`]: 'dev' } }],
  ])('%s is refused', (_label, req) => {
    expect(allowed(req)).toBe(false);
  });
});

/**
 * Actions that act on no existing resource of an environment (they create a new one, or have no resource):
 * these cannot write to another environment's resources by name or by tag. Each has its reason.
 */
const NO_ENVIRONMENT_RESOURCE: Record<string, string> = {
  'cloudformation:ValidateTemplate': 'reads a template body',
  'ecr:GetAuthorizationToken': 'a registry token; what it may push is decided per repository',
  'ecs:RegisterTaskDefinition': 'creates a new revision; only UpdateService (environment-scoped) makes a service use it',
  'ecs:DeregisterTaskDefinition': 'no resource-level permissions; running services keep their revision',
  'kms:CreateKey': 'creates a new key',
  'secretsmanager:GetRandomPassword': 'returns random bytes',
  'iam:CreateServiceLinkedRole': 'AWS-defined roles of the listed services, shared by the account',
  'ssm:SendCommand': 'checked below: the document and the instance are both environment-scoped',
};
/**
 * S3 carries no aws:ResourceTag for objects, and the artifact bucket (model-deploy-ACCOUNT-REGION) is one per
 * account and region, shared by the environments of an account: a build is environment-agnostic and deploy
 * uses the object the build wrote. Environments that must not touch each other's weights live in separate
 * accounts (then s3:ResourceAccount keeps each role in its own), and deploy pins the object version it was
 * promoted with. Known and documented in docs/getting-started.md.
 */
const SHARED_ARTIFACT_BUCKET = /^s3:/;
const READ = /^[a-z0-9-]+:(Describe|List|Get|BatchGet|BatchCheck|Validate|Invoke)/;

/** A concrete ARN of another environment from a statement's resource pattern. */
const concretize = (pattern: string) => pattern.replace(/\*/g, 'x-prod').replace(/x-prod-dev/g, 'x-prod');

describe('deploy role: no write to another environment (Medium 4), statement by statement', () => {
  const writes = grants.filter(({ action }) => !READ.test(action) && !(action in NO_ENVIRONMENT_RESOURCE) && !SHARED_ARTIFACT_BUCKET.test(action));
  it('has write statements to check', () => {
    expect(writes.length).toBeGreaterThan(80);
  });

  it('keeps S3 writes in this account, on the artifact buckets only', () => {
    const s3 = grants.filter(({ action }) => SHARED_ARTIFACT_BUCKET.test(action) && !READ.test(action));
    expect(s3.length).toBeGreaterThan(0);
    for (const { action, s } of s3) {
      for (const r of list(s.Resource)) {
        expect(r).toMatch(new RegExp(`^arn:aws:s3:::model-deploy-${ACCOUNT}-\\*`));
        const req = { action, resource: r.replace(/\*/g, 'x'), context: { 's3:ResourceAccount': '999999999999' } };
        expect({ action, decision: evaluate(devRole, req).decision }).not.toEqual({ action, decision: 'allow' });
      }
    }
  });

  it.each(writes.map(({ action, s }) => [`${s.Sid}: ${action}`, action, s] as const))('%s is refused on a resource of prod', (_label, action, s) => {
    // Everything else the statement asks for is granted: only the environment differs.
    const context: Record<string, string | string[]> = {
      ...VIA_CFN,
      'iam:PermissionsBoundary': BOUNDARY,
      'iam:PolicyARN': ATTACHABLE[0],
      'iam:PassedToService': 'sagemaker.amazonaws.com',
      'iam:AWSServiceName': 'ecs.amazonaws.com',
      's3:ResourceAccount': ACCOUNT,
      'aws:RequestTag/model-deploy:deployment': 'x',
      [`aws:ResourceTag/${ENV_TAG}`]: 'prod',
      [`aws:RequestTag/${ENV_TAG}`]: 'prod',
      [`ssm:resourceTag/${ENV_TAG}`]: 'prod',
      'ssm:resourceTag/model-deploy:project': PROJECT,
    };
    for (const resource of list(s.Resource)) {
      const req = { action, resource: concretize(resource), context };
      expect({ req: `${action} ${req.resource}`, decision: evaluate(devRole, req).decision }).not.toEqual({ req: `${action} ${req.resource}`, decision: 'allow' });
    }
  });

  it.each<[string, Request, boolean]>([
    ['the dev API key', { action: 'secretsmanager:GetSecretValue', resource: arn('secretsmanager', `secret:${PROJECT}/qwen-chat/dev/api-key-AbCdEf`) }, true],
    ['the prod API key', { action: 'secretsmanager:GetSecretValue', resource: arn('secretsmanager', `secret:${PROJECT}/qwen-chat/prod/api-key-AbCdEf`) }, false],
    ['rotating the prod key', { action: 'secretsmanager:UpdateSecretVersionStage', resource: arn('secretsmanager', `secret:${PROJECT}/qwen-chat/prod/api-key-AbCdEf`) }, false],
    ['updating the dev stack', { action: 'cloudformation:UpdateStack', resource: arn('cloudformation', `stack/${PROJECT}-qwen-chat-dev/1`), context: { [`aws:ResourceTag/${ENV_TAG}`]: 'dev', 'aws:ResourceTag/model-deploy:project': PROJECT, 'aws:RequestTag/model-deploy:project': PROJECT, 'cloudformation:ResourceTypes': ['AWS::SageMaker::Endpoint'] } }, true],
    ['updating the prod stack', { action: 'cloudformation:UpdateStack', resource: arn('cloudformation', `stack/${PROJECT}-qwen-chat-prod/1`), context: { [`aws:ResourceTag/${ENV_TAG}`]: 'prod' } }, false],
    ['deleting a prod-tagged stack whose name ends in -dev', { action: 'cloudformation:DeleteStack', resource: arn('cloudformation', `stack/${PROJECT}-x-pre-dev/1`), context: { [`aws:ResourceTag/${ENV_TAG}`]: 'pre-dev' } }, false],
    ['redeploying the prod ECS service', { action: 'ecs:UpdateService', resource: arn('ecs', `service/${PROJECT}-coder-prod/${PROJECT}-coder-prod`) }, false],
    ['invoking the prod endpoint', { action: 'sagemaker:InvokeEndpoint', resource: arn('sagemaker', `endpoint/${PROJECT}-qwen-chat-prod`) }, false],
    ['the refresh document on dev instances', { action: 'ssm:SendCommand', resource: arn('ssm', `document/${PROJECT}.dev.refresh-keys`) }, true],
    ['a refresh document a dev stack could make', { action: 'ssm:SendCommand', resource: arn('ssm', `document/${PROJECT}-coder-dev-refresh-keys`) }, false],
    ['AWS-RunShellScript', { action: 'ssm:SendCommand', resource: 'arn:aws:ssm:us-east-1::document/AWS-RunShellScript' }, false],
    ["prod's refresh document", { action: 'ssm:SendCommand', resource: arn('ssm', `document/${PROJECT}.prod.refresh-keys`) }, false],
    ['SendCommand on a dev instance', { action: 'ssm:SendCommand', resource: arn('ec2', 'instance/i-1'), context: { 'ssm:resourceTag/model-deploy:project': PROJECT, [`ssm:resourceTag/${ENV_TAG}`]: 'dev' } }, true],
    ['SendCommand on a prod instance', { action: 'ssm:SendCommand', resource: arn('ec2', 'instance/i-2'), context: { 'ssm:resourceTag/model-deploy:project': PROJECT, [`ssm:resourceTag/${ENV_TAG}`]: 'prod' } }, false],
    ['opening a prod security group through a dev stack', { action: 'ec2:AuthorizeSecurityGroupIngress', resource: arn('ec2', 'security-group/sg-1'), context: { ...VIA_CFN, [`aws:ResourceTag/${ENV_TAG}`]: 'prod' } }, false],
    ['a dev security group through a dev stack', { action: 'ec2:AuthorizeSecurityGroupIngress', resource: arn('ec2', 'security-group/sg-2'), context: { ...VIA_CFN, [`aws:ResourceTag/${ENV_TAG}`]: 'dev', 'aws:ResourceTag/model-deploy:project': PROJECT } }, true],
    ['an untagged security group through a dev stack', { action: 'ec2:AuthorizeSecurityGroupIngress', resource: arn('ec2', 'security-group/sg-3'), context: { ...VIA_CFN } }, false],
    ['scaling a prod endpoint variant', { action: 'application-autoscaling:RegisterScalableTarget', resource: arn('application-autoscaling', 'scalable-target/1'), context: { ...VIA_CFN, [`aws:ResourceTag/${ENV_TAG}`]: 'prod' } }, false],
    ['starting a prod-tagged build', { action: 'codebuild:StartBuild', resource: arn('codebuild', `project/${PROJECT}-x-build`), context: { [`aws:ResourceTag/${ENV_TAG}`]: 'prod' } }, false],
    ['tagging a resource for prod', { action: 'ec2:CreateTags', resource: arn('ec2', 'security-group/sg-2'), context: { ...VIA_CFN, [`aws:RequestTag/${ENV_TAG}`]: 'prod' } }, false],
    ["removing a dev role's environment tag", { action: 'iam:UntagRole', resource: role(`${PROJECT}-x-dev-R`), context: { ...VIA_CFN, [`aws:ResourceTag/${ENV_TAG}`]: 'dev', 'aws:TagKeys': [ENV_TAG] } }, false],
    ['assuming the prod promotion role', { action: 'sts:AssumeRole', resource: 'arn:aws:iam::333333333333:role/model-deploy-promotion' }, false],
    ['writing weights into a bucket of another account', { action: 's3:PutObject', resource: 'arn:aws:s3:::model-deploy-111111111111-eu-west-9/models/x', context: { 's3:ResourceAccount': '999999999999' } }, false],
    ['writing weights into our bucket (the build role does)', { action: 's3:PutObject', resource: `arn:aws:s3:::model-deploy-111111111111-us-east-1/${PROJECT}/qwen-chat/models/x`, context: { 's3:ResourceAccount': ACCOUNT } }, false],
    ['uploading a build source into our bucket', { action: 's3:PutObject', resource: `arn:aws:s3:::model-deploy-111111111111-us-east-1/${PROJECT}/qwen-chat/sources/x.zip`, context: { 's3:ResourceAccount': ACCOUNT } }, true],
  ])('%s: allowed=%s', (_label, req, expected) => {
    expect(allowed(req)).toBe(expected);
  });
});

describe('CloudFormation escapes are denied (Medium 4; issue 20 Medium 9)', () => {
  const stack = arn('cloudformation', `stack/${PROJECT}-qwen-chat-dev/1`);
  const tags = { 'aws:RequestTag/model-deploy:project': PROJECT, [`aws:RequestTag/${ENV_TAG}`]: 'dev' };
  it.each<[string, Record<string, string | string[]>, boolean]>([
    ['the types the templates use', { ...tags, 'cloudformation:ResourceTypes': ['AWS::SageMaker::Endpoint', 'AWS::KMS::Key'] }, true],
    ['no ResourceTypes (any type could follow)', { ...tags }, false],
    ['an IAM role (the bootstrap owns every role)', { ...tags, 'cloudformation:ResourceTypes': ['AWS::SageMaker::Endpoint', 'AWS::IAM::Role'] }, false],
    ['an SSM document', { ...tags, 'cloudformation:ResourceTypes': ['AWS::SSM::Document'] }, false],
    ['an IMPORT change set (adopting existing resources)', { 'cloudformation:ImportResourceTypes': ['AWS::SageMaker::Endpoint'] }, false],
    ['a custom resource (runs code)', { 'cloudformation:ResourceTypes': ['AWS::IAM::Role', 'Custom::Anything'] }, false],
    ['a Lambda function', { 'cloudformation:ResourceTypes': ['AWS::Lambda::Function'] }, false],
    ['a nested stack', { 'cloudformation:ResourceTypes': ['AWS::CloudFormation::Stack'] }, false],
    ['an IAM user', { 'cloudformation:ResourceTypes': ['AWS::IAM::User'] }, false],
    ['a managed policy', { 'cloudformation:ResourceTypes': ['AWS::IAM::ManagedPolicy'] }, false],
    ['a stack service role', { 'cloudformation:RoleArn': role('model-deploy-cfn') }, false],
  ])('CreateChangeSet with %s: allowed=%s', (_label, context, expected) => {
    expect(allowed({ action: 'cloudformation:CreateChangeSet', resource: stack, context })).toBe(expected);
  });
});

describe('the permissions boundary keeps a role its stack creates inside its environment', () => {
  // The worst a dev template can do: a role with every permission, bounded.
  const admin: Statement[] = [{ Effect: 'Allow', Action: '*', Resource: '*' }];
  const asDevRole = (req: Request) => evaluate(admin, { ...req, context: { 'aws:PrincipalTag/model-deploy:environment': 'dev', 'aws:PrincipalAccount': ACCOUNT, ...req.context } }, boundary).decision;
  it.each<[string, Request, string]>([
    ['reads its own environment key', { action: 'secretsmanager:GetSecretValue', resource: arn('secretsmanager', 'secret:acme-llm/x/dev/api-key-1'), context: { [`aws:ResourceTag/${ENV_TAG}`]: 'dev' } }, 'allow'],
    ["reads prod's key", { action: 'secretsmanager:GetSecretValue', resource: arn('secretsmanager', 'secret:acme-llm/x/prod/api-key-1'), context: { [`aws:ResourceTag/${ENV_TAG}`]: 'prod' } }, 'deny'],
    ['creates a user', { action: 'iam:CreateUser', resource: `arn:aws:iam::${ACCOUNT}:user/x` }, 'implicit-deny'],
    ['assumes another role', { action: 'sts:AssumeRole', resource: role('OrganizationAccountAccessRole') }, 'implicit-deny'],
    ['writes into another account', { action: 's3:PutObject', resource: 'arn:aws:s3:::weights/y', context: { 's3:ResourceAccount': '999999999999' } }, 'deny'],
    ["reads a sniped artifact bucket (another account's model-deploy-ACCOUNT-REGION)", { action: 's3:GetObject', resource: `arn:aws:s3:::model-deploy-${ACCOUNT}-xx-new-1/sources/a.zip`, context: { 's3:ResourceAccount': '999999999999' } }, 'deny'],
    ["reads weights from another account's models bucket", { action: 's3:GetObject', resource: 'arn:aws:s3:::central-models/llama/model.tar.gz', context: { 's3:ResourceAccount': '999999999999' } }, 'allow'],
    ['pushes into a prod-tagged repository', { action: 'ecr:PutImage', resource: arn('ecr', 'repository/acme-llm/x'), context: { [`aws:ResourceTag/${ENV_TAG}`]: 'prod' } }, 'deny'],
  ])('%s: %s', (_label, req, expected) => {
    expect(asDevRole(req)).toBe(expected);
  });
  it('a role without an environment tag can do nothing', () => {
    expect(evaluate(admin, { action: 'logs:PutLogEvents', resource: '*', context: {} }, boundary).decision).toBe('deny');
  });
});

describe('promotion: the target environment holds the identity, the source only reads (High 2)', () => {
  const prod = resolveTemplate(bootstrap, { Repository: 'acme/llm-platform', SubjectForm: 'repository-name', Project: PROJECT, Environment: 'prod', CreatePromotionRole: 'true', CreateArtifactBucket: 'true', CreatePermissionsBoundary: 'true' });
  it('the source role writes nothing', () => {
    const statements = roleStatements(dev, 'PromotionSourceRole');
    expect(statements.length).toBeGreaterThan(0);
    // kms:Decrypt reads the weights of an encrypted bucket (through S3 only): a read, not a write.
    for (const s of statements) for (const a of list(s.Action)) expect(a).toMatch(/^((ecr|s3):(Describe|List|BatchGet|BatchCheck|Get)|kms:Decrypt$)/);
  });
  it("the target's promotion role writes only into its own account's buckets and repositories", () => {
    const statements = roleStatements(prod, 'PromotionRole');
    const put = { action: 's3:PutObject', resource: `arn:aws:s3:::model-deploy-111111111111-us-east-1/promoted/${PROJECT}/prod/qwen-chat/sha256-${'ab'.repeat(32)}/x` };
    expect(evaluate(statements, { ...put, context: { 's3:ResourceAccount': ACCOUNT } }).decision).toBe('allow');
    expect(evaluate(statements, { ...put, context: { 's3:ResourceAccount': '999999999999' } }).decision).not.toBe('allow');
    const trust = prod.resources.PromotionRole.Properties.AssumeRolePolicyDocument.Statement;
    expect(trust.map((s: any) => Object.keys(s.Principal))).toEqual([['Federated']]);
    expect(trust[0].Condition.StringEquals['token.actions.githubusercontent.com:sub']).toEqual(['repo:acme/llm-platform:environment:prod']);
  });
  it('the artifact bucket of the target is versioned', () => {
    expect(prod.resources.ArtifactBucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });
  it('the bootstrap is a valid template', () => {
    expect(validateTemplate(bootstrap)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Stack templates, rendered by the deploy flow's own renderer.
const spec = loadSpec(path.join(ROOT, 'examples', 'model-deploy.yml'));
const variant = (d: Deployment, change: (x: Deployment) => void) => {
  const copy = structuredClone(d);
  change(copy);
  return copy;
};
const coder = spec.deployments['code-assistant'];
const deployments: [string, Deployment][] = [
  ['sagemaker-realtime', spec.deployments['qwen-chat']],
  ['sagemaker-async', spec.deployments['summarizer-batch']],
  ['ecs', coder],
  ['ec2', variant(coder, (x) => (x.target = 'ec2'))],
];
const allowedTypes = (devRole.find((s) => s.Sid === 'DenyUnlistedResourceTypes')?.Condition?.['ForAnyValue:StringNotEquals']['cloudformation:ResourceTypes'] ?? []) as string[];

describe.each(deployments)('stack template %s, rendered for dev', (target, d) => {
  const r = renderStack({ deployment: d, names: targetNames(d, 'dev'), region: 'us-east-1', environmentName: 'dev', environment: spec.environments.dev, account: ACCOUNT });
  const params = Object.fromEntries(r.parameters.map((p) => [p.ParameterKey, p.ParameterValue]));
  const stackTags = Object.fromEntries(r.tags.map((t) => [t.Key, t.Value]));
  const rendered = resolveTemplate(r.template, params);
  const roles = Object.entries(rendered.resources).filter(([, x]) => x.Type === 'AWS::IAM::Role');
  const stack = arn('cloudformation', `stack/${r.stackName}/1`);

  it('is the template of its target, and creates no role', () => {
    expect(r.templateFile).toBe(`templates/stacks/${target}.yaml`);
    expect(roles).toEqual([]);
  });

  // Issue 20: every role and profile the stack names is the bootstrap's, and the dev deploy role may pass it
  // to the service that runs it (the ARN render puts there, not a pattern).
  it('runs as bootstrap service roles of dev that the dev deploy role may pass', () => {
    const named = Object.entries(params).filter(([k]) => /RoleArn$|InstanceProfileArn$/.test(k));
    expect(named.length).toBeGreaterThan(0);
    for (const [key, value] of named) {
      const kind = String(value).split('/').pop()!.split('.').pop()!;
      const service = SERVICE_ROLES.find(([k]) => k === kind)?.[1];
      expect({ key, value, service: !!service }).toEqual({ key, value: `arn:aws:iam::${ACCOUNT}:${key === 'InstanceProfileArn' ? 'instance-profile' : 'role'}/${PROJECT}.dev.${kind}`, service: true });
      expect(allowed({ action: 'iam:PassRole', resource: role(`${PROJECT}.dev.${kind}`), context: { 'iam:PassedToService': service! } })).toBe(true);
      const profiles = Object.values(dev.resources).filter((x) => x.Type === 'AWS::IAM::InstanceProfile').map((x) => x.Properties.InstanceProfileName);
      if (key === 'InstanceProfileArn') expect(profiles).toContain(`${PROJECT}.dev.${kind}`);
    }
  });

  it('uses only resource types the deploy role may put in a stack', () => {
    const types = [...new Set(Object.values(r.template.Resources as Record<string, any>).map((x) => x.Type as string))];
    for (const t of types) expect(allowedTypes).toContain(t);
    const context = { 'cloudformation:ResourceTypes': types, ...Object.fromEntries(Object.entries(stackTags).map(([k, v]) => [`aws:RequestTag/${k}`, v])) };
    // What src/deploy/changeset.ts sends: CloudFormation refuses a template with any type not named.
    expect(types.length).toBeGreaterThan(0);
    expect(evaluate(devRole, { action: 'cloudformation:CreateChangeSet', resource: stack, context }).decision).toBe('allow');
  });

  if (target === 'ecs' || target === 'ec2') {
    it('the load balancer drops ambiguous requests (desync mitigation strictest) and logs only when asked', () => {
      const attrs = rendered.resources.LoadBalancer.Properties.LoadBalancerAttributes as { Key: string; Value: string }[];
      expect(attrs).toEqual(expect.arrayContaining([{ Key: 'routing.http.desync_mitigation_mode', Value: 'strictest' }, { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' }]));
      expect(attrs.map((a) => a.Key)).not.toContain('access_logs.s3.enabled');
      const logged = resolveTemplate(r.template, { ...params, AccessLogsBucket: 'logs-bucket', AccessLogsPrefix: 'alb' }).resources.LoadBalancer.Properties.LoadBalancerAttributes;
      expect(logged).toEqual(expect.arrayContaining([{ Key: 'access_logs.s3.enabled', Value: 'true' }, { Key: 'access_logs.s3.bucket', Value: 'logs-bucket' }]));
    });
  }

  if (target === 'ec2') {
    it("sends the bootstrap's refresh document, which the dev deploy role may send and no stack can create", () => {
      expect(params.RefreshKeysDocumentName).toBe(`${PROJECT}.dev.refresh-keys`);
      const doc = dev.resources.RefreshKeysDocument.Properties;
      expect(doc.Name).toBe(`${PROJECT}.dev.refresh-keys`);
      expect(doc.DocumentType).toBe('Command');
      expect(doc.Content.parameters).toBeUndefined();
      expect(doc.Content.mainSteps).toEqual([{ action: 'aws:runShellScript', name: 'refreshKeys', inputs: { timeoutSeconds: '120', runCommand: ['/opt/model-deploy/refresh-keys.sh'] } }]);
      expect(allowed({ action: 'ssm:SendCommand', resource: arn('ssm', `document/${doc.Name}`) })).toBe(true);
      expect(allowed({ action: 'ssm:CreateDocument', resource: arn('ssm', `document/${doc.Name}`), context: VIA_CFN })).toBe(false);
    });

    it('writes the key file 0600, owned by the user the container runs as', () => {
      const userData = JSON.stringify((r.template as any).Resources.LaunchTemplate.Properties.LaunchTemplateData.UserData);
      expect(userData).toContain('MODEL_DEPLOY_API_KEY_FILE_MODE=0600');
      expect(userData).toContain('MODEL_DEPLOY_API_KEY_FILE_OWNER=');
      const script = fs.readFileSync(path.join(ROOT, 'templates', 'serving', 'refresh-keys.sh'), 'utf8');
      expect(script).toContain('MODE="${MODEL_DEPLOY_API_KEY_FILE_MODE:-0600}"');
      expect(script).toMatch(/chown "\$OWNER" "\$tmp"/);
    });
  }
});

describe('templates/build/infrastructure.yaml: runs as the bootstrap build role', () => {
  const build = readTemplate('templates/build/infrastructure.yaml');
  it('uses only resource types the deploy role may put in a stack, and no role or repository policy', () => {
    for (const x of Object.values(build.Resources as Record<string, any>)) expect(allowedTypes).toContain(x.Type);
    expect(Object.values(build.Resources as Record<string, any>).filter((x) => x.Type.startsWith('AWS::IAM::'))).toEqual([]);
    expect(build.Resources.Repository.Properties.RepositoryPolicyText).toBeUndefined();
    expect(build.Resources.Project.Properties.ServiceRole).toEqual({ Ref: 'ServiceRoleArn' });
  });
  it('the dev deploy role may pass the build role to CodeBuild only', () => {
    expect(allowed({ action: 'iam:PassRole', resource: role(`${PROJECT}.dev.codebuild`), context: { 'iam:PassedToService': 'codebuild.amazonaws.com' } })).toBe(true);
    expect(allowed({ action: 'iam:PassRole', resource: role(`${PROJECT}.dev.codebuild`), context: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } })).toBe(false);
  });
});

describe('docs/getting-started.md explains the trust model', () => {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'getting-started.md'), 'utf8');
  const table = doc.slice(doc.indexOf('### Trust model'), doc.indexOf('**No CloudFormation service role'));
  it('has a row for every role the bootstrap creates, by its name', () => {
    const all = resolveTemplate(bootstrap, { Repository: 'acme/llm-platform', Project: 'PROJECT', Environment: 'ENV', PromotionEnvironments: 'prod', CreatePromotionRole: 'true' });
    const names = Object.values(all.resources).filter((x) => x.Type === 'AWS::IAM::Role').map((x) => String(x.Properties.RoleName));
    expect(names.length).toBe(11);
    for (const name of names) expect(table).toContain(`\`${name}\``);
    expect(table).toMatch(/\| Identity \| Who can assume it \| Gated by \| Can \|/);
  });
  it('says which way CloudFormation runs and why', () => {
    expect(doc).toMatch(/No CloudFormation service role, by choice/);
    expect(doc).toContain('model-deploy-permissions-boundary');
  });
});
