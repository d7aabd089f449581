/**
 * Provenance of a build (issue 20.1): which ref of which repository built an image digest and its weights.
 * The build on the protected ref writes one record per digest under `model-deploy-provenance/` of the source
 * account's artifact bucket, as the recorder role that only that ref's jobs can assume; the bucket policy
 * denies that prefix to every other principal (dev's deploy role included), so a record's existence at its key
 * is the proof, and its content says which ref, commit and run. Plan and promote refuse a digest without a
 * record from a protected ref, and weights that differ from the ones the record lists.
 *
 * Weights we do not build (model.s3, a model-data-url) get a record of their own, written the same way by the
 * protected ref's run: keyed by the SHA-256 of exactly which objects (keys, sizes, ETags, version ids,
 * checksums) it found, so the plan finds it only for those very versions. An object a dev job overwrote, added
 * or deleted since changes the digest: no record, not promotable.
 * Why not a signature: see docs/promotion.md ("Provenance").
 */
import { S3Client } from '@aws-sdk/client-s3';
import * as s3 from '@aws-sdk/client-s3';
import { Actor, step } from '../core/actor';
import { awsClient } from '../core/aws';
import { DeployError, errorName, isNotFound } from '../core/errors';
import { compareText } from '../core/compare';
import { sha256Hex } from '../core/hash';
import { keyFolder } from '../core/s3-copy';
import { s3Url, S3Location } from '../core/s3-location';

/** One source object as a plan fixed it, or as the build recorded it. */
export interface PlannedObject {
  key: string;
  size: number;
  etag: string;
  /** Absent when the source bucket is not versioned: the ETag (and checksum) pin it then. */
  versionId?: string;
  checksumSha256?: string;
}

export const PROVENANCE_PREFIX = 'model-deploy-provenance/';
export const DEFAULT_PROTECTED_REFS = ['refs/heads/main'];

export interface ProvenanceRecord {
  version: 1;
  /** GITHUB_REPOSITORY of the build. */
  repository: string;
  /** GITHUB_REF of the build: the protected ref. */
  ref: string;
  sha: string;
  runId: string;
  workflowRef?: string;
  image: { repositoryName: string; digest: string };
  weights?: { bucket: string; prefix: string; objects: PlannedObject[] };
}

/** Where the record of a digest lives: one key per image repository and digest. */
export function recordKey(repositoryName: string, digest: string): string {
  return `${PROVENANCE_PREFIX}${repositoryName}/${digest.replace(/^sha256:/, '')}.json`;
}

/**
 * The SHA-256 (hex) of a set of objects: where they are (bucket and folder) and, per object below that folder,
 * its key, size, ETag, version id and checksum. It names a promoted prefix (weights-manifest.ts) and a weights
 * record: the same objects give the same name, any change another.
 */
export function objectsDigest(source: S3Location, objects: readonly PlannedObject[]): string {
  const base = keyFolder(source.key);
  const lines = objects.map((o) => [o.key.slice(base.length), o.size, o.etag, o.versionId ?? '', o.checksumSha256 ?? ''].join('\t')).sort(compareText);
  return sha256Hex([`s3://${source.bucket}/${base}`, ...lines].join('\n'));
}

/** A record of weights we do not build (model.s3, model-data-url), as the protected ref's run found them. */
export interface WeightsRecord {
  version: 1;
  kind: 'weights';
  repository: string;
  ref: string;
  sha: string;
  runId: string;
  workflowRef?: string;
  deployment: string;
  weights: { bucket: string; prefix: string; objects: PlannedObject[] };
}

/**
 * Where the record of exactly these objects lives: model-deploy-provenance/PROJECT/weights/DEPLOYMENT/sha256-HEX.json
 * (an image's record is REPOSITORY/HEX.json: no `sha256-`, so neither can name the other).
 */
export function weightsRecordKey(project: string, deployment: string, source: S3Location, objects: readonly PlannedObject[]): string {
  return `${PROVENANCE_PREFIX}${project}/weights/${deployment}/sha256-${objectsDigest(source, objects)}.json`;
}

export interface ProvenancePolicy {
  /** Refs whose builds may be promoted (default refs/heads/main). */
  protectedRefs: string[];
  /** The repository the build must come from (GITHUB_REPOSITORY of this run). */
  repository?: string;
}

export interface RecordLocation {
  actor: Actor;
  account: string;
  region: string;
  bucket: string;
}

/** A small S3 object's body (a record, a manifest) as UTF-8 text. */
export async function bodyText(body: unknown): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of (body ?? []) as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

