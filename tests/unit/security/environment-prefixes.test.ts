/**
 * Issue 20, what the shared bucket left: environments that share an account (a documented setup) share its
 * artifact bucket, and S3 evaluates prefixes (the object ARN), never `aws:ResourceTag` on objects. So every key
 * one environment's roles may read or write carries that environment: async requests and answers
 * (async/PROJECT/ENV/DEPLOYMENT/), captured traffic (datacapture/PROJECT/ENV/DEPLOYMENT/) and promoted weights
 * (promoted/PROJECT/ENV/DEPLOYMENT/sha256-…/), and each role is granted its own environment's prefix only.
 * Decided by @cloud-copilot/iam-simulate over the rendered bootstrap of dev, staging and prod in one account,
 * with the request context S3 sends (object ARNs, the bucket's account); each attack has its legitimate twin,
 * so the suite cannot pass by denying everything.
 */
import { ACCOUNT, resolveTemplate } from '../../support/cloudformation/resolve';
import { readTemplate } from '../../support/cloudformation/template';
import { Call, decide, Principal, principalOf } from '../../support/cloudformation/simulate';

const bootstrap = readTemplate('templates/bootstrap/model-deploy-bootstrap.yaml');
const P = 'acme-llm';
const BASE = { Repository: 'acme/llm-platform', Project: P, ArtifactBucketShared: 'true' };
const dev = resolveTemplate(bootstrap, { ...BASE, Environment: 'dev', PromotionEnvironments: 'staging,prod', ModelSourceBuckets: 'acme-models' });
const staging = resolveTemplate(bootstrap, { ...BASE, Environment: 'staging', CreatePromotionRole: 'true', PromotionRoleName: 'model-deploy-promotion-staging', PromotionEnvironments: 'prod' });
const prod = resolveTemplate(bootstrap, { ...BASE, Environment: 'prod', CreatePromotionRole: 'true', PromotionRoleName: 'model-deploy-promotion-prod' });

const roleNamed = (rendered: typeof dev, name: string): Principal => {
  const id = Object.entries(rendered.resources).find(([, r]) => r.Type === 'AWS::IAM::Role' && r.Properties.RoleName === name)?.[0];
  if (!id) throw new Error(`no role ${name} in the rendered bootstrap`);
  return principalOf(rendered, id);
};
const role = {
  devSageMaker: roleNamed(dev, `${P}.dev.sagemaker`),
  devEcsTask: roleNamed(dev, `${P}.dev.ecs-task`),
  devEc2: roleNamed(dev, `${P}.dev.ec2-instance`),
  devDeploy: principalOf(dev, 'DeployRole'),
  devBuild: roleNamed(dev, `${P}.dev.codebuild`),
  devSource: principalOf(dev, 'PromotionSourceRole'),
  stagingPromotion: principalOf(staging, 'PromotionRole'),
  stagingDeploy: principalOf(staging, 'DeployRole'),
  prodSageMaker: roleNamed(prod, `${P}.prod.sagemaker`),
  prodEcsTask: roleNamed(prod, `${P}.prod.ecs-task`),
  prodDeploy: principalOf(prod, 'DeployRole'),
  prodPromotion: principalOf(prod, 'PromotionRole'),
};

const BUCKET = `arn:aws:s3:::model-deploy-${ACCOUNT}-us-east-1`;
const IN_ACCOUNT = { 's3:ResourceAccount': ACCOUNT };
const put = (key: string): Call => ({ action: 's3:PutObject', resource: `${BUCKET}/${key}`, context: IN_ACCOUNT });
const get = (key: string): Call => ({ action: 's3:GetObject', resource: `${BUCKET}/${key}`, context: IN_ACCOUNT });
const getVersion = (key: string): Call => ({ action: 's3:GetObjectVersion', resource: `${BUCKET}/${key}`, context: IN_ACCOUNT });

