/** Workload defaults and validation: every problem named by its field, with what is valid. */
import { resolveWorkload, WORKLOAD_DEFAULTS } from '../../../src/benchmark/workload';
import { DeployError, DeployErrors } from '../../../src/core/errors';

function problems(input: unknown): string {
  try {
    resolveWorkload(input, { path: 'deployments.chat.workload', location: { file: 'model-deploy.yml', line: 12 } });
  } catch (err) {
    expect(err).toBeInstanceOf(DeployError);
    return (err as DeployError).describe();
  }
  throw new Error('expected a DeployError');
}

describe('resolveWorkload', () => {
  it('fills defaults', () => {
    expect(resolveWorkload(undefined)).toEqual({
      promptTokens: WORKLOAD_DEFAULTS.promptTokens,
      outputTokens: WORKLOAD_DEFAULTS.outputTokens,
      concurrency: WORKLOAD_DEFAULTS.concurrency,
      requests: WORKLOAD_DEFAULTS.requests,
      maxDurationSeconds: WORKLOAD_DEFAULTS.maxDurationSeconds,
      objective: { p95TtftMs: 2000 },
      targetRequestsPerMinute: WORKLOAD_DEFAULTS.targetRequestsPerMinute,
    });
  });

  it('keeps what is given; a request rate replaces the default concurrency', () => {
    const w = resolveWorkload({ promptTokens: 1024, outputTokens: 256, requestRate: 2.5, requests: 100, maxDurationSeconds: 60, objective: { p95E2elMs: 9000 }, targetRequestsPerMinute: 600, promptsFile: 'bench/prompts.jsonl' });
    expect(w.concurrency).toBeUndefined();
    expect(w.requestRate).toBe(2.5);
    expect(w.objective).toEqual({ p95E2elMs: 9000 });
    expect(w.promptsFile).toBe('bench/prompts.jsonl');
    const stepped = resolveWorkload({ concurrencySteps: [1, 4, 16] });
    expect(stepped.concurrencySteps).toEqual([1, 4, 16]);
    // Stepping replaces the default concurrency (it would otherwise change the results key for nothing).
    expect(stepped.concurrency).toBeUndefined();
  });

  it.each([
    [{ promptTokens: 0 }, 'deployments.chat.workload.promptTokens is 0, which is not valid\nA whole number from 1 to 131072.'],
    [{ outputTokens: 1.5 }, 'workload.outputTokens is 1.5, which is not valid\nA whole number from 1 to 32768.'],
    [{ concurrency: 2000 }, 'workload.concurrency is 2000, which is not valid\nA whole number from 1 to 1024.'],
    [{ requests: '64' }, 'workload.requests is "64", which is not valid'],
    [{ maxDurationSeconds: 7200 }, 'workload.maxDurationSeconds is 7200, which is not valid\nA number from 1 to 3600.'],
    [{ requestRate: 0 }, 'workload.requestRate is 0, which is not valid'],
    [{ concurrency: 4, requestRate: 2 }, 'workload.requestRate and concurrency are both set'],
    [{ objective: { p95TtftMs: -1 } }, 'workload.objective.p95TtftMs is -1, which is not valid'],
    [{ objective: { p99TtftMs: 100 } }, 'workload.objective.p99TtftMs is not an objective field\nObjective fields: p95TtftMs, p95E2elMs'],
    [{ objective: {} }, 'workload.objective names no latency'],
    [{ objective: 500 }, 'workload.objective must be a mapping'],
    [{ promptsFile: '../secrets.txt' }, 'workload.promptsFile is "../secrets.txt", which is not valid\nA path relative to the repository root'],
    [{ promptsFile: '/etc/passwd' }, 'workload.promptsFile is "/etc/passwd", which is not valid'],
    [{ concurrencySteps: [4, 1] }, 'workload.concurrencySteps is [4,1], which is not valid\nA list of 1 to 16 whole numbers from 1 to 1024, ascending'],
    [{ concurrencySteps: [1, 2], requestRate: 1 }, 'workload.concurrencySteps steps the concurrency, but requestRate sets an open loop'],
    [{ concurrencySteps: [1, 2], concurrency: 4 }, 'workload.concurrencySteps and concurrency are both set'],
    [{ concurency: 8 }, 'workload.concurency is not a workload field\nWorkload fields: promptTokens, outputTokens, concurrency'],
  ])('%j is rejected, naming the field and what is valid', (input, expected) => {
    expect(problems(input)).toContain(expected);
  });

  it('reports every problem at once, at the spec location', () => {
    let caught: unknown;
    try {
      resolveWorkload({ promptTokens: -5, outputTokens: 0 }, { location: { file: 'model-deploy.yml', line: 12 } });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DeployErrors);
    expect((caught as DeployErrors).errors.map((e) => e.message)).toEqual(['workload.promptTokens is -5, which is not valid', 'workload.outputTokens is 0, which is not valid']);
    expect((caught as DeployErrors).location).toEqual({ file: 'model-deploy.yml', line: 12 });
  });

  it('rejects a workload that is not a mapping', () => {
    expect(problems([1, 2])).toContain('deployments.chat.workload must be a mapping of workload fields');
  });
});
