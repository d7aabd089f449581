/**
 * A promotion fixed before approval (issue 20.1). The plan job (mode: plan, before the approval-gated job)
 * resolves the exact image digest and the exact source objects (key, version id, ETag, size, SHA-256), checks
 * their provenance, and shows them to the reviewers; the approved job (mode: promote) re-reads the source and
 * refuses, naming it, any artifact that is not exactly what the plan fixed: a tag that moved, an object that
 * changed, appeared or disappeared. The copy then reads the planned versions only (by digest, version id and
 * If-Match), so a write between the check and the copy cannot slip in either.
 */
import { S3Client } from '@aws-sdk/client-s3';
import * as s3 from '@aws-sdk/client-s3';
import { ECRClient } from '@aws-sdk/client-ecr';
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { Actor, step } from '../core/actor';
import { awsClient } from '../core/aws';
import { DeployError, DeployErrors, isNotFound } from '../core/errors';
import type { ImageRef } from '../core/image-uri';
import { s3Url, S3Location } from '../core/s3-location';
import { listPrefix } from '../core/s3-copy';
import { getManifests, Registry } from './ecr';
import { CustomModelIdentity, customModelChanges, customModelIdentity, parseBedrockModelArn } from './bedrock';
import type { PromotionPlan } from './plan';
import type { PlannedObject } from './provenance-record';

export type { PlannedObject };

export const PLAN_VERSION = 1;

/** What the approved job may promote, and nothing else. */
export interface FixedPlan {
  version: typeof PLAN_VERSION;
  deployment: string;
  source: { environment: string; account: string; region: string };
  image?: { repositoryName: string; tag?: string; digest: string };
  weights?: { bucket: string; prefix: string; objects: PlannedObject[] };
  bedrockModelArn?: string;
  /** The custom model the ARN named when the plan was fixed (GetCustomModel): the approved job refuses another. */
  bedrockModel?: CustomModelIdentity;
  /** The provenance record the plan was checked against (the protected ref's build). */
  provenance?: { ref: string; sha?: string; runId?: string; record: string };
}

const PLAN_HINT = "Pass the plan job's output unchanged: `plan: ${{ needs.plan.outputs.plan }}` (promote.yml does).";
const DIGEST = /^sha256:[0-9a-f]{64}$/;

function invalid(message: string): DeployError {
  return new DeployError(`input \`plan\`: ${message}`, { title: 'Invalid plan', hint: PLAN_HINT });
}

const isObject = (v: unknown): v is Record<string, unknown> => Boolean(v) && typeof v === 'object' && !Array.isArray(v);
const str = (o: Record<string, unknown>, f: string): string | undefined => (typeof o[f] === 'string' ? (o[f] as string) : undefined);

