/**
 * `model-deploy init`: from flags (no terminal) or answers (a terminal), it writes a spec that validate
 * accepts and caller workflows that pass the repository's workflow rules, with the role ARNs in one place
 * (the MODEL_DEPLOY_ROLES variable), and never overwrites a file without --force.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PassThrough } from 'stream';
import { parse } from 'yaml';
import { main } from '../../../src/cli/main';
import { deploymentNameOf, initFiles } from '../../../src/cli/init-files';
import { checkWorkflow } from '../workflows/rules';

const FLAGS = [
  '--model', 'Qwen/Qwen2.5-7B-Instruct', '--revision', 'a09a35458c702b33eeacc393d103063234e8bc28', '--engine', 'vllm', '--target', 'sagemaker-realtime',
  '--regions', 'us-east-1,eu-west-1', '--accounts', 'dev=111111111111,staging=222222222222,prod=333333333333', '--project', 'acme-llm',
  '--actions-repository', 'acme-platform/model-deploy-actions', '--actions-ref', 'v1',
];
/** The workflows pinned by commit, as this repository's own rules require of a third-party workflow. */
const SHA = '0123456789abcdef0123456789abcdef01234567';

/** Runs the CLI in `dir`; `answers` stand for a terminal (each question takes the next answer). */
async function cli(args: string[], dir: string, answers?: string[]): Promise<{ code: number; out: string; questions: string[] }> {
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (c: Buffer) => (out += c.toString()));
  const questions: string[] = [];
  const ask = answers ? async (q: string) => (questions.push(q), answers.shift() ?? '') : undefined;
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    return { code: await main(args, stream, { ask }), out, questions };
  } finally {
    process.chdir(cwd);
  }
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'md-init-'));
const workflows = (dir: string) => fs.readdirSync(path.join(dir, '.github', 'workflows')).sort();
const read = (dir: string, file: string) => fs.readFileSync(path.join(dir, file), 'utf8');

describe('model-deploy init from flags', () => {
  const dir = tmp();
  let run: Awaited<ReturnType<typeof cli>>;
  beforeAll(async () => {
    run = await cli(['init', ...FLAGS], dir);
  });

  it('writes the spec and the caller workflows, and says what comes next', () => {
    expect(run.code).toBe(0);
    expect(workflows(dir)).toEqual(['model-cost-comment.yml', 'model-cost.yml', 'model-deploy.yml', 'model-destroy.yml', 'model-promote.yml']);
    expect(run.out).toContain('Wrote model-deploy.yml');
    expect(run.out).toContain('model-deploy bootstrap --environment prod --project acme-llm --region us-east-1');
  });

  it('writes a spec validate accepts', async () => {
    const v = await cli(['validate', '--config', 'model-deploy.yml'], dir);
    expect(v.out).toContain('model-deploy.yml: valid, 1 deployment(s): qwen2-5-7b-instruct');
    expect(v.code).toBe(0);
  });

  it('keeps role ARNs in one place: the workflows read MODEL_DEPLOY_ROLES, the spec names none', () => {
    expect(read(dir, 'model-deploy.yml')).not.toMatch(/roleArn|arn:aws:iam/);
    for (const file of ['model-deploy.yml', 'model-promote.yml', 'model-destroy.yml']) {
      expect(read(dir, `.github/workflows/${file}`)).toContain('roles: ${{ vars.MODEL_DEPLOY_ROLES }}');
      expect(read(dir, `.github/workflows/${file}`)).not.toContain('arn:aws:iam');
    }
  });

  it('deploys the default branch with a matrix over the deployments, and promotes to the later environments in order', () => {
    const deploy = parse(read(dir, '.github/workflows/model-deploy.yml'));
    expect(deploy.on.push.branches).toEqual(['main']);
    expect(deploy.jobs.deploy.strategy.matrix.deployment).toEqual(['qwen2-5-7b-instruct']);
    expect(deploy.jobs.deploy.uses).toBe('acme-platform/model-deploy-actions/.github/workflows/build-and-deploy.yml@v1');
    expect(deploy.jobs.deploy.with).toMatchObject({ environment: 'dev', deployment: '${{ matrix.deployment }}' });
    const promote = parse(read(dir, '.github/workflows/model-promote.yml'));
    expect(promote.jobs.promote.with).toMatchObject({ 'source-environment': 'dev', targets: '["staging","prod"]' });
  });

  it('pinned by commit (--actions-ref SHA), every workflow passes the workflow rules of this repository', async () => {
    const pinned = tmp();
    expect((await cli(['init', ...FLAGS, '--actions-ref', SHA, '--actions-version', 'v1.0.0'], pinned)).code).toBe(0);
    expect(read(pinned, '.github/workflows/model-deploy.yml')).toContain(`build-and-deploy.yml@${SHA} # v1.0.0`);
    for (const file of workflows(pinned)) expect({ file, findings: checkWorkflow(read(pinned, `.github/workflows/${file}`), file) }).toEqual({ file, findings: [] });
  });

  it('refuses to overwrite without --force, naming every file, and writes nothing', async () => {
    fs.writeFileSync(path.join(dir, 'model-deploy.yml'), '# mine\n');
    const again = await cli(['init', ...FLAGS], dir);
    expect(again.code).toBe(2);
    expect(again.out).toContain('model-deploy.yml exists');
    expect(again.out).toContain('.github/workflows/model-deploy.yml exists');
    expect(again.out).toContain('--force');
    expect(read(dir, 'model-deploy.yml')).toBe('# mine\n');
    const forced = await cli(['init', ...FLAGS, '--force'], dir);
    expect(forced.code).toBe(0);
    expect(forced.out).toContain('Overwrote model-deploy.yml');
  });
});

