/**
 * Who gets into the journey's roles (issue 20, "a dev token must leave no way in"): the accounts of the bundled
 * example bootstrapped as documented (./bootstrap.ts), then each GitHub job's token offered to each role through
 * the emulated configure-aws-credentials (./runner.ts), and STS of the fake world deciding with the trust
 * policies the bootstrap stacks created. Each refusal has its twin: the job the role is for gets in.
 */
import { World } from '../support/fake-aws/world';
import { OidcJob, REPOSITORY, subjectOf } from '../support/fake-aws/github-oidc';
import { ACCOUNTS, bootstrap } from './bootstrap';
import { assumeRoleWithOidc } from './runner';
import { decideWebIdentity } from '../support/cloudformation/simulate';
import { Intrinsics } from '../support/cloudformation/intrinsics';
import { readTemplate } from '../support/cloudformation/template';
import { ROOT } from '../support/bundle';
import * as fs from 'fs';
import * as path from 'path';

const world = new World();

beforeAll(async () => {
  await world.start();
  await bootstrap(world);
}, 300_000);

afterAll(async () => {
  await world.server?.close();
});

const arn = (account: string, name: string) => `arn:aws:iam::${account}:role/${name}`;
const ROLE = {
  devDeploy: arn(ACCOUNTS.dev, 'model-deploy-dev'),
  stagingDeploy: arn(ACCOUNTS.staging, 'model-deploy-staging'),
  prodDeploy: arn(ACCOUNTS.prod, 'model-deploy-prod'),
  stagingPromotion: arn(ACCOUNTS.staging, 'model-deploy-promotion'),
  prodPromotion: arn(ACCOUNTS.prod, 'model-deploy-promotion'),
  source: arn(ACCOUNTS.dev, 'model-deploy-promotion-source-dev'),
  recorder: arn(ACCOUNTS.dev, 'acme-llm.dev.provenance-recorder'),
};

const WORKFLOW = (file: string) => `acme-platform/model-deploy-actions/.github/workflows/${file}@refs/tags/v1`;
/** The journey's jobs, by the claims GitHub gives them. */
const JOB: Record<string, OidcJob> = {
  dev: { environment: 'dev', ref: 'refs/heads/main', eventName: 'workflow_dispatch', jobWorkflowRef: WORKFLOW('build-and-deploy.yml') },
  devFeature: { environment: 'dev', ref: 'refs/heads/feature', eventName: 'push', jobWorkflowRef: WORKFLOW('build-and-deploy.yml') },
  staging: { environment: 'staging', ref: 'refs/heads/main', eventName: 'workflow_dispatch', jobWorkflowRef: WORKFLOW('promote.yml') },
  prod: { environment: 'prod', ref: 'refs/heads/main', eventName: 'workflow_dispatch', jobWorkflowRef: WORKFLOW('promote.yml') },
  // build-and-deploy.yml's record job: no environment, on main.
  mainNoEnvironment: { ref: 'refs/heads/main', eventName: 'push', jobWorkflowRef: WORKFLOW('build-and-deploy.yml') },
  featureNoEnvironment: { ref: 'refs/heads/feature', eventName: 'push', jobWorkflowRef: WORKFLOW('build-and-deploy.yml') },
  pullRequest: { ref: 'refs/pull/9/merge', eventName: 'pull_request', jobWorkflowRef: WORKFLOW('cost-comment.yml') },
};

/** What configure-aws-credentials reports for `job` assuming `role`: 'allowed' or STS's message. */
async function attempt(job: OidcJob, role: string, audience?: string): Promise<string> {
  const r = await assumeRoleWithOidc(world.server.url, world.oidcEnv(job), { role, audience });
  return 'error' in r ? r.error : 'allowed';
}

const DENIED = 'Could not assume role with OIDC: Not authorized to perform sts:AssumeRoleWithWebIdentity';

