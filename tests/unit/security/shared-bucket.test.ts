/**
 * Issue 20 (Medium 3): environments that share an account share its artifact bucket. Decided by
 * @cloud-copilot/iam-simulate over the rendered bootstrap with the request context S3 really sends: the bucket's
 * account (s3:ResourceAccount) and the principal's keys, never a tag of an object (S3 evaluates none on
 * general-purpose buckets). IAM's `*` spans "/", so a grant by prefix also matches keys nested under other
 * prefixes: every attack here is a key such a wildcard reaches, each with the legitimate twin the deploy writes,
 * so the suite cannot pass by denying everything.
 */
import { ACCOUNT, resolveTemplate } from '../../support/cloudformation/resolve';
import { readTemplate } from '../../support/cloudformation/template';
import { Call, Decision, Principal, decide, principalOf } from '../../support/cloudformation/simulate';

const bootstrap = readTemplate('templates/bootstrap/model-deploy-bootstrap.yaml');
const P = 'acme-llm';
const BASE = { Repository: 'acme/llm-platform', Project: P, Environment: 'dev' };
/** dev and prod in one account and region (the documented shared setup), and dev alone in its account. */
const sharedDev = resolveTemplate(bootstrap, { ...BASE, ArtifactBucketShared: 'true' });
const sharedProd = resolveTemplate(bootstrap, { ...BASE, Environment: 'prod', ArtifactBucketShared: 'true', CreatePromotionRole: 'true' });
const aloneDev = resolveTemplate(bootstrap, BASE);
const aloneProd = resolveTemplate(bootstrap, { ...BASE, Environment: 'prod', CreatePromotionRole: 'true', CreateArtifactBucket: 'true' });
const codeBuildRole = (rendered: typeof sharedDev) => {
  const id = Object.entries(rendered.resources).find(([, r]) => r.Type === 'AWS::IAM::Role' && r.Properties.RoleName === `${P}.dev.codebuild`)?.[0];
  if (!id) throw new Error('no codebuild service role in the bootstrap');
  return principalOf(rendered, id);
};

const BUCKET = `arn:aws:s3:::model-deploy-${ACCOUNT}-us-east-1`;
const LOGS_BUCKET = `arn:aws:s3:::model-deploy-logs-${ACCOUNT}-us-east-1`;
const IN_ACCOUNT = { 's3:ResourceAccount': ACCOUNT };
const VIA_CFN = { 'aws:CalledVia': ['cloudformation.amazonaws.com'], 'aws:ViaAWSService': 'false' };
/** A prefix promote-model wrote for prod before promoted/ (models/KEY.sha256-DIGEST/), still served, and one a build wrote. */
const PROMOTED = `${BUCKET}/${P}/qwen-chat/models/0123456789abcdef.sha256-${'ab'.repeat(32)}`;
/** Where promote-model writes for prod now (promoted/PROJECT/ENV/DEPLOYMENT/sha256-DIGEST/, docs/promotion.md). */
const PROMOTED_PROD = `${BUCKET}/promoted/${P}/prod/qwen-chat/sha256-${'ab'.repeat(32)}`;
const BUILT = `${BUCKET}/${P}/qwen-chat/models/0123456789abcdef`;
const object = (key: string): Call => ({ action: 's3:PutObject', resource: key, context: IN_ACCOUNT });

const check = async (principal: Principal, call: Call, expected: Decision | 'not Allowed') => {
  const got = await decide(principal, call);
  const label = `${call.action} ${call.resource}`;
  if (expected === 'not Allowed') expect({ label, allowed: got === 'Allowed' }).toEqual({ label, allowed: false });
  else expect({ label, got }).toEqual({ label, got: expected });
};

/** Every way to change a bucket rather than its objects (S3's actions on the bucket resource). */
const CONFIGURATION = [
  's3:PutBucketPolicy', 's3:DeleteBucketPolicy', 's3:PutBucketVersioning', 's3:PutLifecycleConfiguration',
  's3:PutEncryptionConfiguration', 's3:PutBucketPublicAccessBlock', 's3:PutBucketOwnershipControls', 's3:PutAccelerateConfiguration', 's3:PutInventoryConfiguration',
  's3:PutBucketAcl', 's3:PutBucketTagging', 's3:PutBucketLogging', 's3:PutBucketNotification', 's3:PutBucketCORS',
  's3:PutReplicationConfiguration', 's3:PutBucketObjectLockConfiguration', 's3:PutBucketWebsite', 's3:DeleteBucket', 's3:CreateBucket',
];

