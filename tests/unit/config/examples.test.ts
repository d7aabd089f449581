/** examples/: one spec per seed pattern (issue 16), each valid and planned offline. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadSpec } from '../../../src/config/load';
import { regionsFor } from '../../../src/config/regions';
import { plan } from '../../../src/plan/plan';

const DIR = path.resolve(__dirname, '../../../examples');
const FILES = fs.readdirSync(DIR).filter((f) => f.endsWith('.yml')).sort();
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function outDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-example-'));
  dirs.push(dir);
  return dir;
}

function parameters(out: string, deployment: string, region: string): Record<string, string> {
  const list = JSON.parse(fs.readFileSync(path.join(out, deployment, region, 'parameters.json'), 'utf8')) as { ParameterKey: string; ParameterValue: string }[];
  return Object.fromEntries(list.map((p) => [p.ParameterKey, p.ParameterValue]));
}

describe('examples', () => {
  it('hold one spec per seed pattern', () => {
    expect(FILES).toEqual(['async-notifications.yml', 'bedrock-promotion.yml', 'china.yml', 'container-artifacts.yml', 'inf2.yml', 'model-deploy.yml']);
  });

  it.each(FILES)('%s loads and plans: a template for every deployment and region', async (file) => {
    const spec = loadSpec(path.join(DIR, file), { displayPath: `examples/${file}` });
    const out = outDir();
    const result = await plan(spec, { outDir: out });
    for (const d of Object.values(spec.deployments)) {
      for (const region of regionsFor(d)) expect(fs.existsSync(path.join(out, d.name, region, 'template.json'))).toBe(true);
    }
    expect(result.summary.join('\n')).toMatch(/cost: \$/);
  });

  it('container + artifacts: a prebuilt DLC with the model from S3, no build', async () => {
    const spec = loadSpec(path.join(DIR, 'container-artifacts.yml'));
    const out = outDir();
    const result = await plan(spec, { outDir: out });
    expect(result.summary[0]).toMatch(/^llama-dlc: prebuilt image 763104351884\.dkr\.ecr\.us-east-1\.amazonaws\.com\/huggingface-pytorch-tgi-inference:.*, no build, model files from s3:\/\/acme-models-111111111111\/llama-3-8b-instruct\/model\.tar\.gz$/);
    expect(parameters(out, 'llama-dlc', 'us-east-1')).toMatchObject({ ModelDataUrl: 's3://acme-models-111111111111/llama-3-8b-instruct/model.tar.gz' });
    expect(fs.existsSync(path.join(out, 'llama-dlc', 'build'))).toBe(false);
  });

  it('inf2: the Neuron build of LMI with the NeuronCores as tensor-parallel degree', async () => {
    const out = outDir();
    await plan(loadSpec(path.join(DIR, 'inf2.yml')), { outDir: out });
    const dockerfile = fs.readFileSync(path.join(out, 'llama-inf2', 'build', 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM .*djl-inference:0\.30\.0-neuronx-sdk2\.20\.1$/m);
    expect(dockerfile).toMatch(/^ENV OPTION_TENSOR_PARALLEL_DEGREE="2"$/m);
  });

  it('async: an asynchronous endpoint with S3 output and success/error topics', async () => {
    const out = outDir();
    await plan(loadSpec(path.join(DIR, 'async-notifications.yml')), { outDir: out });
    const template = JSON.parse(fs.readFileSync(path.join(out, 'sd-async', 'us-east-1', 'template.json'), 'utf8')) as { Resources: Record<string, { Type: string }> };
    expect(Object.values(template.Resources).filter((r) => r.Type === 'AWS::SNS::Topic')).toHaveLength(2);
    expect(parameters(out, 'sd-async', 'us-east-1')).toMatchObject({ ModelDataUrl: 's3://acme-models-111111111111/stable-diffusion-2-1/' });
  });
});
