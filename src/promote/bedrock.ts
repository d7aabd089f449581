/**
 * Bedrock custom models (seed 004): the source account shares the model with the target account
 * through RAM, then the target account runs a model copy job in each region it serves. The copy job's
 * client token is derived from what is copied, so a re-run finds the same job instead of a second one.
 */
import type { BedrockClient } from '@aws-sdk/client-bedrock';
import type { RAMClient } from '@aws-sdk/client-ram';
import { DeployError, errorName } from '../core/errors';
import type { Reporter } from '../core/log';
import { poll } from '../core/poll';
import { Actor, sha256Hex, step } from './util';
import * as ram from '@aws-sdk/client-ram';
import * as br from '@aws-sdk/client-bedrock';

export interface BedrockModelArn {
  partition: string;
  region: string;
  account: string;
  arn: string;
}

export function parseBedrockModelArn(arn: string): BedrockModelArn | undefined {
  const m = /^arn:(aws|aws-cn|aws-us-gov):bedrock:([a-z0-9-]+):(\d{12}):(custom-)?model\/\S+$/.exec(arn);
  const [, partition, region, account] = m ?? [];
  return partition && region && account ? { partition, region, account, arn } : undefined;
}

/** A custom model name (63 chars max, [0-9A-Za-z_-]) that is the same for the same source model. */
export function targetModelName(prefix: string, sourceArn: string): string {
  const base = prefix.replace(/[^0-9A-Za-z_-]/g, '-').replace(/[-_]{2,}/g, '-').slice(0, 50).replace(/[-_]+$/, '');
  return `${base}-${sha256Hex(sourceArn).slice(0, 12)}`;
}

function tagList(tags: Record<string, string>): { key: string; value: string }[] {
  return Object.entries(tags).map(([key, value]) => ({ key, value }));
}

export interface ShareInput {
  ram: RAMClient;
  actor: Actor;
  shareName: string;
  modelArn: string;
  targetAccount: string;
  tags: Record<string, string>;
  /** The target account's RAM client (model region), to accept the invitation outside an Organization. */
  targetRam?: RAMClient;
  targetActor?: Actor;
}

/** Shares the model with the target account (reusing our share of the same name) and accepts a pending invitation. */
export async function shareModel(input: ShareInput): Promise<string> {
  const where = `${input.modelArn} with ${input.targetAccount}`;
  const existing = await step(input.actor, 'ram:GetResourceShares', input.shareName, () =>
    input.ram.send(new ram.GetResourceSharesCommand({ resourceOwner: 'SELF', name: input.shareName, resourceShareStatus: 'ACTIVE' })),
  );
  let shareArn = existing.resourceShares?.[0]?.resourceShareArn;
  if (shareArn) {
    const arn = shareArn;
    await step(input.actor, 'ram:AssociateResourceShare', where, () =>
      input.ram.send(new ram.AssociateResourceShareCommand({ resourceShareArn: arn, resourceArns: [input.modelArn], principals: [input.targetAccount] })),
    );
  } else {
    const created = await step(input.actor, 'ram:CreateResourceShare', where, () =>
      input.ram.send(
        new ram.CreateResourceShareCommand({
          name: input.shareName,
          resourceArns: [input.modelArn],
          principals: [input.targetAccount],
          allowExternalPrincipals: false,
          clientToken: sha256Hex(`${input.shareName}|${input.modelArn}|${input.targetAccount}`).slice(0, 64),
          tags: tagList(input.tags),
        }),
      ),
    );
    shareArn = created.resourceShare?.resourceShareArn;
  }
  if (!shareArn) throw new DeployError(`RAM returned no resource share for ${where}.`);
  if (input.targetRam && input.targetActor) {
    // Inside an Organization with RAM sharing enabled there is no invitation; outside, the target accepts it.
    const arn = shareArn;
    const invitations = await step(input.targetActor, 'ram:GetResourceShareInvitations', arn, () =>
      input.targetRam!.send(new ram.GetResourceShareInvitationsCommand({ resourceShareArns: [arn] })),
    );
    for (const inv of invitations.resourceShareInvitations ?? []) {
      if (inv.status === 'PENDING' && inv.resourceShareInvitationArn) {
        await step(input.targetActor, 'ram:AcceptResourceShareInvitation', arn, () =>
          input.targetRam!.send(new ram.AcceptResourceShareInvitationCommand({ resourceShareInvitationArn: inv.resourceShareInvitationArn })),
        );
      }
    }
  }
  return shareArn;
}

export interface ModelCopyInput {
  bedrock: BedrockClient;
  actor: Actor;
  region: string;
  sourceModelArn: string;
  targetModelName: string;
  kmsKeyId?: string;
  tags: Record<string, string>;
  timeoutMs: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
  reporter?: Reporter;
}

export interface ModelCopyResult {
  modelArn: string;
  jobArn?: string;
  alreadyPresent: boolean;
}

/** Copies the (shared) model into `region` of the target account and waits for the job to finish. */
export async function copyModel(input: ModelCopyInput): Promise<ModelCopyResult> {
  const where = `${input.targetModelName} in ${input.actor.account} ${input.region}`;
  const existing = await step(input.actor, 'bedrock:GetCustomModel', where, async () => {
    try {
      return await input.bedrock.send(new br.GetCustomModelCommand({ modelIdentifier: input.targetModelName }));
    } catch (err) {
      if (errorName(err) === 'ResourceNotFoundException') return undefined;
      throw err;
    }
  });
  if (existing?.modelArn) return { modelArn: existing.modelArn, alreadyPresent: true };

  const started = await step(input.actor, 'bedrock:CreateModelCopyJob', `${input.sourceModelArn} to ${where}`, () =>
    input.bedrock.send(
      new br.CreateModelCopyJobCommand({
        sourceModelArn: input.sourceModelArn,
        targetModelName: input.targetModelName,
        modelKmsKeyId: input.kmsKeyId,
        targetModelTags: tagList(input.tags),
        clientRequestToken: sha256Hex(`${input.sourceModelArn}|${input.actor.account}|${input.region}|${input.targetModelName}`).slice(0, 64),
      }),
    ),
  );
  const jobArn = started.jobArn!;
  input.reporter?.info(`${input.region}: Bedrock model copy job ${jobArn} started.`);
  const { value } = await poll({
    what: `Bedrock model copy job ${jobArn}`,
    timeoutMs: input.timeoutMs,
    initialDelayMs: input.initialDelayMs ?? 15000,
    maxDelayMs: input.maxDelayMs ?? 60000,
    signal: input.signal,
    check: () => step(input.actor, 'bedrock:GetModelCopyJob', jobArn, () => input.bedrock.send(new br.GetModelCopyJobCommand({ jobArn }))),
    done: (job) => job.status === 'Completed' || job.status === 'Failed',
  });
  if (value.status === 'Failed') {
    throw new DeployError(`Bedrock model copy job ${jobArn} failed: ${value.failureMessage ?? 'no reason given'}.`, {
      title: 'Model copy failed',
      hint: 'Check that the target region supports this model (and provisioned throughput for it), the custom-model quota of the target account, and that the KMS key policy lets the copying role use the key.',
    });
  }
  if (!value.targetModelArn) throw new DeployError(`Bedrock model copy job ${jobArn} completed without a target model ARN.`);
  return { modelArn: value.targetModelArn, jobArn, alreadyPresent: false };
}
