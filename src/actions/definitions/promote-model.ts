import { ActionDefinition, COMMON_INPUTS } from './types';

export const promoteModel: ActionDefinition = {
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
    'max-parallel-regions': { description: 'Target regions promoted at the same time.', default: '4', type: 'integer' },
    'timeout-minutes': { description: 'Longest wait for a Bedrock model copy job or ECR replication.', default: '120', type: 'integer' },
  },
  outputs: {
    targets: { description: 'JSON list, one entry per target region: account, region, imageUri, modelDataUrl, modelArn, bytesCopied, skipped.' },
    'image-uris': { description: 'JSON object: region → promoted image URI.' },
    'model-data-urls': { description: 'JSON object: region → promoted model data URL.' },
    'model-arns': { description: 'JSON object: region → Bedrock model ARN.' },
    digest: { description: 'The promoted image digest (equal to the source digest).' },
  },
};
