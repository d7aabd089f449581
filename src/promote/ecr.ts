/**
 * Copies an image between ECR registries (accounts and/or regions) with the ECR API alone: the exact
 * manifest bytes from BatchGetImage, blobs the target lacks streamed through the source's presigned
 * layer URLs into layer uploads, child manifests before an index, and PutImage with the tag last, so
 * a promotion that stops half-way leaves no tag on an incomplete image and a re-run finishes it.
 */
import type { ECRClient, ImageIdentifier } from '@aws-sdk/client-ecr';
import { DeployError, errorName, isNotFound } from '../core/errors';
import type { Reporter } from '../core/log';
import { isPollTimeout, poll } from '../core/poll';
import { Actor, step } from '../core/actor';
import { mapLimit } from '../core/concurrency';
import { sha256Hex } from '../core/hash';
import { MAX_PART_SIZE, transferBlob } from './blob';
import { BatchGetImageCommand, DescribeImagesCommand, DescribeImageReplicationStatusCommand } from '@aws-sdk/client-ecr';
import * as ecr from '@aws-sdk/client-ecr';
import type { ImageRef } from '../core/image-uri';

export const INDEX_TYPES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'];
export const MANIFEST_TYPES = [
  ...INDEX_TYPES,
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
];

export interface Registry {
  client: ECRClient;
  actor: Actor;
  registryId: string;
  region: string;
  repositoryName: string;
}

function where(r: Registry): string {
  return `${r.repositoryName} in ${r.registryId} ${r.region}`;
}

export interface Manifest {
  digest: string;
  mediaType: string;
  /** Exactly the bytes the digest was computed over. */
  body: string;
}

interface Descriptor {
  digest: string;
  size?: number;
  mediaType?: string;
  urls?: string[];
}

interface ParsedManifest {
  mediaType?: string;
  manifests?: Descriptor[];
  config?: Descriptor;
  layers?: Descriptor[];
}

export function isIndex(m: Manifest): boolean {
  return INDEX_TYPES.includes(m.mediaType);
}

/** BatchGetImage, checked: the manifest's own sha256 must be its digest, or the copy could not keep it. */
export async function getManifests(r: Registry, ids: ImageIdentifier[]): Promise<{ found: Manifest[]; missing: ImageIdentifier[] }> {
  const found: Manifest[] = [];
  const missing: ImageIdentifier[] = [];
  for (let i = 0; i < ids.length; i += 100) {
    const chunk = ids.slice(i, i + 100);
    const out = await step(r.actor, 'ecr:BatchGetImage', where(r), () =>
      r.client.send(new BatchGetImageCommand({ registryId: r.registryId, repositoryName: r.repositoryName, imageIds: chunk, acceptedMediaTypes: MANIFEST_TYPES })),
    );
    for (const img of out.images ?? []) {
      const body = img.imageManifest ?? '';
      const digest = img.imageId?.imageDigest ?? '';
      if (`sha256:${sha256Hex(Buffer.from(body, 'utf8'))}` !== digest) {
        throw new DeployError(`The manifest ECR returned for ${digest} in ${where(r)} does not hash to its digest; it cannot be copied byte for byte.`, {
          title: 'Manifest digest mismatch',
        });
      }
      let mediaType = img.imageManifestMediaType;
      if (!mediaType) mediaType = (JSON.parse(body) as ParsedManifest).mediaType ?? 'application/vnd.docker.distribution.manifest.v2+json';
      if (!found.some((f) => f.digest === digest)) found.push({ digest, mediaType, body });
    }
    for (const f of out.failures ?? []) {
      if (f.failureCode === 'ImageNotFound' || f.failureCode === 'ImageTagDoesNotMatchDigest' || f.failureCode === 'MissingDigestAndTag') {
        if (f.imageId) missing.push(f.imageId);
      } else {
        throw new DeployError(`ecr:BatchGetImage on ${where(r)} failed for ${f.imageId?.imageTag ?? f.imageId?.imageDigest}: ${f.failureCode} ${f.failureReason ?? ''}`.trim());
      }
    }
  }
  return { found, missing };
}

