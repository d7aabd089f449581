/**
 * Cross-account work: assume a role from the current session (which itself came from GitHub OIDC), or
 * with the job's own OIDC token (a second GitHub-trusted role). The session name names the workflow
 * run, so CloudTrail shows which run did what.
 */
import { tagList } from './tags';
import type * as Core from '@actions/core';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { isRoleArn } from './arn';
import { awsClient, AwsContext, dnsSuffix } from './aws';
import { DeployError, errorMessage, errorName } from './errors';
import { loadHttpClient } from './http-client';
import type { Reporter } from './log';
import { STSClient, AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, Credentials as StsCredentials } from '@aws-sdk/client-sts';

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

/** A valid role session name ([\w+=,.@-], 2-64 chars) naming the GitHub run when there is one. */
export function defaultSessionName(env: NodeJS.ProcessEnv = process.env): string {
  const run = env.GITHUB_RUN_ID ? `gh-${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT ?? '1'}` : `local-${Date.now()}`;
  const repo = (env.GITHUB_REPOSITORY ?? '').split('/').pop() ?? '';
  return `model-deploy-${repo ? `${repo}-` : ''}${run}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}

export function assumeRole(options: AssumeRoleOptions): AwsCredentialIdentityProvider {
  checkRoleArn(options.roleArn);
  return refreshing(async () => {
    const sts = awsClient(STSClient, { region: options.region, credentials: options.source });
    try {
      const out = await sts.send(
        new AssumeRoleCommand({
          RoleArn: options.roleArn,
          RoleSessionName: options.sessionName ?? defaultSessionName(),
          DurationSeconds: options.durationSeconds ?? 3600,
          ExternalId: options.externalId,
          Tags: options.tags ? tagList(options.tags) : undefined,
        }),
      );
      return sessionCredentials(out.Credentials, options.roleArn, options.reporter);
    } catch (err) {
      throw explainAssumeRoleError(err, options.roleArn, Boolean(options.tags));
    }
  });
}

function checkRoleArn(roleArn: string): void {
  if (!isRoleArn(roleArn)) throw new DeployError(`"${roleArn}" is not an IAM role ARN.`, { hint: 'Expected arn:aws:iam::123456789012:role/NAME.' });
}

/** How long before its expiry a session is renewed (the SDK's own margin), so no request carries a dying one. */
export const RENEW_BEFORE_MS = 5 * 60_000;

/** A provider that keeps a session until five minutes before it expires, so long deploys never use a dead one. */
function refreshing(fetch: () => Promise<AwsCredentialIdentity>, now: () => number = Date.now): AwsCredentialIdentityProvider {
  let cached: AwsCredentialIdentity | undefined;
  return async () => {
    if (cached?.expiration && cached.expiration.getTime() - now() > RENEW_BEFORE_MS) return cached;
    cached = await fetch();
    return cached;
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
        'and that role needs sts:AssumeRole on the target.',
    });
  }
  return new DeployError(`Could not assume ${roleArn}: ${name}: ${message}`, { cause: err });
}

/** The audience GitHub's OIDC token must carry for STS: the China partition has its own. */
export function oidcAudience(region: string): string {
  return `sts.${dnsSuffix(region)}`;
}

/** True in a GitHub job granted `id-token: write` (the runner then sets the token request URL). */
export function hasGitHubOidc(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN);
}

export interface WebIdentityOptions {
  roleArn: string;
  /** Region for the STS call; also picks the token's audience. */
  region: string;
  sessionName?: string;
  durationSeconds?: number;
  reporter?: Reporter;
  /** The clock that decides when the session is renewed (tests: a fake one). */
  now?: () => number;
  /** Said after the trust conditions when STS refuses the token: what the caller's domain knows about this role. */
  deniedHint?: string;
}

/**
 * Credentials of a role trusted by GitHub's OIDC provider, from this job's own OIDC token (as
 * configure-aws-credentials does), for a second identity beside the job's ambient one. The token is
 * a credential: it is masked before anything could print it.
 */
export function webIdentityRole(options: WebIdentityOptions): AwsCredentialIdentityProvider {
  checkRoleArn(options.roleArn);
  return refreshing(async () => {
    const token = await gitHubIdToken(oidcAudience(options.region), options.reporter);
    // AssumeRoleWithWebIdentity is unsigned: the token is the only proof.
    const sts = awsClient(STSClient, { region: options.region });
    try {
      const out = await sts.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: options.roleArn,
          RoleSessionName: options.sessionName ?? defaultSessionName(),
          DurationSeconds: options.durationSeconds ?? 3600,
          WebIdentityToken: token,
        }),
      );
      return sessionCredentials(out.Credentials, options.roleArn, options.reporter);
    } catch (err) {
      throw explainWebIdentityError(err, options.roleArn, oidcAudience(options.region), options.deniedHint);
    }
  }, options.now);
}

/** The job's OIDC token for `audience`, through @actions/core (loaded only here: see githubReporter in log.ts). */
async function gitHubIdToken(audience: string, reporter?: Reporter): Promise<string> {
  if (!hasGitHubOidc()) {
    throw new DeployError('This job has no GitHub OIDC token to read the source with (ACTIONS_ID_TOKEN_REQUEST_URL is not set).', {
      title: 'No OIDC token',
      hint: 'Give the job `permissions: id-token: write`; run locally with credentials of the source account instead.',
    });
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const core = require('@actions/core') as typeof Core;
  await loadHttpClient(); // getIDToken's HTTP client (src/core/http-client.ts)
  let token: string;
  try {
    token = await core.getIDToken(audience);
  } catch (err) {
    throw new DeployError(`Could not get the job's OIDC token: ${errorMessage(err)}`, { cause: err, title: 'No OIDC token', hint: 'Give the job `permissions: id-token: write`.' });
  }
  reporter?.setSecret(token);
  return token;
}

function sessionCredentials(c: StsCredentials | undefined, roleArn: string, reporter?: Reporter): AwsCredentialIdentity {
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new DeployError(`STS returned no credentials for ${roleArn}.`);
  reporter?.setSecret(c.SecretAccessKey);
  if (c.SessionToken) reporter?.setSecret(c.SessionToken);
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
}

export function explainWebIdentityError(err: unknown, roleArn: string, audience: string, deniedHint?: string): DeployError {
  if (err instanceof DeployError) return err;
  const name = errorName(err);
  const message = errorMessage(err);
  if (name === 'AccessDenied' || name === 'InvalidIdentityToken') {
    return new DeployError(`Could not assume ${roleArn} with this job's OIDC token: ${message}`, {
      cause: err,
      title: 'Web identity denied',
      hint:
        `The trust policy of ${roleArn} must list this job's OIDC subject (token.actions.githubusercontent.com:sub, ` +
        `repo:OWNER/REPO:environment:TARGET, or the immutable OWNER-ID/REPO-ID and OWNER@ID/REPO@ID forms when the bootstrap has the ids: a repository created before 2026-06-18 sends the immutable form only once opted in) and the audience ${audience} (:aud).` +
        (deniedHint ? ` ${deniedHint}` : ''),
    });
  }
  return new DeployError(`Could not assume ${roleArn} with this job's OIDC token: ${name}: ${message}`, { cause: err });
}
