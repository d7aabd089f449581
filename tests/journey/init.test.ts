/**
 * A new user's first afternoon, through the files `model-deploy init` writes (issue 21.3): init (the built
 * CLI, flags only) → validate → the written callers evaluate with GitHub's own parser and call our
 * reusable workflows → the written deploy workflow's job runs as the runner runs it against the fake AWS
 * → `model-deploy status` sees the endpoint → the written destroy workflow deletes it → status says so.
 * Like the journey of the documented callers (./journey.test.ts), it runs the bundles in dist/.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli } from '../support/cli';
import { World } from '../support/fake-aws/world';
import { Loopback, RecordedRequest, Reply, startLoopback } from '../support/loopback';
import { bootstrap } from './bootstrap';
import { ACTIONS_REPOSITORY, ACTIONS_SHA, callerInputs, GITHUB_TOKEN, JobRecord, runJob, stopEvaluations } from './runner';

const DEV = '111111111111';
const ROLES = { dev: `arn:aws:iam::${DEV}:role/model-deploy-dev`, prod: 'arn:aws:iam::333333333333:role/model-deploy-prod' };
const vars = { MODEL_DEPLOY_ROLES: JSON.stringify(ROLES), MODEL_DEPLOY_AWS_REGION: 'us-east-1' };
const DEPLOYMENT = 'qwen2-5-1-5b-instruct';
const STACK = `acme-llm-${DEPLOYMENT}-dev`;

const world = new World();
let github: Loopback;
let workspace: string;
const runs: Record<string, { code: number | null; out: string; stdout: string }> = {};
const jobs: Record<string, JobRecord> = {};
const called: Record<string, { workflow: string; inputs: Record<string, string>; errors: string[] }> = {};

function githubWorld(req: RecordedRequest): Reply | undefined {
  if (req.headers.authorization !== `token ${GITHUB_TOKEN}`) return { status: 401, body: { message: 'Bad credentials' } };
  if (req.method === 'POST' && req.path === '/repos/acme/models/deployments') return { status: 201, body: { id: 7, environment: (req.params as { environment: string }).environment } };
  if (req.method === 'POST' && req.path === '/repos/acme/models/deployments/7/statuses') return { status: 201, body: { id: 1, state: (req.params as { state: string }).state } };
  return undefined;
}

/** The written caller `file`'s job `jobId`: the reusable workflow it calls and the inputs its `with:` evaluates to. */
async function caller(file: string, jobId: string, contexts: Record<string, Record<string, string>> = {}) {
  // The caller's matrix context goes with vars and inputs (the evaluator reads every context it is given).
  const call = await callerInputs(path.join(workspace, '.github', 'workflows', file), jobId, { vars, inputs: {}, ...contexts });
  called[file] = call;
  return call;
}

beforeAll(async () => {
  await world.start();
  github = await startLoopback(githubWorld);
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'md-init-journey-'));
  // The dev account bootstrapped as documented: the deploy and destroy jobs assume its model-deploy-dev.
  await bootstrap(world, ['dev']);
  const aws = { ...world.credentialsFor(DEV), AWS_ENDPOINT_URL: world.server.url, AWS_REGION: 'us-east-1' };
  runs.init = await runCli([
    'init', '--model', 'Qwen/Qwen2.5-1.5B-Instruct', '--revision', '989aa7980e4cf806f80c7fef2b1adb7bc71aa306', '--target', 'sagemaker-realtime', '--instance-type', 'ml.g5.xlarge',
    '--regions', 'us-east-1', '--accounts', `dev=${DEV},prod=333333333333`, '--project', 'acme-llm', '--actions-repository', ACTIONS_REPOSITORY, '--actions-ref', ACTIONS_SHA,
  ], {}, workspace);
  runs.validate = await runCli(['validate'], {}, workspace);
  for (const [file, jobId] of [['model-cost.yml', 'estimate'], ['model-cost-comment.yml', 'comment'], ['model-promote.yml', 'promote']] as const) await caller(file, jobId, { inputs: { deployment: DEPLOYMENT } });
  const deploy = await caller('model-deploy.yml', 'deploy', { matrix: { deployment: DEPLOYMENT } });
  jobs.deploy = await runJob({ workflow: deploy.workflow, job: 'deploy', inputs: deploy.inputs, workspace, world, githubApi: github.url });
  runs.status = await runCli(['status', '--environment', 'dev', '--json'], aws, workspace);
  const destroy = await caller('model-destroy.yml', 'destroy', { inputs: { environment: 'dev', deployment: DEPLOYMENT, confirm: STACK } });
  jobs.destroy = await runJob({ workflow: destroy.workflow, job: 'destroy', inputs: destroy.inputs, workspace, world, githubApi: github.url });
  runs.statusAfter = await runCli(['status', '--environment', 'dev', '--json'], aws, workspace);
}, 600_000);

