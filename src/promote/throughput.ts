/**
 * Provisioned throughput for a promoted Bedrock custom model: a custom model serves requests only through
 * provisioned throughput, bought in model units, hourly (no commitment) or for a one- or six-month term.
 * The purchase is named after the model, so a re-run finds it instead of buying a second one.
 */
import { lowerCaseTagList } from '../core/tags';
import type { BedrockClient } from '@aws-sdk/client-bedrock';
import * as br from '@aws-sdk/client-bedrock';
import { DeployError, errorName } from '../core/errors';
import type { Reporter } from '../core/log';
import { poll } from '../core/poll';
import type { Commitment } from '../config/types';
import { Actor, step } from '../core/actor';
import { sha256Hex } from '../core/hash';

export type { Commitment };
/** The schema's bedrockThroughput.commitment values, as the action's choices. */
export const COMMITMENTS = ['none', 'OneMonth', 'SixMonths'] as const satisfies readonly Commitment[];

export interface ThroughputRequest {
  modelUnits: number;
  commitment: Commitment;
}

export interface ThroughputInput extends ThroughputRequest {
  bedrock: BedrockClient;
  actor: Actor;
  region: string;
  /** The copied custom model in this region. */
  modelArn: string;
  /** Also the purchase's name: one provisioned model per copied model. */
  name: string;
  tags: Record<string, string>;
  timeoutMs: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
  reporter: Reporter;
}

export interface ThroughputResult {
  provisionedModelArn: string;
  alreadyPresent: boolean;
}

const QUOTA_HINT =
  'Model units for custom models are a per-account, per-region quota that starts at 0 for commitment terms: request it in Service Quotas (Amazon Bedrock, "Model units ... for Provisioned Throughputs" for this base model), or through AWS Support, then re-run promote-model.';

/** What is bought, said before buying it. */
export function describeCommitment(r: ThroughputRequest): string {
  const term = r.commitment === 'none' ? 'no commitment (billed per hour until it is deleted)' : `a ${r.commitment === 'OneMonth' ? 'one-month' : 'six-month'} commitment (billed for every hour of the term; it cannot be deleted before the term ends)`;
  return `${r.modelUnits} model unit${r.modelUnits > 1 ? 's' : ''} of provisioned throughput with ${term}`;
}

/** The provisioned throughput of the copied model in one region: found by name, else bought; then InService. */
export async function provisionThroughput(input: ThroughputInput): Promise<ThroughputResult> {
  const where = `${input.name} in ${input.actor.account} ${input.region}`;
  const existing = await findProvisioned(input);
  let arn = existing?.provisionedModelArn;
  if (existing && arn) {
    if (existing.modelUnits !== input.modelUnits || (existing.commitmentDuration ?? 'none') !== input.commitment) {
      input.reporter.warning(
        `${input.region}: provisioned throughput ${arn} already exists with ${describeCommitment({ modelUnits: existing.modelUnits ?? 0, commitment: existing.commitmentDuration ?? 'none' })}; it is kept as it is (nothing more is bought).`,
        undefined,
        'Provisioned throughput differs',
      );
    }
  } else {
    input.reporter.info(`${input.region}: buying ${describeCommitment(input)} for ${input.modelArn}.`);
    const created = await step(input.actor, 'bedrock:CreateProvisionedModelThroughput', where, () => create(input));
    arn = created.provisionedModelArn;
  }
  if (!arn) throw new DeployError(`Bedrock returned no provisioned model ARN for ${where}.`);
  const final = await waitInService(input, arn);
  if (final.status === 'Failed') {
    throw new DeployError(`provisioned throughput ${arn} failed: ${final.failureMessage ?? 'no reason given'}`, {
      title: 'Provisioned throughput failed',
      hint: `${/quota|limit|units/i.test(final.failureMessage ?? '') ? '' : 'A common cause is the model-unit quota. '}${QUOTA_HINT} A failed no-commitment purchase costs nothing: delete it (aws bedrock delete-provisioned-model-throughput --provisioned-model-id ${arn}) before the re-run.`,
    });
  }
  return { provisionedModelArn: arn, alreadyPresent: Boolean(existing) };
}

async function findProvisioned(input: ThroughputInput): Promise<br.ProvisionedModelSummary | undefined> {
  let nextToken: string | undefined;
  do {
    const page = await step(input.actor, 'bedrock:ListProvisionedModelThroughputs', `${input.name} in ${input.region}`, () =>
      input.bedrock.send(new br.ListProvisionedModelThroughputsCommand({ nameContains: input.name, nextToken })),
    );
    const found = page.provisionedModelSummaries?.find((s) => s.provisionedModelName === input.name);
    if (found) return found;
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

async function create(input: ThroughputInput): Promise<br.CreateProvisionedModelThroughputCommandOutput> {
  try {
    return await input.bedrock.send(
      new br.CreateProvisionedModelThroughputCommand({
        provisionedModelName: input.name,
        modelId: input.modelArn,
        modelUnits: input.modelUnits,
        commitmentDuration: input.commitment === 'none' ? undefined : input.commitment,
        tags: lowerCaseTagList(input.tags),
        // The same purchase on a retried request, never a second one.
        clientRequestToken: sha256Hex(`${input.modelArn}|${input.name}|${input.modelUnits}|${input.commitment}`).slice(0, 64),
      }),
    );
  } catch (err) {
    if (errorName(err) === 'ServiceQuotaExceededException') {
      throw new DeployError(`${input.region}: ${input.modelUnits} model units exceed the account's provisioned throughput quota for this model`, { title: 'Model-unit quota', hint: QUOTA_HINT, cause: err });
    }
    throw err;
  }
}

async function waitInService(input: ThroughputInput, arn: string): Promise<br.GetProvisionedModelThroughputCommandOutput> {
  const { value } = await poll({
    what: `provisioned throughput ${arn}`,
    timeoutMs: input.timeoutMs,
    initialDelayMs: input.initialDelayMs ?? 30000,
    maxDelayMs: input.maxDelayMs ?? 120000,
    signal: input.signal,
    check: () =>
      step(input.actor, 'bedrock:GetProvisionedModelThroughput', arn, () => input.bedrock.send(new br.GetProvisionedModelThroughputCommand({ provisionedModelId: arn }))),
    done: (pt) => pt.status === 'InService' || pt.status === 'Failed',
  });
  return value;
}
