/**
 * Which project each bootstrap stack of an account and region serves, and the projects a new bootstrap
 * must not meet there. One stack per environment name: bootstrapping another project under a name in use
 * would hand that project's roles (model-deploy-ENV and the rest) to the new one. And every grant names
 * resources by prefix (PROJECT-*): where one project's name starts another's followed by "-" (acme,
 * acme-llm), acme's grants reach acme-llm's names. Tagged resources are guarded by tag (DenyOtherProjects);
 * what AWS creates untagged (SageMaker's /aws/sagemaker/Endpoints/NAME log groups) is not, so such names
 * are refused here, before anything changes.
 */
import { CloudFormationClient, ListStacksCommand, type Stack, type StackStatus } from '@aws-sdk/client-cloudformation';
import { DeployError, explainAwsError } from '../core/errors';
import { describeStack } from '../core/stack';

const PREFIX = 'model-deploy-bootstrap-';

/**
 * Every status of a stack that may hold resources, as ListStacks' StackStatusFilter takes them: not
 * DELETE_COMPLETE, nor ROLLBACK_COMPLETE (a create that failed and removed all it made; bootstrap replaces it).
 */
const LIVE: StackStatus[] = [
  'CREATE_IN_PROGRESS', 'CREATE_FAILED', 'CREATE_COMPLETE', 'ROLLBACK_IN_PROGRESS', 'ROLLBACK_FAILED',
  'DELETE_IN_PROGRESS', 'DELETE_FAILED', 'UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_COMPLETE',
  'UPDATE_FAILED', 'UPDATE_ROLLBACK_IN_PROGRESS', 'UPDATE_ROLLBACK_FAILED', 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS',
  'UPDATE_ROLLBACK_COMPLETE', 'REVIEW_IN_PROGRESS', 'IMPORT_IN_PROGRESS', 'IMPORT_COMPLETE', 'IMPORT_ROLLBACK_IN_PROGRESS',
  'IMPORT_ROLLBACK_FAILED', 'IMPORT_ROLLBACK_COMPLETE',
];

export interface BootstrappedProject {
  stackName: string;
  environment: string;
  project: string;
  repository: string;
}

/**
 * The bootstrap stacks of this account and region, with the project and repository each was given. `known`:
 * stacks the caller has already described (its own), not asked for again.
 */
export async function bootstrappedProjects(cfn: CloudFormationClient, known: readonly Stack[] = []): Promise<BootstrappedProject[]> {
  const names: string[] = [];
  let NextToken: string | undefined;
  try {
    do {
      const page = await cfn.send(new ListStacksCommand({ StackStatusFilter: LIVE, NextToken }));
      for (const s of page.StackSummaries ?? []) if (s.StackName?.startsWith(PREFIX)) names.push(s.StackName);
      NextToken = page.NextToken;
    } while (NextToken);
  } catch (err) {
    throw explainAwsError(err, 'Listing the bootstrap stacks of this account');
  }
  const found: BootstrappedProject[] = [];
  // A handful in an account: one read each (DescribeStacks without a name would describe every stack).
  for (const name of names) {
    const stack = known.find((k) => k.StackName === name) ?? (await describeStack(cfn, name));
    const param = (key: string) => stack?.Parameters?.find((p) => p.ParameterKey === key)?.ParameterValue ?? '';
    if (stack && param('Project')) found.push({ stackName: name, environment: name.slice(PREFIX.length), project: param('Project'), repository: param('Repository') });
  }
  return found;
}

/** a and b differ, and one starts with the other followed by "-": its PROJECT-* grants reach the other's names. */
export function projectsOverlap(a: string, b: string): boolean {
  return a !== b && (b.startsWith(`${a}-`) || a.startsWith(`${b}-`));
}

/** Why bootstrapping `project` as `environment` here would take over or reach another project; empty when it would not. */
export function projectClashes(request: { project: string; environment: string }, existing: BootstrappedProject[]): DeployError[] {
  const errors: DeployError[] = [];
  const own = `${PREFIX}${request.environment}`;
  for (const other of existing) {
    if (other.stackName === own && other.project !== request.project) {
      errors.push(new DeployError(`stack ${own} already serves project ${other.project}${other.repository ? ` (repository ${other.repository})` : ''}: bootstrapping project ${request.project} as environment ${request.environment} would hand its roles (model-deploy-${request.environment} and the rest) to ${request.project}`, {
        title: 'Environment taken',
        hint: `Give ${request.project} an environment name of its own here (for example --environment ${request.project}-${request.environment}), or delete ${own} first if project ${other.project} has left this account.`,
      }));
    } else if (projectsOverlap(request.project, other.project)) {
      const [short, long] = request.project.length < other.project.length ? [request.project, other.project] : [other.project, request.project];
      errors.push(new DeployError(`project ${request.project} overlaps project ${other.project} (stack ${other.stackName}): ${short}'s grants on ${short}-* names would reach ${long}'s, where AWS creates them untagged (SageMaker's /aws/sagemaker/Endpoints/${long}-… log groups)`, {
        title: 'Project names overlap',
        // acme-llm beside acme: acmellm; acme beside acme-llm: acme-platform (neither starts the other with "-").
        hint: `Choose a project name that does not start with "${other.project}-" and that no other project here starts with followed by "-" (for example ${short === request.project ? `${request.project}-platform` : request.project.replace(/-/g, '')}), or bootstrap it in another account.`,
      }));
    }
  }
  return errors;
}
