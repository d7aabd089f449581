/** Templates over CloudFormation's body limit go through S3, content-addressed so re-runs reuse them. */
import { sha256Hex } from '../core/hash';
import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
import { awsClient, dnsSuffix } from '../core/aws';
import { DeployError, explainAwsError, isNotFound } from '../core/errors';
import { artifactBucketName } from '../config/names';
import type { RegionContext } from './region';
import type { RenderedStack } from './types';

/** CloudFormation takes template bodies up to this size; larger ones must come from S3. */
export const TEMPLATE_BODY_LIMIT = 51200;

export function needsUpload(rendered: RenderedStack): boolean {
  return Buffer.byteLength(rendered.templateBody) > TEMPLATE_BODY_LIMIT;
}

/** Uploads a large template to S3 and returns its HTTPS URL. */
export async function uploadTemplate(ctx: RegionContext, rendered: RenderedStack): Promise<string> {
  const { target, request, run, region, account } = ctx;
  const s3 = awsClient(S3Client, { region, credentials: request.credentials });
  const bucket = request.templateBucket ?? target.environment?.artifactBucket ?? artifactBucketName(account, region);
  const digest = sha256Hex(rendered.templateBody).slice(0, 16);
  const key = `templates/${rendered.stackName}/${digest}.json`;
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: rendered.templateBody,
        ContentType: 'application/json',
        // Never hand our template to a bucket someone else owns under that name (template-bucket included).
        ExpectedBucketOwner: account,
      }),
    );
  } catch (err) {
    if (isNotFound(err)) {
      throw new DeployError(`The template is over ${TEMPLATE_BODY_LIMIT} bytes and must go through S3, but bucket ${bucket} does not exist.`, {
        title: 'Template bucket missing',
        hint: 'Run build-model first (it creates the artifact bucket), or name an existing bucket in the template-bucket input.',
      });
    }
    throw explainAwsError(err, `Uploading the template to s3://${bucket}/${key}`);
  }
  run.reporter.info(`Template is ${Buffer.byteLength(rendered.templateBody)} bytes: uploaded to s3://${bucket}/${key}.`);
  return `https://${bucket}.s3.${region}.${dnsSuffix(region)}/${key}`;
}
