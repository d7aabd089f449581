/** "must be a mapping" says what the mapping looks like: a snippet the user can paste at that line. */
import { DeployError } from '../../../src/core/errors';
import { specRejections as problems } from '../../support/spec-problems';


const mapping = (errs: DeployError[], field: string) => errs.find((e) => e.message.startsWith(`${field} must be a mapping`));

describe('a scalar or list where the spec wants a mapping', () => {
  const spec = (model: string, engine: string) => `version: 1
project: acme
deployments:
  chat:
    model: ${model}
    engine: ${engine}
    target: sagemaker-realtime
    instanceType: ml.g5.2xlarge
    regions: [us-east-1]
`;

  it('engine: vllm shows the engine mapping, its required field first, with the value written', () => {
    const e = mapping(problems(spec('{ huggingface: { id: Qwen/Qwen2.5-7B-Instruct } }', 'vllm')), 'deployments.chat.engine');
    expect(e?.location?.line).toBe(6);
    expect(e?.hint).toContain('engine:\n  name: vllm');
  });

  it('model: a bare id shows where a Hugging Face model goes (the example in the schema)', () => {
    const e = mapping(problems(spec('Qwen/Qwen2.5-7B-Instruct', '{ name: vllm }')), 'deployments.chat.model');
    expect(e?.hint).toMatch(/model:\n {2}huggingface:\n {4}id: Qwen\/Qwen2\.5-7B-Instruct/);
  });

  it('deployments as a list shows deployments keyed by name', () => {
    const e = mapping(problems('version: 1\nproject: acme\ndeployments:\n  - chat\n'), 'deployments');
    expect(e?.hint).toMatch(/deployments:\n {2}chat:\n {4}model:/);
  });

  it('autoscaling: 3 shows min and max, the fields it requires', () => {
    const text = spec('{ huggingface: { id: Qwen/Qwen2.5-7B-Instruct } }', '{ name: vllm }') + '    autoscaling: 3\n';
    const e = mapping(problems(text), 'deployments.chat.autoscaling');
    expect(e?.hint).toMatch(/autoscaling:\n {2}min: \S+\n {2}max: \S+/);
  });
});
