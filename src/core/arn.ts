/**
 * ARNs: arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE. The one parser; callers check the service
 * and resource they expect rather than writing a regex of their own.
 */
import { isPartition, partitionOf } from './aws';
export interface Arn {
  partition: string;
  service: string;
  /** Empty for global services (IAM, S3 buckets). */
  region: string;
  /** Empty where the ARN names none (S3 buckets). */
  account: string;
  /** Everything after the account: `role/NAME`, `key/ID`, `model/NAME`, ... */
  resource: string;
}

const ARN = /^arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):(\d{12}|aws|):(.+)$/;

/** The parts of an ARN, or undefined for anything that is not one (ids, aliases, names). */
export function parseArn(value: string | undefined): Arn | undefined {
  const m = ARN.exec(value ?? '');
  if (!m) return undefined;
  const [, partition = '', service = '', region = '', account = '', resource = ''] = m;
  return { partition, service, region, account, resource };
}

/** The partition an ARN names (arn:PARTITION:...), or undefined for ids and aliases. */
export function arnPartition(value: string | undefined): string | undefined {
  return parseArn(value)?.partition;
}

/** The account an ARN names, or undefined. */
export function arnAccount(value: string | undefined): string | undefined {
  return parseArn(value)?.account || undefined;
}

/** An IAM role ARN (arn:PARTITION:iam::ACCOUNT:role/PATH/NAME) as parts, or undefined. */
export function parseRoleArn(value: string | undefined): (Arn & { roleName: string }) | undefined {
  const arn = parseArn(value);
  if (!arn || arn.service !== 'iam' || arn.region !== '' || !isAccountId(arn.account)) return undefined;
  const m = /^role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/.exec(arn.resource);
  return m?.[1] ? { ...arn, roleName: m[1] } : undefined;
}

/** An STS assumed-role ARN (arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION) as parts, or undefined. */
export function parseAssumedRoleArn(value: string | undefined): (Arn & { roleName: string; session: string }) | undefined {
  const arn = parseArn(value);
  if (!arn || arn.service !== 'sts') return undefined;
  const m = /^assumed-role\/([^/]+)\/(.+)$/.exec(arn.resource);
  return m?.[1] && m[2] ? { ...arn, roleName: m[1], session: m[2] } : undefined;
}

/** A 12-digit AWS account id. */
export function isAccountId(value: string): boolean {
  return /^\d{12}$/.test(value);
}

export function formatArn(arn: Arn): string {
  return `arn:${arn.partition}:${arn.service}:${arn.region}:${arn.account}:${arn.resource}`;
}

/** What a KMS key reference names: a key (its ARN) or an alias (alias/NAME), and the region it is in. */
export interface KmsKeyRef {
  keyArn?: string;
  alias?: string;
  region: string;
}

/**
 * A KMS key as the spec allows it (a key ARN, an alias ARN, alias/NAME or a key id), resolved in
 * `region` and `account` where it names neither.
 */
export function kmsKeyRef(value: string, region: string, account: string): KmsKeyRef {
  const arn = parseArn(value);
  if (arn?.resource.startsWith('alias/')) return { alias: arn.resource, region: arn.region || region };
  if (value.startsWith('arn:')) return { keyArn: value, region: arn?.region || region };
  if (value.startsWith('alias/')) return { alias: value, region };
  return { keyArn: formatArn({ partition: partitionOf(region), service: 'kms', region, account, resource: `key/${value}` }), region };
}

/** Whether a value is an IAM role ARN of a partition we deploy to (arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME). */
export function isRoleArn(value: string): boolean {
  const role = parseRoleArn(value);
  return Boolean(role && isPartition(role.partition));
}
