/**
 * Runs one job of one of this repository's workflows the way the GitHub runner does: the job and its
 * steps are read and their expressions evaluated by GitHub's own parser (workflow-eval.mjs), `if:`
 * decides whether a step runs, `run:` steps run in bash with their env and GITHUB_OUTPUT, the
 * repository's actions run from their built bundles with the inputs of `with:` plus the defaults of
 * their action.yml, and every step's outputs feed the `steps` context of the next. Third-party actions
 * are emulated: checkout (the caller's repository, or this one at the job's workflow_sha) and
 * configure-aws-credentials, which does what the real action does with role-to-assume under `id-token: write`:
 * asks the runner's token endpoint for the job's OIDC token (audience input, default sts.amazonaws.com), then
 * calls STS AssumeRoleWithWebIdentity (unsigned) with RoleArn, RoleSessionName (default GitHubActions),
 * DurationSeconds (default 3600) and the token, and fails with STS's message when STS refuses
 * (aws-actions/configure-aws-credentials README, "OIDC"). The token carries the job's claims: its environment
 * (none without `environment:`), github.ref, the event and the reusable workflow (job_workflow_ref); the
 * fake AWS world decides with the trust policies its bootstrap stacks created.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import { BundleRun, parseOutputFile, ROOT, runBundle } from '../support/bundle';
import type { World } from '../support/fake-aws/world';
import type { OidcJob } from '../support/fake-aws/github-oidc';

export const ACTIONS_REPOSITORY = 'acme-platform/model-deploy-actions';
export const ACTIONS_SHA = '1111111111111111111111111111111111111111';
export const GITHUB_TOKEN = 'ghs_journeyToken0123456789abcdefABCDEF';

interface EvaluatedStep {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  if: boolean;
  with: Record<string, string>;
  env: Record<string, string>;
}

interface EvaluatedJob {
  if: boolean;
  outputs: Record<string, string>;
  environment?: string;
  steps: EvaluatedStep[];
  errors: string[];
}

export interface StepRecord {
  name: string;
  uses?: string;
  /** Inputs as the action received them (with: + action.yml defaults), or the run step's env. */
  inputs: Record<string, string>;
  skipped: boolean;
  outcome: 'success' | 'failure' | 'skipped';
  outputs: Record<string, string>;
  /** Everything the step printed or wrote (grep this for secrets). */
  all: string;
  bundle?: BundleRun;
  ms: number;
}

export interface JobRecord {
  workflow: string;
  job: string;
  environment?: string;
  status: 'success' | 'failure' | 'skipped';
  steps: StepRecord[];
  outputs: Record<string, string>;
  errors: string[];
  ms: number;
}

export interface JobRequest {
  workflow: string;
  job: string;
  inputs: Record<string, string | boolean>;
  matrix?: Record<string, string>;
  /** The caller's repository (model-deploy.yml and the rest). */
  workspace: string;
  world: World;
  githubApi: string;
  /** Extra environment for the bundles (e.g. NODE_EXTRA_CA_CERTS). */
  env?: Record<string, string>;
  /** The triggering event (default workflow_dispatch); on a schedule the inputs context is empty. */
  event?: 'workflow_dispatch' | 'schedule';
  /** The `needs` context: the outputs and result of the jobs this one needs (e.g. promote.yml's plan job). */
  needs?: Record<string, { outputs: Record<string, string>; result: string }>;
  /** github.ref (GITHUB_REF) of the run: default refs/heads/main, the protected ref. */
  ref?: string;
}

const EVAL = path.join(__dirname, 'workflow-eval.mjs');

