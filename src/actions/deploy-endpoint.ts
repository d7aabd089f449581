// The deploy-endpoint action: its interface, and run(): typed inputs → deployEndpoint() → outputs and summary.
import { benchmarkAfterDeploy } from '../benchmark/after-deploy';
import type { ActionContext } from '../core/action';
import { COMMON_INPUTS, InputValues } from '../core/inputs';
import { resolveTarget, Target } from '../config/select';
import { deployBillSection } from '../cost/bill-report';
import { completedRegions, DEPLOY_MODES, deployEndpoint, failedRegion, RegionResult, RegionStatus, Timing } from '../deploy/flow';
import { DeployError, errorMessage } from '../core/errors';
import { announceDeploy } from '../deploy/start-notice';

export const definition = {
  name: 'deploy-endpoint',
  title: 'model-deploy: deploy endpoint',
  description: 'Deploys a model endpoint with CloudFormation (SageMaker real-time or async, EC2, ECS): change set first, live events, safe rollback.',
  inputs: {
    ...COMMON_INPUTS,
    mode: {
      description:
        'create-and-execute, create-only (show the change set, e.g. on a PR), execute-only (a change set made before), resume (follow a stack operation a deploy with wait: false left running, with the same waits and checks), destroy, or destroy-preview (read-only: what destroy would delete and keep).',
      type: 'choice',
      choices: DEPLOY_MODES,
      default: 'create-and-execute',
    },
    'change-set-name': {
      description: 'Change set to create or execute (default md-<first 7 of the commit sha>, so create-only on a PR and execute-only after it agree).',
      pattern: '[a-zA-Z][-a-zA-Z0-9]{0,127}',
      valid: 'a letter, then letters, digits and hyphens, 128 characters at most',
    },
    'image-uri': { description: 'Serving image (the image-uri output of build-model; default: model.image from the spec).' },
    'model-data-url': { description: 'Model weights in S3 (the model-data-url output of build-model; default: model.s3 from the spec).' },
    'image-uris': { description: "Per-region images, a JSON object region → image URI (promote-model's image-uris output); a region it names wins over image-uri." },
    'model-data-versions': {
      description:
        "promote-model's model-data-versions output (region → object key → S3 version): the deploy refuses, before changing anything, weights overwritten since they were promoted.",
    },
    'model-data-urls': { description: "Per-region weights, a JSON object region → S3 URL (promote-model's model-data-urls output); a region it names wins over model-data-url." },
    'timeout-minutes': {
      description: "How long to wait for the stack (default: derived from the model's size and where it loads from, with the rollout; the log says the figure).",
      type: 'integer',
      min: 1,
      max: 720,
    },
    wait: {
      description:
        'false: return once the change set is executing (no runner time spent waiting); the outputs name the stack, change set and region, and a later step with mode: resume waits and checks the endpoint. create-and-execute and execute-only.',
      type: 'boolean',
      default: 'true',
    },
    'fail-on-empty-changeset': { description: 'Fail when there is nothing to change (default: succeed as a no-op).', type: 'boolean', default: 'false' },
    'skip-quota-check': { description: 'Do not check Service Quotas before deploying.', type: 'boolean', default: 'false' },
    'smoke-test': { description: 'Invoke the endpoint with the spec smokeTest payload after the deploy.', type: 'boolean', default: 'true' },
    'delete-logs': {
      description:
        "destroy, destroy-preview: also delete the SageMaker endpoint's log group (/aws/sagemaker/Endpoints/NAME), which CloudFormation does not own and destroy otherwise keeps and reports.",
      type: 'boolean',
      default: 'false',
    },
    'template-bucket': { description: 'S3 bucket for templates over 51,200 bytes (default: the artifact bucket).' },
    'github-token': { description: 'Token for GitHub deployments and statuses.', default: '${{ github.token }}', secret: true },
    benchmark: {
      description:
        "After the deploy, measure the endpoint under the spec's workload (TTFT, TPOT, throughput as vLLM's bench serve defines them; $ per 1M output tokens) and write the result to benchmark-results for the PR cost comment.",
      type: 'boolean',
      default: 'false',
    },
    'benchmark-results': { description: 'Folder the benchmark result is written to (commit it so the PR cost comment can read it).', default: '.model-deploy/benchmarks/' },
    'bill-days': {
      description: "Add the estimate against the bill of the last N full days to the summary (Cost Explorer, by the stack's tags; the role needs ce:GetCostAndUsage). 0: off.",
      type: 'integer',
      default: '0',
      min: 0,
      max: 90,
    },
  },
  outputs: {
    'stack-name': { description: 'CloudFormation stack name.' },
    'stack-id': { description: 'CloudFormation stack id.' },
    region: { description: 'The region of stack-name and change-set-id (the first, with several regions).' },
    'endpoint-name': { description: 'SageMaker endpoint name, or the service name for ec2/ecs.' },
    'endpoint-arn': { description: 'ARN of the endpoint.' },
    'endpoint-url': { description: 'URL clients call.' },
    'change-set-id': { description: 'The change set created (create-only) or executed.' },
    'changes-markdown': { description: 'The change set rendered as markdown.' },
    'has-changes': { description: 'false when the change set was empty.' },
    'benchmark-json': { description: 'The benchmark result as JSON with vLLM bench serve field names (several regions: an object by region). Empty without benchmark.' },
    stopwatch: {
      description:
        'Where the time went, as JSON: each stage (change set, stack execution, endpoint check, smoke test, ...) with its milliseconds and AWS requests (several regions: an object by region).',
    },
    outputs: { description: "Every stack output, as a JSON object (several regions: the first region's, plus byRegion with each region)." },
  },
} as const;

