// The promote-model action: its interface, and run(): typed inputs → promoteModel() → outputs.
import type { ActionContext } from '../core/action';
import { COMMON_INPUTS, InputValues } from '../core/inputs';
import { resolveTarget } from '../config/select';
import { promoteModel } from '../promote/promote';
import { modelDataVersionsOutput } from '../promote/promotion';
import { COMMITMENTS } from '../promote/throughput';

export const definition = {
  name: 'promote-model',
  title: 'model-deploy: promote model',
  description: 'Copies an approved model (image, weights, or a Bedrock custom model) from the source account to target accounts and regions, verified by digest.',
  inputs: {
    config: COMMON_INPUTS.config,
    deployment: COMMON_INPUTS.deployment,
    'source-environment': { description: 'Environment the model comes from.', default: 'dev' },
    'target-environment': { description: 'Environment the model goes to.', required: true },
    region: COMMON_INPUTS.region,
    'source-region': { description: 'Region of the source image and weights (default: the first region of the source environment).' },
    'image-uri': { description: 'Source image URI (default: the newest image of the deployment in the source account).' },
    'model-data-url': { description: 'Source weights in S3.' },
    'bedrock-model-arn': { description: 'A Bedrock custom model to share and copy instead of an image.' },
    'provisioned-model-units': {
      description:
        "Buy provisioned throughput of this many model units for the copied Bedrock model in each target region (billed; needs commitment-duration). Overrides the deployment's bedrockThroughput.modelUnits. Empty: the deployment's bedrockThroughput when it names this target environment, else none is bought.",
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
  },
} as const;

export async function run(inputs: InputValues<typeof definition>, ctx: ActionContext): Promise<void> {
  const result = await promoteModel(
    resolveTarget({ config: inputs.config, deployment: inputs.deployment, environment: inputs['target-environment'], region: inputs.region }, ctx.workspace, 'target-environment'),
    {
      sourceEnvironment: inputs['source-environment'],
      sourceRegion: inputs['source-region'],
      imageUri: inputs['image-uri'],
      modelDataUrl: inputs['model-data-url'],
      bedrockModelArn: inputs['bedrock-model-arn'],
      provisionedThroughput: { modelUnits: inputs['provisioned-model-units'], commitment: inputs['commitment-duration'] },
      sourceRoleArn: inputs['source-role-arn'],
      timeoutMs: inputs['timeout-minutes'] * 60_000,
      tuning: { regionConcurrency: inputs['max-parallel-regions'] },
    },
    ctx,
  );
  const set = (name: keyof typeof definition.outputs, value: string) => ctx.reporter.setOutput(name, value);
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
