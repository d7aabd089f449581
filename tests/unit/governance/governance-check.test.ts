/**
 * Governed accounts (issue 21.6): scripts/governance-check.js runs AWS's Control Tower guard rules (and cfn-lint
 * when installed) over templates/ and the rendered example plans; every failing control must be an exception
 * listed in docs/governance.md. These tests run the script itself, on the repository and on templates that
 * must fail, so the check cannot pass vacuously.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'governance-check.js');

interface Report {
  subjects: { label: string; source: string; kind: 'template' | 'plan'; failing: string[]; unlisted: string[] }[];
  lint: { available: boolean; errors: number };
  problems: string[];
}

function check(args: string[]): { status: number | null; out: string; report?: Report } {
  const json = path.join(scratch(), 'report.json');
  const r = spawnSync(process.execPath, [SCRIPT, ...args, '--json', json], { cwd: ROOT, encoding: 'utf8' });
  const report = fs.existsSync(json) ? (JSON.parse(fs.readFileSync(json, 'utf8')) as Report) : undefined;
  return { status: r.status, out: `${r.stdout}${r.stderr}`, report };
}

const scratches: string[] = [];
function scratch(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'governance-'));
  scratches.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of scratches) fs.rmSync(d, { recursive: true, force: true });
});

const hasCfnLint = (() => {
  const r = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  return !r.error && r.status === 0;
})();

/** A templates folder holding one template, and the path the allow-list names it by. */
function templatesWith(name: string, body: string): { dir: string; listed: string } {
  const dir = scratch();
  fs.writeFileSync(path.join(dir, name), body);
  return { dir, listed: path.relative(ROOT, path.join(dir, name)) };
}

function allowList(rows: string[]): string {
  const file = path.join(scratch(), 'governance.md');
  fs.writeFileSync(file, ['# Exceptions', '', '| Control | Rule | Templates | Reason | Spec option |', '| --- | --- | --- | --- | --- |', ...rows, ''].join('\n'));
  return file;
}

const UNENCRYPTED_BUCKET = `AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      PublicAccessBlockConfiguration:
        BlockPublicAcls: true
        BlockPublicPolicy: true
        IgnorePublicAcls: true
        RestrictPublicBuckets: true
`;

describe('the repository: templates/ and every rendered example plan', () => {
  const plans = scratch();
  let run: ReturnType<typeof check>;
  beforeAll(() => {
    run = check(['--render', '--plans', plans, '--no-lint']);
  }, 180_000);

  it('fails no Control Tower control beyond the exceptions listed in docs/governance.md, and lists none that passes', () => {
    expect({ status: run.status, problems: run.report?.problems }).toEqual({ status: 0, problems: [] });
  });

  it('checked every stack, build and bootstrap template and one rendered plan per example deployment', () => {
    const templates = run.report!.subjects.filter((s) => s.kind === 'template').map((s) => s.label);
    expect(templates).toEqual(
      expect.arrayContaining([
        'templates/bootstrap/model-deploy-bootstrap.yaml',
        'templates/build/infrastructure.yaml',
        'templates/stacks/ec2.yaml',
        'templates/stacks/ecs.yaml',
        'templates/stacks/sagemaker-async.yaml',
        'templates/stacks/sagemaker-realtime.yaml',
      ]),
    );
    const rendered = run.report!.subjects.filter((s) => s.kind === 'plan');
    expect(rendered.length).toBeGreaterThanOrEqual(fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => f.endsWith('.yml')).length);
    // Every rendered plan is matched to the template it came from.
    for (const s of rendered) expect(s.source).toMatch(/^templates\/stacks\/[a-z0-9-]+\.yaml$/);
  });

  it('the SageMaker stacks and their rendered plans fail no control at all', () => {
    const sagemaker = run.report!.subjects.filter((s) => /sagemaker-/.test(s.source));
    expect(sagemaker.length).toBeGreaterThan(2);
    expect(sagemaker.filter((s) => s.failing.length).map((s) => `${s.label}: ${s.failing.join(', ')}`)).toEqual([]);
  });
});

// .ci/run lints the rendered plans as well (node scripts/governance-check.js --render).
(hasCfnLint ? describe : describe.skip)(`cfn-lint${hasCfnLint ? '' : ' (not on the PATH here: skipped; pip install cfn-lint to run it)'}`, () => {
  it('finds no error in templates/', () => {
    const run = check(['--no-plans', '--require-lint']);
    expect({ status: run.status, lint: run.report?.lint, problems: run.report?.problems }).toEqual({ status: 0, lint: { available: true, errors: 0 }, problems: [] });
  }, 180_000);
});

