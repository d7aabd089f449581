import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { ROOT } from '../../support/bundle';
import { ACCOUNT, resolveTemplate } from '../../support/cloudformation/resolve';
import { readTemplate } from '../../support/cloudformation/template';
import { decideWebIdentity } from '../../support/cloudformation/simulate';

type Json = Record<string, any>;
const template = readTemplate('templates/bootstrap/model-deploy-bootstrap.yaml');

/** The bootstrap's resources for given parameters (each one the template declares) and partition. */
function render(params: Record<string, string>, partition = 'aws'): Json {
  for (const name of Object.keys(params)) expect(template.Parameters).toHaveProperty(name);
  return resolveTemplate(template, params, partition === 'aws-cn' ? 'cn-north-1' : 'us-east-1').resources;
}

// The older subject form, so the trust tests read repo:OWNER/REPO; the default (immutable ids) has its own test.
const BASE = { Repository: 'acme/llm-platform', Project: 'acme-llm', Environment: 'dev', SubjectForm: 'repository-name' };
const trustOf = (resources: Json, role = 'DeployRole') => resources[role].Properties.AssumeRolePolicyDocument.Statement as Json[];

/** Every permission statement in the template: managed policies and inline role policies. */
function permissionStatements(): { where: string; statement: Json }[] {
  const out: { where: string; statement: Json }[] = [];
  // A conditional statement (!If [Cond, statement, NoValue]) is checked as the statement it may become.
  const push = (where: string, s: Json) => {
    const branches = s['Fn::If'] ? (s['Fn::If'] as Json[]).slice(1).filter((b) => b && typeof b === 'object' && !b.Ref) : [s];
    for (const b of branches) out.push({ where, statement: b });
  };
  for (const [id, r] of Object.entries(template.Resources as Json)) {
    if (r.Type === 'AWS::IAM::ManagedPolicy') {
      for (const s of r.Properties.PolicyDocument.Statement) push(id, s);
    }
    for (const entry of r.Properties?.Policies ?? []) {
      // A conditional policy (!If [Cond, policy, NoValue]) likewise.
      const p = entry['Fn::If'] ? entry['Fn::If'][1] : entry;
      for (const s of p.PolicyDocument.Statement) push(`${id}/${p.PolicyName}`, s);
    }
  }
  return out;
}
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);

