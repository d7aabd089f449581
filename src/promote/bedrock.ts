/**
 * Bedrock custom models (seed 004): the source account shares the model with the target account
 * through RAM, then the target account runs a model copy job in each region it serves. The copy job's
 * client token is derived from what is copied, so a re-run finds the same job instead of a second one.
 */
import { lowerCaseTagList } from '../core/tags';
import type { BedrockClient } from '@aws-sdk/client-bedrock';
import type { RAMClient } from '@aws-sdk/client-ram';
import { awsClient, dnsSuffix, partitionOf } from '../core/aws';
import { parseArn, parseAssumedRoleArn, parseRoleArn } from '../core/arn';
import { DeployError, errorName, isNotFound, throwIfAny } from '../core/errors';
import type { Reporter } from '../core/log';
import { poll } from '../core/poll';
import { Actor, step } from '../core/actor';
import { sha256Hex } from '../core/hash';
import * as ram from '@aws-sdk/client-ram';
import * as br from '@aws-sdk/client-bedrock';
import { DescribeOrganizationCommand, OrganizationsClient } from '@aws-sdk/client-organizations';

// One parser of Bedrock model ARNs, in config (the loader and the plan read them too).
export { parseBedrockModelArn } from '../config/bedrock';
export type { BedrockModelArn } from '../config/bedrock';

/**
 * What identifies one custom model beyond its ARN, as GetCustomModel answers (Bedrock API reference, GetCustomModel:
 * modelArn, creationTime, jobArn; jobArn is absent for a model made by CreateCustomModel): the plan fixed before the
 * approval records it, and the approved job refuses a model that answers otherwise.
 */
export interface CustomModelIdentity {
  arn: string;
  creationTime: string;
  jobArn?: string;
}

/** The model's identity now, or undefined when the source account has no such model. */
export async function customModelIdentity(bedrock: BedrockClient, actor: Actor, arn: string): Promise<CustomModelIdentity | undefined> {
  const model = await step(actor, 'bedrock:GetCustomModel', arn, async () => {
    try {
      return await bedrock.send(new br.GetCustomModelCommand({ modelIdentifier: arn }));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  });
  if (!model) return undefined;
  const created = model.creationTime ? new Date(model.creationTime).toISOString() : '';
  return { arn: model.modelArn ?? arn, creationTime: created, ...(model.jobArn ? { jobArn: model.jobArn } : {}) };
}

/** What differs between the identity the plan fixed and the model's now, one line each. */
export function customModelChanges(fixed: CustomModelIdentity, now: CustomModelIdentity | undefined): string[] {
  if (!now) return [`Bedrock custom model ${fixed.arn} no longer exists in the source account`];
  const changes: string[] = [];
  if (now.arn !== fixed.arn) changes.push(`Bedrock model ${fixed.arn} now answers as ${now.arn}`);
  if (now.creationTime !== fixed.creationTime) changes.push(`Bedrock model ${fixed.arn} was created ${now.creationTime}, the plan fixed one created ${fixed.creationTime}`);
  if ((now.jobArn ?? '') !== (fixed.jobArn ?? '')) changes.push(`Bedrock model ${fixed.arn} comes from job ${now.jobArn ?? '(none)'}, the plan fixed job ${fixed.jobArn ?? '(none)'}`);
  return changes;
}

/** A custom model name (63 chars max, [0-9A-Za-z_-]) that is the same for the same source model. */
export function targetModelName(prefix: string, sourceArn: string): string {
  const base = prefix.replace(/[^0-9A-Za-z_-]/g, '-').replace(/[-_]{2,}/g, '-').slice(0, 50).replace(/[-_]+$/, '');
  return `${base}-${sha256Hex(sourceArn).slice(0, 12)}`;
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
          tags: lowerCaseTagList(input.tags),
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
      if (isNotFound(err)) return undefined;
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
        targetModelTags: lowerCaseTagList(input.tags),
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
      hint: copyFailureHint(input, value.failureMessage ?? ''),
    });
  }
  if (!value.targetModelArn) throw new DeployError(`Bedrock model copy job ${jobArn} completed without a target model ARN.`);
  return { modelArn: value.targetModelArn, jobArn, alreadyPresent: false };
}