/** The tagged images of a repository, newest push first (none when the repository does not exist). */
export async function imagesNewestFirst(r: Registry): Promise<{ digest: string; tag?: string; pushed: number }[]> {
  const all: { digest: string; tag?: string; pushed: number }[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const out = await step(r.actor, 'ecr:DescribeImages', where(r), () =>
        r.client.send(new DescribeImagesCommand({ registryId: r.registryId, repositoryName: r.repositoryName, filter: { tagStatus: 'TAGGED' }, nextToken })),
      );
      for (const d of out.imageDetails ?? []) {
        if (d.imageDigest) all.push({ digest: d.imageDigest, tag: d.imageTags?.[0], pushed: d.imagePushedAt ? new Date(d.imagePushedAt).getTime() : 0 });
      }
      nextToken = out.nextToken;
    } while (nextToken);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  return all.sort((a, b) => b.pushed - a.pushed);
}

/** The newest tagged image of a repository (what was pushed last): a direct promotion's default only. */
export async function newestImage(r: Registry): Promise<ImageRef> {
  const best = (await imagesNewestFirst(r))[0];
  if (!best) {
    throw new DeployError(`No tagged image in ${where(r)} to promote.`, {
      title: 'Nothing to promote',
      hint: 'Run build-model in the source environment first, or give the `image-uri` input.',
    });
  }
  return { tag: best.tag, digest: best.digest };
}

export interface CopyOptions {
  /** Blobs moved at once per image. */
  blobConcurrency?: number;
  partSize?: number;
  /** Creates the target repository when it does not exist. */
  createRepository?: (target: Registry) => Promise<void>;
  signal?: AbortSignal;
  reporter?: Reporter;
}

export interface CopyResult {
  digest: string;
  tag?: string;
  /** The tag already pointed at this digest in the target: nothing was written. */
  alreadyPresent: boolean;
  blobsCopied: number;
  blobsSkipped: number;
  bytesMoved: number;
  manifestsPut: number;
  calls: number;
}

/** One copy in progress: both registries, the options, and the counts it reports. */
interface CopyJob {
  source: Registry;
  target: Registry;
  options: CopyOptions;
  result: CopyResult;
}

/** Counts an ECR call (or a batch of them) in the result. */
function counted<T>(job: CopyJob, p: Promise<T>): Promise<T> {
  job.result.calls++;
  return p;
}

/**
 * Copies the image `ref` from `source` to `target`. The result's digest is the source digest;
 * ECR answering PutImage with any other digest fails the copy.
 */
export async function copyImage(source: Registry, target: Registry, ref: ImageRef, options: CopyOptions = {}): Promise<CopyResult> {
  const result: CopyResult = { digest: '', tag: ref.tag, alreadyPresent: false, blobsCopied: 0, blobsSkipped: 0, bytesMoved: 0, manifestsPut: 0, calls: 0 };
  const job: CopyJob = { source, target, options, result };
  const top = await sourceManifest(job, ref);
  result.digest = top.digest;
  if (await alreadyInTarget(job, ref, top)) {
    result.alreadyPresent = true;
    return result;
  }
  if (isIndex(top)) await copyIndexChildren(job, top);
  else await copyBlobs(job, top);
  // The tag goes last: until here, nothing in the target points at the new image.
  await putManifest(job, top, ref.tag);
  return result;
}

async function sourceManifest(job: CopyJob, ref: ImageRef): Promise<Manifest> {
  const wanted: ImageIdentifier = ref.digest ? { imageDigest: ref.digest } : { imageTag: ref.tag };
  const top = (await counted(job, getManifests(job.source, [wanted]))).found[0];
  if (!top) {
    throw new DeployError(`Image ${ref.tag ?? ref.digest} is not in ${where(job.source)}.`, {
      title: 'Source image not found',
      hint: 'Check the `image-uri` input (or run build-model in the source environment first).',
    });
  }
  return top;
}

/** Already promoted? One call answers it: the tag (or digest) in the target points at this digest. Creates a missing repository. */
async function alreadyInTarget(job: CopyJob, ref: ImageRef, top: Manifest): Promise<boolean> {
  try {
    const present = (await counted(job, getManifests(job.target, [ref.tag ? { imageTag: ref.tag } : { imageDigest: top.digest }]))).found[0];
    return present?.digest === top.digest;
  } catch (err) {
    if (!isNotFound(err) || !job.options.createRepository) throw err;
    await job.options.createRepository(job.target);
    return false;
  }
}