function elapsed(ms: number): string {
  return ms < 60000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}

const STATUS_TEXT: Record<RegionStatus, string> = {
  deployed: '✅ deployed',
  executing: '⏩ executing (wait: false): follow it with mode: resume',
  'no-changes': '✅ no changes',
  'change-set-created': '📝 change set created (not executed)',
  destroyed: '🗑️ destroyed',
  'destroy-previewed': '👀 destroy preview (nothing changed)',
  'nothing-to-destroy': 'nothing to destroy',
};

function stopwatch(timings: Timing[]): string[] {
  const total = timings.reduce((s, t) => s + t.ms, 0);
  return [
    '<details><summary>Timings (' + elapsed(total) + ', ' + timings.reduce((n, t) => n + (t.requests ?? 0), 0) + ' AWS requests)</summary>',
    '',
    '| Stage | Time | AWS requests |',
    '|---|---|---|',
    ...timings.map((t) => `| ${t.step} | ${elapsed(t.ms)} | ${t.requests ?? ''} |`),
    '',
    '</details>',
    '',
  ];
}

/** The job summary of the region a deploy failed in: the true reason, what to do, and where the time went. */
export function failureSummary(target: Target, err: unknown): string | undefined {
  const at = failedRegion(err);
  if (!at) return undefined;
  const env = target.environmentName ? ` → ${target.environmentName}` : '';
  const title = err instanceof DeployError && err.title ? err.title : 'Failed';
  const hint = err instanceof DeployError && err.hint ? err.hint : '';
  const quote = (text: string) => text.split('\n').map((l) => `> ${l}`).join('\n');
  return [
    `## deploy-endpoint: ${target.deployment.name}${env} (${at.region})`,
    '',
    `❌ **${title}**`,
    '',
    quote(errorMessage(err)),
    '',
    ...(hint ? [hint, ''] : []),
    ...stopwatch(at.timings),
  ].join('\n');
}

/** The job summary of one region: status, stack, endpoint, and where the time went. */
export function regionSummary(target: Target, r: RegionResult): string {
  const env = target.environmentName ? ` → ${target.environmentName}` : '';
  const rows: [string, string | undefined][] = [
    ['Status', STATUS_TEXT[r.status]],
    ['Stack', `\`${r.stackName}\``],
    ['Change set', r.changeSetId ? `\`${r.changeSetId}\`` : undefined],
    ['Endpoint', r.status === 'destroyed' ? undefined : `\`${r.endpointName}\``],
    ['URL', r.endpointUrl],
  ];
  return [
    `## deploy-endpoint: ${target.deployment.name}${env} (${r.region})`,
    '',
    '| | |',
    '|---|---|',
    ...rows.filter(([, v]) => v).map(([k, v]) => `| ${k} | ${v} |`),
    '',
    ...stopwatch(r.timings),
  ].join('\n');
}

