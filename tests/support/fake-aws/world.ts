/**
 * The fake AWS of the tests, behind one loopback server: who is calling (the access
 * key names the account, the credential scope the region), STS, CloudFormation (./cloudformation.ts), ECR and the
 * layer blobs (./ecr-s3-sts.ts), S3 with object bodies, CodeBuild that "builds" by
 * pushing an image and the weights, CloudWatch Logs, SageMaker endpoints and their runtime, Service
 * Quotas, Secrets Manager with staging labels (./secrets-manager.ts), ECS and EC2's network reads
 * (./ec2-network.ts: the example's subnets and security groups). State carries
 * from one step to the next, so each step sees what the previous ones really did.
 */
import { createHash, randomBytes } from 'crypto';
import { jsonError, Loopback, queryError, queryResponse, RecordedRequest, Reply, startLoopback } from '../loopback';
import { AwsError } from './aws-error';
import { FakeAws } from './ecr-s3-sts';
import { FakeSecrets } from './secrets-manager';
import { describeSecurityGroups, describeSubnets, exampleNetwork, FakeNetwork } from './ec2-network';
import { stackEventXml, stackXml } from './stack-answer';
import { AttributeHook, ChangeSet, diff, materialize, Stack, StackEvent, StackResource } from './cloudformation';
import { GitHubOidc, OidcJob } from './github-oidc';
import { decideWebIdentity } from '../cloudformation/simulate';

const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const json = (body: unknown): Reply => ({
  headers: { 'content-type': 'application/x-amz-json-1.1' },
  // Dates as epoch seconds (awsJson); toJSON has already run when the replacer sees `v`, so look at the holder.
  body: JSON.stringify(body, function (this: Record<string, unknown>, k, v) {
    const original = this[k];
    return original instanceof Date ? original.getTime() / 1000 : v;
  }),
});

export interface Credentials {
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
  AWS_SESSION_TOKEN: string;
}

/** Members of an awsQuery list: Parameters.member.1.ParameterKey ... */
function members(p: Record<string, unknown>, list: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const [k, v] of Object.entries(p)) {
    const m = new RegExp(`^${list}\\.member\\.(\\d+)(?:\\.(.+))?$`).exec(k);
    if (!m) continue;
    const i = Number(m[1]) - 1;
    out[i] ??= {};
    out[i][m[2] ?? 'value'] = String(v);
  }
  return out.filter(Boolean);
}

export class World {
  readonly ecr = new FakeAws();
  readonly secrets = new FakeSecrets();
  /** Subnets and security groups by account and region (the example's, to begin with). */
  readonly network: FakeNetwork = exampleNetwork();
  readonly stacks: Stack[] = [];
  /** Access key id -> account. */
  readonly keys = new Map<string, string>();
  /** Every secret value the world handed out (session credentials); greps look for them. */
  readonly secretValues: string[] = [];
  /** S3 object bodies by s3://bucket/key (sizes and etags live in the ECR fake's S3). */
  readonly bodies = new Map<string, Buffer>();
  /** Every change set created, with its stack, including those deleted since (what CreateChangeSet received). */
  readonly changeSets: { stack: Stack; cs: ChangeSet }[] = [];
  readonly builds: { id: string; env: Record<string, string>; account: string; region: string }[] = [];
  readonly invocations: { account: string; region: string; endpoint: string; body: string }[] = [];
  /** New ECS deployments (stack create/update of a service, UpdateService). */
  ecsUpdates = 0;
  /** A new ECS deployment's tasks read the keys the MD_SERVE labels point at (the serving side hooks in here). */
  onServiceRestart: (keys: string[]) => void = () => undefined;
  /** What GetAtt LoadBalancer.DNSName returns (a hook for the serving side). */
  loadBalancerDns = (stack: Stack) => `${stack.name.slice(0, 20)}-123456789.${stack.region}.elb.amazonaws.com`;
  server!: Loopback;
  private seq = 1;

  async start(): Promise<Loopback> {
    this.server = await startLoopback((req) => {
      try {
        return this.handle(req);
      } catch (err) {
        if (err instanceof AwsError) return jsonError(err.name, err.message, err.status);
        throw err;
      }
    });
    this.ecr.downloadBase = this.server.url;
    return this.server;
  }

  /** Credentials of a role in an account, as configure-aws-credentials would export them. */
  credentialsFor(account: string): Credentials {
    const id = `ASIA${account}${String(this.seq++).padStart(4, '0')}`;
    const secret = `journey-secret-${randomBytes(12).toString('hex')}`;
    const token = `journey-token-${randomBytes(12).toString('hex')}`;
    this.keys.set(id, account);
    this.secretValues.push(secret, token);
    return { AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: secret, AWS_SESSION_TOKEN: token };
  }

  /** GitHub's OIDC issuer: the jobs' tokens (./github-oidc.ts). */
  readonly github = new GitHubOidc((value) => this.secretValues.push(value));
  /** Every AssumeRoleWithWebIdentity the world answered: the role, the token's subject and STS's decision. */
  readonly webIdentityCalls: { role: string; sub?: string; decision: string }[] = [];

