// The build-model action: its interface, and run(): typed inputs → buildImage() → outputs and summary.
import type { ActionContext } from '../core/action';
import { COMMON_INPUTS, InputValues } from '../core/inputs';
import { resolveTarget } from '../config/select';
import { buildImage, RegionBuild } from '../image/flow';
import { codeBuildLink } from '../core/console-links';

export const definition = {
  name: 'build-model',
  title: 'model-deploy: build model image',
  description: 'Builds the serving image with CodeBuild and pushes it to ECR; skips the build when ECR already holds an image for the same inputs.',
  inputs: {
    ...COMMON_INPUTS,
    force: { description: 'Build even when an image with the same content hash exists.', type: 'boolean', default: 'false' },
    'source-bucket': { description: 'S3 bucket for the build source bundle (default: the artifact bucket model-deploy-ACCOUNT-REGION).' },
    'timeout-minutes': { description: 'How long to wait for the build (default: build.timeoutMinutes from the spec).', type: 'integer', min: 5, max: 2160 },
    'poll-seconds': {
      description: 'Seconds between build status checks while the build runs (the first delay; it backs off to 3x while the build stays in one phase).',
      type: 'integer',
      default: '10',
      min: 1,
      max: 300,
    },
  },
  outputs: {
    'image-uri': { description: 'The serving image, by content-addressed tag.' },
    'image-digest': { description: 'sha256 digest of the image manifest.' },
    'model-data-url': { description: 'S3 location of the model weights (prefix ending in / or a .tar.gz).' },
    'build-id': { description: 'CodeBuild build id (empty when skipped).' },
    skipped: { description: 'true when no build ran because the image already existed.' },
    'build-seconds': { description: 'Wall-clock seconds the build took (0 when skipped).' },
    'image-uris': { description: 'JSON object region → image URI, for deploy-endpoint\'s image-uris (several regions).' },
    'model-data-urls': { description: "JSON object region → weights location in that region's artifact bucket, for deploy-endpoint's model-data-urls (SageMaker needs the artifacts in the endpoint's region)." },
    images: { description: 'JSON map of region to {imageUri, imageDigest, modelDataUrl}, for deployments in several regions (the other outputs describe the first).' },
  },
} as const;

export async function run(inputs: InputValues<typeof definition>, ctx: ActionContext): Promise<void> {
  const target = resolveTarget(inputs, ctx.workspace);
  const results = await buildImage(
    target,
    { force: inputs.force, sourceBucket: inputs['source-bucket'], timeoutMinutes: inputs['timeout-minutes'], pollSeconds: inputs['poll-seconds'] },
    ctx,
  );
  const [first] = results;
  if (!first) return;
  const set = (name: keyof typeof definition.outputs, value: string) => ctx.reporter.setOutput(name, value);
  set('image-uri', first.imageUri);
  set('image-digest', first.imageDigest);
  set('model-data-url', first.modelDataUrl);
  set('build-id', first.buildId);
  set('skipped', String(first.skipped));
  set('build-seconds', String(first.buildSeconds));
  const byRegion = (pick: (r: RegionBuild) => string) => JSON.stringify(Object.fromEntries(results.filter((r) => pick(r)).map((r) => [r.region, pick(r)])));
  set('image-uris', byRegion((r) => r.imageUri));
  set('model-data-urls', byRegion((r) => r.modelDataUrl));
  set('images', JSON.stringify(Object.fromEntries(results.map((r: RegionBuild) => [r.region, { imageUri: r.imageUri, imageDigest: r.imageDigest, modelDataUrl: r.modelDataUrl }]))));
  if (target.deployment.model.image) return; // a prebuilt image: nothing was built to report
  await ctx.reporter.summary(
    `### build-model: ${target.deployment.name}\n\n| region | image | built | seconds |\n|---|---|---|---|\n` +
      results.map((r) => `| ${r.region} | \`${r.imageUri}\` | ${r.skipped ? 'no (unchanged)' : `yes ([${r.buildId}](${codeBuildLink(r.region, r.buildId).url}))`} | ${r.buildSeconds} |`).join('\n') +
      '\n',
  );
}
