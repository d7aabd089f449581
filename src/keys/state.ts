/**
 * What an API-key secret looks like to rotate-key: which version holds which staging label, and
 * whether it is ours. Labels: AWSCURRENT/AWSPENDING/AWSPREVIOUS (Secrets Manager's own) and
 * MD_SERVE_A/MD_SERVE_B, the two keys the serving side accepts (CONTRIBUTING.md, "API-key secret").
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DeployError, errorName, explainAwsError, isNotFound } from '../core/errors';
import type { Reporter } from '../core/log';
import { ownershipMarks } from '../config/names';
import type { Deployment } from '../config/types';
import { DescribeSecretCommand, ListSecretVersionIdsCommand, GetSecretValueCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';

export const CURRENT = 'AWSCURRENT';
export const PENDING = 'AWSPENDING';
export const SERVE_A = 'MD_SERVE_A';
export const SERVE_B = 'MD_SERVE_B';

export interface SecretState {
  arn: string;
  name: string;
  tags: Record<string, string>;
  /** Version id → its staging labels. */
  stages: Record<string, string[]>;
  /** Version id → when it was created; deprecated versions (no label, e.g. rolled back) included. */
  created: Record<string, Date | undefined>;
  current?: string;
  pending?: string;
  serveA?: string;
  serveB?: string;
  rotationEnabled: boolean;
  deletedDate?: Date;
}

export function versionWith(stages: Record<string, string[]>, label: string): string | undefined {
  return Object.entries(stages).find(([, labels]) => labels.includes(label))?.[0];
}

/** The secret's state, or undefined when it does not exist. */
export async function describeKeySecret(sm: SecretsManagerClient, secretId: string): Promise<SecretState | undefined> {
  let described;
  try {
    described = await sm.send(new DescribeSecretCommand({ SecretId: secretId }));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw explainAwsError(err, `Reading secret ${secretId}`);
  }
  const created: Record<string, Date | undefined> = {};
  try {
    let NextToken: string | undefined;
    do {
      const page = await sm.send(new ListSecretVersionIdsCommand({ SecretId: described.ARN ?? secretId, NextToken, IncludeDeprecated: true }));
      for (const v of page.Versions ?? []) if (v.VersionId) created[v.VersionId] = v.CreatedDate;
      NextToken = page.NextToken;
    } while (NextToken);
  } catch (err) {
    throw explainAwsError(err, `Listing the versions of secret ${secretId}`);
  }
  const stages: Record<string, string[]> = {};
  for (const [id, labels] of Object.entries(described.VersionIdsToStages ?? {})) stages[id] = [...(labels ?? [])];
  return {
    arn: described.ARN ?? secretId,
    name: described.Name ?? secretId,
    tags: Object.fromEntries((described.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
    stages,
    created,
    current: versionWith(stages, CURRENT),
    pending: versionWith(stages, PENDING),
    serveA: versionWith(stages, SERVE_A),
    serveB: versionWith(stages, SERVE_B),
    rotationEnabled: Boolean(described.RotationEnabled),
    deletedDate: described.DeletedDate,
  };
}

/** Refuses a secret we did not create (or one about to be deleted) before anything changes. */
export function checkOwnership(state: SecretState, d: Deployment, environmentName?: string): void {
  const expected = ownershipMarks(d, environmentName);
  const wrong = Object.keys(expected).filter((k) => state.tags[k] !== expected[k]);
  if (wrong.length > 0) {
    throw new DeployError(
      `secret ${state.name} is not managed by model-deploy for deployment ${d.name}${environmentName ? ` in ${environmentName}` : ''}: ` +
        wrong.map((k) => `tag ${k} is ${state.tags[k] === undefined ? 'missing' : `"${state.tags[k]}"`}, expected "${expected[k]}"`).join('; '),
      {
        location: d.source,
        title: 'Secret not ours',
        hint: 'Nothing was changed. rotate-key only rotates secrets it created. Delete or rename the other secret, or tag it with the values above if it really belongs to this deployment.',
      },
    );
  }
  if (state.deletedDate) {
    throw new DeployError(`secret ${state.name} is scheduled for deletion (${state.deletedDate.toISOString()})`, {
      title: 'Secret scheduled for deletion',
      hint: `Restore it first: aws secretsmanager restore-secret --secret-id ${state.arn}`,
    });
  }
  if (state.rotationEnabled) {
    throw new DeployError(`secret ${state.name} has a rotation Lambda configured; two rotation mechanisms would fight over its labels`, {
      title: 'Rotation already managed elsewhere',
      hint: `Nothing was changed. Turn it off first: aws secretsmanager cancel-rotate-secret --secret-id ${state.arn}`,
    });
  }
}

export interface KeyValue {
  apiKey: string;
  createdAt?: string;
  /** When the key this one replaced stops being accepted (ISO time), as the rotation decided. */
  previousExpiresAt?: string;
}

/** Reads one version's key and masks it before anything else can happen. */
export async function readKey(sm: SecretsManagerClient, arn: string, versionId: string, reporter: Reporter): Promise<KeyValue> {
  let text: string | undefined;
  try {
    text = (await sm.send(new GetSecretValueCommand({ SecretId: arn, VersionId: versionId }))).SecretString;
  } catch (err) {
    const e = explainAwsError(err, `Reading version ${versionId} of ${arn}`);
    if (/AccessDenied/.test(errorName(err))) {
      throw new DeployError(e.message, {
        cause: err,
        title: 'Cannot read the API key',
        hint: "The secret's resource policy lets only principals tagged model-deploy:deployment=<name>, the role that created it and apiKey.readers read it. Run rotate-key as that role, or add this role to apiKey.readers and deploy again.",
      });
    }
    throw e;
  }
  if (text) reporter.setSecret(text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? '');
  } catch {
    // JSON.parse messages quote the input: never pass them on.
    throw new DeployError(`version ${versionId} of ${arn} is not the JSON {"apiKey": ..., "createdAt": ...} model-deploy writes`, { title: 'Unexpected secret value' });
  }
  const value = parsed as Partial<KeyValue>;
  if (!value || typeof value.apiKey !== 'string' || value.apiKey.length < 32) {
    throw new DeployError(`version ${versionId} of ${arn} has no usable "apiKey" (at least 32 characters)`, { title: 'Unexpected secret value' });
  }
  reporter.setSecret(value.apiKey);
  return {
    apiKey: value.apiKey,
    createdAt: typeof value.createdAt === 'string' ? value.createdAt : undefined,
    previousExpiresAt: typeof value.previousExpiresAt === 'string' && !Number.isNaN(Date.parse(value.previousExpiresAt)) ? value.previousExpiresAt : undefined,
  };
}

/** Moves a label to a version (from wherever it was). */
export async function moveLabel(sm: SecretsManagerClient, arn: string, label: string, to: string | undefined, from: string | undefined): Promise<void> {
  if (to === from) return;
  try {
    await sm.send(
      new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: label, MoveToVersionId: to, RemoveFromVersionId: from }),
    );
  } catch (err) {
    throw explainAwsError(err, `Moving label ${label} of ${arn}${to ? ` to version ${to}` : ` off version ${from}`}`);
  }
}
