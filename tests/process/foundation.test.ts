/**
 * Every bundle, run as the runner runs it: bad input is rejected with one annotation, before any
 * AWS call; the root action dispatches by `command`; the CLI plans the bundled example offline.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ACTIONS } from '../../src/actions';
import { ROOT, runBundle } from '../support/bundle';
import { Loopback, startLoopback } from '../support/loopback';

let aws: Loopback;
beforeAll(async () => {
  aws = await startLoopback(() => undefined);
});
afterAll(() => aws.close());

const BAD_SPEC = `version: 1
deployments:
  chat:
    model: { huggingface: { id: Qwen/Qwen2.5-7B-Instruct } }
    engine: { name: vllm }
    target: sagemaker-realtime
    instanceType: ml.g5.2xlarg
    regions: [us-east-1]
`;

describe.each(ACTIONS.map((a) => a.name))('%s bundle', (name) => {
  const minimal: Record<string, string> = name === 'promote-model' ? { 'target-environment': 'prod' } : {};

  it('fails with one clear annotation when the spec file is missing, calling no AWS API', async () => {
    const r = await runBundle(name, { inputs: { ...minimal, config: 'nope.yml' }, awsEndpoint: aws.url });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/::error title=Missing deployment spec,file=nope.yml::config file nope.yml does not exist%0ACreate model-deploy.yml/);
    expect(r.stdout.match(/::error/g)).toHaveLength(1);
    expect(aws.requests).toHaveLength(0);
  });

  it('points at file:line of a spec mistake with the nearest valid value', async () => {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'ws-'));
    fs.writeFileSync(path.join(workspace, 'model-deploy.yml'), BAD_SPEC);
    const r = await runBundle(name, { inputs: minimal, workspace, awsEndpoint: aws.url });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/::error title=Invalid deployment spec,file=model-deploy.yml,line=7,col=19::deployments.chat: instanceType "ml.g5.2xlarg" is not a known SageMaker instance type for target sagemaker-realtime%0ADid you mean "ml.g5.2xlarge"/);
    expect(r.stdout.match(/::error/g)).toHaveLength(1);
    expect(aws.requests).toHaveLength(0);
  });
});

describe('input checks before anything loads', () => {
  it.each([
    ['deploy-endpoint', { mode: 'yolo' }, /input `mode` is "yolo", which is not valid: it must be one of create-and-execute, create-only, execute-only, resume, destroy/],
    ['promote-model', {}, /missing required input: `target-environment`/],
    ['estimate-cost', { 'hours-per-month': 'many' }, /input `hours-per-month` is "many", which is not valid: it must be a number/],
  ])('%s rejects %o', async (name, inputs, message) => {
    const r = await runBundle(name, { inputs: inputs as Record<string, string>, awsEndpoint: aws.url });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(message);
    expect(r.stdout.match(/::error/g)).toHaveLength(1);
  });

  it('masks a secret input before anything else is written', async () => {
    const r = await runBundle('deploy-endpoint', { inputs: { 'github-token': 'ghs_loopbacktoken', mode: 'bad' } });
    expect(r.stdout.split('\n')[0]).toBe('::add-mask::ghs_loopbacktoken');
  });
});

describe('the root action', () => {
  it('suggests the nearest command', async () => {
    const r = await runBundle('main', { inputs: { command: 'deploy-endpont' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/input `command` is "deploy-endpont", which is not an action%0ADid you mean "deploy-endpoint"/);
  });

  it('runs the selected action with the same inputs', async () => {
    const r = await runBundle('main', { inputs: { command: 'promote-model' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/promote-model: missing required input: `target-environment`/);
  });
});

describe('model-deploy CLI', () => {
  const cli = path.join(ROOT, 'bin', 'model-deploy.js');

  it('plans the bundled example offline: template, parameters, buildspec and cost', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-'));
    const stdout = execFileSync(process.execPath, [cli, 'plan', '--out', out], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: out } });
    expect(stdout).toMatch(/Plan for .*examples\/model-deploy.yml \(the bundled example: no \.\/model-deploy\.yml in this folder[^)]*\) \(environment dev, the first of the spec; --environment plans another\): 3 deployment\(s\)/);
    const files = execFileSync('find', [out, '-type', 'f'], { encoding: 'utf8' }).split('\n').filter(Boolean).map((f) => path.relative(out, f)).sort();
    for (const d of ['qwen-chat', 'summarizer-batch', 'code-assistant']) {
      expect(files).toContain(`${d}/build/buildspec.yml`);
      expect(files).toContain(`${d}/build/Dockerfile`);
      expect(files.some((f) => f.startsWith(`${d}/us-east-1/template.`))).toBe(true);
      expect(files).toContain(`${d}/us-east-1/parameters.json`);
    }
    expect(files).toEqual(expect.arrayContaining(['cost/estimate.md', 'cost/estimate.json']));
  });

  it('exits non-zero with the file:line of a bad spec', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-'));
    fs.writeFileSync(path.join(dir, 'model-deploy.yml'), BAD_SPEC);
    const r = spawnSync(process.execPath, [cli, 'plan', '--config', 'model-deploy.yml', '--out', path.join(dir, 'out')], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/^error: model-deploy.yml:7:19: deployments.chat: instanceType "ml.g5.2xlarg" is not a known SageMaker instance type/m);
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
  });

  it('takes --help after a command', () => {
    const r = spawnSync(process.execPath, [cli, 'plan', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^model-deploy plan \[--config FILE\]/);
  });

  it('suggests a command for a typo', () => {
    const r = spawnSync(process.execPath, [cli, 'plna'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/unknown command "plna"[\s\S]*Did you mean "plan"/);
  });
});
