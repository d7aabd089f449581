/**
 * Wait budgets derived from the deployment: how long the model download and the container start-up may
 * take (SageMaker's ModelDataDownloadTimeoutInSeconds and ContainerStartupHealthCheckTimeoutInSeconds, the
 * ECS health grace, the EC2 ready timeout), and from them how long the deploy waits for the stack.
 * A value the spec sets always wins. Pure: the offline plan shows the same figures the deploy uses.
 */
import type { Deployment } from '../config/types';
import { specFacts } from '../fit/model-facts';

/** Where the weights load from: an S3 prefix, an S3 archive (unpacked after the download), or the image itself. */
export type LoadPath = 'prefix' | 'tar.gz' | 'none';

/** SageMaker's range for both timeouts (CreateEndpointConfig ProductionVariant), which the schema also holds. */
export const MIN_TIMEOUT_SECONDS = 60;
export const MAX_TIMEOUT_SECONDS = 3600;

// Conservative throughputs, so a healthy start is never cut short: S3 to the instance's volume, half that
// for an archive (downloaded, then unpacked), and local disk into accelerator memory.
const DOWNLOAD_GB_PER_SECOND: Record<Exclude<LoadPath, 'none'>, number> = { prefix: 0.1, 'tar.gz': 0.05 };
const LOAD_GB_PER_SECOND = 0.2;
/** Slack for the download's start (credentials, listing, first bytes). */
const DOWNLOAD_MARGIN_SECONDS = 120;
/** The engine after its weights are in memory: KV-cache allocation, CUDA-graph capture or compilation. */
const WARM_UP_SECONDS = 240;
/** Inferentia and Trainium compile the model for their cores at start unless compiled artifacts are given. */
const NEURON_WARM_UP_SECONDS = 900;
/** Without a size (no model.sizeGb, no parameters) the budgets stay at the former fixed defaults. */
const UNKNOWN_SIZE_SECONDS = 600;

/** Before the download: capacity, instance boot and image pull, and the stack's other resources. */
const PROVISIONING_SECONDS = 900;
/** After the container is healthy: the smoke test and the stack's last resources. */
const FINISH_SECONDS = 300;
/** deploy-endpoint's timeout-minutes range. */
const MAX_DEPLOY_MINUTES = 720;

export interface Budget {
  seconds: number;
  /** The spec field that set it, or how it was derived. */
  from: string;
}

export interface HealthBudget {
  download: Budget;
  startup: Budget;
}

const LOAD_PATH_WORDS: Record<LoadPath, string> = { prefix: 'an S3 prefix', 'tar.gz': 'an S3 archive', none: 'the image' };

const clamp = (seconds: number) => Math.min(MAX_TIMEOUT_SECONDS, Math.max(MIN_TIMEOUT_SECONDS, Math.ceil(seconds)));

/** Weights' size in GB from the spec's own figures (model.sizeGb, else parameters × dtype); undefined when unknown. */
function modelGb(d: Deployment): number | undefined {
  const bytes = specFacts(d).weightsBytes;
  return bytes === undefined ? undefined : bytes / 1e9;
}

/** A budget the spec did not set: clamped to SageMaker's range, saying how it was derived. */
function derived(gb: number | undefined, seconds: number, how: string): Budget {
  if (gb === undefined) return { seconds: UNKNOWN_SIZE_SECONDS, from: 'the default: model size unknown, give model.sizeGb' };
  const clamped = clamp(seconds);
  const capped = clamped < Math.ceil(seconds) ? `, capped at SageMaker's ${MAX_TIMEOUT_SECONDS} s` : '';
  return { seconds: clamped, from: `derived from ${round(gb)} GB ${how}${capped}` };
}

/** The container start-up budget: loading the weights into memory and warming the engine up (any load path). */
export function startupBudget(d: Deployment): Budget {
  const given = d.healthCheck.startupTimeoutSeconds;
  if (given !== undefined) return { seconds: given, from: 'healthCheck.startupTimeoutSeconds' };
  const gb = modelGb(d);
  const warmUp = /^(ml\.)?(inf|trn)\d/.test(d.instanceType) ? NEURON_WARM_UP_SECONDS : WARM_UP_SECONDS;
  return derived(gb, warmUp + (gb ?? 0) / LOAD_GB_PER_SECOND, `loaded at ${LOAD_GB_PER_SECOND * 1000} MB/s + ${warmUp} s engine warm-up`);
}

/** The download and start-up budgets of a deployment whose weights load from `path`. */
export function healthBudget(d: Deployment, path: LoadPath): HealthBudget {
  return { download: downloadBudget(d, path), startup: startupBudget(d) };
}

function downloadBudget(d: Deployment, path: LoadPath): Budget {
  const given = d.healthCheck.modelDownloadTimeoutSeconds;
  if (given !== undefined) return { seconds: given, from: 'healthCheck.modelDownloadTimeoutSeconds' };
  const gb = modelGb(d);
  if (path === 'none') return { seconds: MIN_TIMEOUT_SECONDS, from: 'the minimum: the weights are in the image' };
  const rate = DOWNLOAD_GB_PER_SECOND[path];
  return derived(gb, DOWNLOAD_MARGIN_SECONDS + (gb ?? 0) / rate, `from ${LOAD_PATH_WORDS[path]} at ${rate * 1000} MB/s + ${DOWNLOAD_MARGIN_SECONDS} s`);
}

function round(gb: number): string {
  return gb >= 10 ? String(Math.round(gb)) : String(Math.round(gb * 10) / 10);
}

/** One line for the plan and the log: each budget with where it comes from. */
export function budgetLine(b: HealthBudget): string {
  return `wait budgets: model download ${b.download.seconds} s (${b.download.from}), container start-up ${b.startup.seconds} s (${b.startup.from})`;
}

/** What a SageMaker blue/green update may add after the new fleet is healthy (the rollout's own bounds). */
function rolloutSeconds(d: Deployment): number {
  if (d.target !== 'sagemaker-realtime') return 0;
  const r = d.rollout;
  return (r.strategy === 'all-at-once' ? r.waitSeconds : r.maxExecutionSeconds) + r.terminationWaitSeconds;
}

/**
 * How long deploy-endpoint waits for the stack when timeout-minutes is not given: provisioning, the
 * download and start-up budgets, the rollout, and the finish; within timeout-minutes' 1-720.
 */
export function deployTimeoutMinutes(d: Deployment, path: LoadPath): number {
  const b = healthBudget(d, path);
  const seconds = PROVISIONING_SECONDS + b.download.seconds + b.startup.seconds + rolloutSeconds(d) + FINISH_SECONDS;
  return Math.min(MAX_DEPLOY_MINUTES, Math.ceil(seconds / 60));
}
