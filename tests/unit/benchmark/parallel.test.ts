/**
 * A level spread over worker threads (src/benchmark/parallel.ts), with stand-in workers: the split of the
 * streams, one clock started once every worker has warmed up, the merge of raw samples (not a median of the
 * workers' medians), the latest worker's lateness, the first level's refusal, abort, and a worker lost.
 */
import { EventEmitter } from 'events';
import { shares, spreadOverWorkers, WorkerLike } from '../../../src/benchmark/parallel';
import { calculateMetrics } from '../../../src/benchmark/metrics';
import type { RequestOutcome } from '../../../src/benchmark/types';
import type { WorkerInput, WorkerMessage } from '../../../src/benchmark/worker';
import { resolveWorkload } from '../../../src/benchmark/workload';
import { DeployError } from '../../../src/core/errors';

const ok = (itlMs: number[], ttftMs: number, startMs = 0): RequestOutcome => ({ success: true, promptLen: 8, outputTokens: itlMs.length + 1, ttftMs, itlMs, latencyMs: ttftMs + itlMs.reduce((a, b) => a + b, 0), startMs });

/** A stand-in worker: answers `ready` at once and `done` with its outcomes on `go`. */
class FakeWorker extends EventEmitter implements WorkerLike {
  posted: string[] = [];
  terminated = false;
  constructor(
    readonly input: WorkerInput,
    private readonly script: { ready?: Omit<Extract<WorkerMessage, { type: 'ready' }>, 'type'>; outcomes?: RequestOutcome[]; lag?: number; exitBeforeDone?: boolean },
  ) {
    super();
    setImmediate(() => this.emit('message', { type: 'ready', ok: true, ...script.ready }));
  }
  postMessage(m: { type: 'go' | 'abort' }): void {
    this.posted.push(m.type);
    if (m.type === 'go') {
      setImmediate(() =>
        this.script.exitBeforeDone
          ? this.emit('exit', 1)
          : this.emit('message', { type: 'done', outcomes: this.script.outcomes ?? [], stoppedBy: 'requests', clientLagP99Ms: this.script.lag ?? 0 }),
      );
    }
  }
  terminate(): void {
    this.terminated = true;
  }
}

const client = { baseUrl: 'http://127.0.0.1:1', model: 'm' };

describe('shares', () => {
  it('splits streams near-equally and never makes an empty share', () => {
    expect(shares(10, 3)).toEqual([4, 3, 3]);
    expect(shares(2, 4)).toEqual([1, 1]);
    expect(shares(1, 1)).toEqual([1]);
  });
});