/** A failed copy: a KMS refusal gets the key policy statement that lets the copying role use the key through Bedrock. */
function copyFailureHint(input: ModelCopyInput, reason: string): string {
  const general = 'Check that the target region serves the base model with provisioned throughput and the custom-model quota of the target account.';
  if (!input.kmsKeyId || !/kms|key|grant|decrypt|encrypt/i.test(reason)) return `${general}${input.kmsKeyId ? ` The copy is encrypted with ${input.kmsKeyId}: its key policy must let ${input.actor.principal} use it through Bedrock.` : ''}`;
  return `The copy is encrypted with ${input.kmsKeyId} (environments.<target>.kmsKeyId). Its key policy must let the promotion role use it through Bedrock in ${input.region}: ${keyPolicyStatement(input.actor, input.region)}. The bootstrap's promotion role is granted the same actions through IAM, which is enough only when the key policy delegates to IAM (its "Enable IAM User Permissions" statement for the account root).`;
}

/** The key policy statement a promotion role needs for Bedrock to encrypt a model copy (and serve it) with the key. */
export function keyPolicyStatement(actor: Actor, region: string): string {
  // The principal is a role ARN or a role session's, possibly followed by " (session NAME)".
  const arn = actor.principal.split(' ')[0];
  const role = parseRoleArn(arn) ?? parseAssumedRoleArn(arn);
  const principal = role ? `arn:${role.partition}:iam::${role.account}:role/${role.roleName}` : `arn:${partitionOf(region)}:iam::${actor.account}:root`;
  return JSON.stringify({
    Sid: 'ModelDeployBedrockCopy',
    Effect: 'Allow',
    Principal: { AWS: principal },
    Action: ['kms:DescribeKey', 'kms:CreateGrant', 'kms:GenerateDataKey', 'kms:Decrypt'],
    Resource: '*',
    Condition: { StringEquals: { 'kms:ViaService': `bedrock.${region}.${dnsSuffix(region)}` } },
  });
}

/** The Organization of an account (organizations:DescribeOrganization), undefined when it is in none. */
export type OrganizationLookup = () => Promise<string | undefined>;

/** Organizations has one endpoint per partition. */
const ORGANIZATIONS_REGION = { aws: 'us-east-1', 'aws-cn': 'cn-northwest-1', 'aws-us-gov': 'us-gov-west-1' } as const;

/** The Organization of the actor's account, asked in the partition of `region`. */
export function organizationOf(actor: Actor, region: string): OrganizationLookup {
  return async () => {
    const client = awsClient(OrganizationsClient, { region: ORGANIZATIONS_REGION[partitionOf(region)], credentials: actor.credentials });
    try {
      return (await client.send(new DescribeOrganizationCommand({}))).Organization?.Id;
    } catch (err) {
      if (errorName(err) === 'AWSOrganizationsNotInUseException') return undefined;
      throw err;
    }
  };
}

export interface BedrockSide {
  actor: Actor;
  organization: OrganizationLookup;
}

export interface BedrockPrerequisitesInput {
  sourceModelArn: string;
  /** The model's account, with a Bedrock client in the model's region. */
  source: BedrockSide & { bedrock: BedrockClient };
  /** The receiving account, with a Bedrock client per region it copies to. */
  target: BedrockSide & { regions: string[]; bedrockIn(region: string): BedrockClient };
  reporter?: Reporter;
}

/**
 * What Bedrock would refuse, checked before anything is shared or copied: both accounts in one
 * Organization (RAM shares custom models only inside one), the model Active, and every target
 * region offering the base model with provisioned throughput (a copy job is rejected otherwise).
 */
export async function checkBedrockPrerequisites(input: BedrockPrerequisitesInput): Promise<void> {
  const errors: DeployError[] = [];
  if (input.source.actor.account !== input.target.actor.account) errors.push(...(await organizationProblems(input)));
  const model = await sourceModel(input, errors);
  const base = /^foundation-model\/(.+)$/.exec(parseArn(model?.baseModelArn)?.resource ?? '')?.[1];
  if (base) {
    for (const region of input.target.regions) {
      const problem = await regionProblem(input, region, base);
      if (problem) errors.push(problem);
    }
  }
  if (model?.modelKmsKeyArn && input.source.actor.account !== input.target.actor.account) {
    input.reporter?.warning(
      `${input.sourceModelArn} is encrypted with ${model.modelKmsKeyArn}: its key policy must let account ${input.target.actor.account} use it through Bedrock (kms:Decrypt, kms:DescribeKey, kms:CreateGrant), or the copy fails.`,
      undefined,
      'Source model KMS key',
    );
  }
  throwIfAny(errors);
}

