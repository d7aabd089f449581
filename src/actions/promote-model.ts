// The promote-model action: its interface, and run(): typed inputs → promoteModel() → outputs.
import type { ActionContext } from '../core/action';
import { COMMON_INPUTS, InputValues } from '../core/inputs';
import * as path from 'path';
import { loadSpec } from '../config/load';
import { resolveTarget } from '../config/select';
import { planModelPromotion, promoteModel, recordModelProvenance } from '../promote/promote';
import { modelDataVersionsOutput } from '../promote/promotion';
import { COMMITMENTS } from '../promote/throughput';
import { DeployError } from '../core/errors';
import { promotionTargetOf } from '../promote/plan';
import type { PromoteModelRequest } from '../promote/plan';
import type { ProvenancePolicy } from '../promote/provenance-record';

export const definition = {
  name: 'promote-model',
  title: 'model-deploy: promote model',
  description: 'Copies an approved model (image, weights, or a Bedrock custom model) from the source account to target accounts and regions, verified by digest.',
  inputs: {
    config: COMMON_INPUTS.config,
    deployment: COMMON_INPUTS.deployment,
    'http-proxy': COMMON_INPUTS['http-proxy'],
    mode: {
      description:
        "plan: resolve, with the source's credentials only, the exact image digest and weight versions to promote, check their provenance, write them to the run summary and the `plan` output (run before the approval). promote (default): promote exactly the `plan` input, refusing a source that changed since. direct: promote what the source holds now, with no plan (no approval-time guarantee). record: in the build on the protected ref, record which ref and run built `image-uri` and its weights.",
      default: 'promote',
      type: 'choice',
      choices: ['plan', 'promote', 'direct', 'record'],
    },
    plan: { description: "mode promote: the plan job's `plan` output, unchanged." },
    provenance: {
      description: 'required (default): only an image (and its build weights) recorded by a build of one of `protected-refs` is planned or promoted. off: not checked (then `image-uri` must be given).',
      default: 'required',
      type: 'choice',
      choices: ['required', 'off'],
    },
    'protected-refs': {
      description: 'Comma-separated refs whose builds may be promoted (the default branch, or the protected refs the bootstrap names).',
      default: 'refs/heads/main',
      pattern: 'refs/[A-Za-z0-9._/-]+(,refs/[A-Za-z0-9._/-]+)*',
      valid: 'comma-separated full refs, e.g. refs/heads/main,refs/heads/release',
    },
    'source-environment': { description: 'Environment the model comes from.', default: 'dev' },
    'target-environment': { description: 'Environment the model goes to.', required: true },
    region: COMMON_INPUTS.region,
    'source-region': { description: 'Region of the source image and weights (default: the first region of the source environment).' },
    'image-uri': {
      description:
        'Source image URI. Empty in mode plan: the newest image of the deployment that a protected ref built (provenance required); in mode direct: the newest pushed.',
    },
    'model-data-url': { description: 'Source weights in S3.' },
    'bedrock-model-arn': {
      description:
        "Deprecated: the Bedrock custom model is the spec's model.bedrock of a target: bedrock deployment, which is what is promoted. When given, it must equal that ARN (anything else is refused: the reviewed spec decides what reaches the target).",
    },
    'provisioned-model-units': {
      description:
        "target: bedrock deployments: buy provisioned throughput of this many model units for the copied model in each target region (billed; needs commitment-duration). Overrides the deployment's bedrockThroughput.modelUnits. Empty: the deployment's bedrockThroughput when it names this target environment, else none is bought.",
      type: 'integer',
      min: 1,
      max: 1000,
    },
    'commitment-duration': {
      description:
        "Term of the provisioned throughput, required with provisioned-model-units unless the deployment's bedrockThroughput gives it (this input overrides bedrockThroughput.commitment): none (billed per hour, deletable any time), OneMonth or SixMonths (billed for every hour of the term, not deletable before it ends).",
      type: 'choice',
      choices: COMMITMENTS,
    },
    'source-role-arn': {
      description:
        "Read-only role of the source account, assumed with this job's OIDC token (default: arn:PARTITION:iam::SOURCE_ACCOUNT:role/model-deploy-promotion-source-SOURCE_ENVIRONMENT, the bootstrap's PromotionSourceRoleArn).",
    },
    'max-parallel-regions': { description: 'Target regions promoted at the same time.', default: '4', type: 'integer', min: 1, max: 32 },
    'timeout-minutes': { description: 'Longest wait for a Bedrock model copy job, its provisioned throughput, or ECR replication.', default: '120', type: 'integer', min: 1, max: 1440 },
  },
  outputs: {
    targets: { description: 'JSON list, one entry per target region: account, region, imageUri, modelDataUrl, modelArn, provisionedModelArn, bytesCopied, skipped.' },
    'image-uris': { description: 'JSON object: region → promoted image URI.' },
    'model-data-urls': { description: 'JSON object: region → promoted model data URL.' },
    'model-data-versions': {
      description: "JSON object: region → object key → { versionId, etag, checksumSha256 }, the promoted weights as the target's versioned bucket holds them (deploy-endpoint pins them).",
    },
    'model-arns': { description: 'JSON object: region → Bedrock model ARN.' },
    'provisioned-model-arns': { description: "JSON object: region → provisioned throughput ARN of the copied Bedrock model (with provisioned-model-units or the deployment's bedrockThroughput)." },
    digest: { description: 'The promoted image digest (equal to the source digest).' },
    plan: { description: 'mode plan: the plan (JSON) the approved promote job takes as its `plan` input.' },
    'provenance-record': { description: 'mode record: the S3 URL of the provenance record written.' },
    'deploys-endpoint': { description: 'modes plan and promote: false for a target: bedrock deployment (Bedrock serves the copied model: there is no endpoint to deploy after the promotion), else true.' },
  },
} as const;