/** Children first: an index is only put once every platform image it names is complete. */
async function copyIndexChildren(job: CopyJob, top: Manifest): Promise<void> {
  const { source, target } = job;
  const children = ((JSON.parse(top.body) as ParsedManifest).manifests ?? []).map((c) => c.digest);
  const inTarget = new Set((await counted(job, getManifests(target, children.map((imageDigest) => ({ imageDigest }))))).found.map((m) => m.digest));
  const todo = children.filter((c) => !inTarget.has(c));
  const fetched = todo.length ? await counted(job, getManifests(source, todo.map((imageDigest) => ({ imageDigest })))) : { found: [], missing: [] };
  if (fetched.missing.length) {
    throw new DeployError(`The index ${top.digest} in ${where(source)} names manifests the repository does not hold: ${fetched.missing.map((m) => m.imageDigest).join(', ')}.`);
  }
  for (const child of fetched.found) {
    if (isIndex(child)) throw new DeployError(`Nested image indexes are not supported (${child.digest} in ${where(source)}).`);
    await copyBlobs(job, child);
    await putManifest(job, child);
  }
}

async function putManifest(job: CopyJob, m: Manifest, tag?: string): Promise<void> {
  const { target } = job;
  const out = await counted(
    job,
    step(target.actor, 'ecr:PutImage', where(target), async () => {
      try {
        return await target.client.send(
          new ecr.PutImageCommand({
            registryId: target.registryId,
            repositoryName: target.repositoryName,
            imageManifest: m.body,
            imageManifestMediaType: m.mediaType,
            imageDigest: m.digest,
            imageTag: tag,
          }),
        );
      } catch (err) {
        // Same manifest under the same tag (or untagged): a re-run, nothing to do.
        if (errorName(err) === 'ImageAlreadyExistsException') return { image: { imageId: { imageDigest: m.digest } } };
        if (errorName(err) === 'ImageTagAlreadyExistsException') {
          throw new DeployError(`Tag ${tag} already exists in ${where(target)} on another image, and the repository's tags are immutable.`, {
            cause: err,
            title: 'Tag taken',
            hint: 'Promote a new tag (tags name builds), or delete the old image from the target repository if it was a mistake.',
          });
        }
        throw err;
      }
    }),
  );
  const got = out.image?.imageId?.imageDigest;
  if (got !== m.digest) {
    throw new DeployError(`ECR stored ${where(target)} with digest ${got ?? '(none)'}, not the source digest ${m.digest}: promotion failed.`, {
      title: 'Digest changed',
    });
  }
  job.result.manifestsPut++;
}

/** The config and layer blobs of one image manifest that the target lacks, moved. */
async function copyBlobs(job: CopyJob, m: Manifest): Promise<void> {
  const missing = await missingBlobs(job, m);
  await mapLimit(missing, job.options.blobConcurrency ?? 4, (blob) => copyBlob(job, blob));
}

async function missingBlobs(job: CopyJob, m: Manifest): Promise<Descriptor[]> {
  const { target } = job;
  const parsed = JSON.parse(m.body) as ParsedManifest;
  const blobs = new Map<string, Descriptor>();
  for (const d of [parsed.config, ...(parsed.layers ?? [])]) {
    // Foreign layers (urls) live outside the registry; ECR does not store them either.
    if (d?.digest && !d.urls?.length) blobs.set(d.digest, d);
  }
  const missing: Descriptor[] = [];
  const all = [...blobs.values()];
  for (let i = 0; i < all.length; i += 100) {
    const chunk = all.slice(i, i + 100);
    const out = await counted(
      job,
      step(target.actor, 'ecr:BatchCheckLayerAvailability', where(target), () =>
        target.client.send(
          new ecr.BatchCheckLayerAvailabilityCommand({ registryId: target.registryId, repositoryName: target.repositoryName, layerDigests: chunk.map((b) => b.digest) }),
        ),
      ),
    );
    const available = new Set((out.layers ?? []).filter((l) => l.layerAvailability === 'AVAILABLE').map((l) => l.layerDigest));
    for (const blob of chunk) {
      if (available.has(blob.digest)) job.result.blobsSkipped++;
      else missing.push(blob);
    }
  }
  return missing;
}

