import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseSpec } from '../../../src/config/load';
import { plan } from '../../../src/plan/plan';

/** SageMaker in regions the price catalogue does not cover; one deployment in a priced region. */
const SPEC = `version: 1
project: acme
deployments:
  chat:
    model:
      huggingface: { id: Qwen/Qwen2.5-7B-Instruct, revision: a09a35458c702b33eeacc393d103063234e8bc28 }
    engine: { name: vllm }
    target: sagemaker-realtime
    instanceType: ml.g5.2xlarge
    regions: [ca-central-1, sa-east-1, eu-north-1, ap-northeast-2]
  priced:
    model:
      huggingface: { id: Qwen/Qwen2.5-7B-Instruct, revision: a09a35458c702b33eeacc393d103063234e8bc28 }
    engine: { name: vllm }
    target: sagemaker-realtime
    instanceType: ml.g5.2xlarge
    regions: [us-east-1]
`;

describe('plan with no catalogue price', () => {
  it('still writes every template and shows the cost of the unpriced deployment as unpriced', async () => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-plan-'));
    const spec = parseSpec(SPEC, 'model-deploy.yml');
    const result = await plan(spec, { outDir });
    const rel = result.files.map((f) => path.relative(outDir, f));
    for (const region of ['ca-central-1', 'sa-east-1', 'eu-north-1', 'ap-northeast-2']) {
      expect(rel).toContain(`chat/${region}/parameters.json`);
      expect(rel.some((f) => f.startsWith(`chat/${region}/template.`))).toBe(true);
    }
    expect(rel).toContain('chat/build/buildspec.yml');
    // The estimate keeps what it can price and says the total leaves something out (never $0 for it).
    expect(result.summary.join('\n')).toMatch(/cost: \$[\d,.]+ \+ unpriced a month/);
    // The priced deployment keeps its estimate.
    const md = fs.readFileSync(path.join(outDir, 'cost', 'estimate.md'), 'utf8');
    expect(md).toContain('priced');
    expect(md).toMatch(/unpriced/i);
    expect(md).not.toMatch(/\$0\.00/);
  });
});