describe('bootstrap template: trust', () => {
  it('pins aud and the environment subject with StringEquals, nothing looser', () => {
    const [statement, ...rest] = trustOf(render(BASE));
    expect(rest).toEqual([]);
    expect(statement).toEqual({
      Sid: 'GitHubEnvironmentJobs',
      Effect: 'Allow',
      Action: 'sts:AssumeRoleWithWebIdentity',
      Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com` },
      Condition: {
        StringEquals: {
          'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
          'token.actions.githubusercontent.com:sub': ['repo:acme/llm-platform:environment:dev'],
        },
      },
    });
  });

  it('uses the China audience in aws-cn', () => {
    const [statement] = trustOf(render(BASE, 'aws-cn'));
    expect(statement.Condition.StringEquals['token.actions.githubusercontent.com:aud']).toBe('sts.amazonaws.com.cn');
    expect(statement.Principal.Federated).toMatch(/^arn:aws-cn:iam::/);
  });

  it('trusts the immutable subject form by default; the older form only when SubjectForm says so (issue 20.8)', () => {
    const subs = (p: Json) => trustOf(render({ Repository: 'acme/llm-platform', Project: 'acme-llm', Environment: 'dev', ...p }))[0].Condition.StringEquals['token.actions.githubusercontent.com:sub'];
    // Both published spellings of the immutable subject (GitHub's changelog: OWNER-ID/REPO-ID; its docs proposal: OWNER@ID/REPO@ID), each bound to the ids.
    expect(subs({ RepositoryOwnerId: '1234', RepositoryId: '98765' })).toEqual(['repo:acme@1234/llm-platform@98765:environment:dev', 'repo:acme-1234/llm-platform-98765:environment:dev']);
    expect(subs({ SubjectForm: 'repository-name', RepositoryOwnerId: '1234', RepositoryId: '98765' })).toEqual(['repo:acme/llm-platform:environment:dev']);
    const form = (template.Parameters as Record<string, Json>).SubjectForm!;
    expect(form).toMatchObject({ Default: 'immutable-ids', AllowedValues: ['immutable-ids', 'repository-name'] });
  });

  it('refuses, through a CloudFormation rule, the default subject form without both ids', () => {
    const rule = (template.Rules as Record<string, Json>).ImmutableIdsGiven as { RuleCondition: Json; Assertions: { Assert: Json; AssertDescription: string }[] };
    expect(rule.RuleCondition).toEqual({ 'Fn::Equals': [{ Ref: 'SubjectForm' }, 'immutable-ids'] });
    // The assertion, evaluated as CloudFormation does for these functions.
    const evaluate = (e: unknown, p: Record<string, string>): unknown => {
      if (typeof e === 'string') return e;
      const [fn, args] = Object.entries(e as Record<string, unknown>)[0]!;
      if (fn === 'Ref') return p[args as string] ?? '';
      const a = args as unknown[];
      if (fn === 'Fn::Equals') return evaluate(a[0], p) === evaluate(a[1], p);
      if (fn === 'Fn::Not') return !evaluate(a[0], p);
      if (fn === 'Fn::And') return a.every((x) => evaluate(x, p));
      throw new Error(`unexpected ${fn}`);
    };
    const holds = (p: Record<string, string>) => rule.Assertions.every((x) => evaluate(x.Assert, p));
    expect(holds({ RepositoryOwnerId: '1', RepositoryId: '2' })).toBe(true);
    expect(holds({ RepositoryOwnerId: '1' })).toBe(false);
    expect(holds({})).toBe(false);
    expect(rule.Assertions[0]!.AssertDescription).toMatch(/RepositoryOwnerId and RepositoryId/);
  });

  it("admits a token in either published spelling of the immutable subject, decided as STS does (iam-simulate); not the name form, not other ids", () => {
    const resources = render({ Repository: 'acme/llm-platform', Project: 'acme-llm', Environment: 'dev', RepositoryOwnerId: '1234', RepositoryId: '98765' });
    const policy = resources.DeployRole.Properties.AssumeRolePolicyDocument;
    const provider = policy.Statement[0].Principal.Federated as string;
    expect(provider).toMatch(/^arn:aws:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/);
    const decide = (sub: string) => decideWebIdentity(policy, { role: `arn:aws:iam::${ACCOUNT}:role/model-deploy-dev`, provider, claims: { aud: 'sts.amazonaws.com', sub, environment: 'dev' } });
    expect(decide('repo:acme-1234/llm-platform-98765:environment:dev')).toBe('Allowed');
    expect(decide('repo:acme@1234/llm-platform@98765:environment:dev')).toBe('Allowed');
    expect(decide('repo:acme/llm-platform:environment:dev')).toBe('ImplicitlyDenied');
    expect(decide('repo:acme-1234/llm-platform-98766:environment:dev')).toBe('ImplicitlyDenied');
    expect(decide('repo:acme-1234/llm-platform-98765:environment:prod')).toBe('ImplicitlyDenied');
  });

  it("every role's trust policy fits IAM's default 2,048 characters (white space not counted) with the longest names and both immutable spellings", () => {
    // GitHub: owner names up to 39 characters, repository names up to 100; ids of 12 digits; four 20-character
    // promotion targets (PromotionEnvironments says so: four 31-character names and both spellings reach 2,113), 3 long refs.
    const env = (c: string) => `e${c.repeat(19)}`;
    const resources = render({
      Repository: `${'o'.repeat(39)}/${'r'.repeat(100)}`, Project: 'acme-llm', Environment: env('d'), RepositoryOwnerId: '123456789012', RepositoryId: '210987654321',
      PromotionEnvironments: [env('s'), env('p'), env('q'), env('u')].join(','), ProtectedRefs: ['refs/heads/main', `refs/heads/${'x'.repeat(60)}`, `refs/tags/${'v'.repeat(60)}`].join(','),
      CreatePromotionRole: 'true',
    });
    const sizes = Object.entries(resources).filter(([, r]) => (r as Json).Type === 'AWS::IAM::Role').map(([id, r]) => [id, JSON.stringify((r as Json).Properties.AssumeRolePolicyDocument).length] as const);
    expect(sizes.length).toBeGreaterThan(5);
    for (const [id, size] of sizes) expect({ id, fits: size <= 2048, size }).toEqual({ id, fits: true, size });
  });

  it('gives promote jobs of the listed environments a read-only source role, never the deploy role', () => {
    const resources = render({ ...BASE, SubjectForm: 'immutable-ids', PromotionEnvironments: 'staging,prod', RepositoryOwnerId: '1', RepositoryId: '2' });
    expect(trustOf(resources)[0].Condition.StringEquals['token.actions.githubusercontent.com:sub']).toEqual(['repo:acme@1/llm-platform@2:environment:dev', 'repo:acme-1/llm-platform-2:environment:dev']);
    const [source, ...rest] = trustOf(resources, 'PromotionSourceRole');
    expect(rest).toEqual([]);
    expect(source.Action).toBe('sts:AssumeRoleWithWebIdentity');
    expect(source.Condition.StringEquals['token.actions.githubusercontent.com:sub']).toEqual([
      'repo:acme@1/llm-platform@2:environment:staging',
      'repo:acme-1/llm-platform-2:environment:staging',
      'repo:acme@1/llm-platform@2:environment:prod',
      'repo:acme-1/llm-platform-2:environment:prod',
    ]);
    const named = render({ ...BASE, PromotionEnvironments: 'staging,prod,qa' });
    expect(trustOf(named, 'PromotionSourceRole')[0].Condition.StringEquals['token.actions.githubusercontent.com:sub']).toEqual([
      'repo:acme/llm-platform:environment:staging',
      'repo:acme/llm-platform:environment:prod',
      'repo:acme/llm-platform:environment:qa',
    ]);
    expect(render(BASE).PromotionSourceRole).toBeUndefined();
    const actions = resources.PromotionSourceRole.Properties.Policies.flatMap((p: Json) => p.PolicyDocument.Statement.flatMap((st: Json) => list(st.Action)));
    // kms:Decrypt only through S3, only for the artifact buckets: reading encrypted weights.
    for (const a of actions) expect(a).toMatch(/^(ecr:(Describe|List|BatchGet|BatchCheck|GetDownload|GetAuthorizationToken)|s3:(Get|List)|kms:Decrypt$)/);
    const decrypt = resources.PromotionSourceRole.Properties.Policies.flatMap((p: Json) => p.PolicyDocument.Statement as Json[]).filter((st: Json) => list(st.Action).includes('kms:Decrypt'));
    expect(decrypt.map((st: Json) => st.Condition)).toEqual([
      { StringLike: { 'kms:ViaService': 's3.*.amazonaws.com', 'kms:EncryptionContext:aws:s3:arn': `arn:aws:s3:::model-deploy-${ACCOUNT}-*` } },
    ]);
  });

  it('reuses an existing OIDC provider instead of creating a second one', () => {
    const existing = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
    const resources = render({ ...BASE, ExistingOidcProviderArn: existing });
    expect(resources.GitHubOidcProvider).toBeUndefined();
    expect(trustOf(resources)[0].Principal.Federated).toBe(existing);
    const created = render(BASE).GitHubOidcProvider.Properties;
    expect(created).toMatchObject({ Url: 'https://token.actions.githubusercontent.com', ClientIdList: ['sts.amazonaws.com'] });
  });

  it('creates the promotion role only in target accounts, trusted by that environment\'s own jobs alone (High 2)', () => {
    expect(render(BASE).PromotionRole).toBeUndefined();
    for (const params of [{ CreatePromotionRole: 'true' }, { PromotionSourceRoleArn: 'arn:aws:iam::999999999999:role/model-deploy-dev' }] as Record<string, string>[]) {
      const resources = render({ ...BASE, Environment: 'prod', ...params });
      expect(trustOf(resources, 'PromotionRole')).toEqual([
        {
          Sid: 'TargetEnvironmentJobsOnly',
          Effect: 'Allow',
          Action: 'sts:AssumeRoleWithWebIdentity',
          Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com` },
          Condition: {
            StringEquals: {
              'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
              'token.actions.githubusercontent.com:sub': ['repo:acme/llm-platform:environment:prod'],
            },
          },
        },
      ]);
      expect(resources.PromotionRole.Properties.RoleName).toBe('model-deploy-promotion');
    }
  });

  it('no deploy role can assume a promotion role (the dev token reaches no other account)', () => {
    for (const { statement } of permissionStatements()) {
      expect(list(statement.Action).filter((a) => String(a).startsWith('sts:'))).toEqual([]);
    }
  });

  it('creates a versioned, hardened artifact bucket when asked', () => {
    expect(render(BASE).ArtifactBucket).toBeUndefined();
    const bucket = render({ ...BASE, Environment: 'prod', CreateArtifactBucket: 'true' }).ArtifactBucket.Properties;
    expect(bucket).toMatchObject({
      BucketName: `model-deploy-${ACCOUNT}-us-east-1`,
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
  });

  it('names roles the way the example spec refers to them', () => {
    const spec = parse(fs.readFileSync(path.join(ROOT, 'examples', 'model-deploy.yml'), 'utf8')) as Json;
    for (const [env, e] of Object.entries(spec.environments as Json)) {
      const resources = render({ ...BASE, Environment: env, CreatePromotionRole: e.promotionRoleArn ? 'true' : 'false' });
      expect(e.roleArn.split('/').pop()).toBe(resources.DeployRole.Properties.RoleName);
      if (e.promotionRoleArn) expect(e.promotionRoleArn.split('/').pop()).toBe(resources.PromotionRole.Properties.RoleName);
    }
  });

  it('keeps parameter defaults within their own patterns', () => {
    for (const [name, p] of Object.entries(template.Parameters as Json)) {
      if (p.Default !== undefined && p.AllowedPattern) expect({ name, ok: new RegExp(p.AllowedPattern).test(String(p.Default)) }).toEqual({ name, ok: true });
    }
    expect(new RegExp(template.Parameters.PromotionEnvironments.AllowedPattern).test('a,b,c,d,e')).toBe(false);
  });
});