describe('GitHub tokens against the bootstrap trust policies (immutable subject repo:OWNER@ID/REPO@ID:...)', () => {
  it('the token subjects are those GitHub documents', () => {
    const [owner, name] = REPOSITORY.name.split('/');
    expect(subjectOf(JOB.dev)).toBe(`repo:${owner}@${REPOSITORY.ownerId}/${name}@${REPOSITORY.id}:environment:dev`);
    expect(subjectOf(JOB.mainNoEnvironment)).toBe(`repo:${owner}@${REPOSITORY.ownerId}/${name}@${REPOSITORY.id}:ref:refs/heads/main`);
    expect(subjectOf(JOB.pullRequest)).toBe(`repo:${owner}@${REPOSITORY.ownerId}/${name}@${REPOSITORY.id}:pull_request`);
  });

  it("a dev job's token is refused by model-deploy-prod and by staging's and prod's promotion roles", async () => {
    expect(await attempt(JOB.dev, ROLE.prodDeploy)).toBe(DENIED);
    expect(await attempt(JOB.dev, ROLE.stagingPromotion)).toBe(DENIED);
    expect(await attempt(JOB.dev, ROLE.prodPromotion)).toBe(DENIED);
    expect(await attempt(JOB.dev, ROLE.stagingDeploy)).toBe(DENIED);
    // Nor may it read the source as a promotion would: only staging's and prod's jobs may.
    expect(await attempt(JOB.dev, ROLE.source)).toBe(DENIED);
  });

  it('twin: each environment gets its own deploy role, and its promotion role', async () => {
    expect(await attempt(JOB.dev, ROLE.devDeploy)).toBe('allowed');
    expect(await attempt(JOB.devFeature, ROLE.devDeploy)).toBe('allowed');
    expect(await attempt(JOB.staging, ROLE.stagingDeploy)).toBe('allowed');
    expect(await attempt(JOB.prod, ROLE.prodDeploy)).toBe('allowed');
    expect(await attempt(JOB.staging, ROLE.stagingPromotion)).toBe('allowed');
    expect(await attempt(JOB.prod, ROLE.prodPromotion)).toBe('allowed');
    expect(await attempt(JOB.staging, ROLE.source)).toBe('allowed');
    expect(await attempt(JOB.prod, ROLE.source)).toBe('allowed');
  });

  it("one target's job is refused by another target's roles", async () => {
    expect(await attempt(JOB.staging, ROLE.prodDeploy)).toBe(DENIED);
    expect(await attempt(JOB.staging, ROLE.prodPromotion)).toBe(DENIED);
    expect(await attempt(JOB.prod, ROLE.stagingPromotion)).toBe(DENIED);
  });

  it('a job without environment is refused by model-deploy-dev (and every deploy role), a pull request too', async () => {
    expect(await attempt(JOB.mainNoEnvironment, ROLE.devDeploy)).toBe(DENIED);
    expect(await attempt(JOB.mainNoEnvironment, ROLE.prodDeploy)).toBe(DENIED);
    expect(await attempt(JOB.mainNoEnvironment, ROLE.prodPromotion)).toBe(DENIED);
    expect(await attempt(JOB.pullRequest, ROLE.devDeploy)).toBe(DENIED);
  });

  it('the recorder role: only a job of main without environment', async () => {
    expect(await attempt(JOB.mainNoEnvironment, ROLE.recorder)).toBe('allowed');
    expect(await attempt(JOB.dev, ROLE.recorder)).toBe(DENIED);
    expect(await attempt(JOB.featureNoEnvironment, ROLE.recorder)).toBe(DENIED);
    expect(await attempt(JOB.pullRequest, ROLE.recorder)).toBe(DENIED);
    expect(await attempt(JOB.prod, ROLE.recorder)).toBe(DENIED);
  });

  it('the pull request plan role: only pull requests', async () => {
    expect(await attempt(JOB.pullRequest, arn(ACCOUNTS.dev, 'model-deploy-plan-dev'))).toBe('allowed');
    expect(await attempt(JOB.dev, arn(ACCOUNTS.dev, 'model-deploy-plan-dev'))).toBe(DENIED);
  });

  it('a role no bootstrap made is refused as STS refuses it; a token for another audience is refused by the provider', async () => {
    expect(await attempt(JOB.prod, arn(ACCOUNTS.prod, 'OrganizationAccountAccessRole'))).toBe(DENIED);
    expect(await attempt(JOB.prod, ROLE.prodDeploy, 'sts.amazonaws.com.cn')).toBe('Could not assume role with OIDC: Incorrect token audience');
  });

  it('a token GitHub did not issue (an edited subject) is refused', async () => {
    const edited = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: subjectOf(JOB.prod), aud: 'sts.amazonaws.com' })).toString('base64url')}.`;
    const reply = await fetchSts({ Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', RoleArn: ROLE.prodDeploy, RoleSessionName: 'x', WebIdentityToken: edited });
    expect(reply).toContain('<Code>InvalidIdentityToken</Code>');
  });
});

describe('the trust evaluation itself (iam-simulate, as STS sets the keys)', () => {
  const provider = `arn:aws:iam::${ACCOUNTS.prod}:oidc-provider/token.actions.githubusercontent.com`;
  const trust = (condition: Record<string, unknown>) => ({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRoleWithWebIdentity', Principal: { Federated: provider }, Condition: condition }],
  });
  const claims = (environment?: string) => ({ aud: 'sts.amazonaws.com', sub: subjectOf({ ...JOB.prod, environment }), ref: 'refs/heads/main', ...(environment ? { environment } : {}) });
  const call = (environment?: string) => ({ role: ROLE.prodDeploy, provider, claims: claims(environment) });

  it('a claim the token lacks is a missing key: the condition does not match (no throw), unless IfExists', () => {
    expect(decideWebIdentity(trust({ StringEquals: { 'token.actions.githubusercontent.com:environment': 'prod' } }), call('prod'))).toBe('Allowed');
    expect(decideWebIdentity(trust({ StringEquals: { 'token.actions.githubusercontent.com:environment': 'prod' } }), call())).toBe('ImplicitlyDenied');
    expect(decideWebIdentity(trust({ StringEqualsIfExists: { 'token.actions.githubusercontent.com:environment': 'prod' } }), call())).toBe('Allowed');
  });

  it('another principal (a provider of another account) is not trusted', () => {
    expect(decideWebIdentity(trust({ StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' } }), { ...call('prod'), provider: provider.replace(ACCOUNTS.prod, ACCOUNTS.dev) })).toBe('ImplicitlyDenied');
  });

  it('a key STS does not set is refused as a mistake in the test, not read as "missing"', () => {
    expect(() => decideWebIdentity(trust({ StringEquals: { 'token.actions.githubusercontent.com:ref_protected': 'true' } }), call('prod'))).toThrow(/ref_protected, which STS does not set/);
  });
});

/** The assertions of the bootstrap template's Rules that `params` break (CloudFormation checks them before it creates anything). */
function brokenRules(params: Record<string, string>): string[] {
  const template = readTemplate('templates/bootstrap/model-deploy-bootstrap.yaml');
  const values: Record<string, string> = {};
  for (const [name, p] of Object.entries((template.Parameters ?? {}) as Record<string, { Default?: unknown }>)) values[name] = params[name] ?? String(p.Default ?? '');
  const intrinsics = new Intrinsics(template, values, { account: ACCOUNTS.dev, region: 'us-east-1', name: 'model-deploy-bootstrap-dev', id: 'stack' }, { has: () => false, ref: () => '', getAtt: () => '' });
  const broken: string[] = [];
  for (const [name, rule] of Object.entries((template.Rules ?? {}) as Record<string, { RuleCondition?: unknown; Assertions: { Assert: unknown; AssertDescription?: string }[] }>)) {
    if (rule.RuleCondition !== undefined && !intrinsics.value(rule.RuleCondition)) continue;
    for (const a of rule.Assertions) if (!intrinsics.value(a.Assert)) broken.push(`${name}: ${a.AssertDescription ?? ''}`);
  }
  return broken;
}

/** The bootstrap commands of docs/getting-started.md (continued lines joined): `tool` is the CLI's or the AWS CLI's. */
function documentedCommands(tool: 'model-deploy' | 'aws'): Record<string, string>[] {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'getting-started.md'), 'utf8').replace(/\\\n\s*/g, ' ');
  const lines = doc.split('\n').filter((l) => (tool === 'aws' ? /^aws cloudformation deploy --stack-name model-deploy-bootstrap-/ : /^npx @model-deploy-actions\/cli@\d+ bootstrap /).test(l));
  return lines.map((line) => {
    const words = line.split(/\s+/);
    const params: Record<string, string> = {};
    const flag = (name: string) => words[words.indexOf(name) + 1];
    if (tool === 'model-deploy') {
      Object.assign(params, { Repository: flag('--repository'), Project: flag('--project'), Environment: flag('--environment') });
      words.forEach((w, i) => { if (w === '--parameter') { const [k, ...v] = words[i + 1].split('='); params[k] = v.join('='); } });
    } else {
      for (const w of words.slice(words.indexOf('--parameter-overrides') + 1)) { const [k, ...v] = w.split('='); if (v.length) params[k] = v.join('='); }
    }
    return params;
  });
}

describe("the documented bootstrap commands against the template's Rules", () => {
  it('the AWS CLI commands of getting-started pass the ids the default subject form needs', () => {
    const commands = documentedCommands('aws');
    expect(commands.length).toBeGreaterThanOrEqual(2);
    for (const params of commands) expect({ params, broken: brokenRules(params) }).toEqual({ params, broken: [] });
    // The check can fail: without the ids the rule is broken.
    expect(brokenRules({ Repository: 'acme/models', Project: 'acme-llm' })).toEqual([expect.stringMatching(/^ImmutableIdsGiven: SubjectForm immutable-ids \(the default\) needs RepositoryOwnerId and RepositoryId/)]);
  });

  // The documented `model-deploy bootstrap` commands name no ids: the CLI reads them from GitHub (GET /repos/OWNER/REPO,
  // tests/process/cli-bootstrap.test.ts) and checks the Rules before the change set (tests/unit/bootstrap/repository-ids.test.ts).
  it('the CLI commands of getting-started meet the Rules once the CLI has added the ids it reads from GitHub', () => {
    const commands = documentedCommands('model-deploy');
    expect(commands.length).toBeGreaterThanOrEqual(2);
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'getting-started.md'), 'utf8');
    expect(doc).toMatch(/reads the\s+repository's\s+numeric\s+ids\s+from\s+GitHub/);
    for (const params of commands) {
      expect(brokenRules(params)).toEqual([expect.stringMatching(/^ImmutableIdsGiven/)]);
      const looked = { ...params, RepositoryOwnerId: '123456', RepositoryId: '456789' };
      expect({ params: looked, broken: brokenRules(looked) }).toEqual({ params: looked, broken: [] });
    }
  });
});

/** One unsigned STS query request to the world, its body. */
async function fetchSts(params: Record<string, string>): Promise<string> {
  const http = await import('http');
  return new Promise((resolve, reject) => {
    const r = http.request(world.server.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    });
    r.on('error', reject);
    r.end(new URLSearchParams(params).toString());
  });
}