/** One blob: the source's presigned URL streamed into a layer upload in the target. */
async function copyBlob(job: CopyJob, blob: Descriptor): Promise<void> {
  const { source, target, options } = job;
  const url = await counted(
    job,
    step(source.actor, 'ecr:GetDownloadUrlForLayer', where(source), () =>
      source.client.send(new ecr.GetDownloadUrlForLayerCommand({ registryId: source.registryId, repositoryName: source.repositoryName, layerDigest: blob.digest })),
    ),
  );
  if (!url.downloadUrl) throw new DeployError(`ECR gave no download URL for ${blob.digest} in ${where(source)}.`);
  options.reporter?.setSecret(url.downloadUrl);
  const init = await counted(
    job,
    step(target.actor, 'ecr:InitiateLayerUpload', where(target), () =>
      target.client.send(new ecr.InitiateLayerUploadCommand({ registryId: target.registryId, repositoryName: target.repositoryName })),
    ),
  );
  const uploadId = init.uploadId;
  if (!uploadId) throw new DeployError(`ECR started no layer upload for ${blob.digest} in ${where(target)}.`);
  const bytes = await transferBlob({
    url: url.downloadUrl,
    digest: blob.digest,
    size: blob.size,
    partSize: Math.min(options.partSize ?? init.partSize ?? MAX_PART_SIZE, MAX_PART_SIZE),
    signal: options.signal,
    uploadPart: (part, first, last) => uploadLayerPart(job, uploadId, part, first, last),
  });
  await completeLayerUpload(job, uploadId, blob.digest);
  job.result.blobsCopied++;
  job.result.bytesMoved += bytes;
}

async function uploadLayerPart(job: CopyJob, uploadId: string, part: Buffer, first: number, last: number): Promise<void> {
  const { target } = job;
  await counted(
    job,
    step(target.actor, 'ecr:UploadLayerPart', where(target), () =>
      target.client.send(
        new ecr.UploadLayerPartCommand({ registryId: target.registryId, repositoryName: target.repositoryName, uploadId, partFirstByte: first, partLastByte: last, layerPartBlob: part }),
      ),
    ),
  );
}

async function completeLayerUpload(job: CopyJob, uploadId: string, digest: string): Promise<void> {
  const { target } = job;
  await counted(
    job,
    step(target.actor, 'ecr:CompleteLayerUpload', where(target), async () => {
      try {
        return await target.client.send(
          new ecr.CompleteLayerUploadCommand({ registryId: target.registryId, repositoryName: target.repositoryName, uploadId, layerDigests: [digest] }),
        );
      } catch (err) {
        // Another run finished the same layer meanwhile.
        if (errorName(err) === 'LayerAlreadyExistsException') return undefined;
        throw err;
      }
    }),
  );
}

export interface ReplicationWait {
  timeoutMs: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
}

/** With ECR replication rules, the copy is AWS's: wait until the target region and account report COMPLETE. */
export async function waitForReplication(source: Registry, digest: string, targetAccount: string, targetRegion: string, wait: ReplicationWait): Promise<void> {
  let lastStatus = 'not listed';
  try {
    const { value } = await poll({
      what: `ECR replication of ${digest} to ${targetAccount} ${targetRegion}`,
      timeoutMs: wait.timeoutMs,
      initialDelayMs: wait.initialDelayMs ?? 5000,
      maxDelayMs: wait.maxDelayMs ?? 30000,
      signal: wait.signal,
      check: async () => {
        const out = await step(source.actor, 'ecr:DescribeImageReplicationStatus', where(source), () =>
          source.client.send(
            new DescribeImageReplicationStatusCommand({ registryId: source.registryId, repositoryName: source.repositoryName, imageId: { imageDigest: digest } }),
          ),
        );
        const mine = (out.replicationStatuses ?? []).find((s) => s.region === targetRegion && (s.registryId ?? source.registryId) === targetAccount);
        lastStatus = mine?.status ?? 'not listed';
        return mine;
      },
      done: (s) => s?.status === 'COMPLETE' || s?.status === 'FAILED',
    });
    if (value?.status === 'FAILED') {
      throw new DeployError(`ECR replication of ${digest} to ${targetAccount} ${targetRegion} failed: ${value.failureCode ?? 'no reason given'}.`, {
        title: 'Replication failed',
        hint: 'Check the replication rule and the target registry policy (it must allow the source registry to replicate), or set ecrReplication: false to copy instead.',
      });
    }
  } catch (err) {
    if (isPollTimeout(err)) {
      throw new DeployError(`${err.message} (last status: ${lastStatus}).`, {
        title: 'Replication did not finish',
        hint:
          lastStatus === 'not listed'
            ? `No replication rule of registry ${source.registryId} covers ${source.repositoryName} to ${targetAccount} ${targetRegion}: add one, or set ecrReplication: false on the environment so promote-model copies the image.`
            : 'Raise `timeout-minutes`; replication of large images can take a while.',
      });
    }
    throw err;
  }
}
