/**
 * model-deploy: the same core as the actions, from a terminal.
 *   model-deploy plan [--config FILE] [--deployment NAME] [--environment ENV] [--out DIR]
 *   model-deploy validate [--config FILE]
 *   model-deploy benchmark --url URL [--api-key-env NAME] ...   (any OpenAI-compatible server)
 *   model-deploy invoke [--config FILE] [--deployment NAME] ... --body JSON|@FILE   (one request to a deployment)
 *   model-deploy <action> [--<input> VALUE ...]   (build-model, deploy-endpoint, rotate-key, promote-model, estimate-cost)
 *   model-deploy <command> --help
 */
import * as fs from 'fs';
import * as path from 'path';
import { ACTION_NAMES, actionModule } from '../actions';
import { reportFailure, runAction } from '../core/action';
import { DeployError } from '../core/errors';
import { ActionDefinition, mapInputSource } from '../core/inputs';
import { consoleReporter } from '../core/log';
import { VERSION } from '../core/version';
import { didYouMean } from '../config/suggest';
import { DEFAULT_SPEC_FILE, loadSpec, missingSpecError } from '../config/load';
import { checkSpec, plan } from '../plan/plan';
import { BENCHMARK_USAGE, benchmarkCommand } from '../benchmark/cli';
import { INVOKE_FLAGS, INVOKE_USAGE, invokeCommand } from '../benchmark/invoke';

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
      template and parameters, plus the cost estimate. No AWS account needed; the Hugging Face Hub is
      asked for what the spec leaves out (docs/spec.md; HF_HUB_OFFLINE=1: never). Without --config:
      ./model-deploy.yml, else the bundled example.
  model-deploy validate [--config FILE]
  model-deploy benchmark --url URL [--api-key-env NAME] --concurrency N --requests N
      --prompt-tokens P --output-tokens G [--json]
      Measure any OpenAI-compatible server as vllm bench serve does (TTFT, TPOT, ITL, throughput).
  model-deploy invoke [--config FILE] [--deployment NAME] [--environment ENV] [--region REGION] --body JSON|@FILE
      Send one request to a deployed endpoint (any target) and print the answer.
  model-deploy <action> [--<input> VALUE ...]
      Run an action from this machine with your AWS credentials. Actions: ${ACTION_NAMES.join(', ')}.
      Its inputs are the flags; model-deploy <action> --help lists them.
  model-deploy <command> --help
`;

const PLAN_FLAGS = ['config', 'deployment', 'environment', 'out', 'hours-per-month'] as const;

const COMMAND_HELP: Record<string, string> = {
  benchmark: BENCHMARK_USAGE.replace(/^Usage:\n {2}/, ''),
  invoke: INVOKE_USAGE,
  plan: `model-deploy plan [--config FILE] [--deployment NAME] [--environment ENV] [--out DIR] [--hours-per-month N]

Validates the spec and writes, for each deployment, the buildspec, Dockerfile, CloudFormation template
and parameters, plus the cost estimate, after the checks of docs/spec.md (will the model start on
its instance type, which commit its weights are). No AWS account needed; the Hugging Face Hub is asked
only for what the spec leaves out (HF_HUB_OFFLINE=1: never, and the checks that need it say so).

  --config FILE          The spec (default: ./model-deploy.yml when it exists, else the bundled example).
  --deployment NAME      Plan one deployment (default: all).
  --environment ENV      Plan for one environment of the spec (its regions and settings).
  --out DIR              Where to write the plan (default: plan-out).
  --hours-per-month N    Hours an always-on instance runs in a month, 1-744 (default 730).
`,
  validate: `model-deploy validate [--config FILE]

Checks the spec against the schema, the rules a schema cannot say and the checks of docs/spec.md (will the
model start on its instance type, which commit its weights are); prints file:line for each problem.

  --config FILE          The spec (default: model-deploy.yml).
