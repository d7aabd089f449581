/** Issue 16.1: a prebuilt container with its model files in S3, and custom Dockerfiles FROM a Deep Learning Container. */
import { mockClient } from 'aws-sdk-client-mock';
import { STSClient } from '@aws-sdk/client-sts';
import { S3Client } from '@aws-sdk/client-s3';
import { memoryReporter } from '../../../src/core/log';
import { EnvInputs } from '../../../src/core/env';
import { buildImage } from '../../../src/image/flow';
import { infraParameters, infraTemplate } from '../../../src/image/infra';
import { renderBuild } from '../../../src/image/render';
import { targetNames, Target } from '../../../src/config/select';
import { specIn, ROOT, withChanges } from './fixtures';

const IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.31.0-lmi13.0.0-cu124';
const sts = mockClient(STSClient);
const s3 = mockClient(S3Client);

function prebuilt(s3Uri: string): string {
  return withChanges([
    ['      huggingface:\n        id: Qwen/Qwen2.5-7B-Instruct\n        revision: a09a35458c702b33eeacc393d103063234e8bc28\n', `      s3: ${s3Uri}\n      image: ${IMAGE}\n`],
    ['    engine:\n      name: vllm\n      version: "0.8.5"\n      args: ["--max-model-len", "8192"]\n', ''],
  ]);
}

function targetOf(text: string, regions?: string[]): Target {
  const { spec, dir, file } = specIn(text);
  const d = spec.deployments.chat;
  return { spec, specFile: file, specDir: dir, deployment: d, regions: regions ?? d.regions, names: targetNames(d) };
}

beforeEach(() => {
  sts.reset();
  s3.reset();
});

describe('a prebuilt image with model files in S3', () => {
  it.each(['s3://models-us-east-1/llama/model.tar.gz', 's3://models-us-east-1/llama/'])('deploys %s with no build and no AWS call', async (uri) => {
    const reporter = memoryReporter();
    const [r] = await buildImage(targetOf(prebuilt(uri)), {}, { reporter, env: new EnvInputs({}) });
    expect(r).toMatchObject({ region: 'us-east-1', imageUri: IMAGE, modelDataUrl: uri, skipped: true, buildId: '' });
    expect(sts.calls()).toHaveLength(0);
    expect(s3.calls()).toHaveLength(0);
  });
});

describe('a custom Dockerfile FROM a Deep Learning Container', () => {
  const custom = withChanges([['name: vllm', 'name: custom\n      dockerfile: docker/Dockerfile'], ['      version: "0.8.5"\n', ''], ['      args: ["--max-model-len", "8192"]\n', '']]);

  it('logs in to the DLC registry of the build region and may pull only that repository', () => {
    const from = 'FROM --platform=linux/amd64 763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:2.6.0-gpu-py312 AS base\nFROM base\n';
    const { spec, dir } = specIn(custom.replace('[us-east-1]', '[eu-west-1]'), { 'docker/Dockerfile': from });
    const d = spec.deployments.chat;
    const r = renderBuild(d, { region: 'eu-west-1', root: ROOT, specDir: dir });
    expect(r.engine).toMatchObject({ name: 'custom', fromDlc: true, baseRepository: 'pytorch-inference' });
    const params = infraParameters(d, { region: 'eu-west-1', account: '111111111111', bucket: 'b', template: infraTemplate(ROOT), baseRepository: r.engine.baseRepository });
    expect(params).toMatchObject({ BaseImageAccount: '763104351884', BaseImageRepository: 'pytorch-inference' });
  });

  it('uses the region-specific DLC account (af-south-1) and the ARG form FROM ${DLC_REGISTRY}/repo', () => {
    const { spec, dir } = specIn(custom.replace('[us-east-1]', '[af-south-1]'), { 'docker/Dockerfile': 'ARG DLC_REGISTRY\nFROM ${DLC_REGISTRY}/huggingface-pytorch-inference:2.6.0\n' });
    const r = renderBuild(spec.deployments.chat, { region: 'af-south-1', root: ROOT, specDir: dir });
    expect(r.engine).toMatchObject({ fromDlc: true, baseRepository: 'huggingface-pytorch-inference' });
    expect(r.buildspec).toMatch(/--build-arg DLC_REGISTRY=\$BASE_REGISTRY/);
  });

  it('refuses a DLC base of another region, saying which registry to use', () => {
    const { spec, dir } = specIn(custom, { 'docker/Dockerfile': 'FROM 763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:2.6.0-gpu\n' });
    expect(() => renderBuild(spec.deployments.chat, { region: 'us-east-1', root: ROOT, specDir: dir })).toThrow(
      /eu-west-1[\s\S]*us-east-1/,
    );
  });

  it('leaves other bases alone', () => {
    const { spec, dir } = specIn(custom, { 'docker/Dockerfile': 'FROM public.ecr.aws/docker/library/python:3.12\n' });
    expect(renderBuild(spec.deployments.chat, { region: 'us-east-1', root: ROOT, specDir: dir }).engine.fromDlc).toBe(false);
  });
});
