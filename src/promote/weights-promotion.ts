/**
 * The weights of a promotion into the target's artifact bucket in one region: server-side within one account,
 * through the runner across accounts. They go to a content-addressed prefix in the target environment's folder
 * (promoted/PROJECT/ENV/DEPLOYMENT/sha256-…/, named by the SHA-256 of exactly which source objects, versions and
 * ETags were promoted), never over an earlier promotion nor another environment's, with a manifest
 * beside them (`weights-manifest.ts`) that the EC2/ECS boot downloads by version id and the serving container
 * checks at every start.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { step } from '../core/actor';
import { awsClient } from '../core/aws';
import { copyArtifacts, ensureVersioning } from '../core/s3-copy';
import { S3Location, s3Url } from '../core/s3-location';
import { DeployError } from '../core/errors';
import { ensureArtifactBucket } from '../image/infra';
import { listSourceObjects } from './fixed-plan';
import { kmsKeyIn } from './kms-key';
import type { Promotion, TargetResult } from './promotion';
import { provenanceTags } from './provenance';
import { targetBucket as targetBucketName } from './target-checks';
import { contentAddressedPrefix, writeWeightsManifest } from './weights-manifest';

export async function promoteModelData(p: Promotion, region: string, data: S3Location, r: TargetResult): Promise<void> {
  const { plan, run, sourceActor, targetActor, tuning } = p;
  const { source, target } = plan;
  const bucket = targetBucketName(plan, region);
  // A new account has no artifact bucket yet: create it as build-model creates the source's.
  await step(targetActor, 's3:CreateBucket and s3:PutBucket* (encryption, public access block, ownership, policy)', bucket, () =>
    ensureArtifactBucket({ region, credentials: targetActor.credentials }, bucket, kmsKeyIn(target.env.kmsKeyId, region), p.reporter),
  );
  const targetBucket = { client: awsClient(S3Client, { region, credentials: targetActor.credentials }), actor: targetActor, bucket, region, owner: target.env.account };
  await ensureVersioning(targetBucket);
  // Without a fixed plan the objects are pinned here, once, so the content address names what is copied.
  const objects = p.plannedObjects ?? (await listSourceObjects({ actor: sourceActor, account: source.env.account, region: source.region }, data));
  if (objects.length === 0) {
    throw new DeployError(`${s3Url(data)} ${data.key.endsWith('/') || data.key === '' ? 'holds no objects' : 'does not exist'}.`, {
      title: 'Model data not found',
      hint: plan.modelDataFromBuild
        ? `These are the weights build-model uploads for ${plan.deployment.name} in ${source.name}: run build-model there first, or give the \`model-data-url\` input.`
        : 'Check the `model-data-url` input.',
    });
  }
  const prefix = contentAddressedPrefix(data, objects, { project: plan.deployment.project, environment: target.name, deployment: plan.deployment.name });
  const kmsKeyId = kmsKeyIn(target.env.kmsKeyId, region);
  const tags = provenanceTags(plan, run, undefined);
  const copied = await copyArtifacts(
    { client: awsClient(S3Client, { region: source.region, credentials: sourceActor.credentials }), actor: sourceActor, bucket: data.bucket, region: source.region, owner: source.env.account },
    data.key,
    targetBucket,
    {
      kmsKeyId,
      tags,
      multipartThreshold: tuning.multipartThreshold,
      partSize: tuning.s3PartSize,
      objects,
      targetPrefix: prefix,
    },
  );
  const manifest = await writeWeightsManifest(targetBucket, prefix, objects.map((o, i) => ({ size: o.size, copy: copied.objects[i]! })), { kmsKeyId, tags });
  r.modelDataUrl = copied.url;
  r.modelDataVersions = [...copied.objects, manifest];
  r.objectsCopied = copied.objectsCopied;
  r.objectsSkipped = copied.objectsSkipped;
  r.bytesCopied = copied.bytesCopied;
}