/** One workflow-eval.mjs process (--serve) answers every evaluation of a test file, in order. */
class Evaluations {
  private child?: ChildProcess;
  private buffer = '';
  private waiting: { resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  private stderr = '';

  ask<T>(request: object): Promise<T> {
    if (!this.child) this.start();
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ resolve: resolve as (v: unknown) => void, reject });
      this.child!.stdin!.write(`${JSON.stringify(request)}\n`);
    });
  }

  private start(): void {
    const child = spawn(process.execPath, [EVAL, '--serve'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => {
      this.buffer += d.toString();
      let at: number;
      while ((at = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, at);
        this.buffer = this.buffer.slice(at + 1);
        this.waiting.shift()?.resolve(JSON.parse(line));
      }
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    child.on('close', (code) => {
      for (const w of this.waiting.splice(0)) w.reject(new Error(`workflow-eval exited ${code}: ${this.stderr}`));
      this.child = undefined;
    });
    this.child = child;
  }

  stop(): void {
    this.child?.stdin!.end();
  }
}

const evaluations = new Evaluations();
const evaluate = <T>(request: object): Promise<T> => evaluations.ask<T>(request);
export const stopEvaluations = (): void => evaluations.stop();

/** The `inputs` context: the workflow_call inputs' defaults (typed), overridden by the caller's values. */
function inputsContext(workflowPath: string, given: Record<string, string | boolean>): Record<string, string | boolean> {
  const wf = parseYaml(fs.readFileSync(workflowPath, 'utf8')) as { on: { workflow_call?: { inputs?: Record<string, { type: string; default?: unknown; required?: boolean }> } } };
  const defs = wf.on.workflow_call?.inputs ?? {};
  const out: Record<string, string | boolean> = {};
  for (const [name, def] of Object.entries(defs)) {
    if (def.required && !(name in given)) throw new Error(`${path.basename(workflowPath)}: required input ${name} not given`);
    out[name] = def.type === 'boolean' ? Boolean(def.default ?? false) : String(def.default ?? '');
  }
  for (const [name, value] of Object.entries(given)) {
    if (!(name in defs)) throw new Error(`${path.basename(workflowPath)} has no input ${name}`);
    out[name] = value;
  }
  return out;
}

function runShell(script: string, env: Record<string, string>, cwd: string): { code: number; stdout: string; stderr: string; outputs: Record<string, string> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-journey-run-'));
  const output = path.join(dir, 'output');
  fs.writeFileSync(output, '');
  const file = path.join(dir, 'step.sh');
  fs.writeFileSync(file, script);
  const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', file], {
    cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: dir, GITHUB_OUTPUT: output, GITHUB_ACTIONS: 'true', HF_HUB_OFFLINE: '1', ...env },
  });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr, outputs: parseOutputFile(fs.readFileSync(output, 'utf8')) };
}

type Contexts = ReturnType<typeof jobContexts>;

function jobContexts(req: JobRequest, workflowPath: string) {
  const github = {
    repository: 'acme/models', run_id: '4242', run_attempt: '1', event_name: req.event ?? 'workflow_dispatch', token: GITHUB_TOKEN, ref: req.ref ?? 'refs/heads/main',
    sha: '0123456789abcdef0123456789abcdef01234567', server_url: 'https://github.com', workspace: req.workspace, actor: 'octocat',
  };
  return {
    github,
    inputs: req.event === 'schedule' ? {} : inputsContext(workflowPath, req.inputs),
    matrix: req.matrix ?? {},
    strategy: { 'fail-fast': true, 'job-index': 0, 'job-total': 1, 'max-parallel': 1 },
    job: { status: 'success', workflow_repository: ACTIONS_REPOSITORY, workflow_sha: ACTIONS_SHA, workflow_ref: `${ACTIONS_REPOSITORY}/.github/workflows/${req.workflow}@refs/tags/v1` },
    steps: {} as Record<string, { outputs: Record<string, string>; outcome: string; conclusion: string }>,
    needs: req.needs ?? {}, vars: {}, secrets: {}, env: {},
    runner: { os: 'Linux', arch: 'X64', temp: os.tmpdir() },
  };
}

type StepResult = Omit<StepRecord, 'name' | 'uses' | 'ms' | 'skipped'> & { error?: string };

/** The job's AWS credentials (what configure-aws-credentials exported) and its OIDC token request variables. */
interface JobState {
  awsEnv: Record<string, string>;
  oidcEnv: Record<string, string>;
}

async function runAction(step: EvaluatedStep, req: JobRequest, contexts: Contexts, state: JobState): Promise<StepResult> {
  const actionDir = fs.realpathSync(path.join(req.workspace, step.uses ?? ''));
  const action = await evaluate<{ defaults: Record<string, string>; main: string; errors: string[] }>({ action: path.join(actionDir, 'action.yml'), contexts: { github: contexts.github } });
  // The runner passes every input of action.yml: `with:` values, else the (evaluated) defaults.
  const inputs = { ...action.defaults, ...step.with };
  const { github } = contexts;
  const bundle = await runBundle(path.basename(actionDir), {
    workspace: req.workspace,
    awsEndpoint: req.world.server.url,
    githubApi: req.githubApi,
    inputs,
    script: path.relative(ROOT, path.resolve(actionDir, action.main)),
    env: { ...step.env, ...state.awsEnv, ...state.oidcEnv, ...req.env, GITHUB_REPOSITORY: github.repository, GITHUB_REF: github.ref, GITHUB_RUN_ID: github.run_id, GITHUB_SHA: github.sha, MODEL_DEPLOY_MAX_ATTEMPTS: '2' },
  });
  return { inputs, outcome: bundle.code === 0 ? 'success' : 'failure', outputs: bundle.outputs, all: bundle.all, bundle, error: action.errors.join('\n') || undefined };
}

/** One HTTP exchange with the fake world (the runner's token endpoint, STS). */
function exchange(url: string, options: { method?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const r = http.request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    r.on('error', reject);
    r.end(options.body);
  });
}

