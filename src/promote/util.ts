/** Small helpers shared by the promotion steps: bounded parallelism, AWS calls that name who needed what. */
import { createHash } from 'crypto';
import type { Credentials } from '../core/aws';
import { explainAwsError } from '../core/errors';

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

/** Runs fn over items with at most `limit` running at once; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  // One iterator shared by the workers: each takes the next item when it is free.
  const queue = items.entries();
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    for (const [i, item] of queue) results[i] = await fn(item, i);
  });
  await Promise.all(workers);
  return results;
}

/** Like mapLimit, but every item runs to its end; failures are returned, not thrown. */
export async function settleLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  return mapLimit(items, limit, async (item) => {
    try {
      return { status: 'fulfilled', value: await fn(item) } as PromiseFulfilledResult<R>;
    } catch (reason) {
      return { status: 'rejected', reason } as PromiseRejectedResult;
    }
  });
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

/** AWS tag values allow letters, digits, spaces and + - = . _ : / @ (S3 is the strictest); others become "_". */
export function tagValue(v: string): string {
  return v.replace(/[^\w\s+\-=.:/@]/g, '_').slice(0, 256);
}

/**
 * The target's KMS key as named in `region`, or undefined when it cannot be used there: a key id or alias
 * resolves in each region, a multi-region key (mrk-) has a replica of the same id, a key ARN is one region's.
 */
export function kmsKeyIn(key: string | undefined, region: string): string | undefined {
  if (!key) return undefined;
  const arn = /^(arn:[\w-]+:kms:)([a-z0-9-]+)(:\d{12}:)(.+)$/.exec(key);
  if (!arn) return key;
  const [, head, keyRegion, account, resource] = arn;
  if (keyRegion === region) return key;
  return resource?.startsWith('key/mrk-') ? `${head}${region}${account}${resource}` : undefined;
}
