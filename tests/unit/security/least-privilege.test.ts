/**
 * Issue 20 (High 2, Medium 3, 5, 6, 7, 9, 10): what a dev token can do, decided by @cloud-copilot/iam-simulate
 * over the rendered bootstrap, with the request context AWS really sends (the principal's account, ARN and
 * tags; aws:CalledVia only when CloudFormation makes the call; no key the caller does not send). Every attack
 * has a legitimate twin the deploy needs, so the suite cannot pass by denying everything.
 */
import { ACCOUNT, resolveTemplate } from '../../support/cloudformation/resolve';
import { readTemplate } from '../../support/cloudformation/template';
import { Call, Decision, decide, principalOf } from '../../support/cloudformation/simulate';

const bootstrap = readTemplate('templates/bootstrap/model-deploy-bootstrap.yaml');
const P = 'acme-llm';
const BASE = { Repository: 'acme/llm-platform', Project: P, Environment: 'dev', HostedZoneId: 'Z0123456789ABC', DnsRecordNames: '*.dev.example.com' };
const dev = resolveTemplate(bootstrap, BASE);
/** dev and prod in one account (the documented shared setup): the bucket is shared, so dev may not configure it. */
const shared = resolveTemplate(bootstrap, { ...BASE, ArtifactBucketShared: 'true' });
const deployRole = principalOf(dev, 'DeployRole');
const sharedDeployRole = principalOf(shared, 'DeployRole');

const VIA_CFN = { 'aws:CalledVia': ['cloudformation.amazonaws.com'], 'aws:ViaAWSService': 'false' };
const arn = (service: string, rest: string) => `arn:aws:${service}:us-east-1:${ACCOUNT}:${rest}`;
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const BUCKET = `arn:aws:s3:::model-deploy-${ACCOUNT}-us-east-1`;
/** The bootstrap's pre-created service roles of dev (names.ts serviceRoleName). */
const SERVICE_ROLES = {
  sagemaker: ['sagemaker', 'sagemaker.amazonaws.com'],
  'ecs-task': ['ecs-task', 'ecs-tasks.amazonaws.com'],
  'ecs-exec': ['ecs-exec', 'ecs-tasks.amazonaws.com'],
  'ecs-instance': ['ecs-instance', 'ec2.amazonaws.com'],
  'ec2-instance': ['ec2-instance', 'ec2.amazonaws.com'],
  codebuild: ['codebuild', 'codebuild.amazonaws.com'],
} as const;
const serviceRole = (env: string, kind: string) => role(`${P}.${env}.${kind}`);
const stackRole = role(`${P}-qwen-chat-dev-ExecutionRole-ABC123`);
const BOUNDARY = `arn:aws:iam::${ACCOUNT}:policy/model-deploy-permissions-boundary`;
const devTags = { 'aws:RequestTag/model-deploy:environment': 'dev', 'aws:RequestTag/model-deploy:deployment': 'qwen-chat', 'aws:RequestTag/model-deploy:project': P, 'aws:TagKeys': ['model-deploy:environment', 'model-deploy:deployment', 'model-deploy:project'] };
const devResource = { 'aws:ResourceTag/model-deploy:environment': 'dev', 'aws:ResourceTag/model-deploy:project': P };

type Case = [string, Call, Decision | 'not Allowed'];
const check = async (principal = deployRole, call: Call, expected: Decision | 'not Allowed') => {
  const got = await decide(principal, call);
  const label = `${call.action} ${call.resource}`;
  if (expected === 'not Allowed') expect({ label, allowed: got === 'Allowed' }).toEqual({ label, allowed: false });
  else expect({ label, got }).toEqual({ label, got: expected });
};