export async function run(inputs: InputValues<typeof definition>, ctx: ActionContext): Promise<void> {
  if (!inputs.wait && inputs.mode !== 'create-and-execute' && inputs.mode !== 'execute-only') {
    throw new DeployError(`input \`wait\` is false, and mode is ${inputs.mode}: only create-and-execute and execute-only can return before the stack is done`, {
      title: 'Invalid input',
      hint: 'Remove `wait: false`, or use it with mode create-and-execute or execute-only (then mode: resume waits later).',
    });
  }
  const target = resolveTarget(inputs, ctx.workspace);
  const timeoutMinutes = await announceDeploy(target, { modelDataUrl: inputs['model-data-url'], timeoutMinutes: inputs['timeout-minutes'] }, ctx.reporter);
  const results = await deployEndpoint(
    target,
    {
      mode: inputs.mode,
      imageUri: inputs['image-uri'],
      modelDataUrl: inputs['model-data-url'],
      imageUris: inputs['image-uris'],
      modelDataUrls: inputs['model-data-urls'],
      modelDataVersions: inputs['model-data-versions'],
      timeoutMinutes,
      wait: inputs.wait,
      failOnEmptyChangeSet: inputs['fail-on-empty-changeset'],
      skipQuotaCheck: inputs['skip-quota-check'],
      smokeTest: inputs['smoke-test'],
      deleteLogs: inputs['delete-logs'],
      templateBucket: inputs['template-bucket'],
      changeSetName: inputs['change-set-name'],
      githubToken: inputs['github-token'],
    },
    ctx,
  ).catch(async (err: unknown) => {
    // A later region failed: the regions before it are deployed, and their summaries say so.
    for (const r of completedRegions(err)) await ctx.reporter.summary(regionSummary(target, r));
    const failed = failureSummary(target, err);
    if (failed) await ctx.reporter.summary(failed);
    throw err;
  });
  for (const r of results) await ctx.reporter.summary(regionSummary(target, r));
  const bill = await deployBillSection(target, inputs['bill-days'], ctx);
  if (bill) await ctx.reporter.summary(bill);
  // Several regions: the scalar outputs name the first; `outputs` carries every region's.
  const [first] = results;
  if (!first) return;
  const set = (name: keyof typeof definition.outputs, value: string | undefined) => ctx.reporter.setOutput(name, value ?? '');
  set('stack-name', first.stackName);
  set('stack-id', first.stackId);
  set('region', first.region);
  set('endpoint-name', first.endpointName);
  set('endpoint-arn', first.endpointArn);
  set('endpoint-url', first.endpointUrl);
  set('change-set-id', first.changeSetId);
  set('changes-markdown', results.map((r) => r.changesMarkdown).join('\n'));
  set('has-changes', String(results.some((r) => r.hasChanges)));
  const byRegion = Object.fromEntries(results.map((r) => [r.region, { stackId: r.stackId, endpointName: r.endpointName, endpointUrl: r.endpointUrl, outputs: r.outputs }]));
  set('outputs', JSON.stringify(results.length === 1 ? first.outputs : { ...first.outputs, byRegion }));
  set('stopwatch', JSON.stringify(results.length === 1 ? first.timings : Object.fromEntries(results.map((r) => [r.region, r.timings]))));
  if (!inputs.benchmark || !inputs.wait || inputs.mode === 'destroy' || inputs.mode === 'destroy-preview' || inputs.mode === 'create-only') return;
  const measured = await benchmarkAfterDeploy(target, { deployed: results, workspace: ctx.workspace, resultsDir: inputs['benchmark-results'], imageUri: inputs['image-uri'] }, ctx);
  for (const m of measured) await ctx.reporter.summary(m.markdown);
  set('benchmark-json', JSON.stringify(measured.length === 1 ? measured[0]?.json : Object.fromEntries(measured.map((m) => [m.region, m.json]))));
}
