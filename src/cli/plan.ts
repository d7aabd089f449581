/** `model-deploy plan`: the offline plan of a spec (buildspec, Dockerfile, template, parameters, estimate). */
import * as fs from 'fs';
import * as path from 'path';
import { DeployError } from '../core/errors';
import { DEFAULT_SPEC_FILE, loadSpec } from '../config/load';
import { plan } from '../plan/plan';
import { parseFlags } from './flags';
import type { CliIo } from './io';

export const usage = `model-deploy plan [--config FILE] [--deployment NAME] [--environment ENV] [--out DIR] [--hours-per-month N]

Validates the spec and writes, for each deployment, the buildspec, Dockerfile, CloudFormation template
and parameters, plus the cost estimate, after the checks of docs/spec.md (will the model start on
its instance type, which commit its weights are). No AWS account needed; the Hugging Face Hub is asked
only for what the spec leaves out (HF_HUB_OFFLINE=1: never, and the checks that need it say so).

  --config FILE          The spec (default: ./model-deploy.yml when it exists, else the bundled example).
  --deployment NAME      Plan one deployment (default: all).
  --environment ENV      The environment to plan for: its regions, settings and stack names (default: the
                         spec's first environment).
  --out DIR              Where to write the plan (default: plan-out).
  --hours-per-month N    Hours an always-on instance runs in a month, 1-744 (default 730).
`;

const FLAGS = ['config', 'deployment', 'environment', 'out', 'hours-per-month'] as const;

/** Where the bundled example lives, relative to this file in src/cli or dist/cli. */
export function bundledExample(): string {
  return path.resolve(__dirname, '..', '..', 'examples', 'model-deploy.yml');
}

/** The spec plan works on: --config, else ./model-deploy.yml, else the bundled example; and which it was. */
function planSpec(config: string | undefined): { file: string; display: string; why: string } {
  if (config) return { file: config, display: config, why: '' };
  if (fs.existsSync(DEFAULT_SPEC_FILE)) return { file: path.resolve(DEFAULT_SPEC_FILE), display: DEFAULT_SPEC_FILE, why: ` (./${DEFAULT_SPEC_FILE} in this folder)` };
  const file = bundledExample();
  return { file, display: path.relative(process.cwd(), file), why: ` (the bundled example: no ./${DEFAULT_SPEC_FILE} in this folder; pass --config FILE for yours)` };
}

export async function run(args: string[], { out }: CliIo): Promise<number> {
  const flags = parseFlags(args, FLAGS);
  const { file, display, why } = planSpec(flags.config);
  const outDir = path.resolve(flags.out ?? 'plan-out');
  const hours = flags['hours-per-month'] === undefined ? undefined : Number(flags['hours-per-month']);
  if (hours !== undefined && !(hours > 0 && hours <= 744)) {
    throw new DeployError(`--hours-per-month is "${flags['hours-per-month']}", which is not valid`, { hint: 'A number of hours from 1 to 744 (730 is the AWS calculator convention).' });
  }
  const spec = loadSpec(file, { displayPath: display, configFlag: '--config' });
  fs.mkdirSync(outDir, { recursive: true });
  const result = await plan(spec, { deployment: flags.deployment, environment: flags.environment, outDir, hoursPerMonth: hours });
  const which = result.environment ? ` (environment ${result.environment}${flags.environment ? '' : ', the first of the spec; --environment plans another'})` : '';
  out.write(`Plan for ${display}${why}${which}: ${Object.keys(spec.deployments).length + Object.keys(spec.bedrockDeployments).length} deployment(s)\n`);
  for (const line of result.summary) out.write(`  ${line}\n`);
  out.write(`Wrote ${result.files.length} files to ${path.relative(process.cwd(), outDir) || '.'}/\n`);
  return 0;
}
