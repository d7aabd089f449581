import { customDlcBase } from '../../../src/image/engines';

const DLC = '763104351884.dkr.ecr.us-east-1.amazonaws.com';

describe('customDlcBase: the DLC repository of a custom Dockerfile', () => {
  it.each([
    ['tagged', `FROM ${DLC}/pytorch-inference:2.6.0-gpu\n`],
    ['untagged (pulls :latest)', `FROM ${DLC}/pytorch-inference\n`],
    ['tag from a build ARG', `ARG TAG=2.6.0\nFROM ${DLC}/pytorch-inference:\${TAG} AS base\n`],
    ['pinned by digest, with --platform', `FROM --platform=linux/amd64 ${DLC}/pytorch-inference@sha256:${'b'.repeat(64)}\n`],
  ])('%s', (_, dockerfile) => {
    expect(customDlcBase(dockerfile, 'us-east-1')).toEqual({ repository: 'pytorch-inference' });
  });

  it('ignores other registries and refuses a DLC of another region', () => {
    expect(customDlcBase('FROM vllm/vllm-openai:v0.6.3\n', 'us-east-1')).toBeUndefined();
    expect(customDlcBase('FROM 111111111111.dkr.ecr.us-east-1.amazonaws.com/mine:v1\n', 'us-east-1')).toBeUndefined();
    expect(() => customDlcBase(`FROM ${DLC}/pytorch-inference\n`, 'eu-west-1')).toThrow(/Deep Learning Container of us-east-1, but this build runs in eu-west-1/);
  });
});
