/**
 * Cross-account work: assume a role from the current session (which itself came from GitHub OIDC).
 * The session name names the workflow run, so CloudTrail shows which run did what.
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { awsClient, AwsContext } from './aws';
import { DeployError, errorMessage, errorName } from './errors';
import type { Reporter } from './log';
import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';

export interface AssumeRoleOptions {
  roleArn: string;
  /** Region for the STS call (regional endpoints). */
  region: string;
  /** Credentials of the calling session; absent means the default chain. */
  source?: AwsContext['credentials'];
  sessionName?: string;
  durationSeconds?: number;
  externalId?: string;
  /** Session tags; they need sts:TagSession in the trust policy. */
  tags?: Record<string, string>;
  reporter?: Reporter;
}

const ROLE_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/[\w+=,.@\-/]{1,512}$/;

export function isRoleArn(value: string): boolean {
  return ROLE_ARN.test(value);
}

/** A valid role session name ([\w+=,.@-], 2-64 chars) naming the GitHub run when there is one. */
export function defaultSessionName(env: NodeJS.ProcessEnv = process.env): string {
  const run = env.GITHUB_RUN_ID ? `gh-${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT ?? '1'}` : `local-${Date.now()}`;
  const repo = (env.GITHUB_REPOSITORY ?? '').split('/').pop() ?? '';
  return `model-deploy-${repo ? `${repo}-` : ''}${run}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}

export function assumeRole(options: AssumeRoleOptions): AwsCredentialIdentityProvider {
  if (!isRoleArn(options.roleArn)) {
    throw new DeployError(`"${options.roleArn}" is not an IAM role ARN.`, {
      hint: 'Expected arn:aws:iam::123456789012:role/NAME.',
    });
  }
  let cached: AwsCredentialIdentity | undefined;
  return async () => {
    // Refresh five minutes before expiry so long deploys never use a dead session.
    if (cached?.expiration && cached.expiration.getTime() - Date.now() > 5 * 60_000) return cached;
    const sts = awsClient(STSClient, { region: options.region, credentials: options.source });
    try {
      const out = await sts.send(
        new AssumeRoleCommand({
          RoleArn: options.roleArn,
          RoleSessionName: options.sessionName ?? defaultSessionName(),
          DurationSeconds: options.durationSeconds ?? 3600,
          ExternalId: options.externalId,
          Tags: options.tags ? Object.entries(options.tags).map(([Key, Value]) => ({ Key, Value })) : undefined,
        }),
      );
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey) throw new DeployError(`STS returned no credentials for ${options.roleArn}.`);
      options.reporter?.setSecret(c.SecretAccessKey);
      if (c.SessionToken) options.reporter?.setSecret(c.SessionToken);
      cached = {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expiration: c.Expiration,
      };
      return cached;
    } catch (err) {
      throw explainAssumeRoleError(err, options.roleArn, Boolean(options.tags));
    }
  };
}

export function explainAssumeRoleError(err: unknown, roleArn: string, usedTags: boolean): DeployError {
  if (err instanceof DeployError) return err;
  const name = errorName(err);
  const message = errorMessage(err);
  if (/TagSession/.test(message) || (usedTags && name === 'AccessDenied')) {
    return new DeployError(`Could not assume ${roleArn}: ${message}`, {
      cause: err,
      title: 'Role chaining needs sts:TagSession',
      hint: `Allow sts:TagSession as well as sts:AssumeRole for the calling role in the trust policy of ${roleArn}.`,
    });
  }
  if (name === 'AccessDenied') {
    return new DeployError(`Could not assume ${roleArn}: ${message}`, {
      cause: err,
      title: 'Role assumption denied',
      hint:
        `The trust policy of ${roleArn} must allow sts:AssumeRole (and sts:TagSession) for the role this job runs as, ` +
        'and that role needs sts:AssumeRole on the target. templates/bootstrap/ sets up cross-account promotion roles trusted only by the dev role.',
    });
  }
  return new DeployError(`Could not assume ${roleArn}: ${name}: ${message}`, { cause: err });
}
