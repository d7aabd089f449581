/**
 * Issue 22.2: a Hugging Face branch (or no revision) is resolved to the commit it names at plan and
 * build time, and that commit is the image's identity: new upstream weights make a new image tag,
 * the build downloads that very commit, the plan and the PR estimate show it, the unpinned source is
 * a warning there. Against the loopback Hub.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EnvInputs } from '../../../src/core/env';
import { memoryReporter } from '../../../src/core/log';
import { loadSpec } from '../../../src/config/load';
import { estimateCost } from '../../../src/cost/flow';
import { commentMarker, renderReport } from '../../../src/cost/render';
import { plan } from '../../../src/plan/plan';
import { FakeHub, QWEN_7B, startFakeHub } from '../../support/hf-hub';
import { useEnv } from '../../support/env';

const SHA_A = QWEN_7B.refs.main ?? '';
const SHA_B = 'b'.repeat(40);

const spec = (revision?: string) => `version: 1
project: acme
deployments:
  qwen:
    model:
      huggingface: { id: Qwen/Qwen2.5-7B-Instruct${revision ? `, revision: ${revision}` : ''} }
    engine: { name: vllm, args: ["--max-model-len", "8192"] }
    target: sagemaker-realtime
    instanceType: ml.g5.2xlarge
    regions: [us-east-1]
`;

function workspace(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-pin-'));
  fs.writeFileSync(path.join(dir, 'model-deploy.yml'), text);
  return dir;
}

async function planned(text: string): Promise<{ tag: string; buildspec: string; summary: string }> {
  const dir = workspace(text);
  const outDir = path.join(dir, 'out');
  const result = await plan(loadSpec(path.join(dir, 'model-deploy.yml'), { displayPath: 'model-deploy.yml' }), { outDir });
  const summary = result.summary.join('\n');
  return { tag: /tag (md-[0-9a-f]{40})/.exec(summary)?.[1] ?? '', buildspec: fs.readFileSync(path.join(outDir, 'qwen', 'build', 'buildspec.yml'), 'utf8'), summary };
}

describe('pinned weights', () => {
  let hub: FakeHub;
  // The loopback Hub for the suite; HF_ENDPOINT and HF_HUB_OFFLINE as they were after it.
  const setSuiteEnv = useEnv(undefined, 'all');
  beforeAll(async () => {
    hub = await startFakeHub({ 'Qwen/Qwen2.5-7B-Instruct': { ...QWEN_7B, refs: { ...QWEN_7B.refs } } });
    setSuiteEnv({ HF_ENDPOINT: hub.url, HF_HUB_OFFLINE: undefined });
  });
  afterAll(async () => {
    await hub.close();
  });

  it('plans the commit a branch names: the build downloads it, and a moved branch is a new image tag', async () => {
    const model = hub.models['Qwen/Qwen2.5-7B-Instruct']!;
    model.refs.main = SHA_A;
    const before = await planned(spec('main'));
    expect(before.buildspec).toContain(`MODEL_REVISION: "${SHA_A}"`);
    expect(before.summary).toContain(`weights Qwen/Qwen2.5-7B-Instruct@${SHA_A} (main)`);
    // The same image as the spec pinned at that commit.
    expect((await planned(spec(SHA_A))).tag).toBe(before.tag);
    // No revision at all is the default branch, resolved the same way.
    expect((await planned(spec())).tag).toBe(before.tag);

    model.refs.main = SHA_B;
    const after = await planned(spec('main'));
    expect(after.buildspec).toContain(`MODEL_REVISION: "${SHA_B}"`);
    expect(after.tag).toMatch(/^md-[0-9a-f]{40}$/);
    expect(after.tag).not.toBe(before.tag);
  });

  it('the PR estimate shows the commit and warns about the unpinned source at its spec line', async () => {
    hub.models['Qwen/Qwen2.5-7B-Instruct']!.refs.main = SHA_A;
    const dir = workspace(spec('main'));
    const reporter = memoryReporter();
    const res = await estimateCost(
      { workspace: dir, config: 'model-deploy.yml' },
      { hoursPerMonth: 730, livePrices: false, mode: 'estimate', behavior: 'update', skipIfUnchanged: false, resultFile: 'cost.json' },
      { reporter, env: new EnvInputs({}) },
    );
    // The comment breaks long hex runs with zero-width spaces (no autolinks): read it without them.
    const body = renderReport(res.report, { marker: commentMarker('model-deploy.yml') }).replace(/\u200b/g, '');
    expect(body).toContain(`weights Qwen/Qwen2.5-7B-Instruct@${SHA_A} (main)`);
    expect(body).toMatch(/warning: model-deploy\.yml:6: deployments\.qwen: model\.huggingface\.revision "main" is a branch or tag, not a commit/);
    expect(reporter.captured.annotations.map((w) => `${w.location?.line} ${w.message}`)).toContainEqual(expect.stringMatching(/^6 deployments\.qwen: model\.huggingface\.revision "main" is a branch or tag/));
  });
});
