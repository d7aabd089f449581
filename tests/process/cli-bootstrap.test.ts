/**
 * `model-deploy bootstrap` from the built CLI against the fake AWS of tests/support/fake-aws/world.ts
 * (STS, S3 and CloudFormation as the real services answer): the template is over the 51,200-byte inline
 * limit, so it goes to S3 and the change set names its TemplateURL; the change set is shown, executed
 * only with --yes (stdin is no terminal here), its events streamed; a second run changes nothing; and
 * the run ends with the GitHub settings from the stack's outputs.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from '../support/bundle';
import { runCli } from '../support/cli';
import { World } from '../support/fake-aws/world';
import { Loopback, startLoopback } from '../support/loopback';

const ACCOUNT = '111111111111';
const world = new World();
let env: Record<string, string>;
let cwd: string;

/** GitHub's "Get a repository" for the acme repositories (ids derived from the name), 404 for acme/missing. */
let github: Loopback;
const REPO_IDS: Record<string, { owner: number; id: number }> = { 'acme/models': { owner: 123456, id: 456789 }, 'acme/billing': { owner: 123456, id: 456790 }, 'acme/platform': { owner: 123456, id: 456791 } };

beforeAll(async () => {
  await world.start();
  github = await startLoopback((req) => {
    const repo = /^\/repos\/([^/]+\/[^/?]+)$/.exec(req.path)?.[1] ?? '';
    const ids = REPO_IDS[repo];
    if (req.method === 'GET' && ids) return { body: { id: ids.id, name: repo.split('/')[1], full_name: repo, owner: { login: 'acme', id: ids.owner, type: 'Organization' } } };
    return { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/repos/repos#get-a-repository', status: '404' } };
  });
  env = { ...world.credentialsFor(ACCOUNT), AWS_ENDPOINT_URL: world.server.url, AWS_REGION: 'us-east-1', GITHUB_API_URL: github.url };
  // An empty folder: no spec, no git remote, so every value comes from the flags.
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'md-cli-bootstrap-'));
});

afterAll(async () => {
  await world.server.close();
  await github.close();
  fs.rmSync(cwd, { recursive: true, force: true });
});

const BASE = ['bootstrap', '--environment', 'dev', '--repository', 'acme/models', '--project', 'acme-llm', '--region', 'us-east-1'];
/** Everything the runs printed: no credential may appear in it. */
const printed: string[] = [];
const run = async (args: string[], vars = env) => {
  const r = await runCli(args, vars, cwd);
  printed.push(r.out);
  return r;
};
const calls = () => world.server.requests.map((r) => r.operation);
const stack = () => world.stacks.find((s) => s.name === 'model-deploy-bootstrap-dev' && s.status !== 'DELETE_COMPLETE');

