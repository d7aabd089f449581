/**
 * Copies model artifacts between buckets (promote-model into the target account's bucket, a deploy's
 * model.s3 into each region's artifact bucket), encrypted with the target's KMS key when one is given.
 * Within one account S3 copies server-side (CopyObject up to 5 GiB, UploadPartCopy above). Across
 * accounts the bytes pass through the runner: the target's role may not read the source (only the
 * source's read-only role may), so the source credentials GET and the target credentials PUT, in
 * parts of at most the part size, a few in flight across all objects. An object whose copy is already there (same size, and
 * the same source ETag recorded at the last copy, or the same ETag or SHA-256 checksum) is skipped.
 */
import { sha256Base64 } from './hash';
import type { HeadObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import { DeployError, errorName, isNotFound } from './errors';
import { parseS3Location, s3Url } from './s3-location';
import { awsClient, type Credentials } from './aws';
import { Actor, step } from './actor';
import { mapLimit } from './concurrency';
import { createHash } from 'crypto';
import * as s3 from '@aws-sdk/client-s3';

export const COPY_OBJECT_LIMIT = 5 * 1024 ** 3;
/** Object metadata naming the source ETag, so a later run can tell the copy is current. */
export const SOURCE_ETAG_META = 'model-deploy-source-etag';

export interface Bucket {
  client: S3Client;
  actor: Actor;
  bucket: string;
  region: string;
  /** The account that must own the bucket: every call names it, so a bucket of the same name in another account is refused. */
  owner: string;
}

export interface ArtifactCopyOptions {
  kmsKeyId?: string;
  /** Tags every copied object carries (provenance). */
  tags: Record<string, string>;
  /** Above this size, multipart copy (tests lower it). */
  multipartThreshold?: number;
  partSize?: number;
  concurrency?: number;
  /** What to do when the source holds nothing (default: check the `model-data-url` input). */
  missingHint?: string;
  /**
   * Exactly these source objects (a promotion plan fixed before approval): nothing is listed, each is read at its
   * version id when it has one, and If-Match its ETag, so a write after the plan cannot be copied.
   */
  objects?: { key: string; size: number; etag: string; versionId?: string; checksumSha256?: string }[];
  /** The copies go under this prefix instead of `key` (each object's key relative to `key` kept): a promotion's content-addressed prefix. */
  targetPrefix?: string;
}

/** What the target holds for one key, so a deploy can pin exactly that object. */
export interface ObjectVersion {
  key: string;
  /** Absent when the bucket is not versioned. */
  versionId?: string;
  etag?: string;
  checksumSha256?: string;
}

export interface ArtifactCopyResult {
  url: string;
  /** One entry per object, copied or already current, in source order. */
  objects: ObjectVersion[];
  objectsCopied: number;
  objectsSkipped: number;
  bytesCopied: number;
}

interface SourceObject {
  key: string;
  /** Where the copy goes: the same key, or under the content-addressed prefix the caller names. */
  targetKey: string;
  size: number;
  etag: string;
  checksum?: string;
  contentType?: string;
  versionId?: string;
}

/** CopySource of an object, at its version when pinned. */
function copySourceOf(bucket: string, obj: SourceObject): string {
  const path = `${bucket}/${obj.key.split('/').map(encodeURIComponent).join('/')}`;
  return obj.versionId ? `${path}?versionId=${encodeURIComponent(obj.versionId)}` : path;
}

/** One object of a listing: its key, size and ETag. */
export interface ListedObject {
  key: string;
  size: number;
  etag: string;
}

export interface ListOptions {
  /** The account that must own the bucket (ExpectedBucketOwner). */
  expectedOwner?: string;
  /** Wraps each page's request (promotion records it as its actor's step). */
  page?: <T>(request: () => Promise<T>) => Promise<T>;
}

/**
 * Every object under a prefix, page after page (ListObjectsV2 answers at most 1,000 keys a page); the
 * zero-byte "folder" keys consoles create are left out. The one listing of S3 objects: copies,
 * promotion plans and the weights' size for the memory check all read it.
 */
export async function listPrefix(client: S3Client, bucket: string, prefix: string, options: ListOptions = {}): Promise<ListedObject[]> {
  const out: ListedObject[] = [];
  const page = options.page ?? (<T>(request: () => Promise<T>) => request());
  let token: string | undefined;
  do {
    const answer = await page(() => client.send(new s3.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, ExpectedBucketOwner: options.expectedOwner })));
    for (const o of answer.Contents ?? []) if (o.Key && !o.Key.endsWith('/')) out.push({ key: o.Key, size: o.Size ?? 0, etag: o.ETag ?? '' });
    token = answer.IsTruncated ? answer.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** The objects of an s3:// URL (the one object, or every one under the prefix), read with these credentials in `region`. */
export async function listS3Url(url: string, region: string, credentials?: Credentials): Promise<ListedObject[]> {
  const location = parseS3Location(url);
  if (!location) throw new DeployError(`${url} is not an s3:// URL`, { title: 'Invalid S3 location' });
  return listPrefix(awsClient(s3.S3Client, { region, credentials }), location.bucket, location.key);
}

async function listSource(source: Bucket, key: string, missingHint = 'Check the `model-data-url` input.'): Promise<Omit<SourceObject, 'targetKey'>[]> {
  const where = s3Url({ bucket: source.bucket, key });
  if (!key.endsWith('/') && key !== '') {
    const head = await step(source.actor, 's3:GetObject', where, async () => {
      try {
        return await source.client.send(new s3.HeadObjectCommand({ Bucket: source.bucket, Key: key, ChecksumMode: 'ENABLED', ExpectedBucketOwner: source.owner }));
      } catch (err) {
        if (isNotFound(err)) throw new DeployError(`${where} does not exist.`, { title: 'Model data not found', hint: `${missingHint} (A prefix ends with "/".)` });
        throw err;
      }
    });
    return [{ key, size: head.ContentLength ?? 0, etag: head.ETag ?? '', checksum: head.ChecksumSHA256, contentType: head.ContentType }];
  }
  const out = await listPrefix(source.client, source.bucket, key, { expectedOwner: source.owner, page: (request) => step(source.actor, 's3:ListBucket', where, request) });
  if (out.length === 0) throw new DeployError(`${where} holds no objects.`, { title: 'Model data not found', hint: missingHint });
  return out;
}

function isCurrent(src: SourceObject, head: HeadObjectCommandOutput): boolean {
  if ((head.ContentLength ?? -1) !== src.size) return false;
  if (head.Metadata?.[SOURCE_ETAG_META] === src.etag.replace(/"/g, '')) return true;
  if (src.checksum && head.ChecksumSHA256 === src.checksum) return true;
  return Boolean(src.etag) && head.ETag === src.etag;
}

/** The folder an S3 key's objects keep their path below: a prefix itself, or a single object's folder. */
export function keyFolder(key: string): string {
  return key.endsWith('/') || key === '' ? key : key.slice(0, key.lastIndexOf('/') + 1);
}

/** Copies s3://source.bucket/key (an object, or every object under a prefix ending in "/") to the same key in `target`, or under `targetPrefix`. */
export async function copyArtifacts(source: Bucket, key: string, target: Bucket, options: ArtifactCopyOptions): Promise<ArtifactCopyResult> {
  const listed = options.objects
    ? options.objects.map((o) => ({ key: o.key, size: o.size, etag: o.etag, versionId: o.versionId, checksum: o.checksumSha256 }))
    : await listSource(source, key, options.missingHint);
  const base = keyFolder(key);
  const retarget = (k: string) => (options.targetPrefix === undefined ? k : options.targetPrefix + k.slice(base.length));
  const objects: SourceObject[] = listed.map((o) => ({ ...o, targetKey: retarget(o.key) }));
  const result: ArtifactCopyResult = { url: s3Url({ bucket: target.bucket, key: retarget(key) }), objects: [], objectsCopied: 0, objectsSkipped: 0, bytesCopied: 0 };
  // Parts held by the runner at once, across all objects (cross-account copies only).
  const slots = new Slots(options.concurrency ?? 4);
  result.objects = await mapLimit(objects, options.concurrency ?? 4, async (obj) => {
    const { copied, version } = await copyObject(source, target, obj, options, slots);
    if (copied) {
      result.objectsCopied++;
      result.bytesCopied += obj.size;
    } else {
      result.objectsSkipped++;
    }
    return version;
  });
  return result;
}

/** The target's copy of an object, or undefined when there is none. */
async function headTarget(target: Bucket, key: string): Promise<HeadObjectCommandOutput | undefined> {
  return step(target.actor, 's3:GetObject', s3Url({ bucket: target.bucket, key }), async () => {
    try {
      return await target.client.send(new s3.HeadObjectCommand({ Bucket: target.bucket, Key: key, ChecksumMode: 'ENABLED', ExpectedBucketOwner: target.owner }));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  });
}

/** One object, unless its copy is current; returns whether it copied, and the version the target holds. */
async function copyObject(source: Bucket, target: Bucket, obj: SourceObject, options: ArtifactCopyOptions, slots: Slots): Promise<{ copied: boolean; version: ObjectVersion }> {
  const head = await headTarget(target, obj.targetKey);
  if (head && isCurrent(obj, head)) return { copied: false, version: versionOf(obj.targetKey, head.VersionId, head.ETag, head.ChecksumSHA256) };
  // Server-side copy is made by the target's role, which reads the source only within one account.
  if (source.owner !== target.owner) return { copied: true, version: await streamCopy(source, target, obj, options, slots) };
  const from = s3Url({ bucket: source.bucket, key: obj.key });
  const to = s3Url({ bucket: target.bucket, key: obj.targetKey });
  const copySource = copySourceOf(source.bucket, obj);
  const metadata = { [SOURCE_ETAG_META]: obj.etag.replace(/"/g, '') };
  const tagging = new URLSearchParams(options.tags).toString();
  const encryption = options.kmsKeyId ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: options.kmsKeyId } : {};
  const permission = `s3:GetObject (${from}) and s3:PutObject + s3:PutObjectTagging`;
  if (obj.size > (options.multipartThreshold ?? COPY_OBJECT_LIMIT)) {
    const done = await multipartCopy(source, target, obj, copySource, { metadata, tagging, encryption, partSize: options.partSize, concurrency: options.concurrency ?? 4 }, permission, to);
    return { copied: true, version: versionOf(obj.targetKey, done.VersionId, done.ETag, done.ChecksumSHA256) };
  }
  const out = await step(target.actor, permission, to, async () => {
    try {
      return await target.client.send(
        new s3.CopyObjectCommand({
          Bucket: target.bucket,
          Key: obj.targetKey,
          CopySource: copySource,
          ExpectedBucketOwner: target.owner,
          ExpectedSourceBucketOwner: source.owner,
          // The source must not change under the copy.
          CopySourceIfMatch: obj.etag || undefined,
          MetadataDirective: 'REPLACE',
          Metadata: metadata,
          ContentType: obj.contentType,
          TaggingDirective: 'REPLACE',
          Tagging: tagging,
          // A checksum of the copy that deploy can pin besides the version id.
          ChecksumAlgorithm: 'SHA256',
          ...encryption,
        }),
      );
    } catch (err) {
      // Not isNotFound: NoSuchKey (the source object) is not a missing target bucket.
      if (errorName(err) === 'NoSuchBucket') throw noBucket(target, err);
      throw err;
    }
  });
  return { copied: true, version: versionOf(obj.targetKey, out.VersionId, out.CopyObjectResult?.ETag, out.CopyObjectResult?.ChecksumSHA256) };
}

function versionOf(key: string, versionId?: string, etag?: string, checksumSha256?: string): ObjectVersion {
  return { key, ...(versionId ? { versionId } : {}), ...(etag ? { etag } : {}), ...(checksumSha256 ? { checksumSha256 } : {}) };
}

/**
 * Versioning on the target bucket, so every promoted object keeps a version id a deploy can pin, and
 * an overwrite can never replace what was promoted without trace. Suspended or never enabled: enabled.
 */
export async function ensureVersioning(target: Omit<Bucket, 'region'>): Promise<void> {
  const where = s3Url({ bucket: target.bucket, key: '' });
  const state = await step(target.actor, 's3:GetBucketVersioning', where, () =>
    target.client.send(new s3.GetBucketVersioningCommand({ Bucket: target.bucket, ExpectedBucketOwner: target.owner })),
  );
  if (state.Status === 'Enabled') return;
  await step(target.actor, 's3:PutBucketVersioning', where, () =>
    target.client.send(
      new s3.PutBucketVersioningCommand({ Bucket: target.bucket, ExpectedBucketOwner: target.owner, VersioningConfiguration: { Status: 'Enabled' } }),
    ),
  );
}

function noBucket(target: Bucket, cause: unknown): DeployError {
  return new DeployError(`Bucket ${target.bucket} does not exist in ${target.actor.account} ${target.region}.`, {
    cause,
    title: 'No artifact bucket in the target',
    hint: 'promote-model creates the bucket when it is missing; it disappeared during the copy. Re-run promote-model (what was copied is skipped).',
  });
}

async function multipartCopy(
  source: Bucket,
  target: Bucket,
  obj: SourceObject,
  copySource: string,
  o: { metadata: Record<string, string>; tagging: string; encryption: object; partSize?: number; concurrency: number },
  permission: string,
  to: string,
): Promise<s3.CompleteMultipartUploadCommandOutput> {
  // At most 10,000 parts; at least 5 MiB each (S3's limits), 512 MiB by default.
  const partSize = Math.max(o.partSize ?? 512 * 1024 ** 2, Math.ceil(obj.size / 10000), 5 * 1024 ** 2);
  const created = await step(target.actor, 's3:PutObject', to, () =>
    target.client.send(
      new s3.CreateMultipartUploadCommand({ Bucket: target.bucket, ExpectedBucketOwner: target.owner, Key: obj.targetKey, Metadata: o.metadata, Tagging: o.tagging, ContentType: obj.contentType, ...o.encryption }),
    ),
  );
  const uploadId = created.UploadId;
  if (!uploadId) throw new DeployError(`S3 started no multipart upload for ${to}.`);
  try {
    const ranges: { part: number; first: number; last: number }[] = [];
    for (let first = 0, part = 1; first < obj.size; first += partSize, part++) ranges.push({ part, first, last: Math.min(first + partSize, obj.size) - 1 });
    const parts = await mapLimit(ranges, o.concurrency, async (r) => {
      const out = await step(target.actor, permission, to, () =>
        target.client.send(
          new s3.UploadPartCopyCommand({
            Bucket: target.bucket,
            ExpectedBucketOwner: target.owner,
            ExpectedSourceBucketOwner: source.owner,
            Key: obj.targetKey,
            UploadId: uploadId,
            PartNumber: r.part,
            CopySource: copySource,
            CopySourceRange: `bytes=${r.first}-${r.last}`,
            CopySourceIfMatch: obj.etag || undefined,
          }),
        ),
      );
      return { PartNumber: r.part, ETag: out.CopyPartResult?.ETag };
    });
    return await step(target.actor, 's3:PutObject', to, () =>
      target.client.send(new s3.CompleteMultipartUploadCommand({ Bucket: target.bucket, ExpectedBucketOwner: target.owner, Key: obj.targetKey, UploadId: uploadId, MultipartUpload: { Parts: parts } })),
    );
  } catch (err) {
    // Leave no billed, half-written upload behind; the re-run starts the object again.
    await target.client.send(new s3.AbortMultipartUploadCommand({ Bucket: target.bucket, ExpectedBucketOwner: target.owner, Key: obj.targetKey, UploadId: uploadId })).catch(() => undefined);
    throw err;
  }
}


/** A counting semaphore: at most `size` holders at once. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(size: number) {
    this.free = Math.max(1, size);
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** The source's bytes in pieces of exactly `size` (the last one shorter), read only as they are asked for. */
async function* chunked(body: AsyncIterable<Uint8Array>, size: number, hash: ReturnType<typeof createHash>): AsyncGenerator<Buffer> {
  let held: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    hash.update(buf);
    held.push(buf);
    length += buf.length;
    while (length >= size) {
      const all = Buffer.concat(held, length);
      yield all.subarray(0, size);
      held = [all.subarray(size)];
      length -= size;
    }
  }
  if (length > 0) yield Buffer.concat(held, length);
}


interface StreamWrite {
  metadata: Record<string, string>;
  tagging: string;
  encryption: { ServerSideEncryption?: 'aws:kms'; SSEKMSKeyId?: string };
  to: string;
}

/**
 * Across accounts: GET with the source's credentials, PUT (one part) or multipart upload with the
 * target's, never holding more than the slots' parts in memory. The size, and the source's full-object
 * SHA-256 when S3 has one, are checked before the upload completes.
 */
async function streamCopy(source: Bucket, target: Bucket, obj: SourceObject, options: ArtifactCopyOptions, slots: Slots): Promise<ObjectVersion> {
  const from = s3Url({ bucket: source.bucket, key: obj.key });
  const w: StreamWrite = {
    metadata: { [SOURCE_ETAG_META]: obj.etag.replace(/"/g, '') },
    tagging: new URLSearchParams(options.tags).toString(),
    encryption: options.kmsKeyId ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: options.kmsKeyId } : {},
    to: s3Url({ bucket: target.bucket, key: obj.targetKey }),
  };
  // S3 allows 10,000 parts of at least 5 MiB; 64 MiB by default keeps a few in flight affordable on a runner.
  const partSize = Math.max(options.partSize ?? 64 * 1024 ** 2, Math.ceil(obj.size / 10000), 5 * 1024 ** 2);
  const got = await step(source.actor, 's3:GetObject', from, () =>
    source.client.send(new s3.GetObjectCommand({ Bucket: source.bucket, Key: obj.key, VersionId: obj.versionId, ExpectedBucketOwner: source.owner, IfMatch: obj.etag || undefined, ChecksumMode: 'ENABLED' })),
  );
  const body = got.Body as AsyncIterable<Uint8Array> & { destroy?: () => void } | undefined;
  if (!body) throw new DeployError(`S3 returned no body for ${from}.`);
  const hash = createHash('sha256');
  const parts = chunked(body, partSize, hash);
  const verify = () => verifySource(obj, from, hash.digest('base64'), got.ChecksumSHA256 ?? obj.checksum, received);
  let received = 0;
  try {
    if (obj.size <= partSize) {
      await slots.acquire();
      try {
        const data = Buffer.concat([...(await drain(parts))]);
        received = data.length;
        verify();
        return await putWhole(target, obj, data, w);
      } finally {
        slots.release();
      }
    }
    return await uploadParts(target, obj, parts, slots, w, (n) => (received += n), verify);
  } finally {
    body.destroy?.();
  }
}

async function drain(parts: AsyncGenerator<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const p of parts) out.push(p);
  return out;
}

function verifySource(obj: SourceObject, from: string, sha256: string, sourceChecksum: string | undefined, received: number): void {
  if (received !== obj.size) throw new DeployError(`${from} gave ${received} bytes, but lists ${obj.size}.`, { title: 'Model data changed during the copy', hint: 'Re-run promote-model.' });
  // A composite checksum ("...-N", of a multipart source) hashes the source's parts, not the object.
  if (sourceChecksum && !sourceChecksum.includes('-') && sourceChecksum !== sha256) {
    throw new DeployError(`${from}: the bytes read do not match its SHA-256 checksum.`, { title: 'Model data corrupted in transit', hint: 'Re-run promote-model.' });
  }
}

async function putWhole(target: Bucket, obj: SourceObject, data: Buffer, w: StreamWrite): Promise<ObjectVersion> {
  const out = await step(target.actor, 's3:PutObject + s3:PutObjectTagging', w.to, () =>
    target.client.send(
      new s3.PutObjectCommand({
        Bucket: target.bucket, Key: obj.targetKey, ExpectedBucketOwner: target.owner, Body: data, ContentLength: data.length, ContentType: obj.contentType,
        Metadata: w.metadata, Tagging: w.tagging, ChecksumAlgorithm: 'SHA256', ChecksumSHA256: sha256Base64(data), ...w.encryption,
      }),
    ),
  );
  return versionOf(obj.targetKey, out.VersionId, out.ETag, out.ChecksumSHA256);
}

/** Multipart upload of the source's parts, at most `slots` held at once; aborted on any failure. */
async function uploadParts(
  target: Bucket, obj: SourceObject, parts: AsyncGenerator<Buffer>, slots: Slots, w: StreamWrite, count: (n: number) => void, verify: () => void,
): Promise<ObjectVersion> {
  const created = await step(target.actor, 's3:PutObject + s3:PutObjectTagging', w.to, () =>
    target.client.send(
      new s3.CreateMultipartUploadCommand({
        Bucket: target.bucket, Key: obj.targetKey, ExpectedBucketOwner: target.owner, ContentType: obj.contentType,
        Metadata: w.metadata, Tagging: w.tagging, ChecksumAlgorithm: 'SHA256', ...w.encryption,
      }),
    ),
  );
  const uploadId = created.UploadId;
  if (!uploadId) throw new DeployError(`S3 started no multipart upload for ${w.to}.`);
  const done: s3.CompletedPart[] = [];
  const inFlight: Promise<void>[] = [];
  let failure: { err: unknown } | undefined;
  try {
    for (let number = 1; !failure; number++) {
      await slots.acquire();
      const next = failure ? undefined : await parts.next();
      if (!next || next.done) {
        slots.release();
        break;
      }
      count(next.value.length);
      const part = uploadPart(target, obj.targetKey, uploadId, number, next.value, w.to)
        .then((p) => void done.push(p), (err) => void (failure ??= { err }))
        .finally(() => slots.release());
      inFlight.push(part);
    }
    await Promise.all(inFlight);
    if (failure) throw failure.err;
    verify();
    const out = await step(target.actor, 's3:PutObject', w.to, () =>
      target.client.send(
        new s3.CompleteMultipartUploadCommand({
          Bucket: target.bucket, Key: obj.targetKey, ExpectedBucketOwner: target.owner, UploadId: uploadId,
          MultipartUpload: { Parts: done.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0)) },
        }),
      ),
    );
    return versionOf(obj.targetKey, out.VersionId, out.ETag, out.ChecksumSHA256);
  } catch (err) {
    await Promise.allSettled(inFlight);
    // Leave no billed, half-written upload behind; the re-run starts the object again.
    await target.client.send(new s3.AbortMultipartUploadCommand({ Bucket: target.bucket, ExpectedBucketOwner: target.owner, Key: obj.targetKey, UploadId: uploadId })).catch(() => undefined);
    throw err;
  }
}

async function uploadPart(target: Bucket, key: string, uploadId: string, number: number, data: Buffer, to: string): Promise<s3.CompletedPart> {
  const checksum = sha256Base64(data);
  const out = await step(target.actor, 's3:PutObject', to, () =>
    target.client.send(
      new s3.UploadPartCommand({
        Bucket: target.bucket, Key: key, ExpectedBucketOwner: target.owner, UploadId: uploadId, PartNumber: number,
        Body: data, ContentLength: data.length, ChecksumAlgorithm: 'SHA256', ChecksumSHA256: checksum,
      }),
    ),
  );
  return { PartNumber: number, ETag: out.ETag, ChecksumSHA256: out.ChecksumSHA256 ?? checksum };
}