const client = (at: RecordLocation) => awsClient(S3Client, { region: at.region, credentials: at.actor.credentials });

/** The record of a digest, or undefined when there is none. */
export async function readProvenance(at: RecordLocation, repositoryName: string, digest: string): Promise<{ record?: ProvenanceRecord; url: string }> {
  return readRecord<ProvenanceRecord>(at, recordKey(repositoryName, digest));
}

/** The JSON record at `key`, or undefined when there is none. */
async function readRecord<T>(at: RecordLocation, key: string): Promise<{ record?: T; url: string }> {
  const url = s3Url({ bucket: at.bucket, key });
  const body = await step(at.actor, 's3:GetObject', url, async () => {
    try {
      const out = await client(at).send(new s3.GetObjectCommand({ Bucket: at.bucket, Key: key, ExpectedBucketOwner: at.account }));
      return await bodyText(out.Body);
    } catch (err) {
      if (isNotFound(err) || errorName(err) === 'NoSuchKey') return undefined;
      throw err;
    }
  });
  if (body === undefined) return { url };
  try {
    return { record: JSON.parse(body) as T, url };
  } catch {
    throw new DeployError(`The provenance record ${url} is not JSON.`, { title: 'No provenance' });
  }
}

/**
 * Why the record does not make `digest` (and `weights`) promotable, or undefined when it does: written for this
 * digest and repository, by a build of a protected ref, listing exactly the planned weights.
 */
export function provenanceProblem(record: ProvenanceRecord | undefined, url: string, expect: { repositoryName: string; digest: string; weights?: PlannedObject[] }, policy: ProvenancePolicy): string | undefined {
  const what = `image ${expect.repositoryName}@${expect.digest}`;
  if (!record) return `${what} has no provenance record (${url}): it was not built by a run of ${policy.protectedRefs.join(' or ')}`;
  if (record.image?.digest !== expect.digest || record.image?.repositoryName !== expect.repositoryName) return `the provenance record ${url} names ${record.image?.repositoryName}@${record.image?.digest}, not ${what}`;
  if (!policy.protectedRefs.includes(record.ref)) return `${what} was built from ${record.ref} (run ${record.runId}), not from ${policy.protectedRefs.join(' or ')}`;
  if (policy.repository && record.repository !== policy.repository) return `${what} was built by ${record.repository}, not ${policy.repository}`;
  if (expect.weights) {
    const built = new Map((record.weights?.objects ?? []).map((o) => [o.key, o]));
    for (const o of expect.weights) {
      const b = built.get(o.key);
      const where = record.weights ? s3Url({ bucket: record.weights.bucket, key: o.key }) : o.key;
      if (!b) return `${where} is not one of the weights the ${record.ref} build wrote (record ${url})`;
      const versionDiffers = b.versionId && o.versionId && b.versionId !== o.versionId;
      if (versionDiffers || b.etag !== o.etag || b.size !== o.size) return `${where} is not the object the ${record.ref} build wrote (ETag ${o.etag}, the build wrote ${b.etag}): it was overwritten since`;
    }
  }
  return undefined;
}

/** Reads and checks a digest's provenance; throws naming the artifact when it is not promotable. */
export async function requireProvenance(at: RecordLocation, expect: { repositoryName: string; digest: string; weights?: PlannedObject[] }, policy: ProvenancePolicy): Promise<{ record: ProvenanceRecord; url: string }> {
  const { record, url } = await readProvenance(at, expect.repositoryName, expect.digest);
  const problem = provenanceProblem(record, url, expect, policy);
  if (problem || !record) {
    throw new DeployError(`Not promotable: ${problem}.`, {
      title: 'No provenance from the protected ref',
      hint: `Only what a build of ${policy.protectedRefs.join(' or ')} recorded may be promoted: run the build on that ref (it records the digest and weights), then promote the image it built (\`image-uri\` with its digest).`,
    });
  }
  return { record, url };
}

/**
 * Writes the record (the recorder role's one write). If-None-Match: a record, once written, is never replaced,
 * so a later run cannot re-attribute a digest.
 */