describe('dist/cli bootstrap', () => {
  it('refuses a parameter the template does not have, or a value it does not allow, before any call that changes something', async () => {
    const before = world.server.requests.length;
    const r = await run([...BASE, '--parameter', 'CreateArtifactBuckt=true', '--parameter', 'CreatePromotionRole=yes']);
    expect(r.code).toBe(2);
    expect(r.out).toContain('the bootstrap template has no parameter CreateArtifactBuckt');
    expect(r.out).toContain('Did you mean "CreateArtifactBucket"?');
    expect(r.out).toContain('CreatePromotionRole is "yes", which the template does not allow');
    expect(world.server.requests.slice(before).map((q) => q.operation).filter((op) => !/^(GetCallerIdentity|DescribeStacks)$/.test(op))).toEqual([]);
  });

  it('without --yes and no terminal: shows the change set, leaves it unexecuted and says how to go on', async () => {
    const r = await run(BASE);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Change set md-bootstrap-[0-9a-f]{12} \(creates the stack\): \d+ resource change\(s\)/);
    expect(r.out).toMatch(/Add +\w+ \(AWS::IAM::Role\)/);
    expect(r.out).toContain('pass --yes to execute the change set');
    expect(calls()).not.toContain('ExecuteChangeSet');
    expect(stack()?.status).toBe('REVIEW_IN_PROGRESS');
  });

  it('uploads the template to S3 (over 51,200 bytes) and creates the stack with --yes, streaming its events', async () => {
    const template = fs.statSync(path.join(ROOT, 'templates', 'bootstrap', 'model-deploy-bootstrap.yaml')).size;
    expect(template).toBeGreaterThan(51_200);
    const r = await run([...BASE, '--yes']);
    expect(r.out).toContain('Stack model-deploy-bootstrap-dev (111111111111, us-east-1): created.');
    expect(r.code).toBe(0);
    const created = world.changeSets.filter(({ stack: s }) => s.name === 'model-deploy-bootstrap-dev').map(({ cs }) => cs.request);
    expect(created.length).toBeGreaterThan(0);
    for (const request of created) {
      expect(request.TemplateBody).toBeUndefined();
      expect(request.TemplateURL).toMatch(/^https:\/\/model-deploy-templates-111111111111-us-east-1\.s3\.us-east-1\.amazonaws\.com\/model-deploy-bootstrap\/[0-9a-f]{16}\.json$/);
      expect(request['Capabilities.member.1']).toBe('CAPABILITY_NAMED_IAM');
    }
    expect([...world.bodies.keys()].some((k) => k.startsWith('s3://model-deploy-templates-111111111111-us-east-1/model-deploy-bootstrap/'))).toBe(true);
    expect(r.out).toMatch(/CREATE_COMPLETE +model-deploy-bootstrap-dev \(AWS::CloudFormation::Stack\)/);
    expect(stack()?.status).toBe('CREATE_COMPLETE');
    expect(stack()?.parameters).toMatchObject({ Repository: 'acme/models', Project: 'acme-llm', Environment: 'dev' });
    // The default subject names GitHub's ids: read from GitHub, not asked of the user.
    expect(stack()?.parameters).toMatchObject({ RepositoryOwnerId: '123456', RepositoryId: '456789' });
    expect(r.out).toContain("GitHub's ids of acme/models: owner 123456, repository 456789");
  });

  it('ends with exactly what to set in GitHub, from the outputs', async () => {
    const r = await run([...BASE, '--yes']);
    const role = stack()!.outputs.RoleArn;
    // The role's ARN as the fake evaluates the template's GetAtt (its own shape): what matters is that it is the output's.
    expect(role).toContain('model-deploy-dev');
    expect(r.out).toContain(`gh variable set MODEL_DEPLOY_ROLES --repo acme/models --body '{"dev":"${role}"}'`);
    expect(r.out).toContain('gh variable set MODEL_DEPLOY_AWS_REGION --repo acme/models --body us-east-1');
    expect(r.out).toContain('gh api -X PUT repos/acme/models/environments/dev');
    expect(r.out).toContain('gh api -X POST repos/acme/models/environments/dev/deployment-branch-policies -f name=main -f type=branch');
    expect(r.out).toContain('repos/acme/models/branches/main/protection');
  });

  it('is idempotent: a second run with the same parameters says so and executes nothing', async () => {
    const executed = calls().filter((c) => c === 'ExecuteChangeSet').length;
    const r = await run([...BASE, '--yes']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('No changes: model-deploy-bootstrap-dev is up to date.');
    expect(r.out).toContain('unchanged (nothing to do)');
    expect(calls().filter((c) => c === 'ExecuteChangeSet').length).toBe(executed);
    expect(world.stacks.find((s) => s.name === 'model-deploy-bootstrap-dev')?.changeSets).toEqual([]);
  });

  it('--profile takes the credentials of that profile of the shared credentials file', async () => {
    const keys = world.credentialsFor(ACCOUNT);
    const file = path.join(cwd, 'credentials');
    fs.writeFileSync(file, `[dev-admin]\naws_access_key_id = ${keys.AWS_ACCESS_KEY_ID}\naws_secret_access_key = ${keys.AWS_SECRET_ACCESS_KEY}\naws_session_token = ${keys.AWS_SESSION_TOKEN}\n`);
    const before = world.server.requests.length;
    const r = await run([...BASE, '--profile', 'dev-admin', '--yes'], { AWS_ENDPOINT_URL: world.server.url, AWS_SHARED_CREDENTIALS_FILE: file, AWS_CONFIG_FILE: path.join(cwd, 'no-config'), HOME: cwd });
    expect(r.out).toContain('unchanged (nothing to do)');
    expect(r.code).toBe(0);
    expect(world.server.requests.slice(before).every((q) => String(q.headers.authorization).includes(keys.AWS_ACCESS_KEY_ID))).toBe(true);
  });

  it('keeps the current values of parameters an update leaves out', async () => {
    const r = await run(['bootstrap', '--environment', 'dev', '--region', 'us-east-1', '--repository', 'acme/models', '--project', 'acme-llm', '--parameter', 'PromotionEnvironments=staging,prod', '--yes']);
    expect(r.out).toContain('updated.');
    expect(r.code).toBe(0);
    expect(stack()?.parameters).toMatchObject({ Repository: 'acme/models', Project: 'acme-llm', PromotionEnvironments: 'staging,prod' });
  });

  // Only reads before a refusal: nothing in AWS may change.
  const changing = (from: number) => world.server.requests.slice(from).map((q) => q.operation).filter((op) => !/^(GetCallerIdentity|DescribeStacks|ListStacks)$/.test(op));

  it("refuses another project under an environment name in use here: it would take over that project's roles", async () => {
    const before = world.server.requests.length;
    const r = await run(['bootstrap', '--environment', 'dev', '--repository', 'acme/billing', '--project', 'billing', '--region', 'us-east-1', '--yes']);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('stack model-deploy-bootstrap-dev already serves project acme-llm (repository acme/models): bootstrapping project billing as environment dev would hand its roles');
    expect(r.out).toContain('--environment billing-dev');
    expect(world.server.requests.slice(before).map((q) => q.operation)).toContain('ListStacks');
    expect(changing(before)).toEqual([]);
    expect(stack()?.parameters).toMatchObject({ Repository: 'acme/models', Project: 'acme-llm' });
  });

  it("refuses a project whose name starts another's (acme, acme-llm): acme's grants on acme-* would reach acme-llm's untagged log groups", async () => {
    const before = world.server.requests.length;
    const r = await run(['bootstrap', '--environment', 'prod', '--repository', 'acme/platform', '--project', 'acme', '--region', 'us-east-1', '--yes']);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('project acme overlaps project acme-llm (stack model-deploy-bootstrap-dev)');
    expect(r.out).toContain('/aws/sagemaker/Endpoints/acme-llm-');
    expect(changing(before)).toEqual([]);
    expect(world.stacks.find((s) => s.name === 'model-deploy-bootstrap-prod')).toBeUndefined();
  });

  it('a project with a name and environment of its own bootstraps beside it', async () => {
    const r = await run(['bootstrap', '--environment', 'billing-dev', '--repository', 'acme/billing', '--project', 'billing', '--region', 'us-east-1', '--yes']);
    expect(r.out).toContain('Stack model-deploy-bootstrap-billing-dev (111111111111, us-east-1): created.');
    expect(r.code).toBe(0);
  });

  it("a repository GitHub does not know (or a private one without GH_TOKEN): refused with what to pass, before any change", async () => {
    const before = world.server.requests.length;
    const r = await run(['bootstrap', '--environment', 'qa', '--repository', 'acme/missing', '--project', 'qa-models', '--region', 'us-east-1', '--yes']);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('could not read the ids of acme/missing from GitHub: GitHub answers 404');
    expect(r.out).toContain('--parameter RepositoryOwnerId=ID --parameter RepositoryId=ID');
    expect(changing(before)).toEqual([]);
  });

  it("the template's Rules are checked before the change set: the ids given only in part are refused", async () => {
    const before = world.server.requests.length;
    const r = await run(['bootstrap', '--environment', 'qa', '--repository', 'acme/platform', '--project', 'qa-models', '--region', 'us-east-1', '--parameter', 'RepositoryOwnerId=123456', '--parameter', 'RepositoryId=', '--yes']);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("the bootstrap template's rule ImmutableIdsGiven is not met");
    expect(changing(before)).toEqual([]);
  });

  it('never prints a credential', () => {
    const secrets = world.secretValues;
    expect(secrets.length).toBeGreaterThan(0);
    expect(printed.length).toBeGreaterThan(5);
    for (const text of printed) for (const secret of secrets) expect(text).not.toContain(secret);
  });
});
