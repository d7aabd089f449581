// Thin layer of the promote-model action: inputs → promote() → outputs.
import type { ActionContext } from '../core/action';
import { defaultSessionName } from '../core/credentials';
import { loadSpec, selectDeployment } from '../config/load';
import { specPath } from '../config/select';

export async function run(ctx: ActionContext): Promise<void> {
  const { inputs, reporter } = ctx;
  const { file, display } = specPath(ctx);
  const spec = loadSpec(file, { displayPath: display });
  const deployment = selectDeployment(spec, inputs.optional('deployment'));
  const { promote } = await import('../promote/promote');
  const env = process.env;
  const result = await promote(
    {
      spec,
      deployment,
      sourceEnvironment: inputs.string('source-environment'),
      targetEnvironment: inputs.string('target-environment'),
      region: inputs.optional('region'),
      sourceRegion: inputs.optional('source-region'),
      imageUri: inputs.optional('image-uri'),
      modelDataUrl: inputs.optional('model-data-url'),
      bedrockModelArn: inputs.optional('bedrock-model-arn'),
      run: {
        sessionName: defaultSessionName(env).replace(/^model-deploy-/, 'promote-').slice(0, 64),
        commit: ctx.env.sha,
        runUrl: ctx.env.runUrl,
        repository: ctx.env.repository,
      },
      timeoutMs: (inputs.number('timeout-minutes') ?? 120) * 60_000,
      tuning: { regionConcurrency: inputs.number('max-parallel-regions') },
    },
    reporter,
    ctx.signal,
  );
  const byRegion = (pick: (t: (typeof result.targets)[number]) => string | undefined) =>
    JSON.stringify(Object.fromEntries(result.targets.filter((t) => pick(t)).map((t) => [t.region, pick(t)])));
  reporter.setOutput(
    'targets',
    JSON.stringify(
      result.targets.map((t) => ({
        account: t.account,
        region: t.region,
        imageUri: t.imageUri,
        modelDataUrl: t.modelDataUrl,
        modelArn: t.modelArn,
        bytesCopied: t.bytesMoved + t.bytesCopied,
        skipped: t.blobsSkipped + t.objectsSkipped,
      })),
    ),
  );
  reporter.setOutput('image-uris', byRegion((t) => t.imageUri));
  reporter.setOutput('model-data-urls', byRegion((t) => t.modelDataUrl));
  reporter.setOutput('model-arns', byRegion((t) => t.modelArn));
  if (result.digest) reporter.setOutput('digest', result.digest);
}
