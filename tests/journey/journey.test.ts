/**
 * The user's journey through the workflow files themselves (issue 13): build → deploy dev → rotate →
 * promote → deploy prod → destroy, on the bundled example spec, each job run as the runner runs it
 * (tests/journey/runner.ts) against one stateful fake AWS (tests/support/fake-aws/world.ts). Nothing here
 * restates what a step receives: inputs come from the workflows' expressions and the previous steps'
 * real outputs, so a missing `with:` or a wrong output name shows up where the user would see it.
 * Runs the bundles in dist/ like the process tests: after changing src/, `npm run build` first.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from '../support/bundle';
import { Loopback, RecordedRequest, Reply, startLoopback } from '../support/loopback';
import { callerInputs, GITHUB_TOKEN, JobRecord, runJob, StepRecord, stopEvaluations } from './runner';
import { World } from '../support/fake-aws/world';
import { HOSTNAME, Serving, startServing } from './serving';
import type { Stack } from '../support/fake-aws/cloudformation';
import { parseTemplateBody } from '../support/cloudformation/template';
import { bootstrap } from './bootstrap';
import { REPOSITORY } from '../support/fake-aws/github-oidc';


const ROLES = {
  dev: 'arn:aws:iam::111111111111:role/model-deploy-dev',
  staging: 'arn:aws:iam::222222222222:role/model-deploy-staging',
  prod: 'arn:aws:iam::333333333333:role/model-deploy-prod',
};
const DEV = '111111111111';
const PROD = '333333333333';

const world = new World();
let github: Loopback;
let serving: Serving;
let workspace: string;
const jobs: Record<string, JobRecord> = {};
const timings: Record<string, number> = {};
/** Each stack's status after each job (account/region/name -> status). */
const statusAfter: Record<string, Record<string, string>> = {};
/** world.changeSets.length when each job started: what a job created is the slice after it. */
const changeSetMark: Record<string, number> = {};

function githubWorld(req: RecordedRequest): Reply | undefined {
  if (req.headers.authorization !== `token ${GITHUB_TOKEN}`) return { status: 401, body: { message: 'Bad credentials' } };
  if (req.method === 'POST' && req.path === '/repos/acme/models/deployments') return { status: 201, body: { id: 7, environment: (req.params as { environment: string }).environment } };
  if (req.method === 'POST' && req.path === '/repos/acme/models/deployments/7/statuses') return { status: 201, body: { id: 1, state: (req.params as { state: string }).state } };
  return undefined;
}

async function job(key: string, workflow: string, jobId: string, inputs: Record<string, string | boolean>, matrix?: Record<string, string>, event?: 'schedule', needs?: Record<string, { outputs: Record<string, string>; result: string }>, ref?: string): Promise<JobRecord> {
  // The runner gives each job with id-token: write a token request URL for its own claims (runner.ts). The
  // bundles trust the front's certificate and resolve the endpoint's hostname to it (dns-hook.js).
  const env = {
    NODE_EXTRA_CA_CERTS: serving.caFile,
    NODE_OPTIONS: `--require ${path.join(__dirname, 'dns-hook.js')}`,
    MD_JOURNEY_HOSTS: JSON.stringify({ [HOSTNAME]: serving.address }),
  };
  changeSetMark[key] = world.changeSets.length;
  const record = await runJob({ workflow, job: jobId, inputs, matrix, workspace, world, githubApi: github.url, env, event, needs, ref });
  jobs[key] = record;
  timings[key] = record.ms;
  statusAfter[key] = Object.fromEntries(world.stacks.map((s) => [`${s.account}/${s.region}/${s.name}`, s.status]));
  return record;
}

const step = (j: JobRecord | undefined, name: string): StepRecord => {
  const s = j?.steps.find((x) => x.name === name);
  if (!s) throw new Error(`no step "${name}" in ${j?.workflow ?? 'a job that did not run'}: ${j?.steps.map((x) => x.name).join(', ')}`);
  return s;
};

/** Why a step failed, for assertion messages. */
const why = (s: StepRecord) => (s.outcome === 'failure' ? s.all.split('\n').filter((l) => /::error|Error/.test(l)).join('\n') : '');

/** The newest stack of that name (destroyed ones keep their last resources). */
function liveStack(account: string, name: string, region?: string): Stack {
  // Stacks of one name live in each region of a deployment: a region narrows it to one.
  const s = [...world.stacks].reverse().find((x) => x.account === account && x.name === name && (!region || x.region === region));
  if (!s) throw new Error(`no stack ${name} in ${account}: ${world.stacks.map((x) => `${x.account}/${x.name}:${x.status}`).join(', ')}`);
  return s;
}

/** The CreateChangeSet requests a stack received, with the template they carried. */
function changeSets(account: string, stackName: string) {
  return world.changeSets.filter(({ stack }) => stack.account === account && stack.name === stackName);
}

const roles = JSON.stringify(ROLES);
/** Issue 20.1: what the simulated dev job changed after the plan. */
const tampered: { pushed?: string; key?: string; feature?: string } = {};
const original: { image?: string; object?: import('../support/fake-aws/ecr-s3-sts').S3Obj } = {};

