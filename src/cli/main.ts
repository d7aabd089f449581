/**
 * model-deploy: the same core as the actions, from a terminal. This file only dispatches: each command's
 * module (and the AWS clients it uses) is loaded when that command runs, so `--help` or `validate` never
 * parses the SDK (each import() below is a chunk of its own in dist/cli).
 */
import { ACTION_NAMES } from '../actions/names';
import { reportFailure } from '../core/action';
import { DeployError } from '../core/errors';
import { consoleReporter } from '../core/log';
import { VERSION } from '../core/version';
import { didYouMean } from '../config/suggest';
import { CliCommand, CliIo, terminalAsk } from './io';

export { parseFlags } from './flags';

/** Every command, in the order the usage lists them, and how to load it. */
const COMMANDS: Record<string, () => Promise<CliCommand>> = {
  init: () => import('./init'),
  validate: () => import('./validate'),
  plan: () => import('./plan'),
  bootstrap: () => import('./bootstrap'),
  status: () => import('./status'),
  destroy: () => import('./destroy'),
  benchmark: async () => (await import('./benchmark')).benchmark,
  invoke: async () => (await import('./benchmark')).invoke,
};

const isAction = (name: string) => (ACTION_NAMES as readonly string[]).includes(name);
const COMMAND_NAMES = [...Object.keys(COMMANDS), ...ACTION_NAMES];

async function loadCommand(name: string): Promise<CliCommand | undefined> {
  const load = COMMANDS[name];
  if (load) return load();
  if (isAction(name)) return (await import('./action')).actionCommand(name);
  return undefined;
}

const USAGE = `model-deploy ${VERSION}

Usage:
  model-deploy init [--model ID] [--engine NAME] [--target KIND] [--regions R1,R2] [--accounts ENV=ACCOUNT,...] [--force]
      Write model-deploy.yml and the GitHub workflows that use it (asks on a terminal, else takes flags).
  model-deploy validate [--config FILE]
  model-deploy plan [--config FILE] [--deployment NAME] [--environment ENV] [--out DIR] [--hours-per-month N]
      Validate the spec and write, for each deployment, the buildspec, Dockerfile, CloudFormation
      template and parameters, plus the cost estimate. No AWS account needed; the Hugging Face Hub is
      asked for what the spec leaves out (docs/spec.md; HF_HUB_OFFLINE=1: never). Without --config:
      ./model-deploy.yml, else the bundled example.
  model-deploy bootstrap --environment ENV --repository OWNER/REPO [--region R] [--profile P] [--yes]
      Deploy the bootstrap stack (OIDC provider, roles) of one environment with your credentials, then
      print what to set in GitHub.
  model-deploy status [--config FILE] [--environment ENV] [--deployment NAME]
      Each deployment's stack and endpoint, per environment and region: state, URL, image, last deploy.
  model-deploy destroy --environment ENV [--deployment NAME] [--yes]
      Show what would be deleted, then delete it (asks on a terminal; --yes elsewhere).
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

const wantsHelp = (args: string[]) => args.some((a) => a === '--help' || a === '-h');

function unknownCommand(command: string): DeployError {
  const suggestion = didYouMean(command, COMMAND_NAMES);
  return new DeployError(`unknown command "${command}"`, {
    title: 'Unknown command',
    hint: `${suggestion ? `${suggestion} ` : ''}Commands: ${COMMAND_NAMES.join(', ')}. Run model-deploy --help.`,
  });
}

export async function main(argv: string[], out: NodeJS.WritableStream = process.stdout, io: Partial<CliIo> = {}): Promise<number> {
  const reporter = io.reporter ?? consoleReporter({ stream: out, verbose: Boolean(process.env.MODEL_DEPLOY_DEBUG) });
  const [command = 'plan', ...rest] = argv;
  try {
    if (command === '--help' || command === '-h' || command === 'help') {
      const topic = rest[0] ? await loadCommand(rest[0]) : undefined;
      out.write(topic?.usage ?? USAGE);
      return 0;
    }
    if (command === '--version' || command === 'version') {
      out.write(`${VERSION}\n`);
      return 0;
    }
    const cmd = await loadCommand(command);
    if (!cmd) throw unknownCommand(command);
    if (wantsHelp(rest)) {
      out.write(cmd.usage);
      return 0;
    }
    const ask = 'ask' in io ? io.ask : terminalAsk(process.stdin, out);
    return await cmd.run(rest, { out, reporter, ask, signal: io.signal });
  } catch (err) {
    reportFailure(err, reporter);
    return err instanceof DeployError ? 2 : 1;
  }
}
