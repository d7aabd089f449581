/**
 * The working set of one deploy-endpoint run (request + target + run context) and of one region in it,
 * with the small helpers every step uses: timing and idempotency tokens.
 */
import type { DescribeCertificate } from './certificate';
import { createHash } from 'crypto';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { Credentials } from '../core/aws';
import type { EnvInputs } from '../core/env';
import type { Reporter } from '../core/log';
import type { PollOptions } from '../core/poll';
import type { Target } from '../config/select';
import type { Deployment } from '../config/types';
import type { RenderedStack, RenderStackInput } from './types';

export const DEPLOY_MODES = ['create-and-execute', 'create-only', 'execute-only', 'destroy', 'destroy-preview'] as const;
export type DeployMode = (typeof DEPLOY_MODES)[number];

/** What deploy-endpoint asks for, beyond the target. */
export interface DeployRequest {
  mode: DeployMode;
  imageUri?: string;
  modelDataUrl?: string;
  timeoutMinutes: number;
  failOnEmptyChangeSet: boolean;
  skipQuotaCheck: boolean;
  smokeTest: boolean;
  templateBucket?: string;
  /** Default md-<sha7> from GITHUB_SHA. */
  changeSetName?: string;
  githubToken?: string;
  /** Seams for tests: credentials, the renderer, the pollers' clock and sleep, fetch. */
  credentials?: Credentials;
  render?: (input: RenderStackInput) => RenderedStack | Promise<RenderedStack>;
  pollOverrides?: Partial<Pick<PollOptions<unknown>, 'sleep' | 'now' | 'random'>>;
  fetchImpl?: typeof fetch;
  /** ACM DescribeCertificate for the hostname check (none yet in the bundle: the check warns). */
  describeCertificate?: DescribeCertificate;
}

/** The flow's working set: the request, the target, and the run context in one object. */
export interface DeployFlowOptions extends DeployRequest {
  selection: Target;
  env: EnvInputs;
  reporter: Reporter;
  signal?: AbortSignal;
}

export interface Timing {
  step: string;
  ms: number;
}

export type RegionStatus = 'deployed' | 'no-changes' | 'change-set-created' | 'destroyed' | 'destroy-previewed' | 'nothing-to-destroy';

export interface RegionResult {
  region: string;
  status: RegionStatus;
  stackName: string;
  stackId?: string;
  endpointName: string;
  endpointArn?: string;
  endpointUrl?: string;
  changeSetId?: string;
  changesMarkdown: string;
  hasChanges: boolean;
  outputs: Record<string, string>;
  timings: Timing[];
}

export interface RegionContext {
  options: DeployFlowOptions;
  region: string;
  account: string;
  deadline: number;
  cfn: CloudFormationClient;
  deployment: Deployment;
  timings: Timing[];
  now: () => number;
}

export async function timed<T>(ctx: RegionContext, step: string, fn: () => Promise<T>): Promise<T> {
  const start = ctx.now();
  try {
    return await fn();
  } finally {
    ctx.timings.push({ step, ms: ctx.now() - start });
  }
}

/**
 * The ClientRequestToken of one operation: the same for a retry within one job attempt (CloudFormation
 * then treats it as the same request), new for a re-run attempt, and distinct per operation, region
 * and subject (the change set executed, the stack deleted).
 */
export function clientToken(env: EnvInputs, region: string, what: string, subject: string): string {
  const run = env.get('GITHUB_RUN_ID') ?? 'local';
  const attempt = env.get('GITHUB_RUN_ATTEMPT') ?? '1';
  const digest = createHash('sha256').update(subject).digest('hex').slice(0, 12);
  return `md-${what}-${run}-${attempt}-${region}-${digest}`.replace(/[^a-zA-Z0-9-]/g, '-').slice(0, 128);
}