/** Undoes the dev job's writes: the planned tag and object as main's build left them. */
function restoreTampered(): void {
  const plan = JSON.parse(jobs['promote prod tampered (plan)']?.outputs.plan ?? '{}') as { image?: { repositoryName: string; tag: string }; weights?: { bucket: string } };
  if (!plan.image || !plan.weights || !original.image || !original.object || !tampered.key) return;
  world.ecr.repo(DEV, 'us-east-1', plan.image.repositoryName).tags.set(plan.image.tag, original.image);
  world.ecr.buckets.get(plan.weights.bucket)!.set(tampered.key, original.object);
}
/** The bootstrap's ProvenanceRecorderRoleArn of dev (the source environment), as the repository variable holds it. */
const RECORDER_ROLES = { dev: `arn:aws:iam::${DEV}:role/acme-llm.dev.provenance-recorder` };
const vars = { MODEL_DEPLOY_ROLES: roles, MODEL_DEPLOY_RECORDER_ROLES: JSON.stringify(RECORDER_ROLES) };
/** The inputs each documented caller passed to its reusable workflow. */
const callerWith: Record<string, Record<string, string | boolean>> = {};
const callerErrors: string[] = [];

/** The caller workflow of docs/getting-started.md named `name`, written into the user's repository. */
function docsCaller(name: string): string {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'getting-started.md'), 'utf8');
  const block = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => b.startsWith(`name: ${name}\n`));
  if (!block) throw new Error(`docs/getting-started.md has no caller workflow "${name}"`);
  const file = path.join(workspace, '.github', 'workflows', `${name.replace(/\W+/g, '-')}.yml`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, block);
  return file;
}

/** Runs the reusable workflow a documented caller calls, with the inputs the caller's `with:` evaluates to. */
async function viaCaller(key: string, name: string, jobId: string, callerInputsContext: Record<string, string>, matrix?: Record<string, string>): Promise<JobRecord> {
  const call = await callerInputs(docsCaller(name), jobId, { vars, inputs: callerInputsContext });
  callerErrors.push(...call.errors);
  callerWith[key] = call.inputs;
  if (call.workflow === 'promote.yml') return promoteRun(key, call.inputs, matrix ?? {});
  const calledJob = { 'build-and-deploy.yml': 'deploy', 'rotate-key.yml': 'rotate', 'destroy.yml': 'destroy' }[call.workflow] ?? '';
  const ran = await job(key, call.workflow, calledJob, call.inputs, matrix);
  // build-and-deploy.yml's record job (needs: deploy), as GitHub runs it after a successful deploy job.
  if (call.workflow === 'build-and-deploy.yml' && ran.status === 'success') await recordRun(`${key} (record)`, call.inputs, ran.outputs);
  return ran;
}

/** build-and-deploy.yml's record job after a deploy job with these outputs, on `ref` (github.ref). */
function recordRun(key: string, inputs: Record<string, string | boolean>, deployOutputs: Record<string, string>, ref?: string): Promise<JobRecord> {
  return job(key, 'build-and-deploy.yml', 'record', inputs, undefined, undefined, { deploy: { outputs: deployOutputs, result: 'success' } }, ref);
}

/**
 * promote.yml as GitHub runs it (issue 20.1): the plan job, then (after the approval) the target's promote job
 * with the plan job's outputs in `needs`. `meanwhile` is what happens between the two: a dev job's writes. The
 * promote job does not run when the plan job failed (needs), as on GitHub.
 */
async function promoteRun(key: string, inputs: Record<string, string | boolean>, matrix: Record<string, string>, meanwhile?: () => void, plan?: JobRecord): Promise<JobRecord> {
  const planned = plan ?? (await job(`${key} (plan)`, 'promote.yml', 'plan', inputs));
  meanwhile?.();
  if (planned.status !== 'success') return (jobs[key] = { ...planned, job: 'promote', status: 'skipped', steps: [] });
  return job(key, 'promote.yml', 'promote', inputs, matrix, undefined, { plan: { outputs: planned.outputs, result: 'success' } });
}

