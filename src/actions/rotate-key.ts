// Thin layer of the rotate-key action: inputs → rotateApiKey per region → outputs and summary.
import type { ActionContext } from '../core/action';
import { DeployError } from '../core/errors';
import { selectFromInputs } from '../config/select';
import type { RotateMode, RotateResult } from '../keys/rotate';

export async function run(ctx: ActionContext): Promise<void> {
  const { deployment: d, environmentName, environment, regions } = selectFromInputs(ctx);
  const setNothing = (why: string) => {
    ctx.reporter.notice(why, 'No API key');
    ctx.reporter.setOutput('rotated', 'false');
    ctx.reporter.setOutput('created', 'false');
  };
  if (d.target === 'sagemaker-realtime' || d.target === 'sagemaker-async') {
    return setNothing(`${d.name} is a ${d.target} endpoint: it is called with IAM-signed (SigV4) requests, so there is no API key to rotate.`);
  }
  if (!d.apiKey.enabled) return setNothing(`${d.name} has apiKey.enabled: false: there is no API key to rotate.`);

  const grace = ctx.inputs.number('grace-period-hours') ?? d.apiKey.gracePeriodHours;
  if (grace < 0 || grace > 720) {
    throw new DeployError(`input \`grace-period-hours\` is ${grace}, which is not valid: it must be between 0 and 720`, { title: 'Invalid input' });
  }
  const createOnly = ctx.inputs.bool('create-only');
  const refreshOnly = ctx.inputs.bool('refresh-only');
  if (createOnly && refreshOnly) {
    throw new DeployError('inputs `create-only` and `refresh-only` are both true: choose one', { title: 'Invalid input' });
  }
  const mode: RotateMode = createOnly ? 'create-only' : refreshOnly ? 'refresh' : 'rotate';
  const timeoutMinutes = ctx.inputs.number('timeout-minutes') ?? 30;
  if (!(timeoutMinutes > 0)) throw new DeployError('input `timeout-minutes` must be at least 1', { title: 'Invalid input' });
  const endpointUrl = ctx.inputs.optional('endpoint-url');
  if (endpointUrl && !/^https?:\/\/[^\s/]+/.test(endpointUrl)) {
    throw new DeployError(`input \`endpoint-url\` is "${endpointUrl}", which is not an http(s) URL`, { title: 'Invalid input' });
  }
  if (endpointUrl && regions.length > 1) {
    throw new DeployError('input `endpoint-url` names one endpoint, but the deployment serves several regions: set `region` too', { title: 'Invalid input' });
  }
  const runId = ctx.env.get('GITHUB_RUN_ID') ? `${ctx.env.repository ?? ''}#${ctx.env.get('GITHUB_RUN_ID')}` : undefined;

  const { rotateApiKey } = await import('../keys/rotate');
  const results: RotateResult[] = [];
  for (const region of regions) {
    const r = await ctx.reporter.group(`${mode === 'rotate' ? 'Rotating' : mode === 'refresh' ? 'Refreshing' : 'Creating'} the API key of ${d.name} in ${region}`, () =>
      rotateApiKey({
        deployment: d,
        environmentName,
        environment,
        region,
        reporter: ctx.reporter,
        signal: ctx.signal,
        mode,
        gracePeriodHours: grace,
        endpointUrl,
        timeoutMs: timeoutMinutes * 60_000,
        runId,
      }),
    );
    results.push(r);
  }
  ctx.reporter.setOutput('secret-arn', results.map((r) => r.secretArn).join(','));
  ctx.reporter.setOutput('version-id', results.map((r) => r.versionId).join(','));
  ctx.reporter.setOutput('rotated', String(results.every((r) => r.rotated)));
  ctx.reporter.setOutput('created', String(results.some((r) => r.created)));
  const rows = results.map(
    (r) => `| ${r.region} | \`${r.secretArn}\` | \`${r.versionId}\` | ${r.created ? 'created' : r.rotated ? 'rotated' : r.previousRetired ? 'previous key retired' : 'unchanged'} |`,
  );
  await ctx.reporter.summary(
    [
      `### API key of ${d.name}${environmentName ? ` (${environmentName})` : ''}`,
      '',
      '| region | secret | current version | result |',
      '|---|---|---|---|',
      ...rows,
      '',
      `Grace period: ${grace} h (the previous key keeps working that long after a rotation).`,
      '',
      '<details><summary>Steps</summary>',
      '',
      ...results.flatMap((r) => r.log.map((l) => `- ${r.region}: ${l}`)),
      '',
      '</details>',
      '',
    ].join('\n'),
  );
}
