// Thin layer of the deploy-endpoint action: inputs → domain flow → outputs.
import type { ActionContext } from '../core/action';
import { selectFromInputs } from '../config/select';
import type { DeployMode } from '../deploy/flow';

export async function run(ctx: ActionContext): Promise<void> {
  const { inputs, reporter } = ctx;
  const selection = selectFromInputs(ctx);
  const { runDeployFlow } = await import('../deploy/flow');
  const results = await runDeployFlow({
    selection,
    mode: (inputs.optional('mode') ?? 'create-and-execute') as DeployMode,
    imageUri: inputs.optional('image-uri'),
    modelDataUrl: inputs.optional('model-data-url'),
    timeoutMinutes: inputs.number('timeout-minutes') ?? 60,
    failOnEmptyChangeSet: inputs.bool('fail-on-empty-changeset'),
    skipQuotaCheck: inputs.bool('skip-quota-check'),
    smokeTest: inputs.bool('smoke-test'),
    templateBucket: inputs.optional('template-bucket'),
    changeSetName: inputs.optional('change-set-name'),
    githubToken: inputs.optional('github-token'),
    env: ctx.env,
    reporter,
    signal: ctx.signal,
  });
  // Several regions: the scalar outputs name the first; `outputs` carries every region's.
  const first = results[0];
  reporter.setOutput('stack-name', first.stackName);
  reporter.setOutput('stack-id', first.stackId ?? '');
  reporter.setOutput('endpoint-name', first.endpointName);
  reporter.setOutput('endpoint-arn', first.endpointArn ?? '');
  reporter.setOutput('endpoint-url', first.endpointUrl ?? '');
  reporter.setOutput('change-set-id', first.changeSetId ?? '');
  reporter.setOutput('changes-markdown', results.map((r) => r.changesMarkdown).join('\n'));
  reporter.setOutput('has-changes', String(results.some((r) => r.hasChanges)));
  const outputs =
    results.length === 1
      ? first.outputs
      : { ...first.outputs, byRegion: Object.fromEntries(results.map((r) => [r.region, { stackId: r.stackId, endpointName: r.endpointName, endpointUrl: r.endpointUrl, outputs: r.outputs }])) };
  reporter.setOutput('outputs', JSON.stringify(outputs));
}
