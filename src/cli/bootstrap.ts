/** `model-deploy bootstrap`: the bootstrap stack of one environment, then what to set in GitHub. */
import { deployBootstrap } from '../bootstrap/deploy';
import { githubSetup } from '../bootstrap/github-setup';
import { lookUpRepositoryIds } from '../bootstrap/repository-ids';
import { BOOTSTRAP_TEMPLATE } from '../bootstrap/template';
import { EnvInputs } from '../core/env';
import { DeployError } from '../core/errors';
import { git } from '../core/git';
import { checkEnvironmentAccount } from '../config/select';
import { booleanFlag, parseFlags } from './flags';
import { confirm, type CliIo } from './io';
import { environmentRegion, optionalSpec, useProfile, WORKSTATION_DEADLINE_MS } from './workstation';

export const usage = `model-deploy bootstrap --environment ENV [--repository OWNER/REPO] [--project NAME] [--region REGION]
    [--profile PROFILE] [--parameter KEY=VALUE ...] [--template-bucket BUCKET] [--config FILE] [--yes]

Deploys ${BOOTSTRAP_TEMPLATE} (stack model-deploy-bootstrap-ENV) with your credentials:
the GitHub OIDC provider, the role the environment's jobs assume and the roles its stacks run as. Shows
the change set first and executes it once you confirm (--yes where there is no terminal); a run with
nothing to change says so. The template is over CloudFormation's 51,200-byte inline limit, so it is
uploaded to S3 first. Ends with what to set in GitHub: the environment, the repository variables, the
branch rule.

  --environment ENV        The environment (lower case), e.g. dev. Required.
  --repository OWNER/REPO  The GitHub repository that deploys (default: $GITHUB_REPOSITORY, else git's origin).
                           Its numeric ids, which the roles' default OIDC subject names, are read from GitHub
                           (GET /repos/OWNER/REPO; GH_TOKEN for a private repository) unless given as parameters.
  --project NAME           The spec's project (default: project of ./model-deploy.yml or --config).
  --region REGION          Where the stack goes (default: the environment's first region in the spec, else $AWS_REGION).
  --profile PROFILE        An AWS profile (default: the SDK's chain: environment variables, AWS_PROFILE, SSO...).
  --parameter KEY=VALUE    Any other template parameter (repeat it), e.g. --parameter PromotionEnvironments=staging,prod.
                           On an update, parameters you leave out keep their current values.
  --template-bucket NAME   An existing bucket of yours in REGION for the template upload (default: the CLI
                           creates model-deploy-templates-ACCOUNT-REGION).
  --config FILE            The spec (default: ./model-deploy.yml when it exists).
  --yes                    Execute the change set without asking.
`;

const FLAGS = ['environment', 'repository', 'project', 'region', 'profile', 'template-bucket', 'config', 'yes'] as const;

/** --parameter KEY=VALUE, repeatable: taken out before the other flags are read. */
function takeParameters(args: string[]): { rest: string[]; parameters: Record<string, string> } {
  const rest: string[] = [];
  const parameters: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const inline = /^--parameter=(.*)$/s.exec(arg);
    if (arg !== '--parameter' && !inline) {
      rest.push(arg);
      continue;
    }
    const pair = inline ? inline[1] ?? '' : args[++i] ?? '';
    const m = /^([A-Za-z0-9]+)=(.*)$/s.exec(pair);
    if (!m) throw new DeployError(`--parameter "${pair}" is not KEY=VALUE`, { hint: 'e.g. --parameter PromotionEnvironments=staging,prod' });
    parameters[m[1]!] = m[2]!;
  }
  return { rest, parameters };
}

/** OWNER/REPO of git's origin remote (https or ssh form), when there is one. */
async function originRepository(): Promise<string | undefined> {
  const r = await git(process.cwd(), ['remote', 'get-url', 'origin']);
  return r.ok ? /github\.com[:/]([^/]+\/[^/]+?)(\.git)?\/?$/.exec(r.stdout.trim())?.[1] : undefined;
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { rest, parameters } = takeParameters(args);
  const flags = parseFlags(rest, FLAGS);
  const environment = flags.environment;
  if (!environment) throw new DeployError('bootstrap needs --environment', { hint: 'e.g. --environment dev (one stack per account and environment).' });
  const found = optionalSpec(flags.config);
  const spec = found?.spec;
  const repository = flags.repository ?? process.env.GITHUB_REPOSITORY ?? (await originRepository());
  if (!repository) throw new DeployError('bootstrap needs --repository OWNER/REPO', { hint: 'The GitHub repository whose jobs may assume the role; no git remote "origin" on github.com was found here.' });
  const project = flags.project ?? spec?.project;
  if (!project) throw new DeployError('bootstrap needs --project NAME', { hint: 'The project field of your model-deploy.yml (no spec was found here; run model-deploy init first, or pass --project).' });
  const envSpec = spec?.environments?.[environment];
  const region = flags.region ?? envSpec?.regions?.[0] ?? environmentRegion();
  if (!region) throw new DeployError('bootstrap needs --region', { hint: 'The region of the stack (or set AWS_REGION).' });
  const yes = booleanFlag(flags, 'yes');
  useProfile(flags.profile);
  const result = await deployBootstrap(
    {
      environment,
      region,
      parameters: { Repository: repository, Project: project, Environment: environment, ...parameters },
      templateBucket: flags['template-bucket'],
      confirm: async () => {
        if (yes) return true;
        if (!io.ask) {
          io.reporter.warning('No terminal to confirm on: pass --yes to execute the change set.');
          return false;
        }
        return confirm(io.ask, 'Execute this change set?');
      },
      deadline: Date.now() + WORKSTATION_DEADLINE_MS,
      accountCheck: spec ? (account) => checkEnvironmentAccount(account, environment, envSpec, spec.locate.bind(spec)) : undefined,
      repositoryIds: (repo) => lookUpRepositoryIds(repo, process.env),
    },
    { reporter: io.reporter, env: new EnvInputs(process.env), signal: io.signal },
  );
  const verb = { created: 'created', updated: 'updated', unchanged: 'unchanged (nothing to do)', pending: 'not changed: the change set waits for execution' }[result.outcome];
  io.out.write(`\nStack ${result.stackName} (${result.account}, ${result.region}): ${verb}.\n`);
  if (result.outcome === 'pending') return 0;
  io.out.write(`\n${githubSetup({ repository, environment, region, outputs: result.outputs }).join('\n')}\n`);
  return 0;
}