afterAll(async () => {
  await world.server?.close();
  await github?.close();
  stopEvaluations();
  if (workspace) {
    fs.rmSync(path.join(workspace, '.model-deploy-actions'), { force: true });
    fs.rmSync(workspace, { recursive: true, force: true });
  }
});

const failed = (j: JobRecord) => j.steps.filter((s) => s.outcome === 'failure').map((s) => `${s.name}: ${s.all.split('\n').filter((l) => /::error|Error/.test(l)).join('\n')}`);

describe('init → validate → the written workflows', () => {
  it('init writes the spec and the workflows; validate accepts the spec', () => {
    expect(runs.init?.out).toContain('Wrote .github/workflows/model-deploy.yml');
    expect(runs.init?.code).toBe(0);
    expect(runs.validate?.stdout).toContain(`model-deploy.yml: valid, 1 deployment(s): ${DEPLOYMENT}`);
    expect(runs.validate?.code).toBe(0);
  });

  it('every written caller evaluates cleanly with GitHub\'s parser and calls our reusable workflow', () => {
    expect(Object.fromEntries(Object.entries(called).map(([file, c]) => [file, { workflow: c.workflow, errors: c.errors }]))).toEqual({
      'model-cost.yml': { workflow: 'cost-comment.yml', errors: [] },
      'model-cost-comment.yml': { workflow: 'cost-comment-post.yml', errors: [] },
      'model-promote.yml': { workflow: 'promote.yml', errors: [] },
      'model-deploy.yml': { workflow: 'build-and-deploy.yml', errors: [] },
      'model-destroy.yml': { workflow: 'destroy.yml', errors: [] },
    });
    // The roles come from the one variable.
    expect(called['model-deploy.yml']?.inputs).toMatchObject({ environment: 'dev', deployment: DEPLOYMENT, roles: vars.MODEL_DEPLOY_ROLES, 'aws-region': 'us-east-1' });
    expect(called['model-promote.yml']?.inputs).toMatchObject({ targets: '["prod"]', 'source-environment': 'dev', roles: vars.MODEL_DEPLOY_ROLES });
  });

  it('the written deploy workflow builds and deploys the deployment to dev', () => {
    const j = jobs.deploy!;
    expect(failed(j)).toEqual([]);
    expect(j.errors).toEqual([]);
    expect(j.environment).toBe('dev');
    expect(j.status).toBe('success');
    expect(world.stacks.filter((s) => s.account === DEV && s.name === STACK).map((s) => s.status)).toContain('DELETE_COMPLETE');
  });

  it('status from a workstation sees what the workflow deployed', () => {
    expect(runs.status?.code).toBe(0);
    const [row] = JSON.parse(runs.status!.stdout) as Record<string, string>[];
    expect(row).toMatchObject({ deployment: DEPLOYMENT, environment: 'dev', region: 'us-east-1', stackName: STACK, endpointState: 'InService' });
    expect(row?.stackStatus).toMatch(/^(CREATE|UPDATE)_COMPLETE$/);
    expect(row?.imageDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('the written destroy workflow deletes it, and status then says NOT_DEPLOYED', () => {
    const j = jobs.destroy!;
    expect(failed(j)).toEqual([]);
    expect(j.status).toBe('success');
    const [row] = JSON.parse(runs.statusAfter!.stdout) as Record<string, string>[];
    expect(row?.stackStatus).toBe('NOT_DEPLOYED');
  });
});