// The bound is not a timing check: the jobs take 10 s on an idle machine and over 90 s on a loaded one.
beforeAll(async () => {
  await world.start();
  github = await startLoopback(githubWorld);
  serving = await startServing();
  world.onServiceRestart = (keys) => serving.restart(keys);
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'md-journey-ws-'));
  fs.copyFileSync(path.join(ROOT, 'examples', 'model-deploy.yml'), path.join(workspace, 'model-deploy.yml'));
  // Each account bootstrapped as documented: every role a job assumes below is a bootstrap stack's, trusted as its policy says.
  await bootstrap(world);
  const t0 = Date.now();
  // As docs/getting-started.md tells the user to call it (vars.MODEL_DEPLOY_ROLES, no aws-region variable).
  await viaCaller('build-and-deploy dev', 'model deploy', 'dev', {});
  await job('build-and-deploy ecs dev', 'build-and-deploy.yml', 'deploy', { environment: 'dev', deployment: 'code-assistant', roles });
  await job('rotate dev', 'rotate-key.yml', 'rotate', { environment: 'dev', deployment: 'code-assistant', roles });
  // The hourly run the documented caller makes (refresh-only); a grace given by mistake must not reach it.
  await job('refresh dev', 'rotate-key.yml', 'rotate', { environment: 'dev', deployment: 'code-assistant', roles, 'refresh-only': true, 'grace-period-hours': '1' });
  const prodInputs = { targets: '["prod"]', deployment: 'qwen-chat', region: 'us-east-1', roles };
  // Issue 20.1: a dev job writes between the plan and the approved job: the promotion must refuse, naming both.
  await promoteRun('promote prod tampered', prodInputs, { target: 'prod' }, () => {
    const planJob = jobs['promote prod tampered (plan)'];
    if (!planJob.outputs.plan) throw new Error(`the plan job made no plan: ${planJob.errors.join('; ')} ${planJob.steps.map((x) => `${x.name}:${x.outcome} ${why(x)}`).join('\n')}`);
    const plan = JSON.parse(planJob.outputs.plan) as { image?: { repositoryName: string; tag: string }; weights?: { bucket: string; objects: { key: string }[] } };
    original.image = world.ecr.repo(DEV, 'us-east-1', plan.image!.repositoryName).tags.get(plan.image!.tag);
    tampered.pushed = world.ecr.pushImage(DEV, 'us-east-1', plan.image!.repositoryName, plan.image!.tag, [Buffer.from('a dev branch image')]);
    tampered.key = plan.weights!.objects[plan.weights!.objects.length - 1]!.key;
    const o = world.ecr.buckets.get(plan.weights!.bucket)!.get(tampered.key)!;
    original.object = { ...o };
    world.ecr.putObject(plan.weights!.bucket, tampered.key, o.size + 1);
  });
  // The dev job's writes undone (main builds again): the same promotion goes through.
  restoreTampered();
  // A digest no protected ref built: a feature branch's build of dev, whose record job does not run.
  const feature = world.ecr.pushImage(DEV, 'us-east-1', 'acme-llm/qwen-chat', 'feature-1', [Buffer.from('feature branch image')]);
  tampered.feature = feature;
  const featureDeploy = { ...jobs['build-and-deploy dev'].outputs, 'image-uri': `${DEV}.dkr.ecr.us-east-1.amazonaws.com/acme-llm/qwen-chat:feature-1`, 'image-digest': feature };
  await recordRun('build-and-deploy dev feature (record)', callerWith['build-and-deploy dev'], featureDeploy, 'refs/heads/feature');
  await promoteRun('promote prod feature image', { ...prodInputs, 'image-uri': `${DEV}.dkr.ecr.us-east-1.amazonaws.com/acme-llm/qwen-chat:feature-1@${feature}` }, { target: 'prod' });
  // The approved job given a plan the plan job never made (a digest no protected ref built): it checks itself.
  const fixed = JSON.parse(jobs['promote prod tampered (plan)'].outputs.plan ?? '{}') as Record<string, unknown>;
  const forged = { ...fixed, image: { repositoryName: 'acme-llm/qwen-chat', tag: 'feature-1', digest: feature }, provenance: undefined };
  await job('promote prod forged plan', 'promote.yml', 'promote', prodInputs, { target: 'prod' }, undefined, { plan: { outputs: { plan: JSON.stringify(forged) }, result: 'success' } });
  await promoteRun('promote prod', prodInputs, { target: 'prod' });
  // The documented promotion: staging then prod (the matrix, max-parallel 1), every region of each.
  await viaCaller('promote staging', 'model promote', 'promote', { deployment: 'qwen-chat' }, { target: 'staging' });
  await viaCaller('promote prod all regions', 'model promote', 'promote', { deployment: 'qwen-chat' }, { target: 'prod' });
  await job('rotate on schedule', 'rotate-key.yml', 'rotate', {}, undefined, 'schedule');
  await job('destroy dev unconfirmed', 'destroy.yml', 'destroy', { environment: 'dev', deployment: 'qwen-chat', confirm: 'acme-llm-qwen-chat', roles });
  await job('destroy dev', 'destroy.yml', 'destroy', { environment: 'dev', deployment: 'qwen-chat', confirm: 'acme-llm-qwen-chat-dev', roles });
  // Issue 20: a dev job that names another environment's role (its caller's role-to-assume, or a roles map that
  // sends dev to staging's account) must get nothing: STS decides with the bootstrap's trust policies.
  await job('attack: dev job assumes the prod deploy role', 'build-and-deploy.yml', 'deploy', { environment: 'dev', deployment: 'qwen-chat', roles, 'role-to-assume': ROLES.prod });
  await job('attack: dev job assumes the staging promotion role', 'promote.yml', 'promote', { targets: '["dev"]', deployment: 'qwen-chat', region: 'us-east-1', roles: JSON.stringify({ dev: ROLES.staging }) }, { target: 'dev' }, undefined, { plan: { outputs: { plan: '{}' }, result: 'success' } });
  timings.total = Date.now() - t0;
  if (process.env.JOURNEY_DEBUG) {
    for (const [k, j] of Object.entries(jobs)) for (const s of j.steps) console.log(k, s.name, s.outcome, JSON.stringify(s.inputs), JSON.stringify(s.outputs), s.all.slice(0, 3000));
  }
}, 600_000);

afterAll(async () => {
  await world.server?.close();
  await github?.close();
  await serving?.close();
  stopEvaluations();
  // The actions checkout is a symlink to this repository: unlink it before removing the workspace.
  if (workspace) {
    fs.rmSync(path.join(workspace, '.model-deploy-actions'), { force: true });
    fs.rmSync(workspace, { recursive: true, force: true });
  }
   
  console.log(`journey timings (ms): ${JSON.stringify(timings)}`);
});

