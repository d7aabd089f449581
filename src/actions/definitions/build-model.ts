import { ActionDefinition, COMMON_INPUTS } from './types';

export const buildModel: ActionDefinition = {
  name: 'build-model',
  title: 'model-deploy: build model image',
  description: 'Builds the serving image with CodeBuild and pushes it to ECR; skips the build when ECR already holds an image for the same inputs.',
  inputs: {
    ...COMMON_INPUTS,
    force: { description: 'Build even when an image with the same content hash exists.', type: 'boolean', default: 'false' },
    'source-bucket': { description: 'S3 bucket for the build source bundle (default: the artifact bucket model-deploy-ACCOUNT-REGION).' },
    'timeout-minutes': { description: 'How long to wait for the build (default: build.timeoutMinutes from the spec).', type: 'integer' },
    'poll-seconds': { description: 'Seconds between build status checks while the build runs (the first delay; it backs off to 3x while the build stays in one phase).', type: 'integer', default: '10' },
  },
  outputs: {
    'image-uri': { description: 'The serving image, by content-addressed tag.' },
    'image-digest': { description: 'sha256 digest of the image manifest.' },
    'model-data-url': { description: 'S3 location of the model weights (prefix ending in / or a .tar.gz).' },
    'build-id': { description: 'CodeBuild build id (empty when skipped).' },
    skipped: { description: 'true when no build ran because the image already existed.' },
    'build-seconds': { description: 'Wall-clock seconds the build took (0 when skipped).' },
    images: { description: 'JSON map of region to {imageUri, imageDigest, modelDataUrl}, for deployments in several regions (the other outputs describe the first).' },
  },
};
