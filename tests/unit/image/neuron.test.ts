/** Issue 16.2: Inferentia/Trainium instances get the Neuron builds of the engines, never a CUDA image. */
import { DeployError } from '../../../src/core/errors';
import { renderBuild } from '../../../src/image/render';
import { neuronCores, SAGEMAKER_INSTANCE_TYPES } from '../../../src/config/instance-types';
import { deployment, ROOT, withChanges } from './fixtures';

function neuronSpec(engine: string, type: string, extra: [string, string][] = []): string {
  return withChanges([
    ['name: vllm', `name: ${engine}`],
    ['      version: "0.8.5"\n', ''],
    ['      args: ["--max-model-len", "8192"]\n', ''],
    ['ml.g5.2xlarge', type],
    ...extra,
  ]);
}

describe('NeuronCores per instance', () => {
  it.each([
    ['ml.inf2.xlarge', 2],
    ['ml.inf2.8xlarge', 2],
    ['ml.inf2.24xlarge', 12],
    ['ml.inf2.48xlarge', 24],
    ['ml.trn1.2xlarge', 2],
    ['ml.trn1.32xlarge', 32],
    ['inf2.24xlarge', 12],
    ['ml.g5.2xlarge', undefined],
  ])('%s: %s', (type, cores) => expect(neuronCores(type)).toBe(cores));
});

describe('Neuron builds', () => {
  it('LMI on ml.inf2.24xlarge: the djl-inference neuronx DLC with tensor parallel degree 12', () => {
    const r = renderBuild(deployment(neuronSpec('lmi', 'ml.inf2.24xlarge')), { region: 'us-east-1', root: ROOT });
    expect(r.engine).toMatchObject({ name: 'lmi', version: '0.30.0', fromDlc: true, baseRepository: 'djl-inference' });
    expect(r.dockerfile).toMatch(/^FROM 763104351884\.dkr\.ecr\.us-east-1\.amazonaws\.com\/djl-inference:0\.30\.0-neuronx-sdk2\.20\.1$/m);
    expect(r.dockerfile).toMatch(/^ENV OPTION_TENSOR_PARALLEL_DEGREE="12"$/m);
  });

  it('TGI on ml.trn1.32xlarge: the TGI neuronx DLC with 32 cores; engine.env overrides the default', () => {
    const r = renderBuild(deployment(neuronSpec('tgi', 'ml.trn1.32xlarge')), { region: 'eu-west-1', root: ROOT });
    expect(r.engine.baseImage).toBe('763104351884.dkr.ecr.eu-west-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.2-optimum0.0.28-neuronx-py310-ubuntu22.04-v1.2');
    expect(r.dockerfile).toMatch(/^ENV HF_NUM_CORES="32"$/m);
    const own = renderBuild(deployment(neuronSpec('tgi', 'ml.inf2.xlarge', [['    target: sagemaker', '      env: { HF_NUM_CORES: "1" }\n    target: sagemaker']])), { region: 'us-east-1', root: ROOT });
    expect(own.dockerfile).toMatch(/^ENV HF_NUM_CORES="1"$/m);
    expect(own.dockerfile).not.toMatch(/HF_NUM_CORES="2"/);
  });

  it('the same spec on a GPU gets the CUDA image, and the Neuron image gets another tag', () => {
    const gpu = renderBuild(deployment(neuronSpec('lmi', 'ml.g5.2xlarge')), { region: 'us-east-1', root: ROOT });
    const inf = renderBuild(deployment(neuronSpec('lmi', 'ml.inf2.xlarge')), { region: 'us-east-1', root: ROOT });
    expect(gpu.engine.baseImage).toMatch(/cu124$/);
    expect(inf.tag).not.toBe(gpu.tag);
  });

  it('never builds a CUDA image for a Neuron instance', () => {
    const neuron = SAGEMAKER_INSTANCE_TYPES.filter((t) => neuronCores(t) !== undefined);
    expect(neuron.length).toBeGreaterThanOrEqual(6);
    for (const type of neuron) {
      for (const engine of ['lmi', 'tgi']) {
        const base = renderBuild(deployment(neuronSpec(engine, type)), { region: 'us-east-1', root: ROOT }).engine.baseImage ?? '';
        expect(base).toMatch(/neuronx/);
        expect(base).not.toMatch(/cu\d|gpu/);
      }
    }
  });

  it('refuses an engine version without a Neuron build, naming the ones that have one', () => {
    const text = neuronSpec('lmi', 'ml.inf2.xlarge', [['    target: sagemaker', '      version: "0.31.0"\n    target: sagemaker']]);
    const d = deployment(text);
    expect(() => renderBuild(d, { region: 'us-east-1', root: ROOT })).toThrow('lmi 0.31.0 has no Neuron build for ml.inf2.xlarge');
    try {
      renderBuild(d, { region: 'us-east-1', root: ROOT });
    } catch (err) {
      expect((err as DeployError).hint).toBe('Neuron builds of lmi: 0.29.0, 0.30.0. Set engine.version to one of them, or leave it out.');
    }
  });
});
