/**
 * How long a build takes, for the one-time cost: the spec's build.estimatedMinutes, or a figure
 * from what the build does (pull the engine base image, add the serving files, push; download and
 * upload the weights unless they are already in S3 or baked in).
 */
import type { Deployment } from '../config/types';

/** Minutes for the image itself: base image pull and push dominate (DLC images are 8-15 GB). */
const IMAGE_MINUTES = 6;
/** Hugging Face download plus S3 upload inside CodeBuild, per GB of weights (about 100 MB/s end to end). */
const MINUTES_PER_WEIGHT_GB = 0.2;

export function estimateBuildMinutes(d: Deployment): number {
  if (d.build.estimatedMinutes !== undefined) return d.build.estimatedMinutes;
  if (d.model.image) return 0;
  const weightsGb = d.model.huggingface ? d.model.sizeGb ?? 15 : 0;
  const bake = d.model.bakeIntoImage ? 2 : 1; // baked weights are also pushed with the image
  return Math.ceil(IMAGE_MINUTES + weightsGb * MINUTES_PER_WEIGHT_GB * bake);
}
