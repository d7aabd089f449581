/**
 * A spec that deploys to China and elsewhere: the hint for a partition clash must lead to a spec that
 * validates (it used to send users from one environment's error to the other's), and examples/china.yml
 * is that working form.
 */
import * as path from 'path';
import { loadSpec } from '../../../src/config/load';
import { regionsFor } from '../../../src/config/regions';
import { specProblems as problems } from '../../support/spec-problems';


const deployment = (name: string, regions: string) => `  ${name}:
    model:
      huggingface: { id: Qwen/Qwen2.5-7B-Instruct, revision: a09a35458c702b33eeacc393d103063234e8bc28 }
    engine: { name: vllm, version: "0.6.3" }
    target: sagemaker-realtime
    instanceType: ml.g5.2xlarge
    regions: [${regions}]
`;

const spec = (devExtra: string, cnExtra: string) => `version: 1
project: acme
environments:
  dev:
    account: "111111111111"
    roleArn: arn:aws:iam::111111111111:role/deploy${devExtra}
  cn-prod:
    account: "444444444444"
    roleArn: arn:aws-cn:iam::444444444444:role/deploy${cnExtra}
deployments:
${deployment('chat', 'us-east-1')}${deployment('chat-cn', 'cn-north-1')}`;

describe('a spec with China and other regions', () => {
  it("does as each clash's hint says and validates: every environment names its own regions", () => {
    const errs = problems(spec('', ''));
    expect(errs.map((e) => e.message)).toEqual([
      'environments.dev: roleArn is an ARN of partition aws, but deployment chat-cn deploys to cn-north-1 (partition aws-cn)',
      'environments.cn-prod: roleArn is an ARN of partition aws-cn, but deployment chat deploys to us-east-1 (partition aws)',
    ]);
    // Each hint names the one fix for its environment, in YAML the user can paste.
    expect(errs[0]?.hint).toContain('environments.dev.regions: [us-east-1]');
    expect(errs[1]?.hint).toContain('environments.cn-prod.regions: [cn-north-1]');
    for (const e of errs) expect(e.hint).toContain('examples/china.yml');
    // Following both hints gives a valid spec.
    expect(problems(spec('\n    regions: [us-east-1]', '\n    regions: [cn-north-1]'))).toEqual([]);
  });

  it('suggests a China region for a China role even when no deployment names one', () => {
    const text = spec('', '').replace(/\n {2}chat-cn:[\s\S]*$/, '\n');
    const errs = problems(text);
    expect(errs.map((e) => e.message)).toEqual(['environments.cn-prod: roleArn is an ARN of partition aws-cn, but deployment chat deploys to us-east-1 (partition aws)']);
    expect(errs[0]?.hint).toContain('environments.cn-prod.regions: [cn-north-1]');
  });

  it('examples/china.yml: one environment per partition, every deployment served in each', () => {
    const loaded = loadSpec(path.resolve(__dirname, '../../../examples/china.yml'), { displayPath: 'examples/china.yml' });
    const d = Object.values(loaded.deployments)[0]!;
    expect(regionsFor(d, loaded.environments['cn-prod'])).toEqual(['cn-north-1']);
    expect(loaded.environments['cn-prod']?.roleArn).toMatch(/^arn:aws-cn:/);
    expect(regionsFor(d, loaded.environments.dev)).toEqual(['us-east-1']);
  });
});
