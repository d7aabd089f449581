/**
 * The API-key secret of an endpoint with an HTTPS front door (ec2, ecs), created before its first
 * deploy: one per deployment, environment and region, a random header-safe key, both MD_SERVE labels on
 * the first version, our ownership tags, and a resource policy that limits who can read the key.
 */
import { tagList } from '../core/tags';
import { awsClient, Credentials, isPartition } from '../core/aws';
import { formatArn, isAccountId, parseArn, parseAssumedRoleArn } from '../core/arn';
import { DeployError, errorName, explainAwsError } from '../core/errors';
import type { Reporter } from '../core/log';
import { DEPLOYMENT_TAG, ownershipTags } from '../config/names';
import type { Deployment, EnvironmentSpec } from '../config/types';
import { checkOwnership, CURRENT, describeKeySecret, moveLabel, SERVE_A, SERVE_B } from './state';
import { GetRandomPasswordCommand, GetResourcePolicyCommand, PutResourcePolicyCommand, SecretsManagerClient, CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { callerIdentity } from '../core/identity';

export const KEY_LENGTH = 48;

export interface EnsureApiKeySecretOptions {
  deployment: Deployment;
  /** The target's names.apiKeySecret. */
  secretName: string;
  environmentName?: string;
  region: string;
  credentials?: Credentials;
  reporter: Reporter;
  /** The environment from the spec: its roleArn may read the key too (rotate-key runs as it). */
  environment?: EnvironmentSpec;
}

/** A new key from GetRandomPassword, masked the moment it exists. */
export async function newApiKey(sm: SecretsManagerClient, reporter: Reporter): Promise<string> {
  let key: string | undefined;
  try {
    key = (
      await sm.send(new GetRandomPasswordCommand({ PasswordLength: KEY_LENGTH, ExcludePunctuation: true, IncludeSpace: false, RequireEachIncludedType: true }))
    ).RandomPassword;
  } catch (err) {
    throw explainAwsError(err, 'Generating an API key (GetRandomPassword)');
  }
  if (key) reporter.setSecret(key);
  if (!key || key.length < KEY_LENGTH || !/^[A-Za-z0-9]+$/.test(key)) {
    throw new DeployError('GetRandomPassword returned a key that is not 48 letters and digits', { title: 'Unexpected API key' });
  }
  return key;
}

/**
 * The secret's JSON. A rotated key carries `previousExpiresAt`: when the key it replaces stops being
 * accepted, fixed by the rotation's own grace period (versions are immutable, so the new one holds it).
 */
export function keySecretString(apiKey: string, now = new Date(), gracePeriodHours?: number): string {
  const previousExpiresAt = gracePeriodHours === undefined ? undefined : new Date(now.getTime() + gracePeriodHours * 3600_000).toISOString();
  return JSON.stringify({ apiKey, createdAt: now.toISOString(), ...(previousExpiresAt ? { previousExpiresAt } : {}) });
}

/** IAM ARNs that name the calling identity as aws:PrincipalArn sees it (roles may sit under a path). */
function callerPrincipalArns(callerArn: string): string[] {
  const role = parseAssumedRoleArn(callerArn);
  if (role && isAccountId(role.account)) {
    const iam = (resource: string) => formatArn({ partition: role.partition, service: 'iam', region: '', account: role.account, resource });
    return [iam(`role/${role.roleName}`), iam(`role/*/${role.roleName}`)];
  }
  return [callerArn];
}

/** apiKey.readers names IAM roles and users: arn:PARTITION:iam::ACCOUNT:role/NAME or user/NAME. */
function isReaderArn(value: string): boolean {
  const arn = parseArn(value);
  return Boolean(arn && isPartition(arn.partition) && arn.service === 'iam' && arn.region === '' && isAccountId(arn.account) && /^(role|user)\/./.test(arn.resource));
}

/**
 * Deny-based, because an Allow in a resource policy cannot take away what identity policies grant:
 * only principals tagged with the deployment (the roles its template creates), the deploy/rotate
 * roles and apiKey.readers may read the key, and only from this account unless listed as a reader.
 */
export function keyPolicy(options: { deploymentName: string; account: string; callers: string[]; readers: string[] }): Record<string, unknown> {
  const readers = [...new Set(options.readers)];
  const trusted = [...new Set([...options.callers, ...readers])];
  const statements: Record<string, unknown>[] = [
    {
      Sid: 'ReadOnlyByDeploymentPrincipals',
      Effect: 'Deny',
      Principal: '*',
      Action: 'secretsmanager:GetSecretValue',
      Resource: '*',
      Condition: {
        StringNotEquals: { [`aws:PrincipalTag/${DEPLOYMENT_TAG}`]: options.deploymentName },
        ArnNotLike: { 'aws:PrincipalArn': trusted },
      },
    },
    {
      Sid: 'ReadOnlyFromThisAccount',
      Effect: 'Deny',
      Principal: '*',
      Action: 'secretsmanager:GetSecretValue',
      Resource: '*',
      Condition: {
        StringNotEquals: { 'aws:PrincipalAccount': options.account },
        ...(readers.length ? { ArnNotLike: { 'aws:PrincipalArn': readers } } : {}),
      },
    },
  ];
  if (readers.length) {
    statements.push({ Sid: 'Readers', Effect: 'Allow', Principal: { AWS: readers }, Action: 'secretsmanager:GetSecretValue', Resource: '*' });
  }
  return { Version: '2012-10-17', Statement: statements };
}

async function applyPolicy(sm: SecretsManagerClient, arn: string, policy: Record<string, unknown>, reporter: Reporter): Promise<void> {
  const text = JSON.stringify(policy);
  try {
    const existing = (await sm.send(new GetResourcePolicyCommand({ SecretId: arn }))).ResourcePolicy;
    if (existing && JSON.stringify(JSON.parse(existing)) === text) return;
    await sm.send(new PutResourcePolicyCommand({ SecretId: arn, ResourcePolicy: text, BlockPublicPolicy: true }));
    reporter.info(`Resource policy of ${arn} set: the key is readable by principals tagged with the deployment, the deploy role and apiKey.readers only.`);
  } catch (err) {
    throw explainAwsError(err, `Setting the resource policy of ${arn}`);
  }
}

export async function ensureApiKeySecret(options: EnsureApiKeySecretOptions): Promise<{ secretArn: string; created: boolean }> {
  const { deployment: d, secretName: name, environmentName, region, credentials, reporter } = options;
  const sm = awsClient(SecretsManagerClient, { region, credentials });
  const readers = d.apiKey.readers ?? [];
  for (const r of readers) {
    if (!isReaderArn(r)) {
      throw new DeployError(`apiKey.readers has "${r}", which is not an IAM role or user ARN`, { location: d.source, title: 'Invalid apiKey.readers' });
    }
  }
  const caller = await callerIdentity({ region, credentials });
  const callers = [...callerPrincipalArns(caller.arn), ...(options.environment?.roleArn ? [options.environment.roleArn] : [])];

  let state = await describeKeySecret(sm, name);
  let created = false;
  if (!state) {
    const key = await newApiKey(sm, reporter);
    const kmsKeyId = d.apiKey.kmsKeyId ?? d.security.kmsKeyId;
    try {
      await sm.send(
        new CreateSecretCommand({
          Name: name,
          Description: `API key of model-deploy deployment ${d.name}${environmentName ? ` (${environmentName})` : ''}. Rotated by the rotate-key action; do not edit its staging labels by hand.`,
          SecretString: keySecretString(key),
          KmsKeyId: kmsKeyId,
          Tags: tagList(ownershipTags(d, environmentName)),
        }),
      );
      created = true;
    } catch (err) {
      // Another run created it a moment ago: fall through to the checks below.
      if (errorName(err) !== 'ResourceExistsException') throw explainAwsError(err, `Creating secret ${name}`);
    }
    state = await describeKeySecret(sm, name);
    if (!state) throw new DeployError(`secret ${name} was created but cannot be read back`, { title: 'Secret missing' });
  }
  checkOwnership(state, d, environmentName);
  // Labels are set after CreateSecret (it cannot set custom stages); a re-run repairs an interrupted creation.
  if (!state.current) throw new DeployError(`secret ${name} has no ${CURRENT} version`, { title: 'Broken secret', hint: 'Restore a version as AWSCURRENT, or delete the secret and deploy again.' });
  if (!state.serveA) await moveLabel(sm, state.arn, SERVE_A, state.current, undefined);
  if (!state.serveB) await moveLabel(sm, state.arn, SERVE_B, state.current, undefined);
  await applyPolicy(sm, state.arn, keyPolicy({ deploymentName: d.name, account: caller.account, callers, readers }), reporter);
  reporter.info(created ? `Created API-key secret ${state.arn}.` : `API-key secret ${state.arn} exists.`);
  return { secretArn: state.arn, created };
}