/** The `plan` input, checked field by field; every problem is named at once. */
export function parseFixedPlan(text: string): FixedPlan {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid(`is not JSON (it starts with ${JSON.stringify(text.slice(0, 40))})`);
  }
  if (!isObject(value)) throw invalid('must be a JSON object');
  const errors: DeployError[] = [];
  if (value.version !== PLAN_VERSION) errors.push(invalid(`version is ${JSON.stringify(value.version)}, expected ${PLAN_VERSION}`));
  const deployment = str(value, 'deployment');
  if (!deployment) errors.push(invalid('deployment is missing'));
  const source = isObject(value.source) ? value.source : {};
  const environment = str(source, 'environment');
  const account = str(source, 'account');
  const region = str(source, 'region');
  if (!environment || !account || !/^\d{12}$/.test(account) || !region) errors.push(invalid('source must name environment, account (12 digits) and region'));
  const plan: FixedPlan = { version: PLAN_VERSION, deployment: deployment ?? '', source: { environment: environment ?? '', account: account ?? '', region: region ?? '' } };
  if (value.image !== undefined) {
    const i = isObject(value.image) ? value.image : {};
    const repositoryName = str(i, 'repositoryName');
    const digest = str(i, 'digest');
    if (!repositoryName || !digest || !DIGEST.test(digest)) errors.push(invalid('image must name repositoryName and digest (sha256:<64 hex>)'));
    else plan.image = { repositoryName, digest, ...(str(i, 'tag') ? { tag: str(i, 'tag') } : {}) };
  }
  if (value.weights !== undefined) {
    const w = isObject(value.weights) ? value.weights : {};
    const bucket = str(w, 'bucket');
    const prefix = str(w, 'prefix');
    const list = Array.isArray(w.objects) ? w.objects : undefined;
    if (!bucket || prefix === undefined || !list || list.length === 0) errors.push(invalid('weights must name bucket, prefix and at least one object'));
    else {
      const objects: PlannedObject[] = [];
      list.forEach((o, n) => {
        const rec = isObject(o) ? o : {};
        const key = str(rec, 'key');
        const etag = str(rec, 'etag');
        const size = rec.size;
        if (!key || !key.startsWith(prefix) || !etag || typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
          errors.push(invalid(`weights.objects[${n}] must have key (under ${prefix}), etag and size`));
          return;
        }
        objects.push({ key, size, etag, ...(str(rec, 'versionId') ? { versionId: str(rec, 'versionId') } : {}), ...(str(rec, 'checksumSha256') ? { checksumSha256: str(rec, 'checksumSha256') } : {}) });
      });
      plan.weights = { bucket, prefix, objects };
    }
  }
  if (value.bedrockModelArn !== undefined) {
    const arn = typeof value.bedrockModelArn === 'string' ? value.bedrockModelArn : undefined;
    if (!arn) errors.push(invalid('bedrockModelArn must be a string'));
    else plan.bedrockModelArn = arn;
    // A custom model is identified by its ARN, creation time and customization job: all three, or no plan.
    const m = isObject(value.bedrockModel) ? value.bedrockModel : {};
    const creationTime = str(m, 'creationTime');
    const jobArn = str(m, 'jobArn');
    if (!arn || str(m, 'arn') !== arn || !creationTime) errors.push(invalid('bedrockModel must name the arn of bedrockModelArn and its creationTime'));
    else plan.bedrockModel = { arn, creationTime, ...(jobArn ? { jobArn } : {}) };
  }
  if (isObject(value.provenance)) {
    const p = value.provenance;
    const ref = str(p, 'ref');
    const record = str(p, 'record');
    if (ref && record) plan.provenance = { ref, record, sha: str(p, 'sha'), runId: str(p, 'runId') };
  }
  if (!plan.image && !plan.weights && !plan.bedrockModelArn && errors.length === 0) errors.push(invalid('names nothing to promote (no image, weights or Bedrock model)'));
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new DeployErrors(errors);
  return plan;
}

/**
 * The plan is for this promotion: same deployment, source environment, account and region as the request
 * resolves to. A plan made for another deployment or source is refused, not reinterpreted.
 */
export function checkPlanMatches(fixed: FixedPlan, plan: PromotionPlan): void {
  const mismatches: string[] = [];
  if (fixed.deployment !== plan.deployment.name) mismatches.push(`deployment ${fixed.deployment} (this promotion: ${plan.deployment.name})`);
  if (fixed.source.environment !== plan.source.name) mismatches.push(`source environment ${fixed.source.environment} (this promotion: ${plan.source.name})`);
  if (fixed.source.account !== plan.source.env.account) mismatches.push(`source account ${fixed.source.account} (this promotion: ${plan.source.env.account})`);
  if (fixed.image && fixed.source.region !== plan.source.region) mismatches.push(`source region ${fixed.source.region} (this promotion: ${plan.source.region})`);
  if ((fixed.bedrockModelArn ?? '') !== (plan.bedrockModelArn ?? '')) mismatches.push(`Bedrock model ${fixed.bedrockModelArn ?? '(none)'} (this promotion: ${plan.bedrockModelArn ?? '(none)'})`);
  if (mismatches.length) {
    throw new DeployError(`The plan is for another promotion: ${mismatches.join('; ')}.`, {
      title: 'Plan does not match',
      hint: 'Promote with the plan the plan job made for this deployment and source, with the same inputs.',
    });
  }
}

export interface SourceReader {
  actor: Actor;
  account: string;
  region: string;
}