describe('build-and-deploy.yml (qwen-chat → dev)', () => {
  it('the documented callers evaluate cleanly and call our workflows', () => {
    expect(callerErrors).toEqual([]);
    expect(jobs['build-and-deploy dev'].workflow).toBe('build-and-deploy.yml');
    expect(jobs['promote prod all regions'].workflow).toBe('promote.yml');
  });

  it('evaluates cleanly and runs every step', () => {
    const j = jobs['build-and-deploy dev'];
    expect(j.errors).toEqual([]);
    expect(j.environment).toBe('dev');
    expect(j.steps.map((s) => `${s.name}:${s.outcome}`)).toEqual([
      'Check out the repository:success', 'Locate model-deploy-actions:success', 'Check out model-deploy-actions at this workflow\'s commit:success',
      'Check the role:success', 'AWS credentials (OIDC):success', 'Build the serving image:success', 'Deploy the endpoint:success',
    ]);
    expect(j.status).toBe('success');
  });

  it('builds in the dev account and deploys exactly what it built', () => {
    const j = jobs['build-and-deploy dev'];
    const build = step(j, 'Build the serving image');
    expect(why(build)).toBe('');
    expect(world.builds.filter((b) => b.env.IMAGE_REPO_URI.endsWith('/qwen-chat')).map((b) => b.account)).toEqual([DEV]);
    const image = build.outputs['image-uri'];
    expect(image).toMatch(new RegExp(`^${DEV}\\.dkr\\.ecr\\.us-east-1\\.amazonaws\\.com/acme-llm/qwen-chat:md-[0-9a-f]{40}$`));
    const deploy = step(j, 'Deploy the endpoint');
    expect(deploy.inputs['image-uri']).toBe(image);
    expect(deploy.inputs['model-data-url']).toBe(build.outputs['model-data-url']);
    const stack = liveStack(DEV, 'acme-llm-qwen-chat-dev');
    const model = stack.resources.find((r) => r.type === 'AWS::SageMaker::Model')!;
    expect(JSON.stringify(model.properties)).toContain(image);
    expect(JSON.stringify(model.properties)).toContain(build.outputs['model-data-url']);
    expect(JSON.stringify(stack.parameters)).not.toMatch(/\{\{[^}]*\}\}/);
    expect(j.outputs['image-uri']).toBe(image);
    expect(j.outputs['endpoint-url']).toBe(deploy.outputs['endpoint-url']);
    expect(world.invocations.filter((x) => x.account === DEV)).toHaveLength(1);
  });
});

describe('build-and-deploy.yml (code-assistant on ECS → dev)', () => {
  it('builds and deploys the ECS service with its API-key secret', () => {
    const j = jobs['build-and-deploy ecs dev'];
    expect(j.errors).toEqual([]);
    const deploy = step(j, 'Deploy the endpoint');
    expect(why(deploy)).toBe('');
    expect(j.status).toBe('success');
    const image = step(j, 'Build the serving image').outputs['image-uri'];
    expect(deploy.inputs['image-uri']).toBe(image);
    const task = liveStack(DEV, 'acme-llm-code-assistant-dev').resources.find((r) => r.type === 'AWS::ECS::TaskDefinition')!;
    expect(JSON.stringify(task.properties)).toContain(image);
    expect(JSON.stringify(task.properties)).toContain(world.secrets.arn);
    expect(world.secrets.tags).toMatchObject({ 'model-deploy:deployment': 'code-assistant' });
  });

  // 13.4 (fixed): EndpointUrl is https://<security.hostname>, the name the certificate covers, not the load
  // balancer's DNS name; the smoke test and the key test reach the endpoint under that name (dns-hook.js).
  it('outputs an endpoint URL whose host the certificate names', () => {
    const url = new URL(jobs['build-and-deploy ecs dev'].outputs['endpoint-url']);
    expect(url.protocol).toBe('https:');
    expect(url.host).toBe(HOSTNAME);
  });
});