const async = (env: string, folder: string) => `async/${P}/${env}/summarizer/${folder}/0123.json`;
const capture = (env: string) => `datacapture/${P}/${env}/qwen-chat/${P}-qwen-chat-${env}/AllTraffic/2026/12/06/09/x.jsonl`;
const DIGEST = 'ab'.repeat(32);
const promoted = (env: string, file = 'model.safetensors') => `promoted/${P}/${env}/qwen-chat/sha256-${DIGEST}/${file}`;
/** Where promotion wrote before: beside the source, anywhere in the bucket (still served by stacks deployed then). */
const LEGACY_PROMOTED = `${P}/qwen-chat/models/0123456789abcdef.sha256-${DIGEST}/model.safetensors`;
const BUILT = `${P}/qwen-chat/models/0123456789abcdef/model.safetensors`;

type Case = [string, Principal, Call];
const expectDecision = async (principal: Principal, call: Call, allowed: boolean) => {
  const got = await decide(principal, call);
  const label = `${principal.arn} ${call.action} ${call.resource}`;
  expect({ label, allowed: got === 'Allowed' }).toEqual({ label, allowed });
};

describe('async requests and answers, and captured traffic, carry the environment', () => {
  const attacks: Case[] = [
    ["dev's endpoint reads prod's async answers", role.devSageMaker, get(async('prod', 'output'))],
    ["dev's endpoint reads prod's async requests", role.devSageMaker, get(async('prod', 'input'))],
    ["dev's endpoint writes an answer into prod's async output", role.devSageMaker, put(async('prod', 'output'))],
    ["dev's endpoint writes into prod's async failures", role.devSageMaker, put(async('prod', 'failure'))],
    ["dev's endpoint writes into prod's captured traffic", role.devSageMaker, put(capture('prod'))],
    ["dev's deploy role reads prod's async answers", role.devDeploy, get(async('prod', 'output'))],
    ["dev's deploy role writes a request into prod's async input", role.devDeploy, put(async('prod', 'input'))],
    ["dev's deploy role reads prod's captured traffic", role.devDeploy, get(capture('prod'))],
    ["staging's promotion role reads prod's async answers", role.stagingPromotion, get(async('prod', 'output'))],
    ["staging's promotion role reads prod's captured traffic", role.stagingPromotion, get(capture('prod'))],
    ["staging's promotion role writes into prod's async output", role.stagingPromotion, put(async('prod', 'output'))],
    ["dev's promotion source role reads dev's captured traffic (it reads weights, images and records only)", role.devSource, get(capture('dev'))],
    ["dev's promotion source role reads prod's async answers", role.devSource, get(async('prod', 'output'))],
    ["prod's endpoint writes into dev's async input (a request dev's endpoint would run)", role.prodSageMaker, put(async('dev', 'input'))],
  ];
  const twins: Case[] = [
    ["dev's endpoint reads dev's async requests", role.devSageMaker, get(async('dev', 'input'))],
    ["dev's endpoint writes dev's async answers", role.devSageMaker, put(async('dev', 'output'))],
    ["dev's endpoint writes dev's async failures", role.devSageMaker, put(async('dev', 'failure'))],
    ["dev's endpoint captures dev's traffic", role.devSageMaker, put(capture('dev'))],
    ["prod's endpoint reads prod's async requests", role.prodSageMaker, get(async('prod', 'input'))],
    ["prod's endpoint writes prod's async answers", role.prodSageMaker, put(async('prod', 'output'))],
    ["prod's endpoint captures prod's traffic", role.prodSageMaker, put(capture('prod'))],
    ["dev's deploy role puts the smoke test's request", role.devDeploy, put(async('dev', 'input'))],
    ["dev's deploy role reads the smoke test's answer", role.devDeploy, get(async('dev', 'output'))],
    ["prod's deploy role puts the smoke test's request", role.prodDeploy, put(async('prod', 'input'))],
    ["prod's deploy role reads the smoke test's answer", role.prodDeploy, get(async('prod', 'output'))],
  ];
  it.each(attacks)('denied: %s', async (_label, principal, call) => expectDecision(principal, call, false));
  it.each(twins)('allowed (the twin): %s', async (_label, principal, call) => expectDecision(principal, call, true));
});

