/** The job summary of one region's deploy: status, stack, endpoint, and where the time went. */
import type { DeployFlowOptions, RegionResult, RegionStatus } from './region';

function elapsed(ms: number): string {
  return ms < 60000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}

const STATUS_TEXT: Record<RegionStatus, string> = {
  deployed: '✅ deployed',
  'no-changes': '✅ no changes',
  'change-set-created': '📝 change set created (not executed)',
  destroyed: '🗑️ destroyed',
  'destroy-previewed': '👀 destroy preview (nothing changed)',
  'nothing-to-destroy': 'nothing to destroy',
};

export function summaryMarkdown(options: DeployFlowOptions, r: RegionResult): string {
  const d = options.selection.deployment;
  const env = options.selection.environmentName ? ` → ${options.selection.environmentName}` : '';
  const rows: [string, string | undefined][] = [
    ['Status', STATUS_TEXT[r.status]],
    ['Stack', `\`${r.stackName}\``],
    ['Change set', r.changeSetId ? `\`${r.changeSetId}\`` : undefined],
    ['Endpoint', r.status === 'destroyed' ? undefined : `\`${r.endpointName}\``],
    ['URL', r.endpointUrl],
  ];
  const total = r.timings.reduce((s, t) => s + t.ms, 0);
  return [
    `## deploy-endpoint: ${d.name}${env} (${r.region})`,
    '',
    '| | |',
    '|---|---|',
    ...rows.filter(([, v]) => v).map(([k, v]) => `| ${k} | ${v} |`),
    '',
    '<details><summary>Timings (' + elapsed(total) + ')</summary>',
    '',
    '| Step | Time |',
    '|---|---|',
    ...r.timings.map((t) => `| ${t.step} | ${elapsed(t.ms)} |`),
    '',
    '</details>',
    '',
  ].join('\n');
}
