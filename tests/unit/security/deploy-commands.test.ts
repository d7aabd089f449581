/**
 * Every AWS call the deploy role's code sends is granted to it directly (not only through CloudFormation).
 * The list of calls is read from the code itself: each `new XCommand(` in the modules the deploy role runs
 * (deploy-endpoint, build-model, rotate-key, the benchmark, the live price read), with the client it comes
 * from. A new call without its grant fails here before it fails on AWS.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from '../../support/bundle';
import { evaluate, list, roleStatements, Statement } from '../../support/cloudformation/iam';
import { ACCOUNT, resolveTemplate } from '../../support/cloudformation/resolve';
import { readTemplate } from '../../support/cloudformation/template';

const SRC = path.join(ROOT, 'src');
/** The modules the deploy role runs. promote/ runs as the promotion roles; core/credentials assumes them. */
const DEPLOY_ROLE_CODE = ['deploy', 'image', 'keys', 'benchmark', path.join('cost', 'live.ts'), path.join('cost', 'bill.ts')];

/** IAM service prefix of each SDK client package. */
const SERVICE: Record<string, string> = {
  acm: 'acm', cloudformation: 'cloudformation', 'cost-explorer': 'ce', 'cloudwatch-logs': 'logs', codebuild: 'codebuild', ecr: 'ecr', ecs: 'ecs', ec2: 'ec2',
  pricing: 'pricing', s3: 's3', sagemaker: 'sagemaker', 'sagemaker-runtime': 'sagemaker', 'secrets-manager': 'secretsmanager',
  'service-quotas': 'servicequotas', ssm: 'ssm', sts: 'sts', route53: 'route53', 'elastic-load-balancing-v2': 'elasticloadbalancing',
};
/** S3 operations whose IAM action has another name. */
const S3_ACTION: Record<string, string> = {
  HeadObject: 'GetObject', HeadBucket: 'ListBucket', ListObjectsV2: 'ListBucket', PutBucketEncryption: 'PutEncryptionConfiguration',
  PutPublicAccessBlock: 'PutBucketPublicAccessBlock', GetBucketLifecycleConfiguration: 'GetLifecycleConfiguration',
  PutBucketLifecycleConfiguration: 'PutLifecycleConfiguration',
};
/** Calls that need no permission. */
const NO_PERMISSION = new Set(['sts:GetCallerIdentity']);

function files(rel: string): string[] {
  const full = path.join(SRC, rel);
  if (fs.statSync(full).isFile()) return [full];
  return fs.readdirSync(full, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(rel, e.name)) : /\.ts$/.test(e.name) ? [path.join(full, e.name)] : []));
}

/** `service:Action` for every command a file sends, from its imports of @aws-sdk/client-*. */
function commandsOf(text: string): string[] {
  const clientOf = new Map<string, string>();
  for (const m of text.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'@aws-sdk\/client-([a-z0-9-]+)'/g)) {
    for (const name of (m[1] ?? '').split(',').map((x) => x.trim().split(/\s+as\s+/).pop() ?? '')) if (name) clientOf.set(name, m[2] ?? '');
  }
  const namespaces = new Map<string, string>();
  for (const m of text.matchAll(/import\s+\*\s+as\s+(\w+)\s+from\s+'@aws-sdk\/client-([a-z0-9-]+)'/g)) namespaces.set(m[1] ?? '', m[2] ?? '');
  const out: string[] = [];
  for (const m of text.matchAll(/new\s+(?:(\w+)\.)?(\w+)Command\(/g)) {
    const client = m[1] ? namespaces.get(m[1]) : clientOf.get(`${m[2]}Command`);
    if (!client) continue;
    const service = SERVICE[client];
    if (!service) throw new Error(`no IAM service prefix for @aws-sdk/client-${client}`);
    const op = m[2] ?? '';
    out.push(`${service}:${service === 's3' ? S3_ACTION[op] ?? op : op}`);
  }
  return out;
}

