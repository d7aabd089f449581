/**
 * Runs one action the way every action runs: read inputs (failing fast, before any heavy module
 * loads), call the domain flow, turn a failure into one annotation plus core.setFailed, and stop
 * cleanly when the workflow is cancelled.
 */
import type { ActionDefinition } from '../actions/definitions/types';
import { DeployError, errorMessage } from './errors';
import { EnvInputs } from './env';
import { Inputs, InputSource, envInputSource } from './inputs';
import type { Reporter } from './log';

export interface ActionContext {
  inputs: Inputs;
  reporter: Reporter;
  /** Aborted on SIGINT/SIGTERM (workflow cancelled): flows stop what they started in AWS. */
  signal: AbortSignal;
  /** GITHUB_WORKSPACE, or the current directory. */
  workspace: string;
  env: EnvInputs;
}

export type ActionRunner = (ctx: ActionContext) => Promise<void>;

export interface RunOptions {
  source?: InputSource;
  reporter?: Reporter;
  env?: NodeJS.ProcessEnv;
  /** Set the process exit code on failure (true for bundles, false for tests). */
  setExitCode?: boolean;
}

/** Reports an error once: an annotation where it points, and the failed status with its advice. */
export function reportFailure(err: unknown, reporter: Reporter): void {
  if (err instanceof DeployError) {
    const inner = (err as { errors?: DeployError[] }).errors;
    // The annotation carries the location itself; the text says what and what to do.
    for (const e of inner && inner.length > 1 ? inner : [err]) reporter.error(e.describe(!e.location), e.location, e.title);
  } else {
    reporter.error(errorMessage(err), undefined, 'Unexpected error');
    if (err instanceof Error && err.stack) reporter.debug(err.stack);
  }
}

export async function runAction(definition: ActionDefinition, load: () => Promise<ActionRunner>, options: RunOptions = {}): Promise<boolean> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const reporter: Reporter = options.reporter ?? (require('./log') as typeof import('./log')).githubReporter();
  const env = options.env ?? process.env;
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    reporter.warning(`Received ${sig}: stopping (the workflow was cancelled).`);
    controller.abort(new DeployError(`Cancelled by ${sig}.`, { title: 'Cancelled' }));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const inputs = new Inputs(definition, options.source ?? envInputSource(env), reporter);
    const runner = await load();
    await runner({ inputs, reporter, signal: controller.signal, workspace: env.GITHUB_WORKSPACE || process.cwd(), env: new EnvInputs(env) });
    return true;
  } catch (err) {
    reportFailure(err, reporter);
    // Like core.setFailed, minus a second copy of the annotation.
    if (options.setExitCode !== false) process.exitCode = 1;
    return false;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