describe('Medium 3: no deploy role configures a bucket it shares', () => {
  const dev = principalOf(sharedDev, 'DeployRole');
  it.each(CONFIGURATION)('dev may not %s on the shared bucket, directly or through a stack, whatever is attached to it later', async (action) => {
    // Explicitly: an allow added to the role later (or a stack resource) does not reopen it.
    await check(dev, { action, resource: BUCKET, context: IN_ACCOUNT }, 'ExplicitlyDenied');
    await check(dev, { action, resource: BUCKET, context: { ...IN_ACCOUNT, ...VIA_CFN } }, 'ExplicitlyDenied');
    await check(dev, { action, resource: LOGS_BUCKET, context: IN_ACCOUNT }, 'ExplicitlyDenied');
  });

  it.each(['s3:ListBucket', 's3:GetBucketLocation', 's3:GetBucketVersioning', 's3:GetLifecycleConfiguration', 's3:GetBucketPolicy'])(
    'dev still reads the shared bucket (%s: the deploy checks it)',
    async (action) => check(dev, { action, resource: BUCKET, context: IN_ACCOUNT }, 'Allowed'),
  );

  it.each(['s3:CreateBucket', 's3:PutBucketPolicy', 's3:PutEncryptionConfiguration', 's3:PutBucketPublicAccessBlock', 's3:PutLifecycleConfiguration', 's3:PutBucketVersioning'])(
    'the only environment of an account still sets up its own bucket (%s: build-model, the async rules)',
    async (action) => check(principalOf(aloneDev, 'DeployRole'), { action, resource: BUCKET, context: IN_ACCOUNT }, 'Allowed'),
  );

  it.each(['s3:PutBucketPolicy', 's3:PutEncryptionConfiguration', 's3:PutBucketPublicAccessBlock', 's3:PutBucketOwnershipControls', 's3:CreateBucket'])(
    "prod's promotion role does not configure a bucket dev shares either (%s)",
    async (action) => {
      await check(principalOf(sharedProd, 'PromotionRole'), { action, resource: BUCKET, context: IN_ACCOUNT }, 'not Allowed');
      // Its own account's bucket of a new region: promote-model creates and hardens it.
      await check(principalOf(aloneProd, 'PromotionRole'), { action, resource: BUCKET, context: IN_ACCOUNT }, 'Allowed');
    },
  );

  it('prod promotes into the shared bucket and reads it (the twin)', async () => {
    const promotion = principalOf(sharedProd, 'PromotionRole');
    await check(promotion, object(`${PROMOTED_PROD}/model.safetensors`), 'Allowed');
    await check(promotion, { action: 's3:GetBucketVersioning', resource: BUCKET, context: IN_ACCOUNT }, 'Allowed');
  });
});

describe('Medium 3: a deploy role writes only the keys it owns, never a promoted one', () => {
  type Case = [string, Call, Decision | 'not Allowed'];
  const attacks: Case[] = [
    // A file the manifest does not list makes serve.sh refuse to start the engine: prod goes down at its next start.
    ['a key added under a promoted prefix, through the build-source grant (PROJECT/*/sources/*)', object(`${PROMOTED}/sources/extra.bin`), 'not Allowed'],
    ["the manifest of prod's promoted prefix", object(`${PROMOTED}/model-deploy-weights.tsv`), 'not Allowed'],
    ['built weights', object(`${BUILT}/model.safetensors`), 'not Allowed'],
    ["prod's promoted weights", object(`${PROMOTED_PROD}/model.safetensors`), 'not Allowed'],
    ["deleting a version of prod's promoted weights", { action: 's3:DeleteObjectVersion', resource: `${PROMOTED}/model.safetensors`, context: IN_ACCOUNT }, 'not Allowed'],
    // templates/PROJECT-*-dev/* also matches a folder nested below prod's stack name.
    ["a key under a prod stack's template folder, through the dev template grant", object(`${BUCKET}/templates/${P}-qwen-chat-prod/x-dev/0123.json`), 'not Allowed'],
    ["a prod stack's template", object(`${BUCKET}/templates/${P}-qwen-chat-prod/0123.json`), 'not Allowed'],
    ['an async answer, through the async request grant', object(`${BUCKET}/async/${P}/dev/qwen-chat/output/x/input/0123.json`), 'not Allowed'],
    ['an async failure, through the async request grant', object(`${BUCKET}/async/${P}/dev/qwen-chat/failure/x/input/0123.json`), 'not Allowed'],
    ['a provenance record', object(`${BUCKET}/model-deploy-provenance/${P}/sha256-${'cd'.repeat(32)}.json`), 'not Allowed'],
    ["a key nested in prod's async answers, through the dev template grant (the bucket's * spans \"/\")", object(`${BUCKET}/async/${P}/prod/qwen-chat/output/x/templates/${P}-qwen-chat-dev/0123.json`), 'not Allowed'],
    ['captured requests', object(`${BUCKET}/datacapture/${P}/prod/qwen-chat/${P}-qwen-chat-prod/AllTraffic/2026/12/06/09/x.jsonl`), 'not Allowed'],
  ];
  const twins: Case[] = [
    ['a build source', object(`${BUCKET}/${P}/qwen-chat/sources/0123456789abcdef.zip`), 'Allowed'],
    ["a dev stack's large template", object(`${BUCKET}/templates/${P}-qwen-chat-dev/0123.json`), 'Allowed'],
    ['a smoke-test request of a dev async endpoint', object(`${BUCKET}/async/${P}/dev/qwen-chat/input/0123.json`), 'Allowed'],
    // The denies name the project: deployments called like a protected folder still build and smoke-test.
    ['a build source of a deployment called "datacapture"', object(`${BUCKET}/${P}/datacapture/sources/0123456789abcdef.zip`), 'Allowed'],
    ['a build source of a deployment called "model-deploy-provenance"', object(`${BUCKET}/${P}/model-deploy-provenance/sources/0123456789abcdef.zip`), 'Allowed'],
    ['a benchmark request of an async deployment called "templates"', object(`${BUCKET}/async/${P}/dev/templates/input/benchmark/0001.json`), 'Allowed'],
    ['a smoke-test request of an async deployment called "models"', object(`${BUCKET}/async/${P}/dev/models/input/0123.json`), 'Allowed'],
    ['reading the promoted manifest (deploy checks the pinned versions)', { action: 's3:GetObjectVersion', resource: `${PROMOTED}/model-deploy-weights.tsv`, context: IN_ACCOUNT }, 'Allowed'],
  ];
  it.each([...attacks, ...twins])('shared bucket, dev deploy role: %s', async (_label, call, expected) => check(principalOf(sharedDev, 'DeployRole'), call, expected));
  it.each([...attacks, ...twins])('own bucket, dev deploy role: %s', async (_label, call, expected) => check(principalOf(aloneDev, 'DeployRole'), call, expected));

  // The build role of any environment (a dev job starts builds) writes weights, but not into a promoted prefix.
  it.each<Case>([
    ['adds a key under a promoted prefix', object(`${PROMOTED}/extra.bin`), 'not Allowed'],
    ["overwrites the promoted manifest", object(`${PROMOTED}/model-deploy-weights.tsv`), 'not Allowed'],
    ['writes built weights (the twin)', object(`${BUILT}/model.safetensors`), 'Allowed'],
    ['writes built weights in parts (the twin)', { action: 's3:AbortMultipartUpload', resource: `${BUILT}/model-00001-of-00002.safetensors`, context: IN_ACCOUNT }, 'Allowed'],
  ])('shared bucket, dev build role %s', async (_label, call, expected) => check(codeBuildRole(sharedDev), call, expected));
});