describe("promoted weights: each environment's promotion writes only its own prefix", () => {
  const attacks: Case[] = [
    ["staging's promotion role overwrites prod's promoted weights", role.stagingPromotion, put(promoted('prod'))],
    ["staging's promotion role overwrites prod's manifest", role.stagingPromotion, put(promoted('prod', 'model-deploy-weights.tsv'))],
    ["staging's promotion role adds a file under prod's promoted prefix", role.stagingPromotion, put(promoted('prod', 'extra.bin'))],
    ["staging's promotion role rewrites prod's tags", role.stagingPromotion, { ...put(promoted('prod')), action: 's3:PutObjectTagging' }],
    ["staging's promotion role writes into a prefix promoted before (beside the source)", role.stagingPromotion, put(LEGACY_PROMOTED)],
    ["staging's promotion role writes built weights", role.stagingPromotion, put(BUILT)],
    ["prod's promotion role writes staging's promoted weights", role.prodPromotion, put(promoted('staging'))],
    ["dev's deploy role writes prod's promoted weights", role.devDeploy, put(promoted('prod'))],
    ["dev's build role writes prod's promoted weights", role.devBuild, put(promoted('prod'))],
    ["dev's build role writes dev's promoted weights (a build is no promotion)", role.devBuild, put(promoted('dev'))],
    ["staging's deploy role writes staging's promoted weights (only its promotion does)", role.stagingDeploy, put(promoted('staging'))],
    ["dev's endpoint reads prod's promoted weights", role.devSageMaker, getVersion(promoted('prod'))],
    ["dev's ECS tasks read prod's promoted weights", role.devEcsTask, getVersion(promoted('prod'))],
    ["dev's deploy role reads prod's promoted weights", role.devDeploy, getVersion(promoted('prod'))],
  ];
  const twins: Case[] = [
    ["staging's promotion role writes staging's promoted weights", role.stagingPromotion, put(promoted('staging'))],
    ["staging's promotion role writes staging's manifest", role.stagingPromotion, put(promoted('staging', 'model-deploy-weights.tsv'))],
    ["prod's promotion role writes prod's promoted weights", role.prodPromotion, put(promoted('prod'))],
    ["prod's promotion role tags prod's promoted weights", role.prodPromotion, { ...put(promoted('prod')), action: 's3:PutObjectTagging' }],
    ["prod's promotion role reads the manifest it wrote (a re-run)", role.prodPromotion, get(promoted('prod', 'model-deploy-weights.tsv'))],
    ["prod's promotion role reads built weights (one account: a server-side copy)", role.prodPromotion, getVersion(BUILT)],
    ["prod's promotion role reads staging's promoted weights (staging → prod in one account)", role.prodPromotion, getVersion(promoted('staging'))],
    ["prod's promotion role reads a provenance record (the approved job checks it)", role.prodPromotion, get(`model-deploy-provenance/${P}/${P}/qwen-chat/${'cd'.repeat(32)}.json`)],
    ["dev's promotion source role reads built weights", role.devSource, getVersion(BUILT)],
    ["dev's promotion source role reads a provenance record", role.devSource, get(`model-deploy-provenance/${P}/${P}/qwen-chat/${'cd'.repeat(32)}.json`)],
    ["prod's endpoint reads prod's promoted weights", role.prodSageMaker, getVersion(promoted('prod'))],
    ["prod's ECS tasks read prod's promoted weights", role.prodEcsTask, getVersion(promoted('prod'))],
    ["prod's endpoint still reads weights promoted before (beside the source)", role.prodSageMaker, getVersion(LEGACY_PROMOTED)],
    ["prod's deploy role reads prod's promoted weights (it checks the pinned versions)", role.prodDeploy, getVersion(promoted('prod'))],
    ["dev's endpoint reads built weights", role.devSageMaker, getVersion(BUILT)],
    ["dev's EC2 instances read built weights", role.devEc2, getVersion(BUILT)],
    ["dev's build role writes built weights", role.devBuild, put(BUILT)],
  ];
  it.each(attacks)('denied: %s', async (_label, principal, call) => expectDecision(principal, call, false));
  it.each(twins)('allowed (the twin): %s', async (_label, principal, call) => expectDecision(principal, call, true));
});

