/**
 * The bootstrap's promotion roles against every call promote-model makes with them (src/promote/*.ts, src/core/s3-copy.ts,
 * src/image/infra.ts ensureArtifactBucket), evaluated the way IAM does (tests/support/cloudformation/iam.ts):
 * every call is granted, and what promote-model never needs is not.
 */
import { Request, evaluate, roleStatements } from '../../support/cloudformation/iam';
import { ACCOUNT, resolveTemplate } from '../../support/cloudformation/resolve';
import { readTemplate } from '../../support/cloudformation/template';

const bootstrap = readTemplate('templates/bootstrap/model-deploy-bootstrap.yaml') as Record<string, unknown>;
/** The other side of a cross-account promotion (the templates render every stack in ACCOUNT). */
const OTHER = '222222222222';
const params = { Repository: 'acme/llm-platform', Project: 'acme-llm' };
const sourceParams = { ...params, Environment: 'dev', PromotionEnvironments: 'staging,prod', BedrockShareAccounts: OTHER };
const targetParams = { ...params, Environment: 'prod', CreatePromotionRole: 'true', PromotionSourceAccount: OTHER, BedrockSourceAccount: OTHER, BedrockProvisionedThroughput: 'true' };
const sourceRole = roleStatements(resolveTemplate(bootstrap, sourceParams), 'PromotionSourceRole');
const targetRole = roleStatements(resolveTemplate(bootstrap, targetParams), 'PromotionRole');

const repo = `arn:aws:ecr:eu-west-1:${ACCOUNT}:repository/acme-llm/qwen-chat`;
const own = (bucket: string) => ({ context: { 's3:ResourceAccount': ACCOUNT }, resource: `arn:aws:s3:::${bucket}` });
const bucket = own(`model-deploy-${ACCOUNT}-eu-west-1`);
/** Where the target writes: its own environment's folder (issue 20); what it reads in one account: the build's weights. */
const object = own(`model-deploy-${ACCOUNT}-eu-west-1/promoted/acme-llm/prod/qwen-chat/sha256-${'ab'.repeat(32)}/model.safetensors`);
const built = own(`model-deploy-${ACCOUNT}-eu-west-1/acme-llm/qwen-chat/models/k/model.safetensors`);
const KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;
/** S3 asks KMS on the caller's behalf with the bucket (bucket keys) or object ARN as the encryption context. */
const viaS3 = (region: string, arn: string) => ({ 'kms:ViaService': `s3.${region}.amazonaws.com`, 'kms:EncryptionContext:aws:s3:arn': arn });
const need = (actions: string[], where: Omit<Request, 'action'>): Request[] => actions.map((action) => ({ action, ...where }));
const bedrock = (region: string, account: string, resource: string) => `arn:aws:bedrock:${region}:${account}:${resource}`;