const xmlValue = (xml: string, tag: string) => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1] ?? '';

/**
 * aws-actions/configure-aws-credentials with role-to-assume and the job's OIDC token: the token for `audience`
 * from ACTIONS_ID_TOKEN_REQUEST_URL, then AssumeRoleWithWebIdentity at `sts` (the fake world's endpoint).
 * Returns the credentials as the action exports them, or STS's refusal as the action reports it.
 */
export async function assumeRoleWithOidc(sts: string, oidcEnv: Record<string, string>, inputs: { role: string; audience?: string; sessionName?: string; durationSeconds?: string }): Promise<{ env: Record<string, string>; account: string } | { error: string }> {
  const url = oidcEnv.ACTIONS_ID_TOKEN_REQUEST_URL;
  if (!url) return { error: 'Credentials could not be loaded, please check your action inputs: the job has no id-token: write permission (ACTIONS_ID_TOKEN_REQUEST_URL is not set)' };
  const tokenReply = await exchange(`${url}&audience=${encodeURIComponent(inputs.audience || 'sts.amazonaws.com')}`, { headers: { authorization: `Bearer ${oidcEnv.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` } });
  if (tokenReply.status !== 200) return { error: `Error message: Failed to get ID Token. Unexpected HTTP response: ${tokenReply.status}` };
  const token = (JSON.parse(tokenReply.body) as { value: string }).value;
  const body = new URLSearchParams({
    Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', RoleArn: inputs.role, RoleSessionName: inputs.sessionName || 'GitHubActions',
    DurationSeconds: inputs.durationSeconds || '3600', WebIdentityToken: token,
  }).toString();
  const reply = await exchange(sts, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body });
  if (reply.status !== 200) return { error: `Could not assume role with OIDC: ${xmlValue(reply.body, 'Message')}` };
  const account = /^arn:aws[\w-]*:sts::(\d{12}):/.exec(xmlValue(reply.body, 'Arn'))?.[1] ?? '';
  return {
    account,
    env: { AWS_ACCESS_KEY_ID: xmlValue(reply.body, 'AccessKeyId'), AWS_SECRET_ACCESS_KEY: xmlValue(reply.body, 'SecretAccessKey'), AWS_SESSION_TOKEN: xmlValue(reply.body, 'SessionToken') },
  };
}

async function configureCredentials(step: EvaluatedStep, req: JobRequest, state: JobState): Promise<StepResult> {
  const role = step.with['role-to-assume'] ?? '';
  const region = step.with['aws-region'] ?? '';
  const m = /^arn:aws:iam::(\d{12}):role\/[\w+=,.@/-]+$/.exec(role);
  if (!m || !region) return { inputs: step.with, outcome: 'failure', outputs: {}, all: '', error: `configure-aws-credentials: role-to-assume "${role}" / aws-region "${region}"` };
  const assumed = await assumeRoleWithOidc(req.world.server.url, state.oidcEnv, {
    role, audience: step.with.audience, sessionName: step.with['role-session-name'], durationSeconds: step.with['role-duration-seconds'],
  });
  // The action fails the step with the message (core.setFailed): the annotation is what the user sees.
  if ('error' in assumed) return { inputs: step.with, outcome: 'failure', outputs: {}, all: `::error::${assumed.error}` };
  state.awsEnv = { ...assumed.env, AWS_REGION: region, AWS_DEFAULT_REGION: region };
  return { inputs: step.with, outcome: 'success', outputs: { 'aws-account-id': assumed.account }, all: '' };
}

async function runStep(step: EvaluatedStep, req: JobRequest, contexts: Contexts, state: JobState): Promise<StepResult> {
  if (step.run !== undefined) {
    const r = runShell(step.run, { ...step.env, ...state.awsEnv, ...state.oidcEnv }, req.workspace);
    return { inputs: step.env, outcome: r.code === 0 ? 'success' : 'failure', outputs: r.outputs, all: [r.stdout, r.stderr, JSON.stringify(r.outputs)].join('\n') };
  }
  if (step.uses?.startsWith('actions/checkout@')) {
    const { error } = checkout(step.with, req.workspace);
    return { inputs: step.with, outcome: error ? 'failure' : 'success', outputs: {}, all: '', error };
  }
  if (step.uses?.startsWith('aws-actions/configure-aws-credentials@')) return configureCredentials(step, req, state);
  if (step.uses?.startsWith('./')) return runAction(step, req, contexts, state);
  return { inputs: step.with, outcome: 'failure', outputs: {}, all: '', error: `cannot run ${step.uses}` };
}