describe('model-deploy init, other inputs', () => {
  it('asks on a terminal for what no flag gives, with defaults', async () => {
    const dir = tmp();
    const r = await cli(['init'], dir, ['mistralai/Mistral-7B-Instruct-v0.3', '', 'tgi', '', '', 'eu-central-1', 'dev=111111111111', 'acme', '', 'acme-platform/model-deploy-actions', '', '']);
    expect(r.code).toBe(0);
    expect(r.questions[0]).toBe('Hugging Face model id (OWNER/NAME): ');
    expect(r.questions).toContain('Engine (vllm, tgi, lmi) [vllm]: ');
    const spec = parse(read(dir, 'model-deploy.yml'));
    expect(spec).toMatchObject({ project: 'acme', environments: { dev: { account: '111111111111' } } });
    expect(spec.deployments['mistral-7b-instruct-v0-3']).toMatchObject({ engine: { name: 'tgi' }, target: 'sagemaker-realtime', instanceType: 'ml.g5.2xlarge', regions: ['eu-central-1'] });
    // One environment: nothing to promote to.
    expect(workflows(dir)).not.toContain('model-promote.yml');
  });

  it('with no terminal, names every flag it is missing, and writes nothing', async () => {
    const dir = tmp();
    const r = await cli(['init', '--engine', 'vllm'], dir);
    expect(r.code).toBe(2);
    expect(r.out).toContain('--model');
    expect(r.out).toContain('--accounts');
    expect(r.out).toContain('--actions-repository');
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('refuses a bad choice with the valid ones, before writing anything', async () => {
    const dir = tmp();
    const r = await cli(['init', ...FLAGS, '--target', 'sagemaker-realtme'], dir);
    expect(r.code).toBe(2);
    expect(r.out).toContain('--target is "sagemaker-realtme", which is not one of sagemaker-realtime, sagemaker-async, ec2, ecs');
    expect(r.out).toContain('Did you mean "sagemaker-realtime"');
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('ecs: the network it needs goes into the spec, and key rotation is scheduled', async () => {
    const dir = tmp();
    const r = await cli(['init', ...FLAGS, '--target', 'ecs', '--certificate-arn', 'arn:aws:acm:us-east-1:111111111111:certificate/2f1c3a4e-8b7d-4c6e-9a0b-1d2e3f4a5b6c',
      '--vpc-id', 'vpc-0a1b2c3d4e5f60718', '--subnets', 'subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60002', '--security-groups', 'sg-0a1b2c3d4e5f60021', '--regions', 'us-east-1', '--actions-ref', SHA], dir);
    expect(r.out).toContain('Wrote');
    expect(r.code).toBe(0);
    expect(workflows(dir)).toContain('model-rotate-key.yml');
    const rotate = parse(read(dir, '.github/workflows/model-rotate-key.yml'));
    expect(rotate.on.schedule).toHaveLength(2);
    expect(checkWorkflow(read(dir, '.github/workflows/model-rotate-key.yml'), 'model-rotate-key.yml')).toEqual([]);
    expect((await cli(['validate'], dir)).code).toBe(0);
  });

  it('an ecs spec without its network is refused with the spec\'s own message, before anything is written', async () => {
    const dir = tmp();
    const r = await cli(['init', ...FLAGS, '--target', 'ecs', '--certificate-arn', '', '--vpc-id', 'vpc-1', '--subnets', '', '--security-groups', ''], dir);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/model-deploy\.yml:\d+:\d+: .*(certificateArn|vpc)/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe('init files', () => {
  it('names a deployment after its model', () => {
    expect(deploymentNameOf('Qwen/Qwen2.5-7B-Instruct')).toBe('qwen2-5-7b-instruct');
    expect(deploymentNameOf('org/7B')).toBe('m-7b');
  });

  it('pins the reusable workflows at the ref given', () => {
    const files = initFiles({
      project: 'p', deployment: 'd', model: 'o/m', revision: 'main', engine: 'vllm', target: 'sagemaker-async', instanceType: 'ml.g5.xlarge', regions: ['us-east-1'],
      accounts: [['dev', '111111111111']], actionsRepository: 'o/model-deploy-actions', actionsRef: '0123456789abcdef0123456789abcdef01234567', branch: 'trunk',
    });
    const uses = files.flatMap((f) => [...f.content.matchAll(/uses: (\S+)/g)].map((m) => m[1]));
    expect(uses.length).toBeGreaterThan(3);
    for (const u of uses) expect(u).toMatch(/^o\/model-deploy-actions\/\.github\/workflows\/[\w-]+\.yml@0123456789abcdef0123456789abcdef01234567$/);
    expect(files.find((f) => f.path === '.github/workflows/model-deploy.yml')?.content).toContain('branches: [trunk]');
  });
});
