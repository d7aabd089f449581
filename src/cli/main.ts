/**
 * model-deploy: the same core as the actions, from a terminal.
 *   model-deploy plan [--config FILE] [--deployment NAME] [--environment ENV] [--out DIR]
 *   model-deploy validate [--config FILE]
 *   model-deploy <action> [--<input> VALUE ...]   (build-model, deploy-endpoint, rotate-key, promote-model, estimate-cost)
 */
import * as fs from 'fs';
import * as path from 'path';
import { ACTION_NAMES, actionModule } from '../actions';
import { reportFailure, runAction } from '../core/action';
import { DeployError } from '../core/errors';
import { mapInputSource } from '../core/inputs';
import { consoleReporter } from '../core/log';
import { VERSION } from '../core/version';
import { didYouMean } from '../config/suggest';

/** Where the bundled example lives, relative to this file in src/cli or dist/cli. */
export function bundledExample(): string {
  return path.resolve(__dirname, '..', '..', 'examples', 'model-deploy.yml');
}

export function parseFlags(args: string[], allowed: readonly string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('--')) throw new DeployError(`unexpected argument "${arg}"`, { hint: 'Flags look like --name value.' });
    const [name = '', inline] = arg.slice(2).split(/=(.*)/s, 2);
    let value = inline;
    if (!allowed.includes(name)) {
      throw new DeployError(`unknown flag --${name}`, { hint: `${didYouMean(name, allowed)} Flags: ${allowed.map((a) => `--${a}`).join(', ')}.` });
    }
    if (value === undefined) {
      const next = args[i + 1];
      if (next === undefined || next.startsWith('--')) value = 'true';
      else {
        value = next;
        i++;
      }
    }
    flags[name] = value;
  }
  return flags;
}

const USAGE = `model-deploy ${VERSION}

Usage:
  model-deploy plan [--config FILE] [--deployment NAME] [--environment ENV] [--out DIR] [--hours-per-month N]
      Validate the spec and write, for each deployment, the buildspec, Dockerfile, CloudFormation
      template and parameters, plus the cost estimate. Offline. Without --config: the bundled example.
  model-deploy validate [--config FILE]
  model-deploy <action> [--<input> VALUE ...]
      Run an action from this machine with your AWS credentials. Actions: ${ACTION_NAMES.join(', ')}.
      Its inputs are the flags; see actions/<action>/action.yml.
`;

export async function main(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const reporter = consoleReporter({ stream: out, verbose: Boolean(process.env.MODEL_DEPLOY_DEBUG) });
  const [command, ...rest] = argv;
  try {
    if (!command || command === 'plan') return await planCommand(rest, reporter, out);
    if (command === '--help' || command === '-h' || command === 'help') {
      out.write(USAGE);
      return 0;
    }
    if (command === '--version' || command === 'version') {
      out.write(`${VERSION}\n`);
      return 0;
    }
    if (command === 'validate') {
      const flags = parseFlags(rest, ['config']);
      const { loadSpec } = await import('../config/load');
      const file = flags.config ?? 'model-deploy.yml';
      const spec = loadSpec(file);
      out.write(`${file}: valid, ${Object.keys(spec.deployments).length} deployment(s): ${Object.keys(spec.deployments).join(', ')}\n`);
      return 0;
    }
    const action = actionModule(command);
    if (!action) {
      throw new DeployError(`unknown command "${command}"`, {
        hint: `${didYouMean(command, ['plan', 'validate', ...ACTION_NAMES])} Run model-deploy --help.`,
      });
    }
    const flags = parseFlags(rest, Object.keys(action.definition.inputs));
    const ok = await runAction(action, { source: mapInputSource(flags), reporter, setExitCode: false });
    return ok ? 0 : 1;
  } catch (err) {
    reportFailure(err, reporter);
    return err instanceof DeployError ? 2 : 1;
  }
}

async function planCommand(args: string[], reporter: ReturnType<typeof consoleReporter>, out: NodeJS.WritableStream): Promise<number> {
  const flags = parseFlags(args, ['config', 'deployment', 'environment', 'out', 'hours-per-month']);
  const file = flags.config ?? bundledExample();
  const display = flags.config ?? path.relative(process.cwd(), file);
  const outDir = path.resolve(flags.out ?? 'plan-out');
  const hours = flags['hours-per-month'] === undefined ? undefined : Number(flags['hours-per-month']);
  if (hours !== undefined && !(hours > 0 && hours <= 744)) {
    throw new DeployError(`--hours-per-month is "${flags['hours-per-month']}", which is not valid`, { hint: 'A number of hours from 1 to 744 (730 is the AWS calculator convention).' });
  }
  const { loadSpec } = await import('../config/load');
  const { plan } = await import('../plan/plan');
  const spec = loadSpec(file, { displayPath: display });
  fs.mkdirSync(outDir, { recursive: true });
  const result = await plan(spec, { deployment: flags.deployment, environment: flags.environment, outDir, hoursPerMonth: hours });
  out.write(`Plan for ${display}${flags.environment ? ` (environment ${flags.environment})` : ''}: ${Object.keys(spec.deployments).length} deployment(s)\n`);
  for (const line of result.summary) out.write(`  ${line}\n`);
  out.write(`Wrote ${result.files.length} files to ${path.relative(process.cwd(), outDir) || '.'}/\n`);
  void reporter;
  return 0;
}