describe('the recorder reads the model.s3 weights it records (a bucket the administrator lists), and writes only records', () => {
  const recorded = resolveTemplate(bootstrap, { ...BASE, Environment: 'dev', PromotionEnvironments: 'prod', ProtectedRefs: 'refs/heads/main', ModelSourceBuckets: 'acme-models' });
  const recorder = roleNamed(recorded, `${P}.dev.provenance-recorder`);
  const MODELS = 'arn:aws:s3:::acme-models';
  const other = { 's3:ResourceAccount': ACCOUNT };
  it.each<[string, Call, boolean]>([
    ['heads an object of a listed bucket (its version and checksum)', { action: 's3:GetObject', resource: `${MODELS}/llama/model.safetensors`, context: other }, true],
    ['lists a listed bucket', { action: 's3:ListBucket', resource: MODELS, context: other }, true],
    ['writes a weights record', put(`model-deploy-provenance/${P}/weights/qwen-chat/sha256-${DIGEST}.json`), true],
    ['writes into a listed bucket', { action: 's3:PutObject', resource: `${MODELS}/llama/model.safetensors`, context: other }, false],
    ['reads a bucket nobody listed', { action: 's3:GetObject', resource: 'arn:aws:s3:::someone-elses/llama/model.safetensors', context: other }, false],
    ["reads prod's async answers", get(async('prod', 'output')), false],
  ])('%s', async (_label, call, allowed) => expectDecision(recorder, call, allowed));
});

describe('Low: a project whose name is a prefix of another (acme, acme-llm) touches none of the other\'s resources', () => {
  // Stack names are PROJECT-DEPLOYMENT-ENV, so acme's grant of acme-*-dev matches acme-llm-qwen-dev by name.
  const acme = principalOf(resolveTemplate(bootstrap, { ...BASE, Project: 'acme', Environment: 'dev' }), 'DeployRole');
  const acmeLlm = role.devDeploy;
  const tagged = (project: string) => ({ 'aws:ResourceTag/model-deploy:project': project, 'aws:ResourceTag/model-deploy:environment': 'dev' });
  const service = (name: string) => `arn:aws:ecs:us-east-1:${ACCOUNT}:service/${name}/${name}`;
  const stack = (name: string) => `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/${name}/0123`;
  it.each<[string, Principal, Call, boolean]>([
    ["acme redeploys acme-llm's ECS service", acme, { action: 'ecs:UpdateService', resource: service(`${P}-qwen-chat-dev`), context: tagged(P) }, false],
    ["acme deletes acme-llm's stack", acme, { action: 'cloudformation:DeleteStack', resource: stack(`${P}-qwen-chat-dev`), context: tagged(P) }, false],
    ["acme updates acme-llm's stack", acme, { action: 'cloudformation:UpdateStack', resource: stack(`${P}-qwen-chat-dev`), context: tagged(P) }, false],
    ["acme tags a stack as acme-llm's", acme, { action: 'cloudformation:CreateStack', resource: stack('acme-qwen-chat-dev'), context: { 'aws:RequestTag/model-deploy:project': P } }, false],
    ["acme invokes acme-llm's endpoint (its smoke-test grant)", acme, { action: 'sagemaker:InvokeEndpoint', resource: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:endpoint/${P}-qwen-chat-dev`, context: tagged(P) }, false],
    ['acme invokes its own endpoint (the twin)', acme, { action: 'sagemaker:InvokeEndpoint', resource: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:endpoint/acme-qwen-chat-dev`, context: tagged('acme') }, true],
    ['acme redeploys its own ECS service (the twin)', acme, { action: 'ecs:UpdateService', resource: service('acme-qwen-chat-dev'), context: tagged('acme') }, true],
    ['acme deletes its own stack (the twin)', acme, { action: 'cloudformation:DeleteStack', resource: stack('acme-qwen-chat-dev'), context: tagged('acme') }, true],
    ['acme-llm redeploys its own ECS service (the twin)', acmeLlm, { action: 'ecs:UpdateService', resource: service(`${P}-qwen-chat-dev`), context: tagged(P) }, true],
  ])('%s', async (_label, principal, call, allowed) => expectDecision(principal, call, allowed));
});
