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