describe('bootstrap template: permissions', () => {
  const statements = permissionStatements().filter(({ statement }) => statement.Effect === 'Allow');
  const reasons = template.Metadata['ModelDeploy::WildcardResources'] as Record<string, string>;

  it('has permission statements to check', () => {
    expect(statements.length).toBeGreaterThan(15);
  });

  it.each(statements.map((s) => [`${s.where}/${s.statement.Sid}`, s.statement] as const))('%s is narrow', (_label, s) => {
    expect(s.Effect).toBe('Allow');
    for (const action of list(s.Action) as string[]) {
      expect(action).toMatch(/^[a-z0-9-]+:[A-Za-z]+$/); // no "*", no "service:*", no "Describe*"
    }
    expect(s.NotAction).toBeUndefined();
    expect(s.NotResource).toBeUndefined();
    expect(JSON.stringify(s.Condition ?? {})).not.toContain('ForAllValues');
    const resources = list(s.Resource);
    if (resources.includes('*')) {
      expect(resources).toEqual(['*']);
      expect({ sid: s.Sid, reason: typeof reasons[s.Sid] }).toEqual({ sid: s.Sid, reason: 'string' });
    } else {
      // Named resources: in this account, AWS-owned (public AMIs, Bedrock foundation models), the one
      // Bedrock source account, hosted zone, execution roles, secrets, keys or model buckets the parameters name
      // (Route 53 ARNs carry no account; a role can be passed only within its own account), the bootstrap's own
      // service roles, and images of other accounts (only with aws:ResourceAccount not this one: their owners'
      // repository policies decide). No generic AWS documents.
      for (const r of resources) {
        const text = JSON.stringify(r);
        expect(text).toMatch(
          /\$\{AWS::AccountId\}|::image\/\*|::foundation-model\/\*|\$\{BedrockSourceAccount\}|route53:::hostedzone\/\$\{HostedZoneId\}|route53:::change\/\*|\{"Ref":"(ExecutionRoleArns|BuildSecretArns|KmsKeyArns|ModelSourceBuckets|AsyncBuckets)"\}|^\{"Fn::GetAtt":\["(SageMaker|EcsTask|EcsExecution|EcsInstance|Ec2Instance|CodeBuild)Role","Arn"\]\}$|:ecr:\*:\*:repository\/\*/,
        );
        if (text.includes(':ecr:*:*:')) expect(s.Condition).toEqual({ StringNotEquals: { 'aws:ResourceAccount': { Ref: 'AWS::AccountId' } } });
        expect(JSON.stringify(r)).not.toMatch(/AWS-RunShellScript|iam::\*:/);
      }
    }
  });

  it('gives a reason for every wildcard only where one is used', () => {
    const wild = statements.filter(({ statement }) => list(statement.Resource).includes('*')).map(({ statement }) => statement.Sid).sort();
    expect(Object.keys(reasons).sort()).toEqual(wild);
  });

  it('passes only its own service roles, each to its one service, and listed execution roles only to SageMaker', () => {
    const pass = statements.filter(({ statement }) => list(statement.Action).includes('iam:PassRole'));
    expect(pass.map((p) => p.statement.Sid)).toEqual(['PassSageMakerRole', 'PassEcsTaskRoles', 'PassInstanceRoles', 'PassCodeBuildRole', 'PassListedExecutionRoles']);
    for (const { statement } of pass) expect(list(statement.Condition.StringEquals['iam:PassedToService'])).toHaveLength(1);
    const listed = pass[4]!.statement;
    expect(listed.Resource).toEqual({ 'Fn::Split': [',', { Ref: 'ExecutionRoleArns' }] });
    expect(listed.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } });
  });

  it('lets only CloudFormation create stack resources, and creates no role', () => {
    for (const { statement } of statements.filter(({ statement }) => (list(statement.Action) as string[]).some((a) => /^(sagemaker:Create|ecs:Create|ec2:RunInstances|kms:CreateKey)/.test(a)))) {
      expect(statement.Condition['ForAnyValue:StringEquals']['aws:CalledVia']).toBe('cloudformation.amazonaws.com');
    }
    expect(statements.filter(({ statement }) => (list(statement.Action) as string[]).some((a) => /^iam:(Create(Role|Policy|InstanceProfile)|Put|Attach|Update|AddRole)/.test(a)))).toEqual([]);
  });

  it('sends SSM commands only on instances tagged with the project and environment, with the bootstrap\'s own document', () => {
    const send = statements.filter(({ statement }) => list(statement.Action).includes('ssm:SendCommand'));
    expect(send).toHaveLength(2);
    const onInstances = send.find(({ statement }) => JSON.stringify(statement.Resource).includes(':instance/'))!.statement;
    expect(onInstances.Condition.StringEquals['ssm:resourceTag/model-deploy:project']).toEqual({ Ref: 'Project' });
    expect(onInstances.Condition.StringEquals['ssm:resourceTag/model-deploy:environment']).toEqual({ Ref: 'Environment' });
    const documents = send.find(({ statement }) => JSON.stringify(statement.Resource).includes(':document/'))!.statement;
    expect(documents.Resource).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:ssm:*:${AWS::AccountId}:document/${Project}.${Environment}.refresh-keys' });
    expect((template.Resources as Json).RefreshKeysDocument.Properties.Name).toEqual({ 'Fn::Sub': '${Project}.${Environment}.refresh-keys' });
  });

  it('keeps every managed policy under the 6,144-character IAM limit', () => {
    const resources = render({ ...BASE, PromotionEnvironments: 'staging,prod' });
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type !== 'AWS::IAM::ManagedPolicy') continue;
      const size = JSON.stringify(r.Properties.PolicyDocument).replace(/\s/g, '').length;
      expect({ id, fits: size < 6144 }).toEqual({ id, fits: true });
    }
  });
});

