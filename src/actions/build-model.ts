// Thin layer of the build-model action: inputs → domain flow → outputs.
import * as path from 'path';
import type { ActionContext } from '../core/action';
import type { RegionBuild } from '../image/flow';
import { selectFromInputs, specPath } from '../config/select';

export async function run(ctx: ActionContext): Promise<void> {
  const selection = selectFromInputs(ctx);
  const d = selection.deployment;
  const out = ctx.reporter;
  if (d.model.image) {
    // A prebuilt image: nothing to build, the outputs point at it.
    out.info(`${d.name} uses the prebuilt image ${d.model.image}: no build.`);
    setOutputs(ctx, { imageUri: d.model.image, imageDigest: /@(sha256:[0-9a-f]{64})$/.exec(d.model.image)?.[1] ?? '', modelDataUrl: d.model.s3 ?? '', buildId: '', skipped: true, buildSeconds: 0 }, []);
    return;
  }
  const { buildModel } = await import('../image/flow');
  const results = await buildModel({
    d,
    regions: selection.regions,
    environmentName: selection.environmentName,
    environment: selection.environment,
    reporter: out,
    signal: ctx.signal,
    specDir: path.dirname(specPath(ctx).file),
    locate: selection.spec.locate,
    force: ctx.inputs.bool('force'),
    sourceBucket: ctx.inputs.optional('source-bucket'),
    timeoutMinutes: ctx.inputs.number('timeout-minutes'),
    pollSeconds: ctx.inputs.number('poll-seconds'),
  });
  setOutputs(ctx, results[0], results);
  await out.summary(
    `### build-model: ${d.name}\n\n| region | image | built | seconds |\n|---|---|---|---|\n` +
      results.map((r) => `| ${r.region} | \`${r.imageUri}\` | ${r.skipped ? 'no (unchanged)' : `yes (${r.buildId})`} | ${r.buildSeconds} |`).join('\n') +
      '\n',
  );
}

type Outputs = Omit<RegionBuild, 'region'> & { region?: string };

function setOutputs(ctx: ActionContext, first: Outputs, all: Outputs[]): void {
  const set = ctx.reporter.setOutput.bind(ctx.reporter);
  set('image-uri', first.imageUri);
  set('image-digest', first.imageDigest);
  set('model-data-url', first.modelDataUrl);
  set('build-id', first.buildId);
  set('skipped', String(first.skipped));
  set('build-seconds', String(first.buildSeconds));
  set('images', JSON.stringify(Object.fromEntries(all.map((r) => [r.region, { imageUri: r.imageUri, imageDigest: r.imageDigest, modelDataUrl: r.modelDataUrl }]))));
}