const bootstrap = readTemplate('templates/bootstrap/model-deploy-bootstrap.yaml');
const dev = resolveTemplate(bootstrap, { Repository: 'acme/llm-platform', Project: 'acme-llm', Environment: 'dev' });
const devRole = roleStatements(dev, 'DeployRole');
/** Allow statements that hold for a direct call: no aws:CalledVia condition. */
const direct = devRole.filter((s) => s.Effect === 'Allow' && !JSON.stringify(s.Condition ?? {}).includes('aws:CalledVia'));
const grantsAction = (s: Statement, action: string) =>
  list(s.Action).some((a) => new RegExp(`^${a.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i').test(action));

const sent = [...new Set(DEPLOY_ROLE_CODE.flatMap(files).flatMap((f) => commandsOf(fs.readFileSync(f, 'utf8'))))].sort();

describe("the deploy role is granted every call of the deploy role's code", () => {
  it('finds the calls (the scan works)', () => {
    expect(sent).toEqual(expect.arrayContaining(['cloudformation:ExecuteChangeSet', 'acm:DescribeCertificate', 's3:PutLifecycleConfiguration', 'logs:DeleteLogGroup', 'sagemaker:ListEndpoints']));
    expect(sent.length).toBeGreaterThan(40);
    expect(commandsOf("import * as sdk from '@aws-sdk/client-s3';\nnew sdk.HeadObjectCommand({})")).toEqual(['s3:GetObject']);
  });

  it.each(sent.filter((a) => !NO_PERMISSION.has(a)))('%s', (action) => {
    expect({ action, granted: direct.some((s) => grantsAction(s, action)) }).toEqual({ action, granted: true });
  });
});

describe('the new grants, on the resources the code names', () => {
  const arn = (service: string, rest: string) => `arn:aws:${service}:us-east-1:${ACCOUNT}:${rest}`;
  const allowed = (action: string, resource: string, context: Record<string, string> = {}) => evaluate(devRole, { action, resource, context }).decision === 'allow';

  it.each<[string, boolean, string, string, Record<string, string>]>([
    ['the certificate the spec names', true, 'acm:DescribeCertificate', arn('acm', 'certificate/abc'), {}],
    ['the lifecycle of the artifact bucket', true, 's3:PutLifecycleConfiguration', `arn:aws:s3:::model-deploy-${ACCOUNT}-us-east-1`, { 's3:ResourceAccount': ACCOUNT }],
    ['the lifecycle of a user bucket', false, 's3:PutLifecycleConfiguration', 'arn:aws:s3:::acme-llm-async', { 's3:ResourceAccount': ACCOUNT }],
    ['the lifecycle of a sniped artifact bucket name', false, 's3:GetLifecycleConfiguration', `arn:aws:s3:::model-deploy-${ACCOUNT}-us-east-1`, { 's3:ResourceAccount': '999999999999' }],
    ['versioning of the artifact bucket', true, 's3:GetBucketVersioning', `arn:aws:s3:::model-deploy-${ACCOUNT}-us-east-1`, { 's3:ResourceAccount': ACCOUNT }],
    ["the dev endpoint's log group", true, 'logs:DeleteLogGroup', arn('logs', 'log-group:/aws/sagemaker/Endpoints/acme-llm-qwen-chat-dev:*'), {}],
    ["the prod endpoint's log group", false, 'logs:DeleteLogGroup', arn('logs', 'log-group:/aws/sagemaker/Endpoints/acme-llm-qwen-chat-prod:*'), {}],
    ['a log group of something else', false, 'logs:DeleteLogGroup', arn('logs', 'log-group:/aws/lambda/anything:*'), {}],
    ['listing log groups (the account list)', true, 'logs:DescribeLogGroups', arn('logs', 'log-group::log-stream:'), {}],
    ['streaming from the dev endpoint', true, 'sagemaker:InvokeEndpointWithResponseStream', arn('sagemaker', 'endpoint/acme-llm-qwen-chat-dev'), {}],
    ['streaming from the prod endpoint', false, 'sagemaker:InvokeEndpointWithResponseStream', arn('sagemaker', 'endpoint/acme-llm-qwen-chat-prod'), {}],
    ["an untagged endpoint's config, for the quota count", true, 'sagemaker:DescribeEndpointConfig', arn('sagemaker', 'endpoint-config/other-team'), {}],
    ["a prod-tagged endpoint's config (the guardrail wins)", false, 'sagemaker:DescribeEndpointConfig', arn('sagemaker', 'endpoint-config/x'), { 'aws:ResourceTag/model-deploy:environment': 'prod' }],
    ['passing an unlisted existing role to SageMaker', false, 'iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/admin`, { 'iam:PassedToService': 'sagemaker.amazonaws.com' }],
  ])('%s: allowed=%s', (_label, expected, action, resource, context) => {
    expect(allowed(action, resource, context)).toBe(expected);
  });

  it('passes a listed execution role to SageMaker only, and never a bootstrap role', () => {
    const withRoles = roleStatements(
      resolveTemplate(bootstrap, { Repository: 'acme/llm-platform', Project: 'acme-llm', Environment: 'dev', ExecutionRoleArns: `arn:aws:iam::${ACCOUNT}:role/llm-exec,arn:aws:iam::${ACCOUNT}:role/model-deploy-dev` }),
      'DeployRole',
    );
    const pass = (role: string, service: string) => evaluate(withRoles, { action: 'iam:PassRole', resource: `arn:aws:iam::${ACCOUNT}:role/${role}`, context: { 'iam:PassedToService': service } }).decision;
    expect(pass('llm-exec', 'sagemaker.amazonaws.com')).toBe('allow');
    expect(pass('llm-exec', 'ec2.amazonaws.com')).not.toBe('allow');
    expect(pass('other', 'sagemaker.amazonaws.com')).not.toBe('allow');
    // Listed by mistake: the guardrail on model-deploy-* roles still wins.
    expect(pass('model-deploy-dev', 'sagemaker.amazonaws.com')).toBe('deny');
  });

  it('Route 53 records: only in the zone the bootstrap names, only its names, only through CloudFormation', () => {
    const withZone = roleStatements(resolveTemplate(bootstrap, { Repository: 'acme/llm-platform', Project: 'acme-llm', Environment: 'dev', HostedZoneId: 'Z0123456789ABC', DnsRecordNames: '*.dev.example.com' }), 'DeployRole');
    const change = (zone: string, context: Record<string, string | string[]>) => evaluate(withZone, { action: 'route53:ChangeResourceRecordSets', resource: `arn:aws:route53:::hostedzone/${zone}`, context }).decision;
    const names = { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['coder.dev.example.com'], 'route53:ChangeResourceRecordSetsRecordTypes': ['A'] };
    const viaCfn = { 'aws:CalledVia': ['cloudformation.amazonaws.com'], ...names };
    expect(change('Z0123456789ABC', viaCfn)).toBe('allow');
    expect(change('Z0123456789ABC', { ...viaCfn, 'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['api.example.com'] })).toBe('deny');
    // A zone without names gives no record change at all.
    const zoneOnly = roleStatements(resolveTemplate(bootstrap, { Repository: 'acme/llm-platform', Project: 'acme-llm', Environment: 'dev', HostedZoneId: 'Z0123456789ABC' }), 'DeployRole');
    expect(evaluate(zoneOnly, { action: 'route53:ChangeResourceRecordSets', resource: 'arn:aws:route53:::hostedzone/Z0123456789ABC', context: viaCfn }).decision).not.toBe('allow');
    expect(change('ZOTHER', viaCfn)).not.toBe('allow');
    expect(change('Z0123456789ABC', {})).not.toBe('allow');
    expect(evaluate(devRole, { action: 'route53:ChangeResourceRecordSets', resource: 'arn:aws:route53:::hostedzone/Z0123456789ABC', context: viaCfn }).decision).not.toBe('allow');
  });
});
