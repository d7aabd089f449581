/**
 * `model-deploy benchmark` measures an OpenAI-compatible URL over node:http: loading the command must not
 * load the AWS clients only `invoke` uses (each costs start-up CPU and memory before the first request).
 */
const loaded: string[] = [];
jest.mock('@aws-sdk/client-sagemaker-runtime', () => {
  loaded.push('@aws-sdk/client-sagemaker-runtime');
  return {};
});
jest.mock('@aws-sdk/client-s3', () => {
  loaded.push('@aws-sdk/client-s3');
  return {};
});
jest.mock('@aws-sdk/client-cloudformation', () => {
  loaded.push('@aws-sdk/client-cloudformation');
  return {};
});

describe('the benchmark command module', () => {
  it('loads no AWS client; invoke still lists its usage', async () => {
    const mod = (await import('../../../src/cli/benchmark')) as typeof import('../../../src/cli/benchmark');
    expect(mod.benchmark.usage).toContain('model-deploy benchmark --url URL');
    expect(mod.invoke.usage).toContain('model-deploy invoke');
    expect(loaded).toEqual([]);
  });
});