describe('High 2: the deploy role creates no role and writes no policy', () => {
  it.each<Case>([
    ['CreateRole through CloudFormation, bounded and tagged for dev', { action: 'iam:CreateRole', resource: stackRole, context: { ...VIA_CFN, ...devTags, 'iam:PermissionsBoundary': BOUNDARY } }, 'not Allowed'],
    ['CreateRole directly', { action: 'iam:CreateRole', resource: role(`${P}-backdoor`), context: { ...devTags, 'iam:PermissionsBoundary': BOUNDARY } }, 'not Allowed'],
    ['PutRolePolicy on a dev-tagged, bounded stack role', { action: 'iam:PutRolePolicy', resource: stackRole, context: { ...VIA_CFN, ...devResource, 'iam:PermissionsBoundary': BOUNDARY } }, 'not Allowed'],
    ['UpdateAssumeRolePolicy (an outside account, "*") on a dev stack role', { action: 'iam:UpdateAssumeRolePolicy', resource: stackRole, context: { ...VIA_CFN, ...devResource, 'iam:PermissionsBoundary': BOUNDARY } }, 'not Allowed'],
    ['AttachRolePolicy of the SSM policy', { action: 'iam:AttachRolePolicy', resource: stackRole, context: { ...VIA_CFN, ...devResource, 'iam:PermissionsBoundary': BOUNDARY, 'iam:PolicyARN': 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore' } }, 'not Allowed'],
    ['PutRolePolicy on a pre-created service role', { action: 'iam:PutRolePolicy', resource: serviceRole('dev', 'sagemaker'), context: { ...VIA_CFN, ...devResource } }, 'not Allowed'],
    ['UpdateAssumeRolePolicy on a pre-created service role', { action: 'iam:UpdateAssumeRolePolicy', resource: serviceRole('dev', 'ecs-task'), context: { ...VIA_CFN, ...devResource } }, 'not Allowed'],
    ['CreateInstanceProfile', { action: 'iam:CreateInstanceProfile', resource: `arn:aws:iam::${ACCOUNT}:instance-profile/${P}-x-dev-InstanceProfile-1`, context: { ...VIA_CFN, ...devTags } }, 'not Allowed'],
    ['AddRoleToInstanceProfile', { action: 'iam:AddRoleToInstanceProfile', resource: `arn:aws:iam::${ACCOUNT}:instance-profile/${P}-x-dev-InstanceProfile-1`, context: { ...VIA_CFN } }, 'not Allowed'],
    ['CreatePolicy', { action: 'iam:CreatePolicy', resource: `arn:aws:iam::${ACCOUNT}:policy/${P}-x`, context: VIA_CFN }, 'not Allowed'],
    ['PassRole of a role a dev stack made (any trust, any policy)', { action: 'iam:PassRole', resource: stackRole, context: { 'iam:PassedToService': 'sagemaker.amazonaws.com', ...devResource } }, 'not Allowed'],
    ["PassRole of prod's SageMaker role", { action: 'iam:PassRole', resource: serviceRole('prod', 'sagemaker'), context: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } }, 'not Allowed'],
    ['PassRole of the SageMaker role to Lambda', { action: 'iam:PassRole', resource: serviceRole('dev', 'sagemaker'), context: { 'iam:PassedToService': 'lambda.amazonaws.com' } }, 'not Allowed'],
    ['PassRole of the CodeBuild role to SageMaker', { action: 'iam:PassRole', resource: serviceRole('dev', 'codebuild'), context: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } }, 'not Allowed'],
  ])('%s: %s', async (_label, call, expected) => check(deployRole, call, expected));

  it.each(Object.entries(SERVICE_ROLES))('passes the pre-created %s role to its service only', async (_kind, [kind, service]) => {
    await check(deployRole, { action: 'iam:PassRole', resource: serviceRole('dev', kind), context: { 'iam:PassedToService': service } }, 'Allowed');
    await check(deployRole, { action: 'iam:PassRole', resource: serviceRole('dev', kind), context: { 'iam:PassedToService': 'cloudformation.amazonaws.com' } }, 'not Allowed');
  });

  it('the bootstrap creates every service role with a fixed trust in its one service', () => {
    for (const [kind, service] of Object.values(SERVICE_ROLES)) {
      const found = Object.values(dev.resources).find((r) => r.Type === 'AWS::IAM::Role' && r.Properties.RoleName === `${P}.dev.${kind}`);
      expect({ kind, found: !!found }).toEqual({ kind, found: true });
      const trust = found!.Properties.AssumeRolePolicyDocument.Statement;
      expect(trust).toEqual([{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } } }]);
    }
  });
});