describe("Medium 3: the bucket's own policy, when another environment's stack forgot ArtifactBucketShared", () => {
  /** The artifact bucket's policy, with the bucket's ARN where the template says !GetAtt ArtifactBucket.Arn. */
  const bucketPolicy = (rendered: typeof sharedDev) =>
    JSON.parse(JSON.stringify(rendered.resources.ArtifactBucketPolicy!.Properties.PolicyDocument).split('ArtifactBucket.Arn').join(BUCKET));
  // dev's stack made the bucket and says it is shared; prod's stack in the same account says it is not.
  const sharedMaker = bucketPolicy(resolveTemplate(bootstrap, { ...BASE, ArtifactBucketShared: 'true', CreateArtifactBucket: 'true' }));
  const forgetfulProd = principalOf(resolveTemplate(bootstrap, { ...BASE, Environment: 'prod' }), 'DeployRole');
  // dev alone in its account made its bucket.
  const ownMaker = bucketPolicy(resolveTemplate(bootstrap, { ...BASE, CreateArtifactBucket: 'true' }));
  const SECURE = { ...IN_ACCOUNT, 'aws:SecureTransport': 'true' };

  it.each(['s3:PutBucketPolicy', 's3:PutBucketVersioning', 's3:PutLifecycleConfiguration', 's3:PutEncryptionConfiguration', 's3:PutBucketPublicAccessBlock', 's3:DeleteBucket'])(
    '%s: no deploy role configures a shared bucket, even one its own stack allows',
    async (action) => {
      await check(forgetfulProd, { action, resource: BUCKET, context: SECURE, resourcePolicy: sharedMaker }, 'ExplicitlyDenied');
      await check(principalOf(aloneDev, 'DeployRole'), { action, resource: BUCKET, context: SECURE, resourcePolicy: sharedMaker }, 'ExplicitlyDenied');
      // Another environment's role never configures a bucket that is not its environment's.
      await check(forgetfulProd, { action, resource: BUCKET, context: SECURE, resourcePolicy: ownMaker }, 'ExplicitlyDenied');
    },
  );

  it.each(['s3:PutLifecycleConfiguration', 's3:PutBucketVersioning', 's3:PutBucketPublicAccessBlock'])(
    '%s: the only environment of an account still configures its own bucket (the twin)',
    async (action) => check(principalOf(aloneDev, 'DeployRole'), { action, resource: BUCKET, context: SECURE, resourcePolicy: ownMaker }, 'Allowed'),
  );

  it('objects are still written and read through the shared bucket (the twin)', async () => {
    await check(principalOf(sharedDev, 'DeployRole'), { ...object(`${BUCKET}/templates/${P}-qwen-chat-dev/0123.json`), context: SECURE, resourcePolicy: sharedMaker }, 'Allowed');
    await check(principalOf(sharedProd, 'PromotionRole'), { ...object(`${PROMOTED_PROD}/model.safetensors`), context: SECURE, resourcePolicy: sharedMaker }, 'Allowed');
  });
});