function registry(reader: SourceReader, repositoryName: string): Registry {
  return { client: awsClient(ECRClient, { region: reader.region, credentials: reader.actor.credentials }), actor: reader.actor, registryId: reader.account, region: reader.region, repositoryName };
}

/** The image as ECR holds it now: the digest the tag points at (or the digest asked for, checked to exist). */
export async function resolveDigest(reader: SourceReader, repositoryName: string, ref: ImageRef): Promise<{ digest: string; tag?: string }> {
  const r = registry(reader, repositoryName);
  const wanted = ref.digest ? { imageDigest: ref.digest } : { imageTag: ref.tag };
  const found = (await getManifests(r, [wanted])).found[0];
  if (!found) {
    throw new DeployError(`Image ${repositoryName}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''} is not in ${reader.account} ${reader.region}.`, {
      title: 'Source image not found',
      hint: 'Check the `image-uri` input (or run build-model in the source environment first).',
    });
  }
  if (ref.tag && ref.digest) {
    // Both given: the tag must still name that digest, or the URI says two things.
    const byTag = (await getManifests(r, [{ imageTag: ref.tag }])).found[0];
    if (byTag?.digest !== ref.digest) throw new DeployError(`Image tag ${repositoryName}:${ref.tag} points at ${byTag?.digest ?? 'nothing'}, not ${ref.digest}.`, { title: 'Image tag moved' });
  }
  return { digest: found.digest, tag: ref.tag };
}

function bucketReader(reader: SourceReader) {
  return awsClient(S3Client, { region: reader.region, credentials: reader.actor.credentials });
}