describe('rotate-key.yml (code-assistant in dev)', () => {
  it('rotates: the new key is current, the old one previous, both served through the grace period', () => {
    const j = jobs['rotate dev'];
    expect(j.errors).toEqual([]);
    const rotate = step(j, 'Rotate the API key');
    expect(why(rotate)).toBe('');
    expect(j.status).toBe('success');
    expect(j.outputs).toEqual({ rotated: 'true', 'secret-arn': world.secrets.arn });
    const current = world.secrets.keyOf('AWSCURRENT');
    const previous = world.secrets.keyOf('AWSPREVIOUS');
    expect(current).toBeDefined();
    expect(previous).toBeDefined();
    expect(current).not.toBe(previous);
    expect(world.secrets.served.sort()).toEqual([current, previous].sort());
  });

  it('its key test reached the engine through TLS and the real gateway with one Content-Length (defect 13.3)', () => {
    const posts = serving.engine.filter((r) => r.method === 'POST');
    expect(posts.length).toBeGreaterThanOrEqual(2);
    for (const r of posts) expect(r.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === 'content-length')).toHaveLength(1);
    for (const r of serving.engine) expect(r.headers.authorization).toBeUndefined();
    expect(serving.engineStatuses.filter((x) => x !== 200)).toEqual([]);
  });

  it('the engine is strict: two Content-Length headers get 400 (so the check above can fail)', async () => {
    const before = serving.engineStatuses.length;
    const reply = await new Promise<string>((resolve, reject) => {
      const s = net.connect(serving.enginePort, '127.0.0.1', () =>
        s.write('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\n{}'));
      let data = '';
      s.on('data', (d) => (data += d.toString()));
      s.on('end', () => resolve(data));
      s.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    serving.engineStatuses.splice(before);
  });

  // 13.4 (fixed): the workflow passes endpoint-url through, so the caller can name the certificate's host.
  it('lets the caller pass the endpoint URL the key test probes', () => {
    expect(Object.keys(step(jobs['rotate dev'], 'Rotate the API key').inputs)).toContain('endpoint-url');
  });
});

describe('rotate-key.yml hourly refresh (issue 12.7)', () => {
  it('runs refresh-only with the grace unset: no new key, both keys still served inside the grace period', () => {
    const j = jobs['refresh dev'];
    expect(j.errors).toEqual([]);
    const refresh = step(j, 'Rotate the API key');
    expect(why(refresh)).toBe('');
    expect(refresh.inputs).toMatchObject({ 'refresh-only': 'true', 'grace-period-hours': '' });
    expect(j.outputs.rotated).toBe('false');
    expect(world.secrets.served).toHaveLength(2);
  });

  it('is scheduled hourly beside the weekly rotation, the refresh chosen by the hourly cron', () => {
    const text = fs.readFileSync(path.join(ROOT, '.github', 'workflows', 'rotate-key.yml'), 'utf8');
    expect(text).toContain("- cron: '17 3 * * 1'");
    expect(text).toContain("- cron: '17 * * * *'");
    expect(text).toContain("refresh-only: ${{ inputs.refresh-only || github.event.schedule == '17 * * * *' }}");
  });
});

describe('promote.yml (qwen-chat dev → prod, us-east-1)', () => {
  it('promotes the image built in dev into the prod account', () => {
    const j = jobs['promote prod'];
    expect(j.errors).toEqual([]);
    const promote = step(j, 'Promote the model');
    expect(why(promote)).toBe('');
    expect(promote.outcome).toBe('success');
    const built = step(jobs['build-and-deploy dev'], 'Build the serving image').outputs;
    expect(promote.outputs.digest).toBe(built['image-digest']);
    expect(JSON.parse(promote.outputs['image-uris'])).toEqual({ 'us-east-1': `${PROD}.dkr.ecr.us-east-1.amazonaws.com/acme-llm/qwen-chat@${built['image-digest']}` });
  });

  it('deploys prod from the promoted image', () => {
    const j = jobs['promote prod'];
    const deploy = step(j, 'Deploy the endpoint');
    expect(why(deploy)).toBe('');
    const promoted = JSON.parse(step(j, 'Promote the model').outputs['image-uris'])['us-east-1'];
    expect(deploy.inputs['image-uri']).toBe(promoted);
    const { cs } = changeSets(PROD, 'acme-llm-qwen-chat-prod')[0];
    expect(JSON.stringify(cs.parameters)).toContain(promoted);
  });

  // Defect 13.1 (src/promote/promote.ts, .github/workflows/promote.yml): the Hugging Face weights the dev
  // build put in S3 are never promoted, so the prod deploy gets no model-data-url; with 13.2 (deploy
  // accepts placeholders, src/deploy/render.ts) it deploys `{{build-model.outputs.model-data-url}}`.
  it('prod runs on promoted weights in the prod account, with no placeholder left', () => {
    const deploy = step(jobs['promote prod'], 'Deploy the endpoint');
    const { cs } = changeSets(PROD, 'acme-llm-qwen-chat-prod')[0];
    const rendered = `${cs.templateBody}\n${JSON.stringify(cs.parameters)}`;
    expect(rendered).not.toMatch(/\{\{[^}]*\}\}/);
    expect(deploy.inputs['model-data-url']).toMatch(new RegExp(`^s3://model-deploy-${PROD}-us-east-1/`));
    const model = liveStack(PROD, 'acme-llm-qwen-chat-prod', 'us-east-1').resources.find((r) => r.type === 'AWS::SageMaker::Model')!;
    expect(JSON.stringify(model.properties)).toContain(deploy.inputs['model-data-url']);
  });

  it('hands deploy the promoted weights object by object, for it to pin (issue 12.2)', () => {
    const j = jobs['promote prod'];
    const versions = step(j, 'Promote the model').outputs['model-data-versions'];
    expect(step(j, 'Deploy the endpoint').inputs['model-data-versions']).toBe(versions);
    const prefix = step(j, 'Deploy the endpoint').inputs['model-data-url'].replace(/^s3:\/\/[^/]+\//, '');
    const keys = Object.keys((JSON.parse(versions) as Record<string, Record<string, unknown>>)['us-east-1'] ?? {});
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key.startsWith(prefix)).toBe(true);
  });
});

