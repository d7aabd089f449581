/**
 * One worker thread of a spread benchmark level (parallel.ts starts it). It streams its share of the level's
 * requests on its own event loop, with its own connections, and measures its own lateness:
 *   1. warms its connections up, posts `ready` (or the first request's error);
 *   2. on `go`, runs its share: indices come from a counter shared by every worker (Atomics), so together they
 *      send exactly the level's requests; on `abort` it stops;
 *   3. posts `done` with its raw outcomes, their start times moved onto the parent's clock, and its lateness.
 * The CLI bundle enters it through its own file (the entry checks `isBenchmarkWorker()`), so it needs no file
 * of its own in dist/.
 */
import { isMainThread, parentPort, workerData } from 'worker_threads';
import { openAiClient, OpenAiClientOptions } from './client-openai';
import { filePrompts, PromptSource, syntheticPrompts } from './prompts';
import { LevelSamples, LoadLevel, runLoad, seededRandom, warmup } from './runner';
import type { Workload } from './workload';
import { errorMessage } from '../core/errors';

export const WORKER_MARK = 'modelDeployBenchmarkWorker';

export interface WorkerInput {
  [WORKER_MARK]: true;
  client: Omit<OpenAiClientOptions, 'now'>;
  workload: Workload;
  /** Prompts from this file (relative to cwd) instead of synthetic ones. */
  promptsFile?: string;
  cwd: string;
  /** This worker's share of the level. */
  load: LoadLevel;
  maxInFlight?: number;
  /** Int32Array over it: [0] the next request index. */
  counter: SharedArrayBuffer;
  /** The parent's performance.timeOrigin: outcomes' start times are moved onto its clock. */
  timeOrigin: number;
  warmup: boolean;
  /** Warm-up requests to send before `ready`. */
  warmupParallel: number;
  seed: number;
}

export type WorkerMessage =
  | { type: 'ready'; ok: boolean; error?: string }
  | ({ type: 'done' } & LevelSamples)
  | { type: 'failed'; error: string };

/** True in a worker thread started for a benchmark level. */
export function isBenchmarkWorker(): boolean {
  return !isMainThread && typeof workerData === 'object' && workerData !== null && (workerData as Record<string, unknown>)[WORKER_MARK] === true;
}

/** The worker's whole life: warm up, wait for `go`, run, report. */
export async function runBenchmarkWorker(input = workerData as WorkerInput, port = parentPort!): Promise<void> {
  const client = openAiClient(input.client);
  const prompts: PromptSource = input.promptsFile ? filePrompts(input.promptsFile, input.cwd) : syntheticPrompts(input.workload.promptTokens);
  const stop = new AbortController();
  const go = new Promise<void>((resolve) => {
    port.on('message', (m: { type: string }) => {
      if (m.type === 'go') resolve();
      if (m.type === 'abort') {
        stop.abort(new Error('aborted'));
        resolve();
      }
    });
  });
  try {
    let ok = true;
    let error: string | undefined;
    if (input.warmup && input.warmupParallel > 0) {
      try {
        await warmup(client, input.workload, prompts, input.warmupParallel, stop.signal, true);
      } catch (err) {
        ok = false;
        error = errorMessage(err);
      }
    }
    port.postMessage({ type: 'ready', ok, error } satisfies WorkerMessage);
    await go;
    const counter = new Int32Array(input.counter);
    const take = () => {
      const i = Atomics.add(counter, 0, 1);
      return i < input.workload.requests ? i : undefined;
    };
    const samples = await runLoad({ client, workload: input.workload, prompts, signal: stop.signal, maxInFlight: input.maxInFlight, random: seededRandom(input.seed) }, input.load, take);
    const shift = performance.timeOrigin - input.timeOrigin;
    for (const o of samples.outcomes) o.startMs += shift;
    port.postMessage({ type: 'done', ...samples } satisfies WorkerMessage);
  } catch (err) {
    port.postMessage({ type: 'failed', error: errorMessage(err) } satisfies WorkerMessage);
  } finally {
    await client.close?.();
  }
}