  /** The runner's token request variables for a job granted `id-token: write`. */
  oidcEnv(job: OidcJob): Record<string, string> {
    return this.github.requestEnv(this.server.url, job);
  }

  /** The IAM role `arn` as a live stack of its account created it (IAM is global: any region), if one did. */
  role(arn: string): { stack: Stack; resource: StackResource } | undefined {
    const m = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(arn);
    if (!m) return undefined;
    for (const stack of this.stacks) {
      if (stack.account !== m[1] || stack.status === 'DELETE_COMPLETE') continue;
      const resource = stack.resources.find((r) => r.type === 'AWS::IAM::Role' && r.physical === m[2]);
      if (resource) return { stack, resource };
    }
    return undefined;
  }

  /** The account's IAM OIDC provider for `issuer` as a live stack created it: its ARN and client ids (audiences). */
  private oidcProvider(account: string, issuer: string): { arn: string; audiences: string[] } | undefined {
    for (const stack of this.stacks) {
      if (stack.account !== account || stack.status === 'DELETE_COMPLETE') continue;
      const r = stack.resources.find((x) => x.type === 'AWS::IAM::OIDCProvider' && x.properties.Url === issuer);
      if (r) return { arn: `arn:aws:iam::${account}:oidc-provider/${issuer.replace(/^https:\/\//, '')}`, audiences: (r.properties.ClientIdList as string[] | undefined) ?? [] };
    }
    return undefined;
  }

  /**
   * STS AssumeRoleWithWebIdentity (unsigned, query protocol), decided as AWS decides it: the token must be one
   * GitHub issued, the role one a stack created, its trust policy (the AssumeRolePolicyDocument the stack
   * resolved with its parameters) must allow the account's OIDC provider with the token's claims as
   * token.actions.githubusercontent.com:CLAIM (../cloudformation/simulate.ts), the token's audience must be one
   * of the provider's client ids, and DurationSeconds at most the role's MaxSessionDuration.
   */
  private webIdentity(req: RecordedRequest): Reply {
    const roleArn = String(req.params.RoleArn ?? '');
    const claims = this.github.claims(String(req.params.WebIdentityToken ?? ''));
    const deny = (reason: string): Reply => {
      this.webIdentityCalls.push({ role: roleArn, sub: claims?.sub, decision: reason });
      return queryError('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity', 403);
    };
    if (!claims) {
      this.webIdentityCalls.push({ role: roleArn, decision: 'InvalidIdentityToken' });
      return queryError('InvalidIdentityToken', 'The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)', 400);
    }
    const made = this.role(roleArn);
    if (!made) return deny('no such role');
    const account = made.stack.account;
    // The token first: the role's account must have a provider for its issuer, whose client ids hold its audience.
    const provider = this.oidcProvider(account, claims.iss);
    const invalid = (message: string): Reply => {
      this.webIdentityCalls.push({ role: roleArn, sub: claims.sub, decision: message });
      return queryError('InvalidIdentityToken', message, 400);
    };
    if (!provider) return invalid(`No OpenIDConnect provider found in your account for ${claims.iss}`);
    if (!provider.audiences.includes(claims.aud)) return invalid('Incorrect token audience');
    const trust = made.resource.properties.AssumeRolePolicyDocument as { Version?: string; Statement: unknown[] };
    const decision = decideWebIdentity(trust, { role: roleArn, provider: provider.arn, claims });
    if (decision !== 'Allowed') return deny(decision);
    const duration = Number(req.params.DurationSeconds ?? 3600);
    const max = Number(made.resource.properties.MaxSessionDuration ?? 3600);
    if (duration > max) {
      this.webIdentityCalls.push({ role: roleArn, sub: claims.sub, decision: 'DurationSeconds' });
      return queryError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.', 400);
    }
    this.webIdentityCalls.push({ role: roleArn, sub: claims.sub, decision });
    const c = this.credentialsFor(account);
    const roleName = roleArn.split('/').pop();
    return queryResponse(
      'AssumeRoleWithWebIdentity',
      `<Credentials><AccessKeyId>${c.AWS_ACCESS_KEY_ID}</AccessKeyId><SecretAccessKey>${c.AWS_SECRET_ACCESS_KEY}</SecretAccessKey><SessionToken>${c.AWS_SESSION_TOKEN}</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>` +
        `<SubjectFromWebIdentityToken>${esc(claims.sub)}</SubjectFromWebIdentityToken><Audience>${esc(claims.aud)}</Audience><Provider>${esc(provider.arn)}</Provider>` +
        `<AssumedRoleUser><Arn>arn:aws:sts::${account}:assumed-role/${roleName}/${esc(String(req.params.RoleSessionName))}</Arn><AssumedRoleId>AROA:x</AssumedRoleId></AssumedRoleUser>`,
      STS_NS,
    );
  }

