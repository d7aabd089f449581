// The rotate-key action: its interface, and run(): typed inputs → rotateKeys() → outputs and summary.
import type { ActionContext } from '../core/action';
import { COMMON_INPUTS, InputValues } from '../core/inputs';
import { resolveTarget } from '../config/select';
import { rotateKeys } from '../keys/rotate';

export const definition = {
  name: 'rotate-key',
  title: 'model-deploy: rotate API key',
  description: "Creates or rotates an endpoint's API key in Secrets Manager, with a grace period in which the previous key still works.",
  inputs: {
    ...COMMON_INPUTS,
    'grace-period-hours': {
      description:
        'How long the previous key keeps working after a rotation, 0-720 (default: apiKey.gracePeriodHours from the spec, 24). A rotation inside the previous grace period is refused; 0 retires the previous key at once (after a leak).',
      type: 'number',
      min: 0,
      max: 720,
    },
    'endpoint-url': {
      description: "Endpoint to test the keys against (default: the URL output of the stack); https, on the stack URL's host and port.",
      pattern: 'https://[^\\s/]+.*',
      valid: 'an https URL (both keys are sent to it)',
    },
    'create-only': { description: 'Create the secret if missing, but do not rotate an existing one.', type: 'boolean', default: 'false', conflicts: 'refresh-only' },
    'refresh-only': {
      description: 'Do not make a new key: retire the previous key if its grace period is over, undo an interrupted rotation, repair the serving labels.',
      type: 'boolean',
      default: 'false',
    },
    'timeout-minutes': { description: 'How long to wait for the serving side to load new keys (ECS deployment, SSM command).', type: 'integer', default: '30', min: 1, max: 720 },
  },
  outputs: {
    'secret-arn': { description: 'ARN of the secret holding the key (several regions: comma-separated, in region order).' },
    'version-id': { description: 'Secrets Manager version id of the current key (several regions: comma-separated).' },
    rotated: { description: 'true when a new key became current (in every region).' },
    created: { description: 'true when the secret was created by this run (in any region).' },
  },
} as const;

export async function run(inputs: InputValues<typeof definition>, ctx: ActionContext): Promise<void> {
  const target = resolveTarget(inputs, ctx.workspace);
  const outcome = await rotateKeys(
    target,
    { mode: inputs['create-only'] ? 'create-only' : inputs['refresh-only'] ? 'refresh' : 'rotate', gracePeriodHours: inputs['grace-period-hours'], endpointUrl: inputs['endpoint-url'], timeoutMinutes: inputs['timeout-minutes'] },
    ctx,
  );
  const set = (name: keyof typeof definition.outputs, value: string) => ctx.reporter.setOutput(name, value);
  if (!('results' in outcome)) {
    ctx.reporter.notice(outcome.skipped, 'No API key');
    set('rotated', 'false');
    set('created', 'false');
    return;
  }
  const { results, gracePeriodHours } = outcome;
  set('secret-arn', results.map((r) => r.secretArn).join(','));
  set('version-id', results.map((r) => r.versionId).join(','));
  set('rotated', String(results.every((r) => r.rotated)));
  set('created', String(results.some((r) => r.created)));
  const { deployment: d, environmentName } = target;
  const result = (r: (typeof results)[number]) => (r.created ? 'created' : r.rotated ? 'rotated' : r.previousRetired ? 'previous key retired' : 'unchanged');
  await ctx.reporter.summary(
    [
      `### API key of ${d.name}${environmentName ? ` (${environmentName})` : ''}`,
      '',
      '| region | secret | current version | result |',
      '|---|---|---|---|',
      ...results.map((r) => `| ${r.region} | \`${r.secretArn}\` | \`${r.versionId}\` | ${result(r)} |`),
      '',
      `Grace period: ${gracePeriodHours} h (the previous key keeps working that long after a rotation).`,
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
