/** Who makes an AWS call, and the call wrapped so its error names the permission, the resource and that principal. */
import type { Credentials } from './aws';
import { explainAwsError } from './errors';

/** Who makes a call: the credentials, and the principal and account named in error messages. */
export interface Actor {
  principal: string;
  account: string;
  credentials?: Credentials;
}

/**
 * One AWS call, with the permission it needs and the principal making it in the error, so
 * "AccessDenied" becomes "ecr:PutImage on acme/chat in 333333333333 us-east-1 as arn:...: denied".
 */
export async function step<T>(actor: Actor, permission: string, resource: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw explainAwsError(err, `${permission} on ${resource} as ${actor.principal} (account ${actor.account})`);
  }
}
