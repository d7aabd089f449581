import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readBaseSpec } from '../../../src/cost/base';
import { planCost } from '../../../src/cost/plan';
import { loadSpec } from '../../../src/config/load';
import { sagemaker } from './fixtures';

const spec = (body: string) => `version: 1\nproject: test\ndeployments:\n${body}`;

describe('readBaseSpec', () => {
  it('reads the spec from the base commit with git show, and an absent spec means all new', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cost-base-'));
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@e', ...args], { cwd: dir, stdio: 'pipe' }).toString().trim();
    git('init', '-q');
    fs.writeFileSync(path.join(dir, 'README'), 'x');
    git('add', '.');
    git('commit', '-qm', 'no spec');
    const before = git('rev-parse', 'HEAD');
    fs.writeFileSync(path.join(dir, 'model-deploy.yml'), spec(sagemaker('chat', 'ml.g4dn.xlarge')));
    git('add', '.');
    git('commit', '-qm', 'spec');
    const withSpec = await readBaseSpec({ workspace: dir, config: 'model-deploy.yml', baseRef: 'HEAD' });
    expect(Object.keys(withSpec.spec!.deployments)).toEqual(['chat']);
    const without = await readBaseSpec({ workspace: dir, config: 'model-deploy.yml', baseRef: before });
    expect(without.spec).toBeUndefined();
    // A ref git cannot get is unknown, never "no spec on the base".
    const unknown = await readBaseSpec({ workspace: dir, config: 'model-deploy.yml', baseRef: 'no-such-ref' });
    expect(unknown.spec).toBeUndefined();
    expect(unknown.unknown).toMatch(/could not be read at no-such-ref/);
  });

  it('with base-ref a branch name in a depth-1 clone (the fork-safe job), fetches it and reads the spec there (issue 24.2)', async () => {
    const origin = fs.mkdtempSync(path.join(os.tmpdir(), 'cost-origin-'));
    const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@e', ...args], { cwd, stdio: 'pipe' }).toString().trim();
    git(origin, 'init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(origin, 'model-deploy.yml'), spec(sagemaker('chat', 'ml.g4dn.xlarge')));
    git(origin, 'add', '.');
    git(origin, 'commit', '-qm', 'base');
    git(origin, 'checkout', '-q', '-b', 'pr');
    fs.writeFileSync(path.join(origin, 'model-deploy.yml'), spec(sagemaker('chat', 'ml.g5.xlarge')));
    git(origin, 'commit', '-qam', 'head');
    const clone = fs.mkdtempSync(path.join(os.tmpdir(), 'cost-clone-'));
    git(clone, 'clone', '-q', '--depth=1', '--branch', 'pr', `file://${origin}`, '.');
    const base = await readBaseSpec({ workspace: clone, config: 'model-deploy.yml', baseRef: 'main' });
    expect(base.unknown).toBeUndefined();
    expect(base.spec?.deployments.chat.instanceType).toBe('ml.g4dn.xlarge');
    expect(base.label).toBe('main');
  });

  it('a ref GitHub does not know is unknown, not "no spec on the base", though the contents API answers 404 for both (issue 24.1)', async () => {
    const http = await import('http');
    const requests: string[] = [];
    // GitHub's answers: contents of a missing file or at an unknown ref are both 404; a commit of an unknown ref is 422.
    const server = http.createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      const url = new URL(req.url ?? '/', 'http://x');
      const known = (ref: string | null) => ref === 'main' || ref === 'abc123';
      res.setHeader('content-type', 'application/json');
      if (url.pathname.startsWith('/repos/acme/models/contents/')) {
        res.statusCode = 404;
        return res.end(JSON.stringify({ message: 'Not Found', documentation_url: 'https://docs.github.com/rest/repos/contents#get-repository-content', status: '404' }));
      }
      const commit = /^\/repos\/acme\/models\/commits\/(.+)$/.exec(url.pathname);
      if (commit && known(decodeURIComponent(commit[1]!))) return res.end(JSON.stringify({ sha: 'abc123'.padEnd(40, '0') }));
      res.statusCode = 422;
      return res.end(JSON.stringify({ message: `No commit found for SHA: ${commit?.[1]}`, documentation_url: 'https://docs.github.com/rest/commits/commits#get-a-commit', status: '422' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const apiUrl = `http://127.0.0.1:${(server.address() as import('net').AddressInfo).port}`;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cost-noclone-'));
      execFileSync('git', ['init', '-q'], { cwd: dir });
      const github = { token: 'ghs_test', apiUrl, owner: 'acme', repo: 'models' };
      const typo = await readBaseSpec({ workspace: dir, config: 'model-deploy.yml', baseRef: 'mian', github });
      expect(typo.unknown).toMatch(/mian/);
      expect(typo.label).not.toMatch(/every deployment is new/);
      const absent = await readBaseSpec({ workspace: dir, config: 'model-deploy.yml', baseRef: 'main', github });
      expect(absent.unknown).toBeUndefined();
      expect(absent.label).toMatch(/every deployment is new/);
      expect(requests.some((r) => r.startsWith('GET /repos/acme/models/commits/'))).toBe(true);
    } finally {
      server.close();
    }
  });

  it('reads base-config from disk', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cost-base-'));
    fs.writeFileSync(path.join(dir, 'base.yml'), spec(sagemaker('chat', 'ml.g4dn.xlarge')));
    expect((await readBaseSpec({ workspace: dir, config: 'x', baseConfig: 'base.yml' })).spec?.deployments.chat.instanceType).toBe('ml.g4dn.xlarge');
    expect((await readBaseSpec({ workspace: dir, config: 'x', baseConfig: 'missing.yml' })).spec).toBeUndefined();
  });
});

describe('planCost on the bundled example', () => {
  it('writes the markdown and JSON estimate with the monthly totals', async () => {
    const example = loadSpec(path.resolve(__dirname, '../../../examples/model-deploy.yml'));
    const part = await planCost(example, Object.values(example.deployments), {});
    expect(part.files.map((f) => f.path)).toEqual(['cost/estimate.md', 'cost/estimate.json']);
    const json = JSON.parse(part.files[1].content);
    const byName = Object.fromEntries(json.projects.map((p: { metadata: { deployment: string }; breakdown: { resources: { costComponents: { name: string; monthlyCost: string; monthlyCostMax: string }[] }[] } }) => [p.metadata.deployment, p.breakdown.resources[0].costComponents[0]]));
    // ml.g5.2xlarge 1.515 × 730 × 1..3; async ml.g5.xlarge 1.4084 × 120 busy hours × 1..2; ECS g5.2xlarge 1.212 × 730.
    expect(byName['qwen-chat']).toMatchObject({ monthlyCost: '1105.95', monthlyCostMax: '3317.85' });
    expect(byName['summarizer-batch']).toMatchObject({ monthlyCost: '169.008', monthlyCostMax: '338.016' });
    expect(byName['code-assistant']).toMatchObject({ monthlyCost: '884.76' });
    expect(json.currency).toBe('USD');
    // + usage: the async endpoint's SNS notifications depend on a request count the spec does not give.
    expect(part.summary[0]).toMatch(/^cost: \$[\d,]+\.\d\d – \$[\d,]+\.\d\d \+ usage a month \(USD, 730 h\), one-time \$\d+\.\d\d$/);
    expect(part.files[0].content).toMatch(/real-time hosting rate/);
    const prod = await planCost(example, Object.values(example.deployments), { environmentName: 'prod', hoursPerMonth: 720 });
    expect(prod.files[0].content).toMatch(/DERIVED estimate/);
    expect(prod.summary[0]).toMatch(/720 h/);
  });
});