export async function writeProvenance(at: RecordLocation, record: ProvenanceRecord): Promise<string> {
  const key = recordKey(record.image.repositoryName, record.image.digest);
  const url = s3Url({ bucket: at.bucket, key });
  await step(at.actor, 's3:PutObject', url, async () => {
    if (await putOnce(at, key, record)) return;
    // Already recorded (a re-run of the same build): it must say the same.
    const existing = (await readProvenance(at, record.image.repositoryName, record.image.digest)).record;
    if (existing?.ref !== record.ref || existing.repository !== record.repository) {
      throw new DeployError(`${url} already records ${record.image.digest} as built by ${existing?.repository} ${existing?.ref}.`, { title: 'Provenance already recorded' });
    }
  });
  return url;
}

/**
 * Writes a record unless one is at `key` already (If-None-Match: a record, once written, is never replaced):
 * true when this call wrote it.
 */
async function putOnce(at: RecordLocation, key: string, record: object): Promise<boolean> {
  try {
    await client(at).send(new s3.PutObjectCommand({ Bucket: at.bucket, Key: key, ExpectedBucketOwner: at.account, Body: JSON.stringify(record), ContentType: 'application/json', IfNoneMatch: '*' }));
    return true;
  } catch (err) {
    if (errorName(err) !== 'PreconditionFailed') throw err;
    return false;
  }
}

/** What a weights record must say: these objects, of this deployment, recorded by a run of a protected ref. */
export interface WeightsExpectation {
  project: string;
  deployment: string;
  location: S3Location;
  objects: PlannedObject[];
}

/** Why the record does not make these weights promotable, or undefined when it does. */
export function weightsProvenanceProblem(record: WeightsRecord | undefined, url: string, expect: WeightsExpectation, policy: ProvenancePolicy): string | undefined {
  const what = `the weights ${s3Url(expect.location)} (${expect.objects.length} object(s) at their current versions)`;
  if (!record) {
    return `${what} have no provenance record (${url}): no run of ${policy.protectedRefs.join(' or ')} recorded these versions, so an object was written, added or deleted since, or they were never recorded`;
  }
  if (record.kind !== 'weights' || record.deployment !== expect.deployment) return `the provenance record ${url} is not a weights record of deployment ${expect.deployment}`;
  if (!policy.protectedRefs.includes(record.ref)) return `${what} were recorded by ${record.ref} (run ${record.runId}), not by ${policy.protectedRefs.join(' or ')}`;
  if (policy.repository && record.repository !== policy.repository) return `${what} were recorded by ${record.repository}, not ${policy.repository}`;
  const recorded = new Map((record.weights?.objects ?? []).map((o) => [o.key, o]));
  for (const o of expect.objects) {
    const r = recorded.get(o.key);
    const same = r && r.etag === o.etag && r.size === o.size && (r.versionId ?? '') === (o.versionId ?? '') && (r.checksumSha256 ?? '') === (o.checksumSha256 ?? '');
    if (!same) return `${s3Url({ bucket: expect.location.bucket, key: o.key })} is not the object the record ${url} lists`;
  }
  if (recorded.size !== expect.objects.length) return `the record ${url} lists ${recorded.size} object(s), the source holds ${expect.objects.length}`;
  return undefined;
}

/** Reads and checks the record of exactly these weights; throws naming them when they are not promotable. */
export async function requireWeightsProvenance(at: RecordLocation, expect: WeightsExpectation, policy: ProvenancePolicy): Promise<{ record: WeightsRecord; url: string }> {
  const { record, url } = await readRecord<WeightsRecord>(at, weightsRecordKey(expect.project, expect.deployment, expect.location, expect.objects));
  const problem = weightsProvenanceProblem(record, url, expect, policy);
  if (problem || !record) {
    throw new DeployError(`Not promotable: ${problem}.`, {
      title: 'No provenance from the protected ref',
      hint: `Weights that are not built here are promotable once a run of ${policy.protectedRefs.join(' or ')} has recorded them as they are (build-and-deploy.yml's record job does, as the recorder role): put the approved objects back (their earlier versions stay in a versioned bucket), or run build-and-deploy on ${policy.protectedRefs[0]} to record the current ones, then plan again.`,
    });
  }
  return { record, url };
}

/** Writes a weights record (If-None-Match: one record per set of objects, never replaced). */
export async function writeWeightsProvenance(at: RecordLocation, project: string, record: WeightsRecord): Promise<string> {
  const location = { bucket: record.weights.bucket, key: record.weights.prefix };
  const key = weightsRecordKey(project, record.deployment, location, record.weights.objects);
  const url = s3Url({ bucket: at.bucket, key });
  // Recorded before (false): these very objects, by a run whose ref the record names (checked at plan time).
  await step(at.actor, 's3:PutObject', url, () => putOnce(at, key, record));
  return url;
}