describe('spreadOverWorkers', () => {
  it('gives each worker its share and one shared counter, and merges raw samples exactly', async () => {
    const workload = resolveWorkload({ concurrency: 5, requests: 20, outputTokens: 4 });
    // Worker 1 saw short gaps, worker 2 long ones: the pooled median ITL is 10 (6 of the 9 gaps); a median of
    // the two workers' medians would read 5.5.
    const a = [ok([1, 1, 1], 100)];
    const b = [ok([10, 10, 10], 120), ok([10, 10, 10], 140)];
    const fakes: FakeWorker[] = [];
    const run = spreadOverWorkers({
      workers: 2,
      exact: true,
      client,
      workload,
      cwd: '/',
      script: '/nowhere/cli.js',
      start: (_script, input) => {
        const w = new FakeWorker(input, { outcomes: fakes.length === 0 ? a : b, lag: fakes.length === 0 ? 0.5 : 3 });
        fakes.push(w);
        return w;
      },
    });
    const step = (await run({ concurrency: 5 }, true, undefined))!;
    expect(fakes.map((f) => f.input.load)).toEqual([{ concurrency: 3 }, { concurrency: 2 }]);
    expect(fakes[0]!.input.counter).toBe(fakes[1]!.input.counter);
    expect(fakes.map((f) => f.posted)).toEqual([['go'], ['go']]);
    expect(fakes.every((f) => f.terminated)).toBe(true);
    const pooled = calculateMetrics([...a, ...b], step.metrics.duration, { objective: workload.objective });
    expect(step.metrics.median_itl_ms).toBe(10);
    expect(step.metrics).toEqual(pooled);
    expect(step.metrics.completed).toBe(3);
    expect(step.workers).toBe(2);
    expect(step.clientLagP99Ms).toBe(3);
    expect(step.concurrency).toBe(5);
    expect(typeof step.clientCpuS).toBe('number');
  });

  it('without --workers, a level gets one thread per 256 streams (none below 257: it stays on this thread)', async () => {
    const started: WorkerInput[] = [];
    const run = spreadOverWorkers({
      workers: 4,
      client,
      workload: resolveWorkload({ concurrency: 600, requests: 1200, outputTokens: 4 }),
      cwd: '/',
      script: '/nowhere/cli.js',
      start: (_s, input) => {
        started.push(input);
        return new FakeWorker(input, {});
      },
    });
    expect(await run({ concurrency: 256 }, true, undefined)).toBeUndefined();
    expect(started).toHaveLength(0);
    const step = await run({ concurrency: 600 }, true, undefined);
    expect(step?.workers).toBe(3);
    expect(started.map((i) => i.load)).toEqual([{ concurrency: 200 }, { concurrency: 200 }, { concurrency: 200 }]);
  });

  it('an open loop splits the rate; each worker gets its own arrival seed', async () => {
    const fakes: FakeWorker[] = [];
    const run = spreadOverWorkers({
      workers: 2,
      exact: true,
      client,
      workload: resolveWorkload({ requestRate: 10, requests: 8, outputTokens: 4 }),
      cwd: '/',
      script: '/nowhere/cli.js',
      start: (_s, input) => {
        const w = new FakeWorker(input, { outcomes: [ok([5], 50)] });
        fakes.push(w);
        return w;
      },
    });
    const step = (await run({ requestRate: 10 }, true, undefined))!;
    expect(fakes.map((f) => f.input.load)).toEqual([{ requestRate: 5 }, { requestRate: 5 }]);
    expect(new Set(fakes.map((f) => f.input.seed)).size).toBe(2);
    expect(step.requestRate).toBe(10);
    expect(step.metrics.completed).toBe(2);
  });

  it('on the first level, no worker answering is a setup error and nothing is timed', async () => {
    const fakes: FakeWorker[] = [];
    const run = spreadOverWorkers({
      workers: 2,
      exact: true,
      client,
      workload: resolveWorkload({ concurrency: 2, requests: 4 }),
      cwd: '/',
      script: '/nowhere/cli.js',
      start: (_s, input) => {
        const w = new FakeWorker(input, { ready: { ok: false, error: 'HTTP 401: unauthorized' } });
        fakes.push(w);
        return w;
      },
    });
    const err = await run({ concurrency: 2 }, true, undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeployError);
    expect((err as Error).message).toBe('the first request to http://127.0.0.1:1 failed: HTTP 401: unauthorized');
    expect(fakes.map((f) => f.posted)).toEqual([[], []]);
    expect(fakes.every((f) => f.terminated)).toBe(true);
  });

  it('forwards an abort to every worker', async () => {
    const controller = new AbortController();
    const fakes: FakeWorker[] = [];
    const run = spreadOverWorkers({
      workers: 2,
      exact: true,
      client,
      workload: resolveWorkload({ concurrency: 2, requests: 4 }),
      cwd: '/',
      script: '/nowhere/cli.js',
      start: (_s, input) => {
        const w = new FakeWorker(input, {});
        // A worker that never finishes by itself: only the abort ends it.
        w.postMessage = (m) => {
          w.posted.push(m.type);
          if (m.type === 'go') controller.abort();
          if (m.type === 'abort') setImmediate(() => w.emit('message', { type: 'done', outcomes: [], stoppedBy: 'abort', clientLagP99Ms: 0 }));
        };
        fakes.push(w);
        return w;
      },
    });
    const step = (await run({ concurrency: 2 }, false, controller.signal))!;
    expect(step.stoppedBy).toBe('abort');
    expect(fakes.map((f) => f.posted.includes('abort'))).toEqual([true, true]);
  });

  it('a worker that exits without results fails the level and says how to run without workers', async () => {
    const run = spreadOverWorkers({
      workers: 2,
      exact: true,
      client,
      workload: resolveWorkload({ concurrency: 2, requests: 4 }),
      cwd: '/',
      script: '/nowhere/cli.js',
      start: (_s, input) => new FakeWorker(input, { exitBeforeDone: true }),
    });
    await expect(run({ concurrency: 2 }, true, undefined)).rejects.toThrow('benchmark worker 1 (/nowhere/cli.js) exited (code 1) before its results; run with --workers 1');
  });
});