/** Calls of the target's promotion role (the job's own credentials), in its account. */
const TARGET: Request[] = [
  ...need(['ecr:BatchGetImage', 'ecr:BatchCheckLayerAvailability', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage', 'ecr:CreateRepository', 'ecr:TagResource'], { resource: repo }),
  // HeadBucket, CreateBucket and the hardening of a new bucket; versioning (pinning) is read only: issue 20 (Low),
  // the promotion role cannot suspend it, so it cannot set it either; the target's bucket comes versioned from
  // the bootstrap (CreateArtifactBucket=true).
  ...need(['s3:ListBucket', 's3:CreateBucket', 's3:PutBucketPublicAccessBlock', 's3:PutBucketOwnershipControls', 's3:PutEncryptionConfiguration', 's3:PutBucketPolicy', 's3:GetBucketVersioning'], bucket),
  // HeadObject; CopyObject (one account) or PutObject / multipart upload (across accounts), with provenance tags.
  ...need(['s3:GetObject', 's3:PutObject', 's3:PutObjectTagging', 's3:AbortMultipartUpload'], object),
  ...need(['s3:GetObject', 's3:GetObjectVersion'], built),
  // With environments.<target>.kmsKeyId: S3 encrypts the copies (multipart decrypts too), ECR the new repository.
  ...need(['kms:GenerateDataKey', 'kms:Decrypt'], { resource: KEY, context: viaS3('eu-west-1', bucket.resource) }),
  ...need(['kms:GenerateDataKey', 'kms:Decrypt'], { resource: KEY, context: viaS3('eu-west-1', object.resource) }),
  ...need(['kms:DescribeKey', 'kms:CreateGrant'], { resource: KEY, context: { 'kms:ViaService': 'ecr.eu-west-1.amazonaws.com' } }),
  // Bedrock: the prerequisites, the invitation, the copy (encrypted through Bedrock), the provisioned throughput.
  { action: 'organizations:DescribeOrganization', resource: '*' },
  { action: 'bedrock:GetFoundationModel', resource: 'arn:aws:bedrock:eu-west-1::foundation-model/amazon.titan-text-express-v1:0:8k' },
  ...need(['ram:GetResourceShareInvitations'], { resource: '*' }),
  ...need(['ram:AcceptResourceShareInvitation'], { resource: `arn:aws:ram:us-east-1:${OTHER}:resource-share-invitation/i1` }),
  ...need(['bedrock:GetCustomModel', 'bedrock:CreateModelCopyJob'], { resource: bedrock('eu-west-1', ACCOUNT, 'custom-model/acme-llm-qwen-chat-0123456789ab') }),
  ...need(['bedrock:CreateModelCopyJob'], { resource: bedrock('us-east-1', OTHER, 'custom-model/amazon.titan-text-express-v1:0:8k/abc123') }),
  ...need(['bedrock:GetModelCopyJob'], { resource: bedrock('eu-west-1', ACCOUNT, 'model-copy-job/j1') }),
  ...need(['kms:DescribeKey', 'kms:CreateGrant', 'kms:GenerateDataKey', 'kms:Decrypt'], { resource: KEY, context: { 'kms:ViaService': 'bedrock.eu-west-1.amazonaws.com' } }),
  { action: 'bedrock:ListProvisionedModelThroughputs', resource: '*' },
  { action: 'bedrock:CreateProvisionedModelThroughput', resource: bedrock('eu-west-1', ACCOUNT, 'custom-model/acme-llm-qwen-chat-0123456789ab'), context: { 'aws:ResourceTag/model-deploy:project': 'acme-llm' } },
  ...need(['bedrock:CreateProvisionedModelThroughput', 'bedrock:TagResource'], { resource: bedrock('eu-west-1', ACCOUNT, 'provisioned-model/pt1'), context: { 'aws:RequestTag/model-deploy:project': 'acme-llm' } }),
  ...need(['bedrock:GetProvisionedModelThroughput'], { resource: bedrock('eu-west-1', ACCOUNT, 'provisioned-model/pt1') }),
];
/** What the target role must NOT be able to do (least privilege; promote-model does not need it). */
const TARGET_NEVER: Request[] = [
  // Read the other account's objects: the runner copies across accounts.
  { action: 's3:GetObject', resource: `arn:aws:s3:::model-deploy-${OTHER}-us-east-1/acme-llm/qwen-chat/models/k/model.safetensors`, context: { 's3:ResourceAccount': OTHER } },
  // Use the key outside S3, ECR and Bedrock, or for another bucket.
  { action: 'kms:Decrypt', resource: KEY },
  { action: 'kms:Decrypt', resource: KEY, context: viaS3('eu-west-1', 'arn:aws:s3:::payroll-exports/2025.csv') },
  // Buy throughput for a model of another project, or untagged; cancel or change a purchase.
  { action: 'bedrock:CreateProvisionedModelThroughput', resource: bedrock('eu-west-1', ACCOUNT, 'custom-model/finance-model'), context: { 'aws:ResourceTag/model-deploy:project': 'finance' } },
  { action: 'bedrock:CreateProvisionedModelThroughput', resource: bedrock('eu-west-1', ACCOUNT, 'provisioned-model/pt1') },
  { action: 'bedrock:DeleteProvisionedModelThroughput', resource: bedrock('eu-west-1', ACCOUNT, 'provisioned-model/pt1') },
  { action: 'bedrock:UpdateProvisionedModelThroughput', resource: bedrock('eu-west-1', ACCOUNT, 'provisioned-model/pt1') },
];

/** Calls of the source's read-only role (web identity), in its account. */
const SOURCE: Request[] = [
  ...need(['ecr:BatchGetImage', 'ecr:DescribeImages', 'ecr:GetDownloadUrlForLayer', 'ecr:DescribeImageReplicationStatus'], { resource: repo.replace('eu-west-1', 'us-east-1') }),
  ...need(['s3:ListBucket'], own(`model-deploy-${ACCOUNT}-us-east-1`)),
  // GetObject streams the bytes through the runner (across accounts): a source bucket with a KMS key needs Decrypt.
  ...need(['s3:GetObject'], own(`model-deploy-${ACCOUNT}-us-east-1/acme-llm/qwen-chat/models/k/model.safetensors`)),
  ...need(['kms:Decrypt'], { resource: KEY.replace('eu-west-1', 'us-east-1'), context: viaS3('us-east-1', `arn:aws:s3:::model-deploy-${ACCOUNT}-us-east-1`) }),
  // Bedrock (BedrockShareAccounts): the prerequisites and the share.
  { action: 'organizations:DescribeOrganization', resource: '*' },
  { action: 'bedrock:GetCustomModel', resource: bedrock('us-east-1', ACCOUNT, 'custom-model/amazon.titan-text-express-v1:0:8k/abc123') },
  { action: 'ram:GetResourceShares', resource: '*' },
  ...need(['ram:CreateResourceShare', 'ram:AssociateResourceShare'], { resource: `arn:aws:ram:us-east-1:${ACCOUNT}:resource-share/s1`, context: { 'ram:Principal': OTHER } }),
];
/** The source role writes nothing else and decrypts only the artifact buckets' objects through S3. */
const SOURCE_NEVER: Request[] = [
  { action: 'kms:Decrypt', resource: KEY.replace('eu-west-1', 'us-east-1') },
  { action: 'kms:GenerateDataKey', resource: KEY, context: viaS3('eu-west-1', bucket.resource) },
  { action: 's3:PutObject', ...own(`model-deploy-${ACCOUNT}-us-east-1/x`) },
  { action: 'ram:CreateResourceShare', resource: `arn:aws:ram:us-east-1:${ACCOUNT}:resource-share/s1`, context: { 'ram:Principal': '999999999999' } },
];

const label = (r: Request) => {
  if (r.resource.includes(OTHER) && r.action.startsWith('s3:')) return `${r.action} ${r.resource}`;
  const via = r.context?.['kms:ViaService'];
  return via ? `${r.action} via ${String(via).split('.')[0]}` : `${r.action} ${r.resource}`;
};
const missing = (statements: typeof targetRole, requests: Request[]) => requests.filter((r) => evaluate(statements, r).decision !== 'allow').map(label);

describe('the promotion roles of the bootstrap against the calls promote-model makes', () => {
  it('renders both roles', () => {
    expect(sourceRole.length).toBeGreaterThan(0);
    expect(targetRole.length).toBeGreaterThan(0);
  });
  it('grants every call the target promotion role makes', () => {
    expect(missing(targetRole, TARGET)).toEqual([]);
  });
  it('refuses the target promotion role any versioning change (it could suspend it)', () => {
    expect(evaluate(targetRole, { action: 's3:PutBucketVersioning', ...bucket }).decision).not.toBe('allow');
  });
  it('grants every call the source role makes', () => {
    expect(missing(sourceRole, SOURCE)).toEqual([]);
  });
  it('grants neither role what promote-model does not need (least privilege)', () => {
    expect(missing(targetRole, TARGET_NEVER)).toEqual(TARGET_NEVER.map(label));
    expect(missing(sourceRole, SOURCE_NEVER)).toEqual(SOURCE_NEVER.map(label));
  });
});