export async function run(inputs: InputValues<typeof definition>, ctx: ActionContext): Promise<void> {
  const mode = inputs.mode;
  const set = (name: keyof typeof definition.outputs, value: string) => ctx.reporter.setOutput(name, value);
  if (mode === 'record') {
    const target = resolveTarget({ config: inputs.config, deployment: inputs.deployment, environment: inputs['source-environment'] }, ctx.workspace, 'source-environment');
    set('provenance-record', await recordModelProvenance(target, { imageUri: inputs['image-uri'], modelDataUrl: inputs['model-data-url'] }, ctx));
    return;
  }
  const specFile = path.resolve(ctx.workspace, inputs.config);
  const spec = loadSpec(specFile, { displayPath: inputs.config });
  const target = promotionTargetOf(spec, specFile, { deployment: inputs.deployment, environment: inputs['target-environment'], region: inputs.region });
  const provenance = inputs.provenance === 'required' ? { protectedRefs: inputs['protected-refs'].split(','), repository: ctx.env.repository } : undefined;
  if (mode === 'promote' && !inputs.plan) {
    throw new DeployError('input `plan` is empty, and mode promote copies exactly a plan fixed before the approval', {
      title: 'Invalid input',
      hint: "Run promote-model with mode: plan before the approval-gated job and pass its `plan` output (promote.yml does). To copy what the source holds now, without that guarantee, set mode: direct.",
    });
  }
  if (mode !== 'promote' && inputs.plan) throw new DeployError(`input \`plan\` is set, and mode is ${mode}: only mode promote takes a plan`, { title: 'Invalid input' });
  set('deploys-endpoint', String(target.deployment.target !== 'bedrock'));
  if (inputs['bedrock-model-arn']) {
    ctx.reporter.warning("input `bedrock-model-arn` is deprecated: the model promoted is the spec's model.bedrock of a target: bedrock deployment (the input may only repeat it); remove the input.", undefined, 'Deprecated input');
  }
  if (mode === 'plan') {
    const fixed = await planModelPromotion(target, requestOf(inputs, provenance), ctx);
    set('plan', JSON.stringify(fixed));
    if (fixed.image) set('digest', fixed.image.digest);
    return;
  }
  const result = await promoteModel(
    target,
    {
      ...requestOf(inputs, provenance),
      fixedPlan: mode === 'promote' ? inputs.plan : undefined,
    },
    ctx,
  );
  const byRegion = (pick: (t: (typeof result.targets)[number]) => string | undefined) =>
    JSON.stringify(Object.fromEntries(result.targets.filter((t) => pick(t)).map((t) => [t.region, pick(t)])));
  set(
    'targets',
    JSON.stringify(
      result.targets.map((t) => ({
        account: t.account,
        region: t.region,
        imageUri: t.imageUri,
        modelDataUrl: t.modelDataUrl,
        modelArn: t.modelArn,
        provisionedModelArn: t.provisionedModelArn,
        bytesCopied: t.bytesMoved + t.bytesCopied,
        skipped: t.blobsSkipped + t.objectsSkipped,
      })),
    ),
  );
  set('image-uris', byRegion((t) => t.imageUri));
  set('model-data-urls', byRegion((t) => t.modelDataUrl));
  set('model-data-versions', modelDataVersionsOutput(result));
  set('model-arns', byRegion((t) => t.modelArn));
  set('provisioned-model-arns', byRegion((t) => t.provisionedModelArn));
  if (result.digest) set('digest', result.digest);
}

function requestOf(inputs: InputValues<typeof definition>, provenance: ProvenancePolicy | undefined): PromoteModelRequest {
  return {
    sourceEnvironment: inputs['source-environment'],
    sourceRegion: inputs['source-region'],
    imageUri: inputs['image-uri'],
    modelDataUrl: inputs['model-data-url'],
    bedrockModelArn: inputs['bedrock-model-arn'],
    provisionedThroughput: { modelUnits: inputs['provisioned-model-units'], commitment: inputs['commitment-duration'] },
    sourceRoleArn: inputs['source-role-arn'],
    timeoutMs: inputs['timeout-minutes'] * 60_000,
    tuning: { regionConcurrency: inputs['max-parallel-regions'] },
    provenance,
  };
}
