/** The target environment's KMS key in each target region. */
import { formatArn, isAccountId, parseArn } from '../core/arn';

/**
 * The target's KMS key as named in `region`, or undefined when it cannot be used there: a key id or alias
 * resolves in each region, a multi-region key (mrk-) has a replica of the same id, a key ARN is one region's.
 */
export function kmsKeyIn(key: string | undefined, region: string): string | undefined {
  if (!key) return undefined;
  const arn = parseArn(key);
  if (!arn || arn.service !== 'kms' || !arn.region || !isAccountId(arn.account)) return key;
  if (arn.region === region) return key;
  return arn.resource.startsWith('key/mrk-') ? formatArn({ ...arn, region }) : undefined;
}
