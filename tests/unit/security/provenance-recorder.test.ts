/**
 * Issue 20.1, provenance: a record under model-deploy-provenance/ is proof that a protected ref built a digest
 * only if nothing else can write there. Decided over the rendered bootstrap: the recorder role's trust (the
 * hand-written evaluator: the OIDC claims are plain StringEquals), and S3 writes by iam-simulate with the
 * identity policies AND the artifact bucket's policy, the way S3 decides a same-account request.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { ACCOUNT, Rendered, resolveTemplate } from '../../support/cloudformation/resolve';
import { readTemplate } from '../../support/cloudformation/template';
import { Principal, principalOf } from '../../support/cloudformation/simulate';
import { Statement, evaluate } from '../../support/cloudformation/iam';

const bootstrap = readTemplate('templates/bootstrap/model-deploy-bootstrap.yaml');
const P = 'acme-llm';
const BASE = { Repository: 'acme/llm-platform', SubjectForm: 'repository-name', Project: P, Environment: 'dev', PromotionEnvironments: 'prod', CreateArtifactBucket: 'true' };
const dev = resolveTemplate(bootstrap, BASE);
const BUCKET = `arn:aws:s3:::model-deploy-${ACCOUNT}-us-east-1`;
const RECORD = `${BUCKET}/model-deploy-provenance/${P}/qwen-chat/${'a'.repeat(64)}.json`;
const S3_CTX = { 's3:ResourceAccount': ACCOUNT };

function recorderId(rendered: Rendered): string {
  const id = Object.entries(rendered.resources).find(([, r]) => r.Type === 'AWS::IAM::Role' && r.Properties.RoleName === `${P}.dev.provenance-recorder`)?.[0];
  if (!id) throw new Error(`the bootstrap creates no ${P}.dev.provenance-recorder role`);
  return id;
}
/** The artifact bucket's policy, with the bucket's ARN where the template says !GetAtt ArtifactBucket.Arn (the resolver leaves it). */
const bucketPolicy = (rendered: Rendered) =>
  JSON.parse(JSON.stringify(rendered.resources.ArtifactBucketPolicy.Properties.PolicyDocument).split('ArtifactBucket.Arn').join(BUCKET));