  private caller(req: RecordedRequest): { account: string; region: string } {
    const auth = String(req.headers.authorization ?? '');
    const m = /Credential=([^/]+)\/\d+\/([^/]+)\//.exec(auth);
    const account = m ? this.keys.get(m[1]) : undefined;
    if (!account) throw new Error(`request with unknown credentials: ${req.call}`);
    return { account, region: m![2] };
  }

  stack(account: string, region: string, nameOrId: string): Stack | undefined {
    return this.stacks.find((s) => s.account === account && s.region === region && (s.id === nameOrId || (s.name === nameOrId && s.status !== 'DELETE_COMPLETE')));
  }

  private handle(req: RecordedRequest): Reply | undefined {
    const blob = /^\/blob\//.test(req.path);
    if (blob) return (this.ecr as unknown as { http(r: RecordedRequest, a: Record<string, string>): Reply | undefined }).http(req, {});
    if (req.method === 'GET' && req.path.startsWith('/_oidc/token')) return this.github.token(req);
    if (req.operation === 'AssumeRoleWithWebIdentity') return this.webIdentity(req);
    const { account, region } = this.caller(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target.startsWith('AmazonEC2ContainerRegistry')) {
      const input = { registryId: account, ...req.params };
      return json(this.ecr.ecr(req.operation, region, input));
    }
    if (target.startsWith('secretsmanager.')) return json(this.secrets.handle(req.operation, req.params));
    if (target.startsWith('CodeBuild_')) return this.codebuild(req, account, region);
    if (target.startsWith('Logs_')) return json({ events: [{ timestamp: Date.now(), message: 'Step 1/9 : FROM vllm\n' }], nextForwardToken: 'f/1' });
    if (target.startsWith('SageMaker.')) return this.sagemaker(req, account, region);
    // The example's certificate: deploy checks it names security.hostname before anything mutates.
    if (target === 'CertificateManager.DescribeCertificate') {
      return json({ Certificate: { CertificateArn: String(req.params.CertificateArn), DomainName: '*.example.com', SubjectAlternativeNames: ['*.example.com'] } });
    }
    if (target.startsWith('ServiceQuotasV20190624.')) return this.quotas(req);
    if (target.startsWith('AmazonEC2ContainerServiceV20141113.')) return this.ecs(req);
    if (req.operation === 'GetCallerIdentity') {
      return queryResponse('GetCallerIdentity', `<Arn>arn:aws:sts::${account}:assumed-role/journey/gh</Arn><UserId>AROA:gh</UserId><Account>${account}</Account>`, STS_NS);
    }
    if (req.operation === 'AssumeRole') return this.assumeRole(req, account);
    if (/Credential=[^/]+\/\d+\/[^/]+\/ec2\//.test(String(req.headers.authorization ?? ''))) return this.ec2(req, account, region);
    if (typeof req.params.Action === 'string') return this.cloudformation(req, account, region);
    const invoke = /^\/endpoints\/([^/]+)\/invocations$/.exec(req.path);
    if (invoke && req.method === 'POST') return this.invoke(invoke[1], req, account, region);
    return this.s3(req);
  }

  // ---- EC2 (the ec2 query protocol: Filter.N.Name, Filter.N.Value.M; XML items in ...Set lists) ----

  private ec2(req: RecordedRequest, account: string, region: string): Reply {
    const p = req.params as Record<string, string>;
    const filters: { Name: string; Values: string[] }[] = [];
    for (const [k, v] of Object.entries(p)) {
      const m = /^Filter\.(\d+)\.(Name|Value\.\d+)$/.exec(k);
      if (!m) continue;
      const f = (filters[Number(m[1]) - 1] ??= { Name: '', Values: [] });
      if (m[2] === 'Name') f.Name = v;
      else f.Values.push(v);
    }
    const ns = 'http://ec2.amazonaws.com/doc/2016-11-15/';
    const reply = (op: string, inner: string): Reply => ({ headers: { 'content-type': 'text/xml' }, body: `<${op}Response xmlns="${ns}"><requestId>req-1</requestId>${inner}</${op}Response>` });
    const mine = { subnets: this.network.subnets.filter((s) => s.OwnerId === account), groups: this.network.groups.filter((g) => g.OwnerId === account) };
    if (req.operation === 'DescribeSubnets') {
      const items = describeSubnets(mine, region, { Filters: filters }).Subnets.map((s) => `<item><subnetId>${s.SubnetId}</subnetId><vpcId>${s.VpcId}</vpcId><availabilityZone>${s.AvailabilityZone}</availabilityZone><availableIpAddressCount>${s.AvailableIpAddressCount}</availableIpAddressCount><state>${s.State}</state><ownerId>${s.OwnerId}</ownerId></item>`);
      return reply('DescribeSubnets', `<subnetSet>${items.join('')}</subnetSet>`);
    }
    if (req.operation === 'DescribeSecurityGroups') {
      const items = describeSecurityGroups(mine, region, { Filters: filters }).SecurityGroups.map((g) => `<item><groupId>${g.GroupId}</groupId><groupName>${esc(g.GroupName ?? '')}</groupName><vpcId>${g.VpcId}</vpcId><ownerId>${g.OwnerId}</ownerId></item>`);
      return reply('DescribeSecurityGroups', `<securityGroupInfo>${items.join('')}</securityGroupInfo>`);
    }
    if (req.operation === 'DescribeInstanceTypeOfferings') {
      const type = filters.find((f) => f.Name === 'instance-type')?.Values[0] ?? '';
      return reply('DescribeInstanceTypeOfferings', `<instanceTypeOfferingSet><item><instanceType>${esc(type)}</instanceType><locationType>region</locationType><location>${region}</location></item></instanceTypeOfferingSet>`);
    }
    // EC2's error body (API Reference, "Error responses").
    return { status: 400, headers: { 'content-type': 'text/xml' }, body: `<Response><Errors><Error><Code>InvalidAction</Code><Message>The action ${esc(req.operation)} is not valid for this web service.</Message></Error></Errors><RequestID>req-1</RequestID></Response>` };
  }

  private assumeRole(req: RecordedRequest, caller: string): Reply {
    const role = String(req.params.RoleArn);
    const target = /iam::(\d{12}):role\//.exec(role)?.[1];
    if (!target) return queryError('ValidationError', `bad role ${role}`);
    // A role a stack made trusts what its trust policy says: the bootstrap's GitHub roles allow only
    // AssumeRoleWithWebIdentity, so no role may chain into them.
    const made = this.role(role);
    if (made && !JSON.stringify(made.resource.properties.AssumeRolePolicyDocument ?? {}).includes('"sts:AssumeRole"')) return queryError('AccessDenied', `User: arn:aws:sts::${caller}:assumed-role/x/gh is not authorized to perform: sts:AssumeRole on resource: ${role}`, 403);
    const c = this.credentialsFor(target);
    return queryResponse(
      'AssumeRole',
      `<Credentials><AccessKeyId>${c.AWS_ACCESS_KEY_ID}</AccessKeyId><SecretAccessKey>${c.AWS_SECRET_ACCESS_KEY}</SecretAccessKey><SessionToken>${c.AWS_SESSION_TOKEN}</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>` +
        `<AssumedRoleUser><Arn>arn:aws:sts::${target}:assumed-role/x/${esc(String(req.params.RoleSessionName))}</Arn><AssumedRoleId>AROA:x</AssumedRoleId></AssumedRoleUser>`,
      STS_NS,
    );
  }

  // ---- CloudFormation ----

  private hook: AttributeHook = (stack, r, attr) => {
    if (r.type === 'AWS::ElasticLoadBalancingV2::LoadBalancer' && attr === 'DNSName') return this.loadBalancerDns(stack);
    if (r.type === 'AWS::ECS::Service' && attr === 'Name') return String(r.properties.ServiceName ?? r.physical);
    return undefined;
  };

  private event(stack: Stack, logical: string, physical: string, type: string, status: string, token?: string, reason?: string): void {
    stack.events.unshift({ id: `ev-${this.seq++}`, logical, physical, type, status, token, reason, time: new Date() } satisfies StackEvent);
  }

  private apply(stack: Stack, templateBody: string, parameters: Record<string, string>, token: string | undefined, verb: 'CREATE' | 'UPDATE'): void {
    const before = stack.resources;
    const { resources, outputs } = materialize(stack, templateBody, parameters, this.hook, before);
    this.event(stack, stack.name, stack.id, 'AWS::CloudFormation::Stack', `${verb}_IN_PROGRESS`, token);
    for (const r of resources) this.event(stack, r.logical, r.physical, r.type, `${before.some((b) => b.logical === r.logical) ? 'UPDATE' : 'CREATE'}_COMPLETE`, token);
    for (const r of resources) {
      // An ECS service's physical id is its ARN.
      if (r.type === 'AWS::ECS::Service' && !r.physical.startsWith('arn:')) r.physical = `arn:aws:ecs:${stack.region}:${stack.account}:service/${String(r.properties.Cluster)}/${r.physical}`;
    }
    stack.templateBody = templateBody;
    stack.parameters = parameters;
    stack.resources = resources;
    stack.outputs = outputs;
    stack.status = `${verb}_COMPLETE`;
    this.event(stack, stack.name, stack.id, 'AWS::CloudFormation::Stack', stack.status, token);
    // What creating these resources does outside CloudFormation.
    for (const r of resources) {
      if (r.type === 'AWS::ECR::Repository') this.ecr.repo(stack.account, stack.region, r.physical, true);
      if (r.type === 'AWS::ECS::Service') this.restartService();
    }
  }

  private newStack(account: string, region: string, name: string, status: string): Stack {
    const stack: Stack = {
      account, region, name, id: `arn:aws:cloudformation:${region}:${account}:stack/${name}/${createHash('md5').update(`${name}${this.seq++}`).digest('hex').slice(0, 12)}`,
      status, templateBody: '{}', parameters: {}, outputs: {}, resources: [], events: [], changeSets: [], protection: false, created: new Date(),
    };
    this.stacks.push(stack);
    return stack;
  }

  private stackXml(s: Stack): string {
    return stackXml({ name: s.name, id: s.id, status: s.status, created: s.created, protection: s.protection, parameters: s.parameters, outputs: s.outputs });
  }

  private templateOf(p: Record<string, unknown>): string {
    if (typeof p.TemplateBody === 'string') return p.TemplateBody;
    const url = new URL(String(p.TemplateURL));
    // Path style (s3.REGION.amazonaws.com/BUCKET/KEY) or virtual-hosted (BUCKET.s3.REGION.amazonaws.com/KEY).
    const [bucket, ...key] = (url.hostname.startsWith('s3.') ? url.pathname.replace(/^\//, '') : `${url.hostname.split('.s3.')[0]}${url.pathname}`).split('/');
    const body = this.bodies.get(`s3://${bucket}/${key.join('/')}`);
    if (!body) throw new Error(`TemplateURL ${url} has no object`);
    return body.toString('utf8');
  }

  private cloudformation(req: RecordedRequest, account: string, region: string): Reply | undefined {
    const p = req.params as Record<string, string>;
    const missing = (name: string) => queryError('ValidationError', `Stack with id ${name} does not exist`);
    const params = () => Object.fromEntries(members(p, 'Parameters').map((m) => [m.ParameterKey, m.ParameterValue]));
    switch (req.operation) {
      case 'DescribeStacks': {
        const s = this.stack(account, region, p.StackName);
        return s ? queryResponse('DescribeStacks', `<Stacks>${this.stackXml(s)}</Stacks>`) : missing(p.StackName);
      }
      case 'ListStacks': {
        // ListStacks: StackSummaries of this account and region, only the StackStatusFilter's statuses when one is given (deleted stacks too, as the service lists them for 90 days).
        const statuses = members(p, 'StackStatusFilter').map((m) => m.value);
        const listed = this.stacks.filter((s) => s.account === account && s.region === region && (statuses.length === 0 || statuses.includes(s.status)));
        const summary = (s: Stack) => `<member><StackId>${s.id}</StackId><StackName>${s.name}</StackName><CreationTime>${s.created.toISOString()}</CreationTime><StackStatus>${s.status}</StackStatus></member>`;
        return queryResponse('ListStacks', `<StackSummaries>${listed.map(summary).join('')}</StackSummaries>`);
      }
      case 'CreateStack': {
        if (this.stack(account, region, p.StackName)) return queryError('AlreadyExistsException', `Stack [${p.StackName}] already exists`);
        const s = this.newStack(account, region, p.StackName, 'CREATE_IN_PROGRESS');
        this.apply(s, this.templateOf(p), params(), p.ClientRequestToken, 'CREATE');
        return queryResponse('CreateStack', `<StackId>${s.id}</StackId>`);
      }
      case 'UpdateStack': {
        const s = this.stack(account, region, p.StackName);
        if (!s) return missing(p.StackName);
        const body = this.templateOf(p);
        if (body === s.templateBody && JSON.stringify(params()) === JSON.stringify(s.parameters)) return queryError('ValidationError', 'No updates are to be performed.');
        this.apply(s, body, params(), p.ClientRequestToken, 'UPDATE');
        return queryResponse('UpdateStack', `<StackId>${s.id}</StackId>`);
      }
      case 'CreateChangeSet':
        return this.createChangeSet(req, account, region, params());
      case 'DescribeChangeSet': {
        const { stack, cs } = this.changeSet(account, region, p.StackName, p.ChangeSetName);
        if (!cs || !stack) return queryError('ChangeSetNotFound', `ChangeSet [${p.ChangeSetName}] does not exist`, 404);
        const changes = cs.changes
          .map((c) => `<member><Type>Resource</Type><ResourceChange><Action>${c.action}</Action><LogicalResourceId>${c.logical}</LogicalResourceId><ResourceType>${c.type}</ResourceType><Replacement>${c.replacement}</Replacement></ResourceChange></member>`)
          .join('');
        return queryResponse('DescribeChangeSet',
          `<ChangeSetName>${cs.name}</ChangeSetName><ChangeSetId>${cs.id}</ChangeSetId><StackId>${stack.id}</StackId><StackName>${stack.name}</StackName><Status>${cs.status}</Status>` +
          `<ExecutionStatus>${cs.executionStatus}</ExecutionStatus>${cs.statusReason ? `<StatusReason>${esc(cs.statusReason)}</StatusReason>` : ''}<Changes>${changes}</Changes>`);
      }
      case 'DeleteChangeSet': {
        const { stack, cs } = this.changeSet(account, region, p.StackName, p.ChangeSetName);
        if (stack && cs) stack.changeSets = stack.changeSets.filter((c) => c !== cs);
        return queryResponse('DeleteChangeSet', '');
      }
      case 'ExecuteChangeSet': {
        const { stack, cs } = this.changeSet(account, region, p.StackName, p.ChangeSetName);
        if (!cs || !stack) return queryError('ChangeSetNotFound', `ChangeSet [${p.ChangeSetName}] does not exist`, 404);
        if (cs.executionStatus !== 'AVAILABLE') return queryError('InvalidChangeSetStatus', `ChangeSet [${cs.id}] cannot be executed in its current status of [${cs.status}]`);
        cs.executionStatus = 'EXECUTE_COMPLETE';
        // Executing a change set deletes every change set of the stack, as CloudFormation does.
        stack.changeSets = [];
        this.apply(stack, cs.templateBody, cs.parameters, p.ClientRequestToken, cs.type);
        return queryResponse('ExecuteChangeSet', '');
      }
      case 'DescribeStackEvents': {
        const s = this.stack(account, region, p.StackName);
        if (!s) return missing(p.StackName);
        const xml = s.events.map((e) => stackEventXml(s, e)).join('');
        return queryResponse('DescribeStackEvents', `<StackEvents>${xml}</StackEvents>`);
      }
      case 'ListStackResources':
      case 'DescribeStackResources': {
        const s = this.stack(account, region, p.StackName);
        if (!s) return missing(p.StackName);
        const list = req.operation === 'ListStackResources' ? 'StackResourceSummaries' : 'StackResources';
        const xml = s.resources.map((r) =>
          `<member><LogicalResourceId>${r.logical}</LogicalResourceId><PhysicalResourceId>${esc(r.physical)}</PhysicalResourceId><ResourceType>${r.type}</ResourceType>` +
          `<LastUpdatedTimestamp>${s.created.toISOString()}</LastUpdatedTimestamp><Timestamp>${s.created.toISOString()}</Timestamp><ResourceStatus>CREATE_COMPLETE</ResourceStatus></member>`).join('');
        return queryResponse(req.operation, `<${list}>${xml}</${list}>`);
      }
      case 'GetTemplate': {
        const s = this.stack(account, region, p.StackName);
        return s ? queryResponse('GetTemplate', `<TemplateBody>${esc(s.templateBody)}</TemplateBody>`) : missing(p.StackName);
      }
      case 'UpdateTerminationProtection': {
        const s = this.stack(account, region, p.StackName);
        if (!s) return missing(p.StackName);
        s.protection = p.EnableTerminationProtection === 'true';
        return queryResponse('UpdateTerminationProtection', `<StackId>${s.id}</StackId>`);
      }
      case 'DeleteStack': {
        const s = this.stack(account, region, p.StackName);
        if (!s) return queryResponse('DeleteStack', '');
        if (s.protection) return queryError('ValidationError', `Stack [${s.name}] cannot be deleted while TerminationProtection is enabled`);
        this.event(s, s.name, s.id, 'AWS::CloudFormation::Stack', 'DELETE_IN_PROGRESS', p.ClientRequestToken);
        for (const r of s.resources) this.event(s, r.logical, r.physical, r.type, 'DELETE_COMPLETE', p.ClientRequestToken);
        s.status = 'DELETE_COMPLETE';
        this.event(s, s.name, s.id, 'AWS::CloudFormation::Stack', 'DELETE_COMPLETE', p.ClientRequestToken);
        return queryResponse('DeleteStack', '');
      }
      default:
        return undefined;
    }
  }

  private changeSet(account: string, region: string, stackName: string | undefined, name: string): { stack?: Stack; cs?: ChangeSet } {
    for (const s of this.stacks.filter((x) => x.account === account && x.region === region)) {
      if (stackName && s.name !== stackName && s.id !== stackName) continue;
      if (s.status === 'DELETE_COMPLETE' && !name.startsWith('arn:')) continue;
      const cs = s.changeSets.find((c) => c.id === name || c.name === name);
      if (cs) return { stack: s, cs };
    }
    return {};
  }

  private createChangeSet(req: RecordedRequest, account: string, region: string, parameters: Record<string, string>): Reply {
    const p = req.params as Record<string, string>;
    const type = (p.ChangeSetType ?? 'UPDATE') as 'CREATE' | 'UPDATE';
    let stack = this.stack(account, region, p.StackName);
    if (type === 'CREATE') {
      // A stack only ever reviewed (REVIEW_IN_PROGRESS) takes another CREATE change set, as CloudFormation's does.
      if (stack && stack.status !== 'REVIEW_IN_PROGRESS') return queryError('AlreadyExistsException', `Stack [${p.StackName}] already exists`);
      stack ??= this.newStack(account, region, p.StackName, 'REVIEW_IN_PROGRESS');
    } else if (!stack) {
      return queryError('ValidationError', `Stack [${p.StackName}] does not exist`);
    }
    if (stack.changeSets.some((c) => c.name === p.ChangeSetName)) return queryError('AlreadyExistsException', `ChangeSet ${p.ChangeSetName} already exists`);
    const templateBody = this.templateOf(p);
    const after = materialize(stack, templateBody, parameters, this.hook, stack.resources).resources;
    const changes = diff(stack.resources, after);
    const empty = changes.length === 0 && JSON.stringify(parameters) === JSON.stringify(stack.parameters);
    const cs: ChangeSet = {
      id: `arn:aws:cloudformation:${region}:${account}:changeSet/${p.ChangeSetName}/${this.seq++}`,
      name: p.ChangeSetName, type, templateBody, parameters, changes, request: p,
      status: empty ? 'FAILED' : 'CREATE_COMPLETE',
      executionStatus: empty ? 'UNAVAILABLE' : 'AVAILABLE',
      statusReason: empty ? "The submitted information didn't contain changes. Submit different information to create a change set." : undefined,
    };
    stack.changeSets.push(cs);
    this.changeSets.push({ stack, cs });
    return queryResponse('CreateChangeSet', `<Id>${cs.id}</Id><StackId>${stack.id}</StackId>`);
  }

  // ---- CodeBuild: a build pushes the image and writes the weights where the buildspec would ----

  private codebuild(req: RecordedRequest, account: string, region: string): Reply {
    const p = req.params as Record<string, any>;
    if (req.operation === 'StartBuild') {
      const env = Object.fromEntries(((p.environmentVariablesOverride ?? []) as { name: string; value: string }[]).map((e) => [e.name, e.value]));
      const id = `${p.projectName}:build-${this.seq++}`;
      this.builds.push({ id, env, account, region });
      return json({ build: { id, buildStatus: 'IN_PROGRESS', startTime: new Date() } });
    }
    if (req.operation === 'BatchGetBuilds') {
      const builds = (p.ids as string[]).map((id) => {
        const b = this.builds.find((x) => x.id === id)!;
        const digest = this.finishBuild(b);
        return {
          id, buildStatus: 'SUCCEEDED', startTime: new Date(), endTime: new Date(),
          logs: { groupName: 'build-logs', streamName: id.split(':')[1] },
          exportedEnvironmentVariables: [{ name: 'IMAGE_DIGEST', value: digest }],
        };
      });
      return json({ builds });
    }
    if (req.operation === 'StopBuild') return json({ build: { id: p.id, buildStatus: 'STOPPED' } });
    return jsonError('UnhandledInTest', `fake CodeBuild has no ${req.operation}`);
  }

  private finishBuild(b: { env: Record<string, string>; account: string; region: string }): string {
    const repoName = b.env.IMAGE_REPO_URI.split('/').slice(1).join('/');
    const repo = this.ecr.repo(b.account, b.region, repoName, true);
    const existing = repo.tags.get(b.env.IMAGE_TAG);
    if (existing) return existing;
    const layers = [Buffer.from(`serving image ${b.env.IMAGE_TAG}`), randomBytes(2048)];
    const digest = this.ecr.pushImage(b.account, b.region, repoName, b.env.IMAGE_TAG, layers);
    if (b.env.WEIGHTS_S3_URI) {
      const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(b.env.WEIGHTS_S3_URI)!;
      for (const file of ['config.json', 'model.safetensors']) this.ecr.putObject(m[1], `${m[2]}${file}`, file.length * 100);
    }
    return digest;
  }

  // ---- SageMaker ----

  /** The SageMaker Endpoint resource named `name` in a live stack. */
  endpoint(account: string, region: string, name: string) {
    for (const s of this.stacks) {
      if (s.account !== account || s.region !== region || s.status === 'DELETE_COMPLETE') continue;
      const r = s.resources.find((x) => x.type === 'AWS::SageMaker::Endpoint' && x.physical === name);
      if (r) return { stack: s, resource: r };
    }
    return undefined;
  }

  private sagemaker(req: RecordedRequest, account: string, region: string): Reply {
    if (req.operation === 'DescribeEndpoint') {
      const name = String(req.params.EndpointName);
      const hit = this.endpoint(account, region, name);
      if (!hit) return jsonError('ValidationException', `Could not find endpoint "${name}".`);
      return json({
        EndpointName: name, EndpointArn: `arn:aws:sagemaker:${region}:${account}:endpoint/${name.toLowerCase()}`,
        EndpointConfigName: hit.resource.properties.EndpointConfigName, EndpointStatus: 'InService', CreationTime: new Date(), LastModifiedTime: new Date(),
      });
    }
    if (req.operation === 'ListEndpoints') {
      // The quota check counts what already runs: every live endpoint of this account and region.
      const names = this.stacks
        .filter((s) => s.account === account && s.region === region && s.status !== 'DELETE_COMPLETE')
        .flatMap((s) => s.resources.filter((x) => x.type === 'AWS::SageMaker::Endpoint').map((x) => String(x.physical)));
      return json({ Endpoints: names.map((n) => ({ EndpointName: n, EndpointArn: `arn:aws:sagemaker:${region}:${account}:endpoint/${n.toLowerCase()}`, EndpointStatus: 'InService', CreationTime: new Date(), LastModifiedTime: new Date() })) });
    }
    if (req.operation === 'DescribeEndpointConfig') {
      const name = String(req.params.EndpointConfigName);
      return json({ EndpointConfigName: name, EndpointConfigArn: `arn:aws:sagemaker:${region}:${account}:endpoint-config/${name.toLowerCase()}`, ProductionVariants: [], CreationTime: new Date() });
    }
    return jsonError('UnhandledInTest', `fake SageMaker has no ${req.operation}`);
  }

  private invoke(name: string, req: RecordedRequest, account: string, region: string): Reply {
    if (!this.endpoint(account, region, name)) return { status: 400, body: { message: `Endpoint ${name} of account ${account} not found.` } };
    this.invocations.push({ account, region, endpoint: name, body: req.body });
    return { headers: { 'content-type': 'application/json' }, body: { choices: [{ message: { role: 'assistant', content: 'Hello' } }] } };
  }

  private quotas(req: RecordedRequest): Reply {
    const types = ['ml.g5.xlarge', 'ml.g5.2xlarge', 'ml.g5.12xlarge'];
    if (req.operation === 'ListServiceQuotas' || req.operation === 'ListAWSDefaultServiceQuotas') {
      return json({ Quotas: types.map((t, i) => ({ QuotaName: `${t} for endpoint usage`, QuotaCode: `L-SM${i}`, Value: 8, Adjustable: true })) });
    }
    if (req.operation === 'GetServiceQuota' || req.operation === 'GetAWSDefaultServiceQuota') {
      return json({ Quota: { QuotaCode: req.params.QuotaCode, QuotaName: 'quota', Value: 64, Adjustable: true } });
    }
    return jsonError('UnhandledInTest', `fake Service Quotas has no ${req.operation}`);
  }

  private ecs(req: RecordedRequest): Reply {
    if (req.operation === 'UpdateService') {
      this.restartService();
      return json({ service: { deployments: [{ id: `ecs-svc/${this.ecsUpdates}`, status: 'PRIMARY' }] } });
    }
    if (req.operation === 'DescribeServices') {
      return json({ services: [{ deployments: [{ id: `ecs-svc/${this.ecsUpdates}`, status: 'PRIMARY', rolloutState: 'COMPLETED', runningCount: 1, desiredCount: 1 }] }] });
    }
    return jsonError('UnhandledInTest', `fake ECS has no ${req.operation}`);
  }

  private restartService(): void {
    this.ecsUpdates++;
    if (!this.secrets.exists) return;
    this.secrets.reload();
    this.onServiceRestart(this.secrets.served);
  }

  // ---- S3: bucket operations and bodies here, objects, copies and listings in the ECR fake's S3 ----

  private s3(req: RecordedRequest): Reply | undefined {
    const url = new URL(req.path, 'http://x');
    const [, bucket, ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const buckets = this.ecr.buckets;
    if (!key) {
      if (req.method === 'HEAD') return buckets.has(bucket) ? { status: 200, body: '' } : { status: 404, body: '' };
      if (req.method === 'PUT') {
        if (!url.search) buckets.set(bucket, buckets.get(bucket) ?? new Map());
        return buckets.has(bucket) ? { status: 200, body: '' } : { status: 404, headers: { 'content-type': 'application/xml' }, body: '<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>' };
      }
    }
    if (req.method === 'PUT' && !req.headers['x-amz-copy-source'] && !url.searchParams.has('uploadId') && key) {
      if (!buckets.has(bucket)) return { status: 404, headers: { 'content-type': 'application/xml' }, body: '<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>' };
      // Conditional write: If-None-Match * refuses an existing key (412), as S3 does.
      if (req.headers['if-none-match'] === '*' && buckets.get(bucket)?.has(key)) {
        return { status: 412, headers: { 'content-type': 'application/xml' }, body: '<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>' };
      }
      const body = Buffer.from(req.body, 'utf8');
      const o = this.ecr.putObject(bucket, key, body.length);
      this.bodies.set(`s3://${bucket}/${key}`, body);
      return { headers: { etag: o.etag }, body: '' };
    }
    // The SDK adds ?x-id=GetObject; a version id asks for an older version (the ECR fake's S3 keeps those).
    if (req.method === 'GET' && key && !url.searchParams.has('versionId') && [...url.searchParams.keys()].every((k) => k === 'x-id')) {
      const body = this.bodies.get(`s3://${bucket}/${key}`);
      if (body) return { headers: { 'content-type': 'application/octet-stream' }, body };
    }
    return (this.ecr as unknown as { s3(r: RecordedRequest): Reply | undefined }).s3(req);
  }
}
