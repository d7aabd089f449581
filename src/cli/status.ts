/** `model-deploy status`: each deployment's stack and endpoint, per environment and region. */
import { EnvInputs } from '../core/env';
import { callerIdentity } from '../core/identity';
import { DeployError } from '../core/errors';
import { deploymentStatus, isRedStatus, type RegionStatus } from '../deploy/status';
import { booleanFlag, parseFlags } from './flags';
import type { CliIo } from './io';
import { environmentRegion, requiredSpec, useProfile, workstationTargets } from './workstation';

export const usage = `model-deploy status [--config FILE] [--environment ENV] [--deployment NAME] [--profile PROFILE] [--wait [MINUTES]] [--json]

For each deployment, environment and region: the stack's status, the endpoint's state, its URL, the image
digest it serves and when it was last deployed. Reads only. Environments in another account than your
credentials' are listed as skipped (run again with --profile for that account).

  --config FILE          The spec (default: model-deploy.yml).
  --environment ENV      One environment (default: every environment of the spec).
  --deployment NAME      One deployment (default: all).
  --profile PROFILE      An AWS profile (default: the SDK's chain).
  --wait [MINUTES]       First follow every stack operation in progress (its events) to its end, for at
                         most MINUTES (default 60), then read. Exits 1 when one ended in a rollback or
                         failure, or was still in progress at the deadline. Nothing is cancelled.
  --json                 One JSON array instead of the table.
`;

const FLAGS = ['config', 'environment', 'deployment', 'profile', 'wait', 'json'] as const;
const DEFAULT_WAIT_MINUTES = 60;
const MAX_WAIT_MINUTES = 720;

/** --wait alone, --wait MINUTES, or absent (undefined). */
function waitMinutes(value: string | undefined): number | undefined {
  if (value === undefined || value === 'false') return undefined;
  if (value === 'true') return DEFAULT_WAIT_MINUTES;
  const minutes = Number(value);
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_WAIT_MINUTES) {
    throw new DeployError(`--wait is "${value}", which is not valid`, { hint: `--wait takes whole minutes from 1 to ${MAX_WAIT_MINUTES} (or nothing, for ${DEFAULT_WAIT_MINUTES}).` });
  }
  return minutes;
}

type Row = RegionStatus | (Pick<RegionStatus, 'deployment' | 'environment' | 'stackName'> & { region: string; stackStatus: string; skipped: string });

function table(rows: Row[]): string {
  const head = ['DEPLOYMENT', 'ENVIRONMENT', 'REGION', 'STACK', 'ENDPOINT', 'IMAGE', 'LAST DEPLOY', 'URL'];
  const cells = rows.map((r) => {
    if ('skipped' in r) return [r.deployment, r.environment ?? '-', r.region, `skipped: ${r.skipped}`, '', '', '', ''];
    const stack = r.waited ? `${r.stackStatus} (waited ${r.waited.seconds}s)` : r.stackStatus;
    return [
      r.deployment, r.environment ?? '-', r.region, stack, r.endpointState ?? '-',
      r.imageDigest ? r.imageDigest.slice(0, 19) : '-', r.lastDeployed ? r.lastDeployed.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-', r.url ?? '-',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  return [head, ...cells].map((c) => c.map((v, i) => (i === c.length - 1 ? v : (v ?? '').padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n');
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const flags = parseFlags(args, FLAGS);
  const wait = waitMinutes(flags.wait);
  const { spec, file } = requiredSpec(flags.config);
  useProfile(flags.profile);
  const targets = workstationTargets(spec, file, flags);
  const firstRegion = targets[0]?.regions[0] ?? environmentRegion() ?? 'us-east-1';
  const { account } = await callerIdentity({ region: firstRegion });
  const run = { reporter: io.reporter, env: new EnvInputs(process.env), signal: io.signal };
  const request = wait === undefined ? {} : { waitUntil: Date.now() + wait * 60_000 };
  const rows: Row[] = [];
  for (const target of targets) {
    const expected = target.environment?.account;
    if (expected && expected !== account) {
      rows.push(...target.regions.map((region) => ({ deployment: target.deployment.name, environment: target.environmentName, region, stackName: target.names.stack, stackStatus: 'SKIPPED', skipped: `account ${expected}, credentials are ${account}` })));
      continue;
    }
    rows.push(...(await deploymentStatus(target, request, run)));
  }
  io.out.write(booleanFlag(flags, 'json') ? `${JSON.stringify(rows, null, 2)}\n` : `${table(rows)}\n`);
  // Only what was waited for decides the exit code: a stack that was already red is reported, not re-judged.
  const bad = rows.filter((r) => !('skipped' in r) && r.waited && (isRedStatus(r.stackStatus) || r.stackStatus.endsWith('_IN_PROGRESS')));
  for (const r of bad) io.reporter.error(`${r.stackName} (${r.region}) ${r.stackStatus.endsWith('_IN_PROGRESS') ? `is still ${r.stackStatus} after ${wait} minutes` : `ended ${r.stackStatus}`}.`);
  return bad.length ? 1 : 0;
}