describe('promote.yml: the approval decides what reaches prod (issue 20.1)', () => {
  const promotedInProd = (digest: string | undefined) =>
    ['us-east-1', 'eu-west-1'].some((r) => Boolean(digest && world.ecr.registries.get(`${PROD}/${r}`)?.get('acme-llm/qwen-chat')?.manifests.has(digest)));

  it("main's build is recorded by build-and-deploy.yml's record job, with no environment, as the recorder role", () => {
    const j = jobs['build-and-deploy dev (record)'];
    expect(j.errors).toEqual([]);
    expect(j.status).toBe('success');
    // No environment: the job's OIDC subject is repo:OWNER/REPO:ref:refs/heads/main, the one the recorder trusts.
    expect(j.environment).toBeUndefined();
    expect(step(j, 'AWS credentials (OIDC, the recorder role)').inputs['role-to-assume']).toBe(RECORDER_ROLES.dev);
    const s = step(j, "Record the build's provenance");
    expect(why(s)).toBe('');
    const built = step(jobs['build-and-deploy dev'], 'Build the serving image').outputs;
    expect(s.inputs).toMatchObject({ mode: 'record', 'source-environment': 'dev', 'image-uri': `${built['image-uri']}@${built['image-digest']}` });
    const url = s.outputs['provenance-record'];
    expect(url).toBe(`s3://model-deploy-${DEV}-us-east-1/model-deploy-provenance/acme-llm/qwen-chat/${built['image-digest'].replace('sha256:', '')}.json`);
    expect(j.outputs['provenance-record']).toBe(url);
    const written = JSON.parse(world.bodies.get(url)!.toString('utf8')) as { ref: string; image: { digest: string }; weights: { objects: unknown[] } };
    expect(written).toMatchObject({ ref: 'refs/heads/main', image: { digest: built['image-digest'] } });
    expect(written.weights.objects.length).toBeGreaterThan(0);
  });

  it('a build of a feature branch writes no record: the record job does not run', () => {
    expect(jobs['build-and-deploy dev feature (record)'].status).toBe('skipped');
    expect(jobs['build-and-deploy dev feature (record)'].steps).toEqual([]);
    const records = [...world.ecr.buckets.get(`model-deploy-${DEV}-us-east-1`)!.keys()].filter((k) => k.startsWith('model-deploy-provenance/'));
    expect(records.some((k) => k.includes(tampered.feature!.replace('sha256:', '')))).toBe(false);
  });

  it('the plan job fixes the digest and every weight object, and shows them in the run summary before any approval', () => {
    const j = jobs['promote prod (plan)'];
    expect(j.errors).toEqual([]);
    expect(j.environment).toBe('dev');
    const s = step(j, 'Plan the promotion');
    expect(why(s)).toBe('');
    const plan = JSON.parse(j.outputs.plan) as { image: { digest: string }; weights: { objects: { key: string; etag: string }[] }; provenance: { ref: string } };
    const built = step(jobs['build-and-deploy dev'], 'Build the serving image').outputs;
    expect(plan.image.digest).toBe(built['image-digest']);
    expect(plan.provenance.ref).toBe('refs/heads/main');
    expect(plan.weights.objects.length).toBeGreaterThan(0);
    expect(s.bundle?.summary).toContain(built['image-digest']);
    for (const o of plan.weights.objects) expect(s.bundle?.summary).toContain(o.etag.replace(/"/g, ''));
    // The approved job promoted exactly it.
    expect(step(jobs['promote prod'], 'Promote the model').inputs.plan).toBe(j.outputs.plan);
  });

  it('an image pushed and an object overwritten by a dev job after the plan was fixed are not promoted: the run fails naming both', () => {
    const j = jobs['promote prod tampered'];
    const s = step(j, 'Promote the model');
    expect(s.outcome).toBe('failure');
    expect(s.all).toContain(`acme-llm/qwen-chat:${JSON.parse(jobs['promote prod tampered (plan)'].outputs.plan).image.tag} now points at ${tampered.pushed}`);
    expect(s.all).toMatch(/Source changed since approval|The source changed after the plan was fixed/);
    expect(s.all).toContain(`${tampered.key} `);
    expect(step(j, 'Deploy the endpoint').outcome).toBe('skipped');
    expect(promotedInProd(tampered.pushed)).toBe(false);
  });

  it('a plan with a digest not built from the protected ref is refused: by the plan job, and by the approved job given a forged plan', () => {
    const planned = step(jobs['promote prod feature image (plan)'], 'Plan the promotion');
    expect(planned.outcome).toBe('failure');
    expect(planned.all).toContain(`acme-llm/qwen-chat@${tampered.feature} has no provenance record`);
    expect(jobs['promote prod feature image'].status).toBe('skipped');
    const forged = step(jobs['promote prod forged plan'], 'Promote the model');
    expect(forged.outcome).toBe('failure');
    expect(forged.all).toContain(`acme-llm/qwen-chat@${tampered.feature} has no provenance record`);
    expect(promotedInProd(tampered.feature)).toBe(false);
  });
});

describe('promote.yml as documented (qwen-chat dev → staging → prod, every region)', () => {
  it('promotes to staging and deploys the promoted image there', () => {
    const j = jobs['promote staging'];
    expect(j.errors).toEqual([]);
    expect(j.environment).toBe('staging');
    const promote = step(j, 'Promote the model');
    expect(why(promote)).toBe('');
    const uris = JSON.parse(promote.outputs['image-uris']) as Record<string, string>;
    expect(Object.keys(uris)).toEqual(['us-east-1']);
    expect(uris['us-east-1']).toMatch(/^222222222222\.dkr\.ecr\.us-east-1\.amazonaws\.com\/acme-llm\/qwen-chat@sha256:/);
    const deploy = step(j, 'Deploy the endpoint');
    expect(why(deploy)).toBe('');
    expect(deploy.inputs['image-uri']).toBe(uris['us-east-1']);
  });

  it('promotes the image to each region of prod', () => {
    const j = jobs['promote prod all regions'];
    expect(j.errors).toEqual([]);
    const promote = step(j, 'Promote the model');
    expect(why(promote)).toBe('');
    expect(Object.keys(JSON.parse(promote.outputs['image-uris'])).sort()).toEqual(['eu-west-1', 'us-east-1']);
  });

  it('picks what was promoted without a jq error, one region or several', () => {
    for (const key of ['promote prod', 'promote staging', 'promote prod all regions']) {
      const pick = step(jobs[key], 'Pick the promoted image');
      expect({ key, outcome: pick.outcome, all: pick.all.split('\n').filter((l) => /error|jq/i.test(l)) }).toEqual({ key, outcome: 'success', all: [] });
    }
    const all = step(jobs['promote prod all regions'], 'Pick the promoted image');
    expect(all.outputs['image-uri']).toBe('');
  });

  // With several regions promote.yml passes the per-region maps (image-uris, model-data-urls) from the promote step.
  it('deploys in each region the image promoted into that region', () => {
    const j = jobs['promote prod all regions'];
    const uris = JSON.parse(step(j, 'Promote the model').outputs['image-uris']) as Record<string, string>;
    const created = world.changeSets.slice(changeSetMark['promote prod all regions']);
    for (const [region, uri] of Object.entries(uris)) {
      const cs = created.find(({ stack }) => stack.region === region && stack.name === 'acme-llm-qwen-chat-prod');
      expect({ region, image: cs?.cs.parameters.ImageUri }).toEqual({ region, image: uri });
    }
  });
});

describe('rotate-key.yml on its weekly schedule', () => {
  it('skips the job where no roles are configured (its `if:`)', () => {
    expect(jobs['rotate on schedule'].status).toBe('skipped');
    expect(jobs['rotate on schedule'].steps).toEqual([]);
  });
});

describe('destroy.yml (qwen-chat in dev)', () => {
  // Issue 12 low (fixed): the preview is deploy-endpoint destroy-preview, which only reads.
  it('refuses a confirmation that is not the stack name: the delete step is skipped, the stack stays', () => {
    const j = jobs['destroy dev unconfirmed'];
    expect(j.status).toBe('failure');
    expect(step(j, 'Check the confirmation').outcome).toBe('failure');
    expect(step(j, 'Check the confirmation').all).toContain("::error title=Not confirmed::confirm must be exactly the stack name 'acme-llm-qwen-chat-dev'.");
    expect(step(j, 'Delete the stack').skipped).toBe(true);
    expect(statusAfter['destroy dev unconfirmed'][`${DEV}/us-east-1/acme-llm-qwen-chat-dev`]).toMatch(/^(CREATE|UPDATE)_COMPLETE$/);
  });

  // Issue 12 low (fixed): the preview is deploy-endpoint destroy-preview, which only reads.
  it('shows the stack, checks the confirmation and deletes it', () => {
    const j = jobs['destroy dev'];
    expect(j.errors).toEqual([]);
    expect(j.steps.map((s) => `${s.name}:${s.outcome}`)).toEqual(expect.arrayContaining([
      'Show the stack that would be deleted:success', 'Check the confirmation:success', 'Delete the stack:success',
    ]));
    expect(world.stacks.find((s) => s.account === DEV && s.name === 'acme-llm-qwen-chat-dev')!.status).toBe('DELETE_COMPLETE');
  });

  // Defect (.github/workflows/destroy.yml, step "Show the stack that would be deleted"): the preview runs
  // deploy-endpoint in mode create-only without image-uri/model-data-url, so it creates a real change set
  // md-<sha7> on the live stack that replaces the Model with `{{build-model.outputs.image-uri}}` (13.2), shows
  // the user "Replace Model" while they confirm a deletion, and takes the name an execute-only run of that
  // commit would execute. A preview should only describe the stack (or destroy should show what it deletes).
  it('the preview creates no change set on the stack it is about to delete', () => {
    const created = world.changeSets.slice(changeSetMark['destroy dev']).map(({ stack, cs }) => `${stack.name}: ${cs.name}`);
    expect(created).toEqual([]);
  });
});

describe('rendered templates', () => {
  const PARAMETER_PROPERTIES = new Set(['Type', 'Default', 'Description', 'AllowedValues', 'AllowedPattern', 'MinValue', 'MaxValue', 'MinLength', 'MaxLength', 'ConstraintDescription', 'NoEcho']);
  const invalid = () =>
    world.changeSets.flatMap(({ stack, cs }) => {
      const params = (parseTemplateBody(cs.templateBody).Parameters ?? {}) as Record<string, Record<string, unknown>>;
      return Object.entries(params).flatMap(([name, def]) => Object.keys(def).filter((k) => !PARAMETER_PROPERTIES.has(k)).map((k) => `${stack.name}: parameter ${name} has property "${k}"`));
    });

  it('the journey created change sets to check', () => {
    expect(world.changeSets.length).toBeGreaterThanOrEqual(3);
  });

  // Issue 4 (fixed): an unquoted flow-mapping Description with a comma became an extra parameter property.
  it('carry only parameter properties CloudFormation accepts', () => {
    expect(invalid()).toEqual([]);
  });
});

describe('placeholders', () => {
  it('the dev deploys rendered none', () => {
    const dev = world.changeSets.slice(0, changeSetMark['rotate dev']).filter(({ stack }) => stack.account === DEV);
    expect(dev.length).toBeGreaterThanOrEqual(2);
    for (const { cs } of dev) expect(`${cs.templateBody}${JSON.stringify(cs.parameters)}`).not.toMatch(/\{\{[^}]*\}\}/);
  });

  // Defects 13.1 and 13.2 (src/promote/promote.ts, src/deploy/render.ts, src/deploy/flow.ts) and the destroy
  // preview above: no change set anywhere in the journey may carry an unresolved `{{...}}` value.
  it('no change set of the whole journey carries an unresolved {{...}} value', () => {
    const offending = world.changeSets
      .filter(({ cs }) => /\{\{[^}]*\}\}/.test(`${cs.templateBody}${JSON.stringify(cs.parameters)}`))
      .map(({ stack, cs }) => `${stack.account}/${stack.name}/${cs.name}`);
    expect(offending).toEqual([]);
  });
});

