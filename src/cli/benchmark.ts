/**
 * `model-deploy benchmark` and `model-deploy invoke`: the benchmark domain's own command-line forms.
 * invoke's module is loaded when it runs: benchmark streams over node:http and never needs invoke's AWS
 * clients (SageMaker runtime, S3, CloudFormation).
 */
import { BENCHMARK_USAGE, benchmarkCommand } from '../benchmark/cli';
import { INVOKE_FLAGS, INVOKE_USAGE } from '../benchmark/invoke-usage';
import { parseFlags } from './flags';
import type { CliCommand } from './io';

export const benchmark: CliCommand = {
  usage: BENCHMARK_USAGE.replace(/^Usage:\n {2}/, ''),
  // Its own flags and exit codes (2 for a usage error), and Ctrl-C stops the run.
  run: (args, { reporter }) => benchmarkCommand(args, reporter),
};

export const invoke: CliCommand = {
  usage: INVOKE_USAGE,
  run: async (args, { reporter }) => (await import('../benchmark/invoke')).invokeCommand(parseFlags(args, INVOKE_FLAGS), reporter),
};

/** In a worker thread the CLI entry started for `benchmark --workers N`: run the worker (nothing otherwise). */
export async function runBenchmarkWorkerThread(): Promise<void> {
  const worker = await import('../benchmark/worker');
  if (worker.isBenchmarkWorker()) await worker.runBenchmarkWorker();
}