describe('bootstrap template: Bedrock promotion (issue 16.4)', () => {
  const policyOf = (resources: Json, role: string) =>
    (resources[role].Properties.Policies as Json[]).flatMap((p) => p.PolicyDocument.Statement as Json[]);
  const grants = (statements: Json[], action: string) => statements.filter((s) => list(s.Action).includes(action));

  it('lets the source role share this account\'s custom models through RAM only with the named accounts, and only when asked', () => {
    expect(policyOf(render({ ...BASE, PromotionEnvironments: 'prod' }), 'PromotionSourceRole').flatMap((s) => list(s.Action))).not.toContain('ram:CreateResourceShare');
    const statements = policyOf(render({ ...BASE, PromotionEnvironments: 'prod', BedrockShareAccounts: '222222222222,333333333333' }), 'PromotionSourceRole');
    for (const action of ['ram:CreateResourceShare', 'ram:AssociateResourceShare']) {
      const [s, ...more] = grants(statements, action);
      expect(more).toHaveLength(0);
      expect(s?.Resource).toEqual(['arn:aws:bedrock:*:111111111111:custom-model/*', 'arn:aws:ram:*:111111111111:resource-share/*']);
      expect(s?.Condition).toEqual({ StringEquals: { 'ram:Principal': ['222222222222', '333333333333'] } });
    }
    expect(grants(statements, 'ram:TagResource')[0]?.Resource).toBe('arn:aws:ram:*:111111111111:resource-share/*');
    expect(grants(statements, 'bedrock:GetCustomModel')[0]?.Resource).toBe('arn:aws:bedrock:*:111111111111:custom-model/*');
    expect(grants(statements, 'organizations:DescribeOrganization')[0]?.Resource).toBe('*');
    expect(grants(statements, 'ram:DeleteResourceShare')).toHaveLength(0);
    // Without a promotion source role there is nothing to attach it to.
    expect(render({ ...BASE, BedrockShareAccounts: '222222222222' }).PromotionSourceRole).toBeUndefined();
  });

  it('lets the target promotion role copy into this account, from the named source account only, with its KMS key only through Bedrock', () => {
    const withSource = policyOf(render({ ...BASE, Environment: 'prod', CreatePromotionRole: 'true', BedrockSourceAccount: '999999999999' }), 'PromotionRole');
    const copy = grants(withSource, 'bedrock:CreateModelCopyJob');
    expect(copy.flatMap((s) => list(s.Resource))).toEqual([
      'arn:aws:bedrock:*:111111111111:custom-model/*',
      'arn:aws:bedrock:*:111111111111:model-copy-job/*',
      'arn:aws:bedrock:*:999999999999:custom-model/*',
    ]);
    expect(grants(withSource, 'bedrock:GetFoundationModel')[0]?.Resource).toBe('arn:aws:bedrock:*::foundation-model/*');
    expect(grants(withSource, 'ram:AcceptResourceShareInvitation')[0]?.Resource).toBe('arn:aws:ram:*:999999999999:resource-share-invitation/*');
    // Each kms:CreateGrant goes through one service only: Bedrock (the copy) or ECR (a new encrypted repository).
    const kms = grants(withSource, 'kms:CreateGrant');
    expect(kms.map((s) => s.Resource)).toEqual(['arn:aws:kms:*:111111111111:key/*', 'arn:aws:kms:*:111111111111:key/*']);
    expect(kms.map((s) => s.Condition).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([
      { StringLike: { 'kms:ViaService': 'bedrock.*.amazonaws.com' } },
      { StringLike: { 'kms:ViaService': 'ecr.*.amazonaws.com' } },
    ]);
    // China: the service endpoints end in amazonaws.com.cn.
    const cn = policyOf(render({ ...BASE, Environment: 'prod', CreatePromotionRole: 'true' }, 'aws-cn'), 'PromotionRole');
    expect(grants(cn, 'kms:CreateGrant').map((s) => s.Condition.StringLike['kms:ViaService']).sort()).toEqual(['bedrock.*.amazonaws.com.cn', 'ecr.*.amazonaws.com.cn']);
    // Without a source account, only copies within this account.
    const own = policyOf(render({ ...BASE, Environment: 'prod', CreatePromotionRole: 'true' }), 'PromotionRole');
    expect(JSON.stringify(own)).not.toMatch(/999999999999|resource-share-invitation/);
    expect(grants(own, 'bedrock:CreateModelCopyJob')).toHaveLength(1);
  });

  it('lets the promotion role buy provisioned throughput only when asked, for the project\'s copied models, tagged', () => {
    const prod = { ...BASE, Environment: 'prod', CreatePromotionRole: 'true' };
    expect(grants(policyOf(render(prod), 'PromotionRole'), 'bedrock:CreateProvisionedModelThroughput')).toHaveLength(0);
    const statements = policyOf(render({ ...prod, BedrockProvisionedThroughput: 'true' }), 'PromotionRole');
    const buy = grants(statements, 'bedrock:CreateProvisionedModelThroughput');
    expect(buy.map((s) => [s.Resource, s.Condition])).toEqual([
      ['arn:aws:bedrock:*:111111111111:custom-model/*', { StringEquals: { 'aws:ResourceTag/model-deploy:project': BASE.Project } }],
      ['arn:aws:bedrock:*:111111111111:provisioned-model/*', { StringEquals: { 'aws:RequestTag/model-deploy:project': BASE.Project } }],
    ]);
    expect(grants(statements, 'bedrock:GetProvisionedModelThroughput')[0]?.Resource).toBe('arn:aws:bedrock:*:111111111111:provisioned-model/*');
    expect(grants(statements, 'bedrock:ListProvisionedModelThroughputs')[0]?.Resource).toBe('*');
    // Never deleted or changed by promote-model (a term cannot be cancelled anyway).
    expect(statements.flatMap((s) => list(s.Action)).map(String).filter((a) => /ProvisionedModelThroughput$/.test(a) && !/^bedrock:(Create|Get)/.test(a))).toEqual([]);
  });
});

describe('bootstrap template: deploy-role grants the spec can call for', () => {
  const operate = (resources: Json, id: string) => resources[id].Properties.PolicyDocument.Statement as Json[];
  const sids = (resources: Json, id: string) => operate(resources, id).map((st) => st.Sid);

  it('grants Route 53 record changes only with HostedZoneId and DnsRecordNames, only in that zone, only through CloudFormation', () => {
    expect(sids(render(BASE), 'StackResourcesPolicy')).not.toContain('DnsRecordsInNamedZone');
    expect(sids(render({ ...BASE, HostedZoneId: 'Z0123456789ABC' }), 'StackResourcesPolicy')).not.toContain('DnsRecordsInNamedZone');
    const withNames = render({ ...BASE, HostedZoneId: 'Z0123456789ABC', DnsRecordNames: '*.dev.example.com,dev.example.com' });
    expect(operate(withNames, 'StackResourcesPolicy').find((st) => st.Sid === 'DenyOtherRecordNames')!.Condition).toEqual({ 'ForAnyValue:StringNotLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['*.dev.example.com', 'dev.example.com'] } });
    const zone = operate(withNames, 'StackResourcesPolicy').find((st) => st.Sid === 'DnsRecordsInNamedZone')!;
    expect(zone.Resource).toBe('arn:aws:route53:::hostedzone/Z0123456789ABC');
    expect(zone.Action).toContain('route53:ChangeResourceRecordSets');
    expect(zone.Condition['ForAnyValue:StringEquals']['aws:CalledVia']).toBe('cloudformation.amazonaws.com');
  });

  it('passes an existing execution role only when the bootstrap lists it', () => {
    expect(sids(render(BASE), 'PassServiceRolesPolicy')).not.toContain('PassListedExecutionRoles');
    const roles = `arn:aws:iam::${ACCOUNT}:role/llm-exec,arn:aws:iam::${ACCOUNT}:role/team/other`;
    const pass = operate(render({ ...BASE, ExecutionRoleArns: roles }), 'PassServiceRolesPolicy').find((st) => st.Sid === 'PassListedExecutionRoles')!;
    expect(pass.Resource).toEqual([`arn:aws:iam::${ACCOUNT}:role/llm-exec`, `arn:aws:iam::${ACCOUNT}:role/team/other`]);
    const pattern = new RegExp(template.Parameters.ExecutionRoleArns.AllowedPattern);
    expect(pattern.test(roles)).toBe(true);
    expect(pattern.test('*')).toBe(false);
    expect(pattern.test(`arn:aws:iam::${ACCOUNT}:role/*`)).toBe(false);
  });
});