/** Whether the job (or its workflow) grants `id-token: write`: only then does the runner set the token request URL. */
function idTokenWrite(workflowPath: string, job: string): boolean {
  const wf = parseYaml(fs.readFileSync(workflowPath, 'utf8')) as { permissions?: unknown; jobs: Record<string, { permissions?: unknown }> };
  const permissions = wf.jobs[job]?.permissions ?? wf.permissions;
  return permissions === 'write-all' || (typeof permissions === 'object' && permissions !== null && (permissions as Record<string, string>)['id-token'] === 'write');
}

export async function runJob(req: JobRequest): Promise<JobRecord> {
  const started = Date.now();
  const workflowPath = path.join(ROOT, '.github', 'workflows', req.workflow);
  const contexts = jobContexts(req, workflowPath);
  let status: 'success' | 'failure' = 'success';
  const ask = () => evaluate<EvaluatedJob>({ workflow: workflowPath, job: req.job, contexts, status });
  let evaluated = await ask();
  const record: JobRecord = { workflow: req.workflow, job: req.job, environment: evaluated.environment, status: 'success', steps: [], outputs: {}, errors: [...evaluated.errors], ms: 0 };
  if (!evaluated.if) return { ...record, status: 'skipped', ms: Date.now() - started };
  // The runner gives a job granted `id-token: write` its token request URL; the token's claims are the job's.
  const oidc: OidcJob = { environment: evaluated.environment || undefined, ref: contexts.github.ref, eventName: contexts.github.event_name, jobWorkflowRef: contexts.job.workflow_ref, sha: contexts.github.sha };
  const state: JobState = { awsEnv: {}, oidcEnv: idTokenWrite(workflowPath, req.job) ? req.world.oidcEnv(oidc) : {} };

  for (let i = 0; i < evaluated.steps.length; i++) {
    const step = evaluated.steps[i];
    const name = step.name ?? step.uses ?? 'run';
    const t0 = Date.now();
    if (!step.if) {
      record.steps.push({ name, uses: step.uses, inputs: step.with, skipped: true, outcome: 'skipped', outputs: {}, all: '', ms: 0 });
      if (step.id) contexts.steps[step.id] = { outputs: {}, outcome: 'skipped', conclusion: 'skipped' };
      continue;
    }
    const { error, ...result } = await runStep(step, req, contexts, state);
    if (error) record.errors.push(`${name}: ${error}`);
    record.steps.push({ name, uses: step.uses, skipped: false, ms: Date.now() - t0, ...result });
    if (step.id) contexts.steps[step.id] = { outputs: result.outputs, outcome: result.outcome, conclusion: result.outcome };
    if (result.outcome === 'failure') status = 'failure';
    // The next steps' expressions may read what this one produced (or the job's status changed).
    if (step.id || result.outcome === 'failure') {
      contexts.job.status = status;
      evaluated = await ask();
    }
  }
  record.outputs = evaluated.outputs;
  record.errors.push(...evaluated.errors.filter((e) => !record.errors.includes(e)));
  return { ...record, status, ms: Date.now() - started };
}

/**
 * A caller's workflow (the user's repository) whose job `uses:` one of our reusable workflows: evaluates its
 * `with:` against the caller's contexts (vars, inputs) and returns the workflow file and the inputs it passes.
 */
export async function callerInputs(callerPath: string, job: string, contexts: { vars?: Record<string, string>; inputs?: Record<string, string> }): Promise<{ workflow: string; inputs: Record<string, string>; errors: string[] }> {
  const r = await evaluate<{ uses?: string; with?: Record<string, string>; errors: string[] }>({
    caller: callerPath, job, contexts: { github: { repository: 'acme/models', event_name: 'workflow_dispatch' }, vars: {}, inputs: {}, secrets: {}, ...contexts },
  });
  const m = /^[^/]+\/model-deploy-actions\/\.github\/workflows\/([\w.-]+\.yml)@/.exec(r.uses ?? '');
  if (!m) return { workflow: '', inputs: {}, errors: [...r.errors, `${path.basename(callerPath)}: job ${job} uses ${r.uses}`] };
  return { workflow: m[1], inputs: r.with ?? {}, errors: r.errors };
}

/** actions/checkout: the caller's repository is the workspace already; this repository is linked in at the job's workflow_sha. */
function checkout(withs: Record<string, string>, workspace: string): { error?: string } {
  if (!withs.path) return withs.repository ? { error: `checkout of ${withs.repository} into the workspace root` } : {};
  if (withs.repository !== ACTIONS_REPOSITORY || withs.ref !== ACTIONS_SHA) {
    return { error: `checkout of ${withs.repository}@${withs.ref} into ${withs.path}: expected ${ACTIONS_REPOSITORY}@${ACTIONS_SHA}` };
  }
  const link = path.join(workspace, withs.path);
  if (!fs.existsSync(link)) fs.symlinkSync(ROOT, link, 'dir');
  return {};
}