`,
};

/** An action's usage, from its definition: each input is a flag. */
function actionHelp(definition: ActionDefinition): string {
  const flags = Object.entries(definition.inputs).map(([name, input]) => {
    const arg = input.type === 'boolean' ? '' : input.type === 'integer' || input.type === 'number' ? ' N' : ' VALUE';
    const choices = input.choices ? ` One of: ${input.choices.join(', ')}.` : '';
    const dflt = input.default !== undefined && !input.default.includes('${{') ? ` (default ${input.default})` : '';
    return `  --${name}${arg}\n      ${input.description}${choices}${dflt}${input.required ? ' Required.' : ''}`;
  });
  return `model-deploy ${definition.name} [--<input> VALUE ...]\n\n${definition.description}\nRuns with your AWS credentials.\n\n${flags.join('\n')}\n`;
}

function helpFor(command: string): string | undefined {
  const action = actionModule(command);
  return COMMAND_HELP[command] ?? (action ? actionHelp(action.definition) : undefined);
}

const wantsHelp = (args: string[]) => args.some((a) => a === '--help' || a === '-h');

export async function main(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const reporter = consoleReporter({ stream: out, verbose: Boolean(process.env.MODEL_DEPLOY_DEBUG) });
  const [command, ...rest] = argv;
  try {
    if (command === '--help' || command === '-h' || command === 'help') {
      out.write((rest[0] && helpFor(rest[0])) ?? USAGE);
      return 0;
    }
    if (command === '--version' || command === 'version') {
      out.write(`${VERSION}\n`);
      return 0;
    }
    if (wantsHelp(rest) && command && helpFor(command)) {
      out.write(helpFor(command) ?? USAGE);
      return 0;
    }
    if (!command || command === 'plan') return await planCommand(rest, out);
    if (command === 'validate') return await validateCommand(rest, out);
    // Its own flags and exit codes (2 for a usage error), and Ctrl-C stops the run.
    if (command === 'benchmark') return await benchmarkCommand(rest, reporter);
    if (command === 'invoke') return await invokeCommand(parseFlags(rest, INVOKE_FLAGS), reporter);
    return await actionCommand(command, rest, reporter);
  } catch (err) {
    reportFailure(err, reporter);
    return err instanceof DeployError ? 2 : 1;
  }
}

async function validateCommand(args: string[], out: NodeJS.WritableStream): Promise<number> {
  const flags = parseFlags(args, ['config']);
  const file = flags.config ?? DEFAULT_SPEC_FILE;
  const spec = loadSpec(file, { configFlag: '--config' });
  const { lines } = await checkSpec(spec);
  out.write(`${file}: valid, ${Object.keys(spec.deployments).length} deployment(s): ${Object.keys(spec.deployments).join(', ')}\n`);
  for (const line of lines) out.write(`  ${line}\n`);
  return 0;
}

async function actionCommand(command: string, args: string[], reporter: ReturnType<typeof consoleReporter>): Promise<number> {
  const action = actionModule(command);
  if (!action) {
    throw new DeployError(`unknown command "${command}"`, {
      hint: `${didYouMean(command, ['plan', 'validate', 'benchmark', 'invoke', ...ACTION_NAMES])} Run model-deploy --help.`,
    });
  }
  const flags = parseFlags(args, Object.keys(action.definition.inputs));
  // The action would name its `config` input; from a terminal the user gave (or left out) --config.
  if ('config' in action.definition.inputs) {
    const config = flags.config ?? DEFAULT_SPEC_FILE;
    // Resolved as the action resolves it (core/action.ts: the workspace, else the current folder).
    if (!fs.existsSync(path.resolve(process.env.GITHUB_WORKSPACE || process.cwd(), config))) throw missingSpecError(config, '--config');
  }
  const ok = await runAction(action, { source: mapInputSource(flags), reporter, setExitCode: false });
  return ok ? 0 : 1;
}

/** The spec plan works on: --config, else ./model-deploy.yml, else the bundled example; and which it was. */
function planSpec(config: string | undefined): { file: string; display: string; why: string } {
  if (config) return { file: config, display: config, why: '' };
  if (fs.existsSync(DEFAULT_SPEC_FILE)) return { file: path.resolve(DEFAULT_SPEC_FILE), display: DEFAULT_SPEC_FILE, why: ` (./${DEFAULT_SPEC_FILE} in this folder)` };
  const file = bundledExample();
  return { file, display: path.relative(process.cwd(), file), why: ` (the bundled example: no ./${DEFAULT_SPEC_FILE} in this folder; pass --config FILE for yours)` };
}

async function planCommand(args: string[], out: NodeJS.WritableStream): Promise<number> {
  const flags = parseFlags(args, PLAN_FLAGS);
  const { file, display, why } = planSpec(flags.config);
  const outDir = path.resolve(flags.out ?? 'plan-out');
  const hours = flags['hours-per-month'] === undefined ? undefined : Number(flags['hours-per-month']);
  if (hours !== undefined && !(hours > 0 && hours <= 744)) {
    throw new DeployError(`--hours-per-month is "${flags['hours-per-month']}", which is not valid`, { hint: 'A number of hours from 1 to 744 (730 is the AWS calculator convention).' });
  }
  const spec = loadSpec(file, { displayPath: display, configFlag: '--config' });
  fs.mkdirSync(outDir, { recursive: true });
  const result = await plan(spec, { deployment: flags.deployment, environment: flags.environment, outDir, hoursPerMonth: hours });
  out.write(`Plan for ${display}${why}${flags.environment ? ` (environment ${flags.environment})` : ''}: ${Object.keys(spec.deployments).length} deployment(s)\n`);
  for (const line of result.summary) out.write(`  ${line}\n`);
  out.write(`Wrote ${result.files.length} files to ${path.relative(process.cwd(), outDir) || '.'}/\n`);
  return 0;
}