describe('who gets into the roles: the bootstrap trust policies, as STS decides (issue 20)', () => {
  const [owner, name] = REPOSITORY.name.split('/');
  const SUBJECT = `repo:${owner}@${REPOSITORY.ownerId}/${name}@${REPOSITORY.id}`;
  const DENIED = 'Could not assume role with OIDC: Not authorized to perform sts:AssumeRoleWithWebIdentity';
  const attack = (key: string) => key.startsWith('attack: ');

  it("the roles the callers pass are the bootstrap stacks' outputs (what the CLI prints for the repository variables)", () => {
    const outputs = (account: string, environment: string) => liveStack(account, `model-deploy-bootstrap-${environment}`, 'us-east-1').outputs;
    expect(ROLES).toEqual({ dev: outputs(DEV, 'dev').RoleArn, staging: outputs('222222222222', 'staging').RoleArn, prod: outputs(PROD, 'prod').RoleArn });
    expect(RECORDER_ROLES.dev).toBe(outputs(DEV, 'dev').ProvenanceRecorderRoleArn);
    expect(outputs(PROD, 'prod').PromotionRoleArn).toBe(`arn:aws:iam::${PROD}:role/model-deploy-promotion`);
    expect(outputs(DEV, 'dev').PromotionSourceRoleArn).toBe(`arn:aws:iam::${DEV}:role/model-deploy-promotion-source-dev`);
  });

  it("a dev job naming prod's deploy role is refused: the credentials step fails with STS's message, nothing after it runs", () => {
    const j = jobs['attack: dev job assumes the prod deploy role'];
    expect(j.environment).toBe('dev');
    const s = step(j, 'AWS credentials (OIDC)');
    expect(s.inputs['role-to-assume']).toBe(ROLES.prod);
    expect(s.outcome).toBe('failure');
    expect(s.all).toContain(DENIED);
    expect(step(j, 'Build the serving image').skipped).toBe(true);
    expect(step(j, 'Deploy the endpoint').skipped).toBe(true);
  });

  it("a dev job given staging's promotion role is refused: nothing is promoted", () => {
    const j = jobs['attack: dev job assumes the staging promotion role'];
    expect(j.environment).toBe('dev');
    const s = step(j, "AWS credentials of the target's promotion role (OIDC)");
    expect(s.inputs['role-to-assume']).toBe('arn:aws:iam::222222222222:role/model-deploy-promotion');
    expect(s.outcome).toBe('failure');
    expect(s.all).toContain(DENIED);
    expect(step(j, 'Promote the model').skipped).toBe(true);
  });

  it('only those two were refused: every other credentials step of the journey assumed its role', () => {
    const refused = world.webIdentityCalls.filter((c) => c.decision !== 'Allowed').map((c) => `${c.role} <- ${c.sub}`);
    expect(refused).toEqual([`${ROLES.prod} <- ${SUBJECT}:environment:dev`, `arn:aws:iam::222222222222:role/model-deploy-promotion <- ${SUBJECT}:environment:dev`]);
    for (const [key, j] of Object.entries(jobs).filter(([k]) => !attack(k))) {
      for (const s of j.steps.filter((x) => x.uses?.startsWith('aws-actions/configure-aws-credentials@'))) {
        expect({ job: key, step: s.name, outcome: s.outcome, all: s.all }).toEqual({ job: key, step: s.name, outcome: s.skipped ? 'skipped' : 'success', all: '' });
      }
    }
  });

  it("twin: each role was assumed by the job it is for, and by that job's subject alone", () => {
    const allowed = new Set(world.webIdentityCalls.filter((c) => c.decision === 'Allowed').map((c) => `${c.role} <- ${c.sub}`));
    expect([...allowed].sort()).toEqual([
      `${ROLES.dev} <- ${SUBJECT}:environment:dev`,
      `${ROLES.staging} <- ${SUBJECT}:environment:staging`,
      `${ROLES.prod} <- ${SUBJECT}:environment:prod`,
      `${RECORDER_ROLES.dev} <- ${SUBJECT}:ref:refs/heads/main`,
      `arn:aws:iam::111111111111:role/model-deploy-promotion-source-dev <- ${SUBJECT}:environment:prod`,
      `arn:aws:iam::111111111111:role/model-deploy-promotion-source-dev <- ${SUBJECT}:environment:staging`,
      `arn:aws:iam::222222222222:role/model-deploy-promotion <- ${SUBJECT}:environment:staging`,
      `arn:aws:iam::333333333333:role/model-deploy-promotion <- ${SUBJECT}:environment:prod`,
    ].sort());
  });
});

describe('secrets', () => {
  it('no credential, session token or GitHub token appears in anything a step printed or wrote', () => {
    const secrets = [...world.secretValues, GITHUB_TOKEN, ...world.secrets.keys];
    expect(secrets.length).toBeGreaterThan(3);
    // The token really reached the bundles (they mask it), so its absence below means something.
    expect(step(jobs['build-and-deploy dev'], 'Deploy the endpoint').all).toContain(`::add-mask::${GITHUB_TOKEN}`);
    for (const j of Object.values(jobs)) {
      for (const s of j.steps) {
        const visible = s.all.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n');
        for (const secret of secrets) expect({ step: `${j.workflow}: ${s.name}`, leaked: visible.includes(secret) }).toEqual({ step: `${j.workflow}: ${s.name}`, leaked: false });
      }
    }
  });
});
