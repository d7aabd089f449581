/** `model-deploy destroy`: what would be deleted first, then (confirmed) the deletion, per deployment and region. */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { awsClient } from '../core/aws';
import { DeployError } from '../core/errors';
import { sha256Hex } from '../core/hash';
import { callerIdentity } from '../core/identity';
import { checkEnvironmentAccount } from '../config/select';
import { destroyStack, previewDestroy } from '../deploy/destroy';
import { booleanFlag, parseFlags } from './flags';
import { confirm, type CliIo } from './io';
import { requiredSpec, useProfile, workstationTargets, WORKSTATION_DEADLINE_MS } from './workstation';

export const usage = `model-deploy destroy --environment ENV [--deployment NAME] [--region REGION] [--config FILE]
    [--profile PROFILE] [--delete-logs] [--yes]

Shows what would be deleted and what stays (data outside the stack: weights, images, the API-key secret),
then deletes each deployment's stack in the environment once you confirm (--yes where there is no
terminal). A stack with termination protection, or one another operation is changing, is refused.

  --environment ENV      The environment. Required when the spec has environments.
  --deployment NAME      One deployment (default: all).
  --region REGION        One region (default: every region of the deployment in that environment).
  --config FILE          The spec (default: model-deploy.yml).
  --profile PROFILE      An AWS profile of the environment's account (default: the SDK's chain).
  --delete-logs          Also delete the SageMaker endpoint's log group.
  --yes                  Delete without asking.
`;

const FLAGS = ['environment', 'deployment', 'region', 'config', 'profile', 'delete-logs', 'yes'] as const;

export async function run(args: string[], io: CliIo): Promise<number> {
  const flags = parseFlags(args, FLAGS);
  const { spec, file } = requiredSpec(flags.config);
  const environments = Object.keys(spec.environments ?? {});
  if (!flags.environment && environments.length) {
    throw new DeployError('destroy needs --environment', { hint: `One of: ${environments.join(', ')}. Destroy works on one environment at a time.` });
  }
  const deleteLogs = booleanFlag(flags, 'delete-logs');
  const yes = booleanFlag(flags, 'yes');
  useProfile(flags.profile);
  const targets = workstationTargets(spec, file, flags);
  const { reporter } = io;
  const { account } = await callerIdentity({ region: targets[0]?.regions[0] ?? 'us-east-1' });
  // Every check before anything is deleted: the credentials are the environment's account's.
  for (const t of targets) checkEnvironmentAccount(account, t.environmentName, t.environment, spec.locate.bind(spec));
  const work = targets.flatMap((target) => target.regions.map((region) => ({ target, region, cfn: awsClient(CloudFormationClient, { region }) })));
  let existing = 0;
  for (const { target, region, cfn } of work) {
    const preview = await previewDestroy({ cfn, names: target.names, region, account, deployment: target.deployment, environment: target.environmentName, reporter, deleteLogs });
    if (preview.existed) existing++;
    io.out.write(`${preview.markdown}\n`);
  }
  if (existing === 0) {
    io.out.write('Nothing to destroy.\n');
    return 0;
  }
  if (!yes) {
    if (!io.ask) {
      throw new DeployError(`destroy would delete ${existing} stack(s) and needs confirmation`, { title: 'Not confirmed', hint: 'No terminal to ask on: pass --yes to delete what is listed above.' });
    }
    if (!(await confirm(io.ask, `Delete ${existing} stack(s) listed above?`))) {
      io.out.write('Nothing deleted.\n');
      return 1;
    }
  }
  const deadline = Date.now() + WORKSTATION_DEADLINE_MS;
  for (const { target, region, cfn } of work) {
    const token = `md-destroy-cli-${sha256Hex(`${target.names.stack}${region}${Date.now()}`).slice(0, 16)}`;
    const result = await destroyStack({ cfn, names: target.names, region, account, deployment: target.deployment, environment: target.environmentName, reporter, deadline, token, signal: io.signal, deleteLogs });
    io.out.write(`${result.markdown}\n`);
  }
  return 0;
}