/** S3's decision for a same-account request: an explicit Deny in either policy wins, an Allow in either grants. */
async function s3Decision(principal: Principal, action: string, resource: string, context: Record<string, string> = S3_CTX): Promise<string> {
  const result = await runSimulation(
    {
      identityPolicies: [{ name: 'identity', policy: { Version: '2012-10-17', Statement: principal.policies as any } }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: bucketPolicy(dev),
      request: {
        action,
        principal: principal.arn,
        resource: { accountId: ACCOUNT, resource },
        contextVariables: {
          'aws:PrincipalAccount': ACCOUNT,
          'aws:PrincipalArn': principal.arn,
          'aws:PrincipalType': 'AssumedRole',
          'aws:ResourceAccount': ACCOUNT,
          'aws:SecureTransport': 'true',
          ...Object.fromEntries(Object.entries(principal.tags ?? {}).map(([k, v]) => [`aws:PrincipalTag/${k}`, v])),
          ...context,
        },
      },
    } as any,
    {},
  );
  if (result.resultType !== 'single') throw new Error(`simulation of ${action} did not run: ${JSON.stringify(result).slice(0, 600)}`);
  return (result as any).result.analysis.result;
}

/** Whether a GitHub OIDC token with these claims may assume the recorder role. */
function tokenMayAssume(rendered: Rendered, claims: { sub: string; aud?: string }, action = 'sts:AssumeRoleWithWebIdentity'): boolean {
  const role = rendered.resources[recorderId(rendered)].Properties;
  const trust = role.AssumeRolePolicyDocument.Statement as Statement[];
  const context = { 'token.actions.githubusercontent.com:sub': claims.sub, 'token.actions.githubusercontent.com:aud': claims.aud ?? 'sts.amazonaws.com' };
  return evaluate(trust, { action, resource: `arn:aws:iam::${ACCOUNT}:role/${role.RoleName}`, context }).decision === 'allow';
}

describe('who may assume the provenance recorder: jobs of the protected refs only', () => {
  it.each([
    ['a feature branch', 'repo:acme/llm-platform:ref:refs/heads/feature/x', false],
    ['a pull request', 'repo:acme/llm-platform:pull_request', false],
    ["a job in the dev environment (dev's deploy token)", 'repo:acme/llm-platform:environment:dev', false],
    ['main of a fork or another repository', 'repo:evil/llm-platform:ref:refs/heads/main', false],
    ['a tag named like main', 'repo:acme/llm-platform:ref:refs/tags/main', false],
    ['a job of main with no environment', 'repo:acme/llm-platform:ref:refs/heads/main', true],
  ])('%s', (_label, sub, expected) => {
    expect({ sub, assumes: tokenMayAssume(dev, { sub }) }).toEqual({ sub, assumes: expected });
  });

  it('needs the sts audience, and no role (the dev deploy role included) assumes it with sts:AssumeRole', () => {
    expect(tokenMayAssume(dev, { sub: 'repo:acme/llm-platform:ref:refs/heads/main', aud: 'https://github.com/acme' })).toBe(false);
    expect(tokenMayAssume(dev, { sub: 'repo:acme/llm-platform:ref:refs/heads/main' }, 'sts:AssumeRole')).toBe(false);
  });

  it('trusts each ref of ProtectedRefs, in the immutable-id form when the ids are given', () => {
    const two = resolveTemplate(bootstrap, { ...BASE, SubjectForm: 'immutable-ids', ProtectedRefs: 'refs/heads/main,refs/heads/release', RepositoryOwnerId: '1', RepositoryId: '2' });
    expect(tokenMayAssume(two, { sub: 'repo:acme@1/llm-platform@2:ref:refs/heads/release' })).toBe(true);
    expect(tokenMayAssume(two, { sub: 'repo:acme@1/llm-platform@2:ref:refs/heads/main' })).toBe(true);
    // With the ids, the renameable form is not trusted (a re-created repository gets nothing).
    expect(tokenMayAssume(two, { sub: 'repo:acme/llm-platform:ref:refs/heads/main' })).toBe(false);
  });

  it('exists only in a source environment (PromotionEnvironments) with protected refs', () => {
    expect(() => recorderId(resolveTemplate(bootstrap, { ...BASE, PromotionEnvironments: '' }))).toThrow(/no acme-llm.dev.provenance-recorder/);
    expect(() => recorderId(resolveTemplate(bootstrap, { ...BASE, ProtectedRefs: '' }))).toThrow(/no acme-llm.dev.provenance-recorder/);
  });
});

describe('who may write a provenance record: the recorder alone, and only there', () => {
  const recorder = () => principalOf(dev, recorderId(dev));
  const deployRole = principalOf(dev, 'DeployRole');
  const prod = resolveTemplate(bootstrap, { ...BASE, Environment: 'prod', PromotionEnvironments: '', CreatePromotionRole: 'true' });
  // dev and prod in one account (a documented setup): prod's promotion role may write any key of the buckets.
  const sharedPromotionRole = principalOf(prod, 'PromotionRole');

  it.each([
    ['s3:PutObject', RECORD],
    ['s3:DeleteObject', RECORD],
    ['s3:DeleteObjectVersion', RECORD],
  ])("prod's promotion role in a shared account may not %s a record", async (action, resource) => {
    expect(await s3Decision(sharedPromotionRole, action, resource)).not.toBe('Allowed');
    // ...while it still writes promoted weights (the Deny is the record prefix only).
    expect(await s3Decision(sharedPromotionRole, 's3:PutObject', `${BUCKET}/promoted/${P}/prod/qwen-chat/sha256-${'ab'.repeat(32)}/x`)).toBe('Allowed');
  });

  it("the dev deploy role writes no record and cannot lift the bucket's Deny", async () => {
    expect(await s3Decision(deployRole, 's3:PutObject', RECORD)).not.toBe('Allowed');
    expect(evaluate(deployRole.policies as Statement[], { action: 's3:PutBucketPolicy', resource: BUCKET, context: S3_CTX }).decision).toBe('deny');
    expect(evaluate(deployRole.policies as Statement[], { action: 's3:DeleteBucketPolicy', resource: BUCKET, context: S3_CTX }).decision).toBe('deny');
    // The buckets of the other regions hold no records: build-model still creates and secures them.
    expect(evaluate(deployRole.policies as Statement[], { action: 's3:PutBucketPolicy', resource: `arn:aws:s3:::model-deploy-${ACCOUNT}-eu-west-1`, context: S3_CTX }).decision).toBe('allow');
    // Without a recorder (a target environment alone in its account), build-model still configures its bucket.
    const alone = principalOf(resolveTemplate(bootstrap, { ...BASE, PromotionEnvironments: '' }), 'DeployRole');
    expect(evaluate(alone.policies as Statement[], { action: 's3:PutBucketPolicy', resource: BUCKET, context: S3_CTX }).decision).toBe('allow');
  });

  it.each<[string, string, string, Record<string, string> | undefined, boolean]>([
    ['writes the record of a project image', 's3:PutObject', RECORD, undefined, true],
    ['reads a record (a re-run compares it)', 's3:GetObject', RECORD, undefined, true],
    ['heads the built weights', 's3:GetObject', `${BUCKET}/${P}/qwen-chat/models/abc/model.safetensors`, undefined, true],
    ['lists the build prefix', 's3:ListBucket', BUCKET, { ...S3_CTX, 's3:prefix': `${P}/qwen-chat/models/abc/` }, true],
    ["writes another project's record", 's3:PutObject', `${BUCKET}/model-deploy-provenance/other/x/${'b'.repeat(64)}.json`, undefined, false],
    ['deletes a record', 's3:DeleteObject', RECORD, undefined, false],
    ['overwrites weights', 's3:PutObject', `${BUCKET}/${P}/qwen-chat/models/abc/model.safetensors`, undefined, false],
    ['writes a build source', 's3:PutObject', `${BUCKET}/${P}/qwen-chat/sources/abc.zip`, undefined, false],
    ['lists another project', 's3:ListBucket', BUCKET, { ...S3_CTX, 's3:prefix': 'other/' }, false],
    ['changes the bucket policy', 's3:PutBucketPolicy', BUCKET, undefined, false],
  ])('the recorder %s', async (_label, action, resource, context, expected) => {
    expect({ action, resource, allowed: (await s3Decision(recorder(), action, resource, context)) === 'Allowed' }).toEqual({ action, resource, allowed: expected });
  });

  it('the recorder reads image manifests of the project and nothing else of ECR', () => {
    const may = (action: string, resource: string) => evaluate(recorder().policies as Statement[], { action, resource }).decision === 'allow';
    expect(may('ecr:BatchGetImage', `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/${P}/qwen-chat`)).toBe(true);
    expect(may('ecr:BatchGetImage', `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/other/x`)).toBe(false);
    expect(may('ecr:PutImage', `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/${P}/qwen-chat`)).toBe(false);
    expect(may('iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/${P}.dev.sagemaker`)).toBe(false);
  });
});
