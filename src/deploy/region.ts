/**
 * What deploy-endpoint asks for, what it answers per region, and the working set of one region (the
 * target, the request and the run context as deployEndpoint got them), with the small helpers every
 * step uses: timing and idempotency tokens.
 */
import { sha256Hex } from '../core/hash';
import type { DescribeCertificate } from './certificate';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { requestsSent, type Credentials } from '../core/aws';
import type { RunContext } from '../core/action';
import type { EnvInputs } from '../core/env';
import { DeployError } from '../core/errors';
import type { PollOptions } from '../core/poll';
import type { Target } from '../config/select';
import type { RenderedStack, RenderStackInput } from './types';

export const DEPLOY_MODES = ['create-and-execute', 'create-only', 'execute-only', 'resume', 'destroy', 'destroy-preview'] as const;
export type DeployMode = (typeof DEPLOY_MODES)[number];

/** What deploy-endpoint asks for, beyond the target. */
export interface DeployRequest {
  mode: DeployMode;
  imageUri?: string;
  modelDataUrl?: string;
  /** JSON objects region → value (promote-model's outputs); a region they name wins over imageUri/modelDataUrl. */
  imageUris?: string;
  modelDataUrls?: string;
  /** promote-model's model-data-versions: region → key → version; the deploy refuses weights changed since. */
  modelDataVersions?: string;
  timeoutMinutes: number;
  /** false: return once the change set is executing (no-wait mode); mode resume follows it later. Default true. */
  wait?: boolean;
  failOnEmptyChangeSet: boolean;
  skipQuotaCheck: boolean;
  smokeTest: boolean;
  /** destroy, destroy-preview: also delete the SageMaker endpoint's log group, which outlives the stack. */
  deleteLogs?: boolean;
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

/**
 * A region → value map input (image-uris, model-data-urls): a JSON object of strings naming only the
 * target's regions. Empty means none.
 */
export function parseRegionMap(input: string, text: string | undefined, regions: readonly string[], where: string): Record<string, string> {
  if (!text?.trim()) return {};
  const invalid = (message: string) => new DeployError(message, { title: 'Invalid input', hint: `Pass ${input} as promote-model outputs it: a JSON object region → value, e.g. \${{ steps.promote.outputs.${input} }}.` });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid(`${input} is not JSON: ${text.slice(0, 80)}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw invalid(`${input} must be a JSON object of region → value`);
  const map: Record<string, string> = {};
  for (const [region, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw invalid(`${input}["${region}"] must be a string`);
    if (!regions.includes(region)) throw invalid(`${input} names ${region}, which is not a region of ${where} (${regions.join(', ')})`);
    map[region] = v;
  }
  return map;
}

/** One stage of the per-stage stopwatch: its time (the run's clock) and the AWS requests it sent. */
export interface Timing {
  step: string;
  ms: number;
  requests?: number;
}

export type RegionStatus = 'deployed' | 'executing' | 'no-changes' | 'change-set-created' | 'destroyed' | 'destroy-previewed' | 'nothing-to-destroy';

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
  /** The type deployed when AWS had no capacity for the first of instanceType's list (capacity.ts). */
  instanceType?: string;
}

/** One region's working set, private to deploy/: the door's three arguments as they came, and what the region adds. */
export interface RegionContext {
  target: Target;
  request: DeployRequest;
  run: RunContext;
  region: string;
  account: string;
  deadline: number;
  cfn: CloudFormationClient;
  /** This region's image and weights: its entry of image-uris/model-data-urls, else image-uri/model-data-url. */
  imageUri?: string;
  modelDataUrl?: string;
  timings: Timing[];
  now: () => number;
}

export async function timed<T>(ctx: RegionContext, step: string, fn: () => Promise<T>): Promise<T> {
  const start = ctx.now();
  const sentBefore = requestsSent();
  try {
    return await fn();
  } finally {
    ctx.timings.push({ step, ms: ctx.now() - start, requests: requestsSent() - sentBefore });
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
  const digest = sha256Hex(subject).slice(0, 12);
  return `md-${what}-${run}-${attempt}-${region}-${digest}`.replace(/[^a-zA-Z0-9-]/g, '-').slice(0, 128);
}