describe('the check fails when it should (it cannot pass vacuously)', () => {
  const { dir, listed } = templatesWith('bucket.yaml', UNENCRYPTED_BUCKET);
  let unlisted: ReturnType<typeof check>;
  let failing: string[];
  beforeAll(() => {
    unlisted = check(['--templates', dir, '--no-plans', '--no-lint']);
    failing = unlisted.report!.subjects[0].failing;
  }, 60_000);

  it('fails on a bucket without encryption, logging or lifecycle that docs/governance.md does not list', () => {
    expect(unlisted.status).toBe(1);
    expect(unlisted.report!.subjects[0].unlisted).toEqual(expect.arrayContaining(['CT.S3.PR.10', 'CT.S3.PR.2', 'CT.S3.PR.6']));
    expect(unlisted.out).toMatch(/CT\.S3\.PR\.10 \(s3_bucket_default_encryption_kms_check\) fails and is not listed/);
  });

  it('passes the same template once each failing control is listed for it, with a reason', () => {
    expect(failing.length).toBeGreaterThan(2);
    const list = allowList(failing.map((id) => `| ${id} | | \`${listed}\` | A test exception with a reason long enough. | none |`));
    const run = check(['--templates', dir, '--no-plans', '--no-lint', '--allow-list', list]);
    expect({ status: run.status, problems: run.report?.problems }).toEqual({ status: 0, problems: [] });
  });

  it('fails on a listed exception that no longer fails (a stale list)', () => {
    const rows = [...failing, 'CT.CODEBUILD.PR.4'].map((id) => `| ${id} | | \`${listed}\` | A test exception with a reason long enough. | none |`);
    const run = check(['--templates', dir, '--no-plans', '--no-lint', '--allow-list', allowList(rows)]);
    expect(run.status).toBe(1);
    expect(run.report!.problems).toEqual([expect.stringMatching(/stale exception: CT\.CODEBUILD\.PR\.4 no longer fails on .*bucket\.yaml/)]);
  });

  it('fails on an exception listed for another template than the one failing', () => {
    const rows = failing.map((id) => `| ${id} | | \`templates/stacks/ecs.yaml\` | A test exception with a reason long enough. | none |`);
    const run = check(['--templates', dir, '--no-plans', '--no-lint', '--allow-list', allowList(rows)]);
    expect(run.status).toBe(1);
    expect(run.out).toMatch(/CT\.S3\.PR\.10 .* is not listed/);
  });

  it('refuses an exception without a reason', () => {
    const run = check(['--templates', dir, '--no-plans', '--no-lint', '--allow-list', allowList([`| CT.S3.PR.10 | | \`${listed}\` | | |`])]);
    expect(run.status).toBe(2);
    expect(run.out).toMatch(/needs a reason/);
  });

  it('fails on a rendered plan that breaks a control its template passes', () => {
    const plans = scratch();
    const rendered = path.join(plans, 'example', 'chat', 'us-east-1');
    fs.mkdirSync(rendered, { recursive: true });
    const realtime = fs.readFileSync(path.join(ROOT, 'templates', 'stacks', 'sagemaker-realtime.yaml'), 'utf8');
    const description = /^Description: (.*)$/m.exec(realtime)![1];
    const template = { AWSTemplateFormatVersion: '2010-09-09', Description: description, Resources: { Alarm: { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'Invocation5XXErrors', Namespace: 'AWS/SageMaker', Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanThreshold' } } } };
    fs.writeFileSync(path.join(rendered, 'template.json'), JSON.stringify(template));
    const run = check(['--plans', plans, '--no-lint']);
    expect(run.status).toBe(1);
    expect(run.report!.problems).toEqual([expect.stringMatching(/^plan:example\/chat\/us-east-1: CT\.CLOUDWATCH\.PR\.1 .*not listed.*sagemaker-realtime\.yaml$/)]);
  });
});

describe('the bootstrap template and the documented deploy command', () => {
  // `aws cloudformation deploy --template-file` sends a template inline only up to 51,200 bytes (the file as is,
  // comments included); above that it needs --s3-bucket to upload it first.
  const size = fs.statSync(path.join(ROOT, 'templates', 'bootstrap', 'model-deploy-bootstrap.yaml')).size;
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'getting-started.md'), 'utf8');
  const deploys = doc.split('\n').filter((l) => /aws cloudformation deploy .*--template-file/.test(l));

  it('documents deploy commands for it', () => {
    expect(deploys.length).toBeGreaterThan(0);
  });

  it('passes --s3-bucket in every documented deploy while the template is over 51,200 bytes', () => {
    if (size <= 51_200) return;
    for (const line of deploys) expect(line).toMatch(/--s3-bucket \S+/);
  });
});