describe('Medium 9: guards fire on the request CloudFormation really receives', () => {
  const stack = arn('cloudformation', `stack/${P}-qwen-chat-dev/1`);
  const tags = { 'aws:RequestTag/model-deploy:environment': 'dev', 'aws:RequestTag/model-deploy:project': P, 'aws:RequestTag/model-deploy:deployment': 'qwen-chat', 'aws:TagKeys': ['model-deploy:project', 'model-deploy:deployment', 'model-deploy:environment'] };
  it.each<Case>([
    // The caller omits ResourceTypes: CloudFormation then sends no cloudformation:ResourceTypes at all.
    ['a change set that does not name its resource types (a Lambda function, a custom resource)', { action: 'cloudformation:CreateChangeSet', resource: stack, context: { ...tags } }, 'not Allowed'],
    ['a change set naming a custom resource', { action: 'cloudformation:CreateChangeSet', resource: stack, context: { ...tags, 'cloudformation:ResourceTypes': ['AWS::SageMaker::Endpoint', 'Custom::Shell'] } }, 'not Allowed'],
    ['a change set naming an IAM role (none is made by a stack any more)', { action: 'cloudformation:CreateChangeSet', resource: stack, context: { ...tags, 'cloudformation:ResourceTypes': ['AWS::IAM::Role'] } }, 'not Allowed'],
    ['a change set naming the templates\' types', { action: 'cloudformation:CreateChangeSet', resource: stack, context: { ...tags, 'cloudformation:ResourceTypes': ['AWS::SageMaker::Model', 'AWS::SageMaker::EndpointConfig', 'AWS::SageMaker::Endpoint', 'AWS::KMS::Key'] } }, 'Allowed'],
    ['a stack of another project that merely starts with the project name', { action: 'cloudformation:CreateChangeSet', resource: arn('cloudformation', `stack/${P}-x-dev/1`), context: { ...tags, 'aws:RequestTag/model-deploy:project': `${P}-x`, 'cloudformation:ResourceTypes': ['AWS::KMS::Key'] } }, 'not Allowed'],
  ])('%s: %s', async (_label, call, expected) => check(deployRole, call, expected));
});

describe('Medium 3 and 9: S3 by bucket and prefix names (S3 evaluates no tag on objects)', () => {
  it.each<Case>([
    ['overwriting weights under models/ (promoted or built)', { action: 's3:PutObject', resource: `${BUCKET}/${P}/qwen-chat/models/abc/model.safetensors`, context: { 's3:ResourceAccount': ACCOUNT } }, 'not Allowed'],
    ['uploading a build source', { action: 's3:PutObject', resource: `${BUCKET}/${P}/qwen-chat/sources/abc.zip`, context: { 's3:ResourceAccount': ACCOUNT } }, 'Allowed'],
    ['uploading a large template of a dev stack', { action: 's3:PutObject', resource: `${BUCKET}/templates/${P}-qwen-chat-dev/0123.json`, context: { 's3:ResourceAccount': ACCOUNT } }, 'Allowed'],
    ['uploading a template under a prod stack\'s name', { action: 's3:PutObject', resource: `${BUCKET}/templates/${P}-qwen-chat-prod/0123.json`, context: { 's3:ResourceAccount': ACCOUNT } }, 'not Allowed'],
    ['a bucket of another account', { action: 's3:PutObject', resource: `${BUCKET}/${P}/qwen-chat/sources/abc.zip`, context: { 's3:ResourceAccount': '999999999999' }, resourceAccount: '999999999999' }, 'not Allowed'],
  ])('%s: %s', async (_label, call, expected) => check(deployRole, call, expected));

  it.each(['s3:PutBucketPolicy', 's3:PutBucketVersioning', 's3:PutLifecycleConfiguration', 's3:PutEncryptionConfiguration', 's3:PutBucketPublicAccessBlock'])(
    'a deploy role sharing the bucket may not %s',
    async (action) => {
      await check(sharedDeployRole, { action, resource: BUCKET, context: { 's3:ResourceAccount': ACCOUNT } }, 'not Allowed');
      // The only environment of an account creates and configures its own bucket (build-model, async rules).
      await check(deployRole, { action, resource: BUCKET, context: { 's3:ResourceAccount': ACCOUNT } }, 'Allowed');
    },
  );

  it('the promotion role cannot suspend versioning of the prod bucket', async () => {
    const prod = resolveTemplate(bootstrap, { ...BASE, Environment: 'prod', CreatePromotionRole: 'true', CreateArtifactBucket: 'true' });
    await check(principalOf(prod, 'PromotionRole'), { action: 's3:PutBucketVersioning', resource: BUCKET, context: { 's3:ResourceAccount': ACCOUNT } }, 'not Allowed');
    await check(principalOf(prod, 'PromotionRole'), { action: 's3:PutObject', resource: `${BUCKET}/promoted/${P}/prod/qwen-chat/sha256-${'ab'.repeat(32)}/x`, context: { 's3:ResourceAccount': ACCOUNT } }, 'Allowed');
  });
});