async function organizationProblems(input: BedrockPrerequisitesInput): Promise<DeployError[]> {
  const { source, target } = input;
  const [from, to] = [await lookup(source), await lookup(target)];
  const hint =
    'Bedrock shares a custom model only between accounts of one AWS Organization with resource sharing enabled in RAM (ram:EnableSharingWithAwsOrganization in the management account). Invite both accounts into the Organization, or promote within one account.';
  const missing = [from, to].filter((o) => !o.id).map((o) => o.account);
  if (missing.length > 0) {
    return [new DeployError(`account ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} in no AWS Organization, so the Bedrock model cannot be shared with ${target.actor.account}`, { title: 'Bedrock share needs one Organization', hint })];
  }
  if (from.id !== to.id) {
    return [new DeployError(`the source account ${from.account} is in Organization ${from.id} and the target ${to.account} in ${to.id}: Bedrock shares custom models only inside one Organization`, { title: 'Bedrock share needs one Organization', hint })];
  }
  return [];
}

async function lookup(side: BedrockSide): Promise<{ account: string; id?: string }> {
  const id = await step(side.actor, 'organizations:DescribeOrganization', `account ${side.actor.account}`, () => side.organization());
  return { account: side.actor.account, id };
}

/** The source model, when it exists and is Active; otherwise the reason it cannot be copied. */
async function sourceModel(input: BedrockPrerequisitesInput, errors: DeployError[]): Promise<br.GetCustomModelCommandOutput | undefined> {
  const arn = input.sourceModelArn;
  const model = await step(input.source.actor, 'bedrock:GetCustomModel', arn, async () => {
    try {
      return await input.source.bedrock.send(new br.GetCustomModelCommand({ modelIdentifier: arn }));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  });
  if (!model) {
    errors.push(new DeployError(`Bedrock custom model ${arn} does not exist in account ${input.source.actor.account}`, { title: 'Bedrock model not found', hint: "Check the deployment's model.bedrock: the model of a completed customization job (aws bedrock list-custom-models)." }));
    return undefined;
  }
  const status = model.modelStatus;
  if (status && status !== 'Active') {
    const why = status === 'Failed' ? `: ${model.failureMessage ?? 'no reason given'}` : '';
    errors.push(
      new DeployError(`Bedrock custom model ${arn} is ${status}${why}, not Active`, {
        title: 'Bedrock model not ready',
        hint: status === 'Creating' ? `Wait for its customization job${model.jobArn ? ` ${model.jobArn}` : ''} to complete, then promote again.` : 'Run the customization again and promote the new model.',
      }),
    );
    return undefined;
  }
  return model;
}

/** A target region must offer the base model with provisioned throughput, or Bedrock rejects the copy. */
async function regionProblem(input: BedrockPrerequisitesInput, region: string, base: string): Promise<DeployError | undefined> {
  const { target } = input;
  const found = await step(target.actor, 'bedrock:GetFoundationModel', `${base} in ${region}`, async () => {
    try {
      return await target.bedrockIn(region).send(new br.GetFoundationModelCommand({ modelIdentifier: base }));
    } catch (err) {
      if (isNotFound(err) || errorName(err) === 'ValidationException') return undefined;
      throw err;
    }
  });
  const types = found?.modelDetails?.inferenceTypesSupported ?? [];
  if (found && types.includes('PROVISIONED')) return undefined;
  const why = found ? `offers ${base} without provisioned throughput (${types.join(', ') || 'no inference type'})` : `does not offer the base model ${base}`;
  return new DeployError(`${region} ${why}, so Bedrock would reject the copy of ${input.sourceModelArn}`, {
    title: 'Region without the Bedrock model',
    hint: `Promote the Bedrock model only to regions that serve ${base} with provisioned throughput (the Bedrock console's model catalogue, or aws bedrock get-foundation-model --region REGION), or remove ${region} from the target environment's regions for this deployment.`,
  });
}
