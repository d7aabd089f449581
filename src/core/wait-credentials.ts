/**
 * Credentials that outlive the wait (#23.4). A deploy can wait for hours (a 70B model's start-up), longer
 * than the one-hour session configure-aws-credentials hands out by default. Under GitHub OIDC, with the
 * environment's role known, the run takes its own session of that role with the job's token and renews it
 * before it expires: a NEW token from GitHub, then AssumeRoleWithWebIdentity again. Otherwise it says at the
 * start when the job's session can end before the longest wait, and how to make it last.
 */
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { hasGitHubOidc, RENEW_BEFORE_MS, webIdentityRole } from './credentials';
import type { EnvInputs } from './env';
import { DeployError, errorMessage } from './errors';
import type { Reporter } from './log';

/** Each renewed session asks for one hour: every role allows it (MaxSessionDuration is 1 to 12 hours). */
const SESSION_SECONDS = 3600;
/** The checks before and after the longest wait (change set, smoke test): the session must cover them too. */
const SLACK_SECONDS = 600;
/** configure-aws-credentials' session when role-duration-seconds is not given. */
const DEFAULT_SESSION_MINUTES = 60;
/** The longest session a role can allow (MaxSessionDuration). */
const MAX_SESSION_SECONDS = 43200;

export interface WaitCredentialsOptions {
  /** Region of the STS call (its audience follows the partition). */
  region: string;
  /** The role the job deploys as (the spec's environments.ENV.roleArn). */
  roleArn?: string;
  /** The longest wait of the run, in minutes (timeout-minutes). */
  waitMinutes: number;
  reporter: Reporter;
  env: EnvInputs;
  now?: () => number;
}

/**
 * A renewing session of `roleArn` under GitHub OIDC (taken now, so a refusal is known before anything
 * changes); otherwise undefined (the SDK's default chain), with a warning when that session can end first.
 */
export async function credentialsForWait(o: WaitCredentialsOptions): Promise<AwsCredentialIdentityProvider | undefined> {
  const now = o.now ?? Date.now;
  const oidc = hasGitHubOidc({ ACTIONS_ID_TOKEN_REQUEST_URL: o.env.get('ACTIONS_ID_TOKEN_REQUEST_URL'), ACTIONS_ID_TOKEN_REQUEST_TOKEN: o.env.get('ACTIONS_ID_TOKEN_REQUEST_TOKEN') });
  if (o.roleArn && oidc) {
    const roleArn = o.roleArn;
    const session = webIdentityRole({ roleArn, region: o.region, reporter: o.reporter, now, durationSeconds: SESSION_SECONDS });
    try {
      await session();
      o.reporter.info(`AWS credentials: ${roleArn} with this job's OIDC token, renewed before they expire.`);
      return renewing(session, roleArn);
    } catch (err) {
      // The job's own credentials still work: go on with them, and say they will not be renewed.
      o.reporter.warning(`Could not take ${roleArn} with this job's OIDC token, so this step's AWS session cannot be renewed: ${errorMessage(err)}`, undefined, 'AWS credentials not renewable');
    }
  }
  const warning = sessionTooShort(o.env, o.waitMinutes, now());
  if (warning) o.reporter.warning(`${warning.message} ${warning.hint}`, undefined, warning.title);
  return undefined;
}

/** A renewal that fails mid-wait names the role and the reason (the session in hand is about to expire). */
function renewing(session: AwsCredentialIdentityProvider, roleArn: string): AwsCredentialIdentityProvider {
  return async (props) => {
    try {
      return await session(props);
    } catch (err) {
      const hint = (err instanceof DeployError ? err.hint : undefined) ?? "Check that the job still has `permissions: id-token: write` and that the role's trust policy still accepts this job's OIDC subject.";
      // Without a session nothing can be cancelled: what was started goes on in AWS, unwatched.
      throw new DeployError(`Could not renew the AWS session of ${roleArn} while waiting: ${errorMessage(err)}`, {
        cause: err,
        title: 'AWS credentials not renewed',
        hint: `${hint} What this step had started (a stack update, a build) goes on in AWS unwatched and could not be cancelled: check its state in the console before running again.`,
      });
    }
  };
}

/**
 * Static credentials (what configure-aws-credentials exports) that can expire before the longest wait
 * ends: a session token whose expiry (AWS_CREDENTIAL_EXPIRATION) is before it, or unknown while the wait
 * is longer than the default hour. Long-term keys do not expire; other sources of the chain renew themselves.
 */
export function sessionTooShort(env: Pick<EnvInputs, 'get'>, waitMinutes: number, nowMs: number): { message: string; hint: string; title: string } | undefined {
  if (!env.get('AWS_ACCESS_KEY_ID') || !env.get('AWS_SESSION_TOKEN')) return undefined;
  const needSeconds = waitMinutes * 60 + SLACK_SECONDS;
  const expiry = Date.parse(env.get('AWS_CREDENTIAL_EXPIRATION') ?? '');
  let message: string;
  if (Number.isFinite(expiry)) {
    if ((expiry - nowMs) / 1000 >= needSeconds) return undefined;
    const left = Math.max(0, Math.floor((expiry - nowMs - RENEW_BEFORE_MS) / 60000));
    message = `This step's AWS session expires at ${new Date(expiry).toISOString()}, about ${left} minutes from now, and the deploy may wait up to ${waitMinutes} minutes (timeout-minutes).`;
  } else {
    // Unknown: only a wait longer than the default session itself is warned about (not every default run).
    if (waitMinutes <= DEFAULT_SESSION_MINUTES) return undefined;
    message = `This step's AWS session has no known expiry: configure-aws-credentials gives one hour unless role-duration-seconds says more, and the deploy may wait up to ${waitMinutes} minutes (timeout-minutes).`;
  }
  const seconds = Math.min(MAX_SESSION_SECONDS, Math.ceil(needSeconds / 900) * 900);
  return {
    title: 'AWS session may end before the wait',
    message,
    hint:
      `Set role-duration-seconds: ${seconds} in configure-aws-credentials and allow it on the role (MaxSessionDuration: aws iam update-role --role-name ROLE --max-session-duration ${seconds}; 12 hours at most), ` +
      "or give the job `permissions: id-token: write` and the environment's roleArn in the spec, so the deploy renews its own session.",
  };
}
