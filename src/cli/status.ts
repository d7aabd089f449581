/** `model-deploy status`: each deployment's stack and endpoint, per environment and region. */
import { EnvInputs } from '../core/env';
import { callerIdentity } from '../core/identity';
import { deploymentStatus, type RegionStatus } from '../deploy/status';
import { booleanFlag, parseFlags } from './flags';
import type { CliIo } from './io';
import { environmentRegion, requiredSpec, useProfile, workstationTargets } from './workstation';

export const usage = `model-deploy status [--config FILE] [--environment ENV] [--deployment NAME] [--profile PROFILE] [--json]

For each deployment, environment and region: the stack's status, the endpoint's state, its URL, the image
digest it serves and when it was last deployed. Reads only. Environments in another account than your
credentials' are listed as skipped (run again with --profile for that account).

  --config FILE          The spec (default: model-deploy.yml).
  --environment ENV      One environment (default: every environment of the spec).
  --deployment NAME      One deployment (default: all).
  --profile PROFILE      An AWS profile (default: the SDK's chain).
  --json                 One JSON array instead of the table.
`;

const FLAGS = ['config', 'environment', 'deployment', 'profile', 'json'] as const;

type Row = RegionStatus | (Pick<RegionStatus, 'deployment' | 'environment' | 'stackName'> & { region: string; stackStatus: string; skipped: string });

function table(rows: Row[]): string {
  const head = ['DEPLOYMENT', 'ENVIRONMENT', 'REGION', 'STACK', 'ENDPOINT', 'IMAGE', 'LAST DEPLOY', 'URL'];
  const cells = rows.map((r) => {
    if ('skipped' in r) return [r.deployment, r.environment ?? '-', r.region, `skipped: ${r.skipped}`, '', '', '', ''];
    return [
      r.deployment, r.environment ?? '-', r.region, r.stackStatus, r.endpointState ?? '-',
      r.imageDigest ? r.imageDigest.slice(0, 19) : '-', r.lastDeployed ? r.lastDeployed.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-', r.url ?? '-',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  return [head, ...cells].map((c) => c.map((v, i) => (i === c.length - 1 ? v : (v ?? '').padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n');
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const flags = parseFlags(args, FLAGS);
  const { spec, file } = requiredSpec(flags.config);
  useProfile(flags.profile);
  const targets = workstationTargets(spec, file, flags);
  const firstRegion = targets[0]?.regions[0] ?? environmentRegion() ?? 'us-east-1';
  const { account } = await callerIdentity({ region: firstRegion });
  const run = { reporter: io.reporter, env: new EnvInputs(process.env), signal: io.signal };
  const rows: Row[] = [];
  for (const target of targets) {
    const expected = target.environment?.account;
    if (expected && expected !== account) {
      rows.push(...target.regions.map((region) => ({ deployment: target.deployment.name, environment: target.environmentName, region, stackName: target.names.stack, stackStatus: 'SKIPPED', skipped: `account ${expected}, credentials are ${account}` })));
      continue;
    }
    rows.push(...(await deploymentStatus(target, {}, run)));
  }
  io.out.write(booleanFlag(flags, 'json') ? `${JSON.stringify(rows, null, 2)}\n` : `${table(rows)}\n`);
  return 0;
}
