/**
 * The bootstrap template is over CloudFormation's 51,200-byte TemplateBody limit, so it goes to S3 first
 * (TemplateURL takes up to 1 MB), as `aws cloudformation deploy --s3-bucket` does. The artifact bucket
 * cannot hold it: the bootstrap is what creates that bucket. Without --template-bucket the CLI keeps one
 * bucket of its own per account and region, created on first use (S3 blocks public access and encrypts
 * new buckets by default), and writes content-addressed keys so a re-run uploads nothing new.
 */
import { CreateBucketCommand, HeadBucketCommand, PutObjectCommand, S3Client, type BucketLocationConstraint } from '@aws-sdk/client-s3';
import { awsClient, Credentials, dnsSuffix } from '../core/aws';
import { DeployError, explainAwsError, isNotFound } from '../core/errors';
import { sha256Hex } from '../core/hash';
import type { Reporter } from '../core/log';
import { TEMPLATE_BODY_LIMIT } from '../deploy/template-upload';

export { TEMPLATE_BODY_LIMIT };

export function templateBucketName(account: string, region: string): string {
  return `model-deploy-templates-${account}-${region}`;
}

export interface TemplateUpload {
  body: string;
  account: string;
  region: string;
  /** --template-bucket: an existing bucket of the user's; never created. */
  bucket?: string;
  credentials?: Credentials;
  reporter: Reporter;
}

async function ensureBucket(s3: S3Client, bucket: string, account: string, region: string, reporter: Reporter): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket, ExpectedBucketOwner: account }));
    return;
  } catch (err) {
    if (!isNotFound(err)) throw explainAwsError(err, `Checking the template bucket ${bucket}`);
  }
  try {
    // us-east-1 takes no LocationConstraint; every other region needs its own name there.
    await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: region === 'us-east-1' ? undefined : { LocationConstraint: region as BucketLocationConstraint } }));
  } catch (err) {
    throw explainAwsError(err, `Creating the template bucket ${bucket}`);
  }
  reporter.info(`Created s3://${bucket} for CloudFormation templates (pass --template-bucket to use one of yours).`);
}

/** Uploads the template and returns the TemplateURL CloudFormation reads it from. */
export async function uploadBootstrapTemplate(u: TemplateUpload): Promise<string> {
  const s3 = awsClient(S3Client, { region: u.region, credentials: u.credentials });
  const bucket = u.bucket ?? templateBucketName(u.account, u.region);
  if (!u.bucket) await ensureBucket(s3, bucket, u.account, u.region, u.reporter);
  const key = `model-deploy-bootstrap/${sha256Hex(u.body).slice(0, 16)}.json`;
  try {
    // Never hand the template to a bucket someone else owns under that name.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: u.body, ContentType: 'application/json', ExpectedBucketOwner: u.account }));
  } catch (err) {
    if (isNotFound(err)) {
      throw new DeployError(`--template-bucket ${bucket} does not exist in ${u.region}`, { hint: 'Name an existing bucket of this account in the stack\'s region, or leave --template-bucket out to use the CLI\'s own.' });
    }
    throw explainAwsError(err, `Uploading the template to s3://${bucket}/${key}`);
  }
  u.reporter.info(`The template is ${Buffer.byteLength(u.body)} bytes (over CloudFormation's ${TEMPLATE_BODY_LIMIT} for an inline body): uploaded to s3://${bucket}/${key}.`);
  return `https://${bucket}.s3.${u.region}.${dnsSuffix(u.region)}/${key}`;
}