/** Every object under the location as S3 holds it now: key, size, ETag, version id and SHA-256 (HeadObject each). */
export async function listSourceObjects(reader: SourceReader, location: S3Location): Promise<PlannedObject[]> {
  const client = bucketReader(reader);
  const where = s3Url(location);
  const keys: { key: string; size: number; etag: string }[] = [];
  if (location.key.endsWith('/') || location.key === '') {
    keys.push(...(await listPrefix(client, location.bucket, location.key, { expectedOwner: reader.account, page: (request) => step(reader.actor, 's3:ListBucket', where, request) })));
  } else {
    keys.push({ key: location.key, size: -1, etag: '' });
  }
  const out: PlannedObject[] = [];
  for (const k of keys) {
    const head = await step(reader.actor, 's3:GetObject', s3Url({ bucket: location.bucket, key: k.key }), async () => {
      try {
        return await client.send(new s3.HeadObjectCommand({ Bucket: location.bucket, Key: k.key, ChecksumMode: 'ENABLED', ExpectedBucketOwner: reader.account }));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    });
    if (!head) continue;
    out.push({
      key: k.key,
      size: head.ContentLength ?? k.size,
      etag: head.ETag ?? k.etag,
      // S3 answers "null" for an object written before versioning was enabled: no version to pin.
      ...(head.VersionId && head.VersionId !== 'null' ? { versionId: head.VersionId } : {}),
      ...(head.ChecksumSHA256 ? { checksumSha256: head.ChecksumSHA256 } : {}),
    });
  }
  return out;
}

/** What differs between the plan's objects and the source's now, one line per changed artifact (key named). */
export function objectChanges(planned: PlannedObject[], now: PlannedObject[], bucket: string): string[] {
  const current = new Map(now.map((o) => [o.key, o]));
  const fixed = new Set(planned.map((o) => o.key));
  const changes: string[] = [];
  for (const p of planned) {
    const c = current.get(p.key);
    const url = s3Url({ bucket, key: p.key });
    if (!c) changes.push(`${url} was deleted`);
    else if (p.versionId && c.versionId !== p.versionId) changes.push(`${url} is now version ${c.versionId ?? '(none)'}, the plan fixed ${p.versionId}`);
    else if (c.etag !== p.etag || c.size !== p.size) changes.push(`${url} now has ETag ${c.etag} (${c.size} bytes), the plan fixed ${p.etag} (${p.size} bytes)`);
    else if (p.checksumSha256 && c.checksumSha256 && c.checksumSha256 !== p.checksumSha256) changes.push(`${url} now has SHA-256 ${c.checksumSha256}, the plan fixed ${p.checksumSha256}`);
  }
  for (const c of now) if (!fixed.has(c.key)) changes.push(`${s3Url({ bucket, key: c.key })} was added after the plan was fixed`);
  return changes;
}

/**
 * The approved job's check: the source holds exactly what the plan fixed. Every changed artifact is named,
 * and nothing has been written anywhere yet.
 */
export async function verifyFixedPlan(fixed: FixedPlan, reader: SourceReader): Promise<void> {
  const changes: string[] = [];
  if (fixed.image) {
    const { repositoryName, tag, digest } = fixed.image;
    const r = registry(reader, repositoryName);
    const byDigest = (await getManifests(r, [{ imageDigest: digest }])).found[0];
    if (!byDigest) changes.push(`image ${repositoryName}@${digest} is no longer in ${reader.account} ${reader.region}`);
    if (tag) {
      const byTag = (await getManifests(r, [{ imageTag: tag }])).found[0];
      if (byTag?.digest !== digest) changes.push(`image ${repositoryName}:${tag} now points at ${byTag?.digest ?? 'nothing'} (pushed after the plan was fixed), the plan fixed ${digest}`);
    }
  }
  if (fixed.weights) {
    const now = await listSourceObjects(reader, { bucket: fixed.weights.bucket, key: fixed.weights.prefix });
    changes.push(...objectChanges(fixed.weights.objects, now, fixed.weights.bucket));
  }
  if (fixed.bedrockModel) changes.push(...customModelChanges(fixed.bedrockModel, await readCustomModel(reader, fixed.bedrockModel.arn)));
  if (changes.length) {
    throw new DeployError(`The source changed after the plan was fixed, so nothing was promoted: ${changes.join('; ')}.`, {
      title: 'Source changed since approval',
      hint: 'What the reviewers approved is no longer what the source holds. Run the promotion again: a new plan shows the current artifacts for a new approval (and refuses those without provenance from the protected ref).',
    });
  }
}

/** The custom model as the source account holds it now, read in the model's own region. */
export function readCustomModel(reader: SourceReader, arn: string): Promise<CustomModelIdentity | undefined> {
  const region = parseBedrockModelArn(arn)?.region ?? reader.region;
  return customModelIdentity(awsClient(BedrockClient, { region, credentials: reader.actor.credentials }), reader.actor, arn);
}

/** The run summary the reviewers read before approving: exactly what the approved job will promote. */
export function planSummary(fixed: FixedPlan, targets: string): string {
  const lines = [`### Promotion plan for ${fixed.deployment}: ${fixed.source.environment} (${fixed.source.account} ${fixed.source.region}) → ${targets}`, ''];
  lines.push('Approving the target environment promotes exactly these artifacts; the promote job refuses anything that differs.', '');
  if (fixed.provenance) lines.push(`Provenance: built from \`${fixed.provenance.ref}\`${fixed.provenance.sha ? ` at \`${fixed.provenance.sha}\`` : ''}${fixed.provenance.runId ? `, run ${fixed.provenance.runId}` : ''} (record \`${fixed.provenance.record}\`).`, '');
  if (fixed.image) lines.push(`Image: \`${fixed.image.repositoryName}${fixed.image.tag ? `:${fixed.image.tag}` : ''}@${fixed.image.digest}\``, '');
  if (fixed.bedrockModelArn) {
    const m = fixed.bedrockModel;
    lines.push(`Bedrock model: \`${fixed.bedrockModelArn}\`${m ? `, created ${m.creationTime}${m.jobArn ? ` by \`${m.jobArn}\`` : ''}` : ''} (the spec's model.bedrock at this commit)`, '');
  }
  if (fixed.weights) {
    lines.push(`Weights: \`${s3Url({ bucket: fixed.weights.bucket, key: fixed.weights.prefix })}\``, '', '| Key | Size | Version | ETag | SHA-256 |', '|---|---|---|---|---|');
    for (const o of fixed.weights.objects) {
      lines.push(`| \`${o.key.slice(fixed.weights.prefix.length)}\` | ${o.size} | ${o.versionId ? `\`${o.versionId}\`` : '-'} | \`${o.etag.replace(/"/g, '')}\` | ${o.checksumSha256 ? `\`${o.checksumSha256}\`` : '-'} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}
