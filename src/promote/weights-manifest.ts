/**
 * Promoted weights are served from a content-addressed prefix and checked against a manifest (issue 20.1).
 *
 * - The prefix is named by the SHA-256 of exactly which source objects were promoted (key, size, ETag, version,
 *   checksum): a promotion of other weights gets another prefix, so it never rewrites what a running stack
 *   reads, and SageMaker's S3Prefix (which loads every current object under it) sees only this promotion.
 *   It sits in the target environment's own folder (`promoted/PROJECT/ENV/DEPLOYMENT/sha256-…/`), never
 *   beside or under the source: in a bucket the environments of an account share, the bootstrap lets each
 *   environment's promotion role write that folder alone (S3 decides by object ARN), so staging's promotion
 *   cannot touch what prod serves, and a copy is never listed as source.
 * - The manifest (`model-deploy-weights.tsv` in that prefix) lists each object's version id, SHA-256 (when S3
 *   gives a whole-object one), size and key below the prefix. The EC2 and ECS boot downloads exactly those
 *   versions (never "whatever is under the prefix") and checks sizes and checksums; `serve.sh` checks the model
 *   directory against it at every container start, SageMaker's included, and refuses any unlisted file.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { isNotFound } from '../core/errors';
import { step } from '../core/actor';
import { sha256Base64 } from '../core/hash';
import { Bucket, ObjectVersion } from '../core/s3-copy';
import { s3Url, S3Location } from '../core/s3-location';
import { compareText } from '../core/compare';
import type { PlannedObject } from './fixed-plan';
import { bodyText, objectsDigest } from './provenance-record';

/** The manifest's name in a content-addressed prefix; templates/serving/serve.sh and the stacks' boot read it. */
export const WEIGHTS_MANIFEST = 'model-deploy-weights.tsv';
const HEADER = '# model-deploy weights manifest v1: version-id, sha256 (hex, - when S3 has no whole-object one), size, key below this prefix';

/** Promoted weights' top folder in an artifact bucket (templates/bootstrap grants promoted/PROJECT/ENV/ per environment). */
export const PROMOTED_FOLDER = 'promoted/';

/** Whose promoted weights: the project, the target environment and the deployment name the folder. */
export interface PromotedInto {
  project: string;
  environment: string;
  deployment: string;
}

/**
 * `promoted/PROJECT/ENV/DEPLOYMENT/sha256-<hex>/`: the hash of which objects (keys below the source's folder),
 * versions and ETags are promoted, and from where.
 */
export function contentAddressedPrefix(source: S3Location, objects: readonly PlannedObject[], into: PromotedInto): string {
  const digest = objectsDigest(source, objects);
  return `${PROMOTED_FOLDER}${into.project}/${into.environment}/${into.deployment}/sha256-${digest}/`;
}

/** A whole-object SHA-256 as hex; a multipart upload's composite checksum ("…-N") checks no file, so none. */
function wholeObjectSha256(checksum: string | undefined): string {
  if (!checksum || checksum.includes('-')) return '-';
  return Buffer.from(checksum, 'base64').toString('hex');
}

/** The manifest text: one line per copied object, in key order. */
export function manifestText(prefix: string, copies: readonly { size: number; copy: ObjectVersion }[]): string {
  const rows = copies
    .map(({ size, copy }) => [copy.versionId ?? 'null', wholeObjectSha256(copy.checksumSha256), String(size), copy.key.slice(prefix.length)].join('\t'))
    .sort((a, b) => compareText(a.split('\t')[3]!, b.split('\t')[3]!));
  return [HEADER, ...rows, ''].join('\n');
}

/** Writes the manifest into the content-addressed prefix; returns its version, for deploy to pin with the rest. */
export async function writeWeightsManifest(
  target: Bucket,
  prefix: string,
  copies: readonly { size: number; copy: ObjectVersion }[],
  o: { kmsKeyId?: string; tags: Record<string, string> },
): Promise<ObjectVersion> {
  const key = `${prefix}${WEIGHTS_MANIFEST}`;
  const body = manifestText(prefix, copies);
  const checksum = sha256Base64(body);
  const where = s3Url({ bucket: target.bucket, key });
  // A re-run that copied nothing leaves the manifest as it was (the version deploy pinned stays current).
  const held = await step(target.actor, 's3:GetObject', where, async () => {
    try {
      const got = await target.client.send(new GetObjectCommand({ Bucket: target.bucket, Key: key, ExpectedBucketOwner: target.owner }));
      return { text: await bodyText(got.Body), versionId: got.VersionId, etag: got.ETag };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  });
  if (held?.text === body) return { key, ...(held.versionId ? { versionId: held.versionId } : {}), ...(held.etag ? { etag: held.etag } : {}), checksumSha256: checksum };
  const out = await step(target.actor, 's3:PutObject + s3:PutObjectTagging', where, () =>
    target.client.send(
      new PutObjectCommand({
        Bucket: target.bucket,
        Key: key,
        ExpectedBucketOwner: target.owner,
        Body: body,
        ContentType: 'text/tab-separated-values',
        ChecksumSHA256: checksum,
        Tagging: new URLSearchParams(o.tags).toString(),
        ...(o.kmsKeyId ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: o.kmsKeyId } : {}),
      }),
    ),
  );
  return { key, ...(out.VersionId ? { versionId: out.VersionId } : {}), ...(out.ETag ? { etag: out.ETag } : {}), checksumSha256: out.ChecksumSHA256 ?? checksum };
}
