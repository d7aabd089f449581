/**
 * The workload in the spec: per deployment and under defaults:, merged like any other setting, defaults
 * applied, and every problem reported at the line that wrote it.
 */
import { parseSpec } from '../../../src/config/load';
import { DeployError, DeployErrors } from '../../../src/core/errors';
import { WORKLOAD_DEFAULTS } from '../../../src/benchmark/workload';

const DEPLOYMENT = (name: string, more = '') => `  ${name}:
    model: { huggingface: { id: org/model, revision: "0123456789abcdef0123456789abcdef01234567" }, sizeGb: 10 }
    engine: { name: vllm }
    target: sagemaker-realtime
    instanceType: ml.g5.2xlarge
    regions: [us-east-1]
${more}`;

const spec = (deployments: string, defaults = '') => parseSpec(`version: 1\nproject: test\n${defaults}deployments:\n${deployments}`, 'model-deploy.yml');

function errorsOf(fn: () => unknown): DeployError[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof DeployErrors) return err.errors;
    if (err instanceof DeployError) return [err];
    throw err;
  }
  throw new Error('expected the spec to be refused');
}

describe('workload in the spec', () => {
  it('takes the defaults when no workload is written', () => {
    const w = spec(DEPLOYMENT('chat')).deployments.chat?.workload;
    expect(w).toEqual({
      promptTokens: WORKLOAD_DEFAULTS.promptTokens,
      outputTokens: WORKLOAD_DEFAULTS.outputTokens,
      concurrency: WORKLOAD_DEFAULTS.concurrency,
      requests: WORKLOAD_DEFAULTS.requests,
      maxDurationSeconds: WORKLOAD_DEFAULTS.maxDurationSeconds,
      objective: { p95TtftMs: 2000 },
      targetRequestsPerMinute: WORKLOAD_DEFAULTS.targetRequestsPerMinute,
    });
  });

  it('merges defaults: with the deployment\'s own fields (the deployment wins)', () => {
    const s = spec(
      DEPLOYMENT('chat', '    workload: { outputTokens: 256, concurrencySteps: [1, 4, 16] }\n') + DEPLOYMENT('batch'),
      'defaults:\n  workload:\n    promptTokens: 1024\n    outputTokens: 64\n    objective: { p95E2elMs: 9000 }\n    targetRequestsPerMinute: 600\n',
    );
    expect(s.deployments.chat?.workload).toMatchObject({ promptTokens: 1024, outputTokens: 256, concurrencySteps: [1, 4, 16], objective: { p95E2elMs: 9000 }, targetRequestsPerMinute: 600 });
    expect(s.deployments.chat?.workload.concurrency).toBeUndefined();
    expect(s.deployments.batch?.workload).toMatchObject({ promptTokens: 1024, outputTokens: 64, concurrency: 8 });
  });

  it('refuses an out-of-range value through the schema, at its line', () => {
    const errs = errorsOf(() => spec(DEPLOYMENT('chat', '    workload:\n      concurrency: 2000\n')));
    expect(errs).toHaveLength(1);
    expect(errs[0]?.location).toMatchObject({ file: 'model-deploy.yml', line: 11 });
    expect(errs[0]?.describe()).toMatch(/concurrency/);
  });

  it('refuses an unknown workload field at its line', () => {
    const errs = errorsOf(() => spec(DEPLOYMENT('chat', '    workload:\n      outputTokens: 8\n      promptTokenz: 8\n')));
    expect(errs[0]?.location?.line).toBe(12);
    expect(errs[0]?.describe()).toMatch(/promptTokenz/);
  });

  it('reports what a schema cannot say (rate and concurrency, steps not ascending) at each field\'s line', () => {
    const errs = errorsOf(() =>
      spec(DEPLOYMENT('chat', '    workload:\n      concurrency: 4\n      requestRate: 2\n') + DEPLOYMENT('steps', '    workload:\n      concurrencySteps: [4, 1]\n')),
    );
    expect(errs.map((e) => [e.message, e.location?.line])).toEqual([
      ['deployments.chat: workload.requestRate and concurrency are both set', 12],
      ['deployments.steps: workload.concurrencySteps is [4,1], which is not valid', 20],
    ]);
    expect(errs[0]?.hint).toMatch(/either concurrency/);
  });

  it('points at defaults: when that is where the bad value is written', () => {
    const errs = errorsOf(() => spec(DEPLOYMENT('chat', '    workload: { requestRate: 2 }\n'), 'defaults:\n  workload:\n    concurrency: 4\n'));
    expect(errs[0]?.message).toBe('deployments.chat: workload.requestRate and concurrency are both set');
    // requestRate is written on the deployment (line 13), concurrency under defaults: (line 5).
    expect(errs[0]?.location?.line).toBe(13);
  });
});
