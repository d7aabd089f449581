/**
 * The image of a promotion: which one (asked for, or the newest the build pushed), and into each target
 * region by ECR replication (waited for, then verified) or by copy; then the repository's provenance tags.
 */
import { tagList } from '../core/tags';
import { CreateRepositoryCommand, ECRClient, TagResourceCommand } from '@aws-sdk/client-ecr';
import { Actor, step } from '../core/actor';
import { formatArn } from '../core/arn';
import { awsClient, partitionOf } from '../core/aws';
import { DeployError, errorName } from '../core/errors';
import { formatImageUri, ImageRef } from '../core/image-uri';
import { ownershipTags, repositoryName } from '../config/names';
import { copyImage, getManifests, newestImage, Registry, waitForReplication } from './ecr';
import { kmsKeyIn } from './kms-key';
import type { PromotionPlan } from './plan';
import type { Promotion, TargetResult } from './promotion';
import { provenanceTags, tagValue } from './provenance';

export function sourceRegistry(plan: PromotionPlan, actor: Actor, repositoryName: string): Registry {
  const { source } = plan;
  return { client: awsClient(ECRClient, { region: source.region, credentials: actor.credentials }), actor, registryId: source.env.account, region: source.region, repositoryName };
}

/** The image reference every region promotes: the one asked for, or the newest the build pushed. */
export async function resolveImage(p: Promotion): Promise<ImageRef | undefined> {
  const image = p.plan.image;
  if (!image) return undefined;
  const ref = image.ref ?? (await newestImage(sourceRegistry(p.plan, p.sourceActor, image.repositoryName)));
  p.reporter.info(`Image: ${image.repositoryName}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`);
  return ref;
}

/** The image into one region: by ECR replication (wait and verify) or by copy; then the repository's provenance tags. */
export async function promoteImage(p: Promotion, region: string, sourceRepo: string, ref: ImageRef, r: TargetResult): Promise<void> {
  const { plan, run, targetActor } = p;
  const { deployment: d, target } = plan;
  const src = sourceRegistry(p.plan, p.sourceActor, sourceRepo);
  const targetRepo = target.env.ecrReplication ? sourceRepo : repositoryName(d);
  const dst: Registry = {
    client: awsClient(ECRClient, { region, credentials: targetActor.credentials }),
    actor: targetActor,
    registryId: target.env.account,
    region,
    repositoryName: targetRepo,
  };
  const digest = target.env.ecrReplication ? await replicateImage(p, src, dst, ref, r) : await copyImageInto(p, src, dst, ref, r);
  r.imageUri = formatImageUri(target.env.account, region, targetRepo, digest);
  await tagRepository(dst, { ...ownershipTags(d, target.name), ...provenanceTags(plan, run, digest) });
  r.calls++;
}

async function replicateImage(p: Promotion, src: Registry, dst: Registry, ref: ImageRef, r: TargetResult): Promise<string> {
  const digest = ref.digest ?? (await copyImageDigest(src, ref));
  await waitForReplication(src, digest, dst.registryId, dst.region, {
    timeoutMs: p.timeoutMs,
    initialDelayMs: p.tuning.pollInitialDelayMs,
    maxDelayMs: p.tuning.pollMaxDelayMs,
    signal: p.signal,
  });
  await verifyInTarget(dst, digest);
  r.image = 'replicated';
  r.digest = digest;
  return digest;
}

async function copyImageInto(p: Promotion, src: Registry, dst: Registry, ref: ImageRef, r: TargetResult): Promise<string> {
  const { deployment: d, target } = p.plan;
  const copied = await copyImage(src, dst, ref, {
    blobConcurrency: p.tuning.blobConcurrency,
    partSize: p.tuning.layerPartSize,
    signal: p.signal,
    reporter: p.reporter,
    createRepository: (t) => createRepository(t, kmsKeyIn(target.env.kmsKeyId, t.region), ownershipTags(d, target.name)),
  });
  r.image = copied.alreadyPresent ? 'present' : 'copied';
  r.digest = copied.digest;
  r.blobsCopied = copied.blobsCopied;
  r.blobsSkipped = copied.blobsSkipped;
  r.bytesMoved = copied.bytesMoved;
  r.calls += copied.calls;
  return copied.digest;
}

async function copyImageDigest(src: Registry, ref: ImageRef): Promise<string> {
  const found = (await getManifests(src, [ref.digest ? { imageDigest: ref.digest } : { imageTag: ref.tag }])).found[0];
  if (!found) throw new DeployError(`Image ${ref.tag ?? ref.digest} is not in ${src.repositoryName} in ${src.registryId} ${src.region}.`, { title: 'Source image not found' });
  return found.digest;
}

/** After replication: the target must hold exactly the source digest. */
async function verifyInTarget(dst: Registry, digest: string): Promise<void> {
  const found = (await getManifests(dst, [{ imageDigest: digest }])).found[0];
  if (found?.digest !== digest) {
    throw new DeployError(`ECR reported replication complete, but ${dst.repositoryName} in ${dst.registryId} ${dst.region} does not hold ${digest}.`, { title: 'Digest mismatch' });
  }
}

/** ECR tags, values in the characters every AWS service accepts. */
function ecrTags(tags: Record<string, string>): { Key: string; Value: string }[] {
  return tagList(Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, tagValue(v)])));
}

async function createRepository(t: Registry, kmsKeyId: string | undefined, tags: Record<string, string>): Promise<void> {
  await step(t.actor, 'ecr:CreateRepository', `${t.repositoryName} in ${t.registryId} ${t.region}`, async () => {
    try {
      await t.client.send(
        new CreateRepositoryCommand({
          registryId: t.registryId,
          repositoryName: t.repositoryName,
          // Promoted tags name approved builds: they must never move.
          imageTagMutability: 'IMMUTABLE',
          imageScanningConfiguration: { scanOnPush: true },
          encryptionConfiguration: kmsKeyId ? { encryptionType: 'KMS', kmsKey: kmsKeyId } : { encryptionType: 'AES256' },
          tags: ecrTags(tags),
        }),
      );
    } catch (err) {
      if (errorName(err) !== 'RepositoryAlreadyExistsException') throw err;
    }
  });
}

/**
 * ECR tags live on the repository, not the image, and an image's manifest cannot gain an annotation
 * without changing its digest: the repository records the last promotion into it (digest, source
 * account, commit, run), and the digest-pinned image URI is the per-image link.
 */
async function tagRepository(t: Registry, tags: Record<string, string>): Promise<void> {
  const arn = formatArn({ partition: partitionOf(t.region), service: 'ecr', region: t.region, account: t.registryId, resource: `repository/${t.repositoryName}` });
  await step(t.actor, 'ecr:TagResource', arn, () =>
    t.client.send(new TagResourceCommand({ resourceArn: arn, tags: ecrTags(tags) })),
  );
}
