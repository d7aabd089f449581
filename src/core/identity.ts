/** Who the credentials are: the one sts:GetCallerIdentity call. */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { AwsContext, awsClient } from './aws';
import { DeployError, explainAwsError } from './errors';

export interface CallerIdentity {
  account: string;
  /** The principal: arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION, an IAM user, ... */
  arn: string;
}

/** The account and principal of these credentials (needs no permission). */
export async function callerIdentity(aws: AwsContext): Promise<CallerIdentity> {
  let out;
  try {
    out = await awsClient(STSClient, aws).send(new GetCallerIdentityCommand({}));
  } catch (err) {
    throw explainAwsError(err, 'Finding who we are (sts:GetCallerIdentity)');
  }
  if (!out.Account) throw new DeployError('STS GetCallerIdentity returned no account');
  return { account: out.Account, arn: out.Arn ?? '' };
}
