/**
 * Runs one action the way every action runs: parse its inputs through its definition, call its
 * run(), turn a failure into one annotation plus a failed exit code, and stop cleanly when the
 * workflow is cancelled.
 */
import { DeployError, errorMessage } from './errors';
import { EnvInputs } from './env';
import { ActionDefinition, InputSource, InputValues, envInputSource, parseInputs } from './inputs';
import { Reporter, githubReporter } from './log';
import { loadHttpClient } from './http-client';
import { applyProxyInput, proxyConfigured } from './proxy';

export interface ActionContext {
  reporter: Reporter;
  /** Aborted on SIGINT/SIGTERM (workflow cancelled): flows stop what they started in AWS. */
  signal: AbortSignal;
  /** GITHUB_WORKSPACE, or the current directory. */
  workspace: string;
  env: EnvInputs;
}

/** What a domain call gets besides its target and request: where to report, the runner, cancellation. */
export type RunContext = Pick<ActionContext, 'reporter' | 'env'> & { signal?: AbortSignal };

/** What an action module exports: its definition and the run() that the typed inputs go to. */
export interface ActionModule<A extends ActionDefinition> {
  definition: A;
  run(inputs: InputValues<A>, ctx: ActionContext): Promise<void>;
}

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

export async function runAction<A extends ActionDefinition>(action: ActionModule<A>, options: RunOptions = {}): Promise<boolean> {
  const reporter: Reporter = options.reporter ?? githubReporter();
  const env = options.env ?? process.env;
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    reporter.warning(`Received ${sig}: stopping (the workflow was cancelled).`);
    controller.abort(new DeployError(`Cancelled by ${sig}.`, { title: 'Cancelled' }));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const inputs = parseInputs(action.definition, options.source ?? envInputSource(env), reporter);
    applyProxyInput((inputs as { 'http-proxy'?: string })['http-proxy'], env, (secret) => reporter.setSecret(secret));
    // Every request asks @actions/http-client's NO_PROXY rule (proxy.ts), synchronously: load it now.
    if (proxyConfigured(env)) await loadHttpClient();
    await action.run(inputs, { reporter, signal: controller.signal, workspace: env.GITHUB_WORKSPACE || process.cwd(), env: new EnvInputs(env) });
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
