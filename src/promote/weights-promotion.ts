/** The weights of a promotion into the target's artifact bucket in one region: server-side within one account, through the runner across accounts. */
import { S3Client } from '@aws-sdk/client-s3';
import { step } from '../core/actor';
import { awsClient } from '../core/aws';
import { copyArtifacts, ensureVersioning } from '../core/s3-copy';
import type { S3Location } from '../core/s3-location';
import { ensureArtifactBucket } from '../image/infra';
import { kmsKeyIn } from './kms-key';
import type { Promotion, TargetResult } from './promotion';
import { provenanceTags } from './provenance';
import { targetBucket as targetBucketName } from './target-checks';

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
  const copied = await copyArtifacts(
    { client: awsClient(S3Client, { region: source.region, credentials: sourceActor.credentials }), actor: sourceActor, bucket: data.bucket, region: source.region, owner: source.env.account },
    data.key,
    targetBucket,
    {
      kmsKeyId: kmsKeyIn(target.env.kmsKeyId, region),
      tags: provenanceTags(plan, run, undefined),
      multipartThreshold: tuning.multipartThreshold,
      partSize: tuning.s3PartSize,
      objects: p.plannedObjects,
      missingHint: plan.modelDataFromBuild
        ? `These are the weights build-model uploads for ${plan.deployment.name} in ${source.name}: run build-model there first, or give the \`model-data-url\` input.`
        : undefined,
    },
  );
  r.modelDataUrl = copied.url;
  r.modelDataVersions = copied.objects;
  r.objectsCopied = copied.objectsCopied;
  r.objectsSkipped = copied.objectsSkipped;
  r.bytesCopied = copied.bytesCopied;
}