describe('Medium 5, 6, 7, 10: stack resources only of the stack, the environment\'s names only', () => {
  it.each<Case>([
    ['opening an untagged security group (a database) to the world', { action: 'ec2:AuthorizeSecurityGroupIngress', resource: arn('ec2', 'security-group/sg-0db'), context: { ...VIA_CFN } }, 'not Allowed'],
    ["opening prod's security group", { action: 'ec2:AuthorizeSecurityGroupIngress', resource: arn('ec2', 'security-group/sg-1'), context: { ...VIA_CFN, 'aws:ResourceTag/model-deploy:environment': 'prod', 'aws:ResourceTag/model-deploy:project': P } }, 'not Allowed'],
    ["the dev stack's own security group", { action: 'ec2:AuthorizeSecurityGroupIngress', resource: arn('ec2', 'security-group/sg-2'), context: { ...VIA_CFN, ...devResource } }, 'Allowed'],
    ['a service in an untagged cluster', { action: 'ecs:CreateService', resource: arn('ecs', 'service/db-cluster/evil'), context: { ...VIA_CFN, ...devTags, 'ecs:cluster': arn('ecs', 'cluster/db-cluster') } }, 'not Allowed'],
    ['the dev stack\'s service in its own cluster', { action: 'ecs:CreateService', resource: arn('ecs', `service/${P}-coder-dev/${P}-coder-dev`), context: { ...VIA_CFN, ...devTags, 'ecs:cluster': arn('ecs', `cluster/${P}-coder-dev`) } }, 'Allowed'],
    ["a TXT record for prod's name (a certificate for it)", { action: 'route53:ChangeResourceRecordSets', resource: 'arn:aws:route53:::hostedzone/Z0123456789ABC', context: { ...VIA_CFN, 'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['_acme-challenge.api.example.com'], 'route53:ChangeResourceRecordSetsRecordTypes': ['TXT'], 'route53:ChangeResourceRecordSetsActions': ['CREATE'] } }, 'not Allowed'],
    ["dev's alias record", { action: 'route53:ChangeResourceRecordSets', resource: 'arn:aws:route53:::hostedzone/Z0123456789ABC', context: { ...VIA_CFN, 'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['coder.dev.example.com'], 'route53:ChangeResourceRecordSetsRecordTypes': ['A'], 'route53:ChangeResourceRecordSetsActions': ['UPSERT'] } }, 'Allowed'],
    ['a document a dev stack made, named like a refresh document', { action: 'ssm:SendCommand', resource: arn('ssm', `document/${P}-evil-dev-refresh-keys`) }, 'not Allowed'],
    ['creating a document (through a stack) under prod\'s refresh name', { action: 'ssm:CreateDocument', resource: arn('ssm', `document/${P}-coder-prod-refresh-keys`), context: { ...VIA_CFN, ...devTags } }, 'not Allowed'],
    ['AWS-RunShellScript', { action: 'ssm:SendCommand', resource: arn('ssm', 'document/AWS-RunShellScript') }, 'not Allowed'],
    ["the bootstrap's refresh document of dev", { action: 'ssm:SendCommand', resource: arn('ssm', `document/${P}.dev.refresh-keys`) }, 'Allowed'],
    ["prod's refresh document", { action: 'ssm:SendCommand', resource: arn('ssm', `document/${P}.prod.refresh-keys`) }, 'not Allowed'],
    ['SendCommand on a dev instance', { action: 'ssm:SendCommand', resource: arn('ec2', 'instance/i-1'), context: { 'ssm:resourceTag/model-deploy:project': P, 'ssm:resourceTag/model-deploy:environment': 'dev' } }, 'Allowed'],
    ['SendCommand on a prod instance', { action: 'ssm:SendCommand', resource: arn('ec2', 'instance/i-2'), context: { 'ssm:resourceTag/model-deploy:project': P, 'ssm:resourceTag/model-deploy:environment': 'prod' } }, 'not Allowed'],
    ["running prod's task definition in the dev service", { action: 'ecs:UpdateService', resource: arn('ecs', `service/${P}-coder-dev/${P}-coder-dev`), context: { 'ecs:cluster': arn('ecs', `cluster/${P}-coder-dev`), 'ecs:task-definition': arn('ecs', `task-definition/${P}-coder-prod:7`) } }, 'not Allowed'],
    ['redeploying the dev service (rotate-key: no task definition in the request)', { action: 'ecs:UpdateService', resource: arn('ecs', `service/${P}-coder-dev/${P}-coder-dev`), context: { 'ecs:cluster': arn('ecs', `cluster/${P}-coder-dev`) } }, 'Allowed'],
    ['the dev stack moving its service to its new task definition', { action: 'ecs:UpdateService', resource: arn('ecs', `service/${P}-coder-dev/${P}-coder-dev`), context: { ...VIA_CFN, 'ecs:cluster': arn('ecs', `cluster/${P}-coder-dev`), 'ecs:task-definition': arn('ecs', `task-definition/${P}-coder-dev:8`) } }, 'Allowed'],
    ['setting a repository policy (an outside account allowed to push)', { action: 'ecr:SetRepositoryPolicy', resource: arn('ecr', `repository/${P}/qwen-chat`), context: { ...VIA_CFN } }, 'not Allowed'],
    ['creating the project\'s repository through the build stack', { action: 'ecr:CreateRepository', resource: arn('ecr', `repository/${P}/qwen-chat`), context: { ...VIA_CFN, ...devTags } }, 'Allowed'],
    ['a repository of another project that starts with the project name', { action: 'ecr:CreateRepository', resource: arn('ecr', `repository/${P}-x/qwen-chat`), context: { ...VIA_CFN, ...devTags } }, 'not Allowed'],
  ])('%s: %s', async (_label, call, expected) => check(deployRole, call, expected));
});

describe('the roles a dev deploy can hand a workload: their environment and project only', () => {
  const roleOf = (kind: string) => {
    const id = Object.entries(dev.resources).find(([, r]) => r.Type === 'AWS::IAM::Role' && r.Properties.RoleName === `${P}.dev.${kind}`)?.[0];
    if (!id) throw new Error(`no ${kind} service role in the bootstrap`);
    return principalOf(dev, id);
  };
  const secret = (env: string) => arn('secretsmanager', `secret:${P}/coder/${env}/api-key-AbCdEf`);
  it.each<[string, string, Call, Decision | 'not Allowed']>([
    ['sagemaker', 'reads built weights of the project', { action: 's3:GetObject', resource: `${BUCKET}/${P}/qwen-chat/models/abc/config.json`, context: { 's3:ResourceAccount': ACCOUNT } }, 'Allowed'],
    ['sagemaker', "reads another project's weights", { action: 's3:GetObject', resource: `${BUCKET}/other/x/models/abc/config.json`, context: { 's3:ResourceAccount': ACCOUNT } }, 'not Allowed'],
    ['sagemaker', 'reads an API key', { action: 'secretsmanager:GetSecretValue', resource: secret('dev') }, 'not Allowed'],
    ['sagemaker', "writes a log of a dev endpoint", { action: 'logs:PutLogEvents', resource: arn('logs', `log-group:/aws/sagemaker/Endpoints/${P}-qwen-chat-dev:log-stream:x`) }, 'Allowed'],
    ['sagemaker', "writes a log of a prod endpoint", { action: 'logs:PutLogEvents', resource: arn('logs', `log-group:/aws/sagemaker/Endpoints/${P}-qwen-chat-prod:log-stream:x`) }, 'not Allowed'],
    ['sagemaker', 'pulls a project image', { action: 'ecr:BatchGetImage', resource: arn('ecr', `repository/${P}/qwen-chat`) }, 'Allowed'],
    ['sagemaker', "pulls another project's image of this account", { action: 'ecr:BatchGetImage', resource: arn('ecr', 'repository/other/x') }, 'not Allowed'],
    ['sagemaker', 'writes an object anywhere', { action: 's3:PutObject', resource: `${BUCKET}/${P}/qwen-chat/models/abc/x`, context: { 's3:ResourceAccount': ACCOUNT } }, 'not Allowed'],
    ['ec2-instance', "reads dev's API key", { action: 'secretsmanager:GetSecretValue', resource: secret('dev') }, 'Allowed'],
    ['ec2-instance', "reads prod's API key", { action: 'secretsmanager:GetSecretValue', resource: secret('prod') }, 'not Allowed'],
    ['ec2-instance', 'reads an untagged secret outside the project', { action: 'secretsmanager:GetSecretValue', resource: arn('secretsmanager', 'secret:db/password-AbCdEf') }, 'not Allowed'],
    ['ec2-instance', 'decrypts with any key', { action: 'kms:Decrypt', resource: arn('kms', 'key/1234abcd-12ab-34cd-56ef-1234567890ab') }, 'not Allowed'],
    ['ec2-instance', 'signals its dev stack', { action: 'cloudformation:SignalResource', resource: arn('cloudformation', `stack/${P}-coder-dev/1`) }, 'Allowed'],
    ['ec2-instance', 'signals a prod stack', { action: 'cloudformation:SignalResource', resource: arn('cloudformation', `stack/${P}-coder-prod/1`) }, 'not Allowed'],
    ['ecs-exec', "reads dev's API key", { action: 'secretsmanager:GetSecretValue', resource: secret('dev') }, 'Allowed'],
    ['ecs-exec', "reads prod's API key", { action: 'secretsmanager:GetSecretValue', resource: secret('prod') }, 'not Allowed'],
    ['ecs-task', 'reads an SSM parameter', { action: 'ssm:GetParameter', resource: arn('ssm', 'parameter/db/password') }, 'not Allowed'],
    ['ecs-instance', 'joins a dev cluster', { action: 'ecs:RegisterContainerInstance', resource: arn('ecs', `cluster/${P}-coder-dev`) }, 'Allowed'],
    ['ecs-instance', 'joins a prod cluster', { action: 'ecs:RegisterContainerInstance', resource: arn('ecs', `cluster/${P}-coder-prod`) }, 'not Allowed'],
    ['codebuild', 'writes built weights', { action: 's3:PutObject', resource: `${BUCKET}/${P}/qwen-chat/models/abc/model.safetensors`, context: { 's3:ResourceAccount': ACCOUNT } }, 'Allowed'],
    ['codebuild', 'pushes a project image', { action: 'ecr:PutImage', resource: arn('ecr', `repository/${P}/qwen-chat`) }, 'Allowed'],
    ['codebuild', "pushes another project's image", { action: 'ecr:PutImage', resource: arn('ecr', 'repository/other/x') }, 'not Allowed'],
    ['codebuild', 'reads an API key', { action: 'secretsmanager:GetSecretValue', resource: secret('dev') }, 'not Allowed'],
    ['codebuild', 'writes into a bucket of every name', { action: 's3:PutObject', resource: 'arn:aws:s3:::company-data/x', context: { 's3:ResourceAccount': ACCOUNT } }, 'not Allowed'],
  ])('%s %s', async (kind, _label, call, expected) => check(roleOf(kind), call, expected));
});
