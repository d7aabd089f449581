/**
 * The bootstrap of one environment, from a workstation with the administrator's credentials: the change
 * set is created and shown before anything changes, executed only once confirmed, its events streamed;
 * a run with nothing to change says so and changes nothing. What GitHub needs comes from the outputs.
 */
import { CloudFormationClient, ExecuteChangeSetCommand, type Change } from '@aws-sdk/client-cloudformation';
import type { RunContext } from '../core/action';
import { awsClient, Credentials } from '../core/aws';
import { DeployError, explainAwsError, throwIfAny } from '../core/errors';
import { sha256Hex } from '../core/hash';
import { callerIdentity } from '../core/identity';
import { describeStack, stackOutputs } from '../core/stack';
import { changeKind, createChangeSet, deleteChangeSet, waitForChangeSet } from '../deploy/changeset';
import { watchStack, WatchOptions } from '../deploy/events';
import { assessStack, deleteFailedStack, isEmptyChangeSet } from '../deploy/stack-state';
import type { RenderedStack } from '../deploy/types';
import { bootstrappedProjects, projectClashes } from './projects';
import type { RepositoryIds } from './repository-ids';
import { bootstrapParameters, bootstrapStackName, brokenRules, loadBootstrapTemplate } from './template';
import { TEMPLATE_BODY_LIMIT, uploadBootstrapTemplate } from './template-bucket';

export interface BootstrapRequest {
  environment: string;
  region: string;
  /** Template parameters given (Repository, Project, Environment and any --parameter). */
  parameters: Record<string, string>;
  templateBucket?: string;
  credentials?: Credentials;
  /** Asked once the change set is shown; false leaves the change set unexecuted. */
  confirm(changes: string[]): Promise<boolean>;
  /** Epoch ms after which waiting stops. */
  deadline: number;
  pollOverrides?: WatchOptions['pollOverrides'];
  /** Refuses credentials of another account than the spec's environment names (throws). */
  accountCheck?(account: string): void;
  /** GitHub's ids of a repository, asked when the immutable subject needs them and none were given (or the repository changed). */
  repositoryIds?(repository: string): Promise<RepositoryIds>;
}

export interface BootstrapResult {
  stackName: string;
  account: string;
  region: string;
  /** created / updated; unchanged (nothing to do); pending (not confirmed: the change set waits). */
  outcome: 'created' | 'updated' | 'unchanged' | 'pending';
  changeSet?: string;
  outputs: Record<string, string>;
}

const VERB: Record<ReturnType<typeof changeKind>, string> = {
  add: 'Add', modify: 'Modify', replace: 'Replace', 'maybe-replace': 'May replace', remove: 'Remove', import: 'Import', other: 'Change',
};

/** One line per resource change, for a terminal. */
export function changeLines(changes: Change[]): string[] {
  return changes.flatMap((c) => {
    const rc = c.ResourceChange;
    return rc ? [`${VERB[changeKind(rc)].padEnd(12)} ${rc.LogicalResourceId ?? '?'} (${rc.ResourceType ?? '?'})`] : [];
  });
}

/**
 * The given parameters with RepositoryOwnerId and RepositoryId when the immutable subject (the default) needs
 * them and they were not given: looked up on GitHub, unless the stack already holds them for this same
 * repository (another repository's ids kept from the stack would trust a subject no token carries).
 */
async function withRepositoryIds(request: BootstrapRequest, defaultForm: unknown, previous: Record<string, string>, reporter: RunContext['reporter']): Promise<Record<string, string>> {
  const given = request.parameters;
  const form = given.SubjectForm ?? previous.SubjectForm ?? String(defaultForm ?? '');
  if (form !== 'immutable-ids' || (given.RepositoryOwnerId && given.RepositoryId) || !request.repositoryIds) return given;
  const repository = given.Repository ?? previous.Repository ?? '';
  if (previous.Repository === repository && previous.RepositoryOwnerId && previous.RepositoryId) return given;
  const ids = await request.repositoryIds(repository);
  reporter.info(`GitHub's ids of ${repository}: owner ${ids.ownerId}, repository ${ids.id} (the OIDC subject the roles trust names them).`);
  return { ...given, RepositoryOwnerId: given.RepositoryOwnerId ?? ids.ownerId, RepositoryId: given.RepositoryId ?? ids.id };
}

export async function deployBootstrap(request: BootstrapRequest, run: RunContext): Promise<BootstrapResult> {
  const { region, credentials } = request;
  const { reporter } = run;
  const stackName = bootstrapStackName(request.environment);
  const template = loadBootstrapTemplate();
  const cfn = awsClient(CloudFormationClient, { region, credentials });
  const { account, arn } = await callerIdentity({ region, credentials });
  request.accountCheck?.(account);
  reporter.info(`Bootstrap of ${request.environment}: stack ${stackName} in account ${account}, ${region}, as ${arn}.`);
  const stack = await describeStack(cfn, stackName);
  const plan = assessStack(stack, stackName, region);
  const previous = plan.deleteFirst ? {} : Object.fromEntries((stack?.Parameters ?? []).map((p) => [p.ParameterKey ?? '', p.ParameterValue ?? '']));
  // Every check above and here passes before anything in AWS changes.
  const wanted = await withRepositoryIds(request, template.parameters.SubjectForm?.Default, previous, reporter);
  const parameters = bootstrapParameters(template, wanted, previous);
  throwIfAny(brokenRules(template, parameters));
  const given = (key: string) => parameters.find((p) => p.ParameterKey === key)?.ParameterValue ?? '';
  const existing = await bootstrappedProjects(cfn, stack ? [stack] : []);
  throwIfAny(projectClashes({ project: given('Project'), environment: request.environment }, existing));
  const moved = existing.find((e) => e.stackName === stackName && e.repository && e.repository !== given('Repository'));
  if (moved) reporter.warning(`${stackName} trusted repository ${moved.repository}; this run makes it trust ${given('Repository')} instead: ${moved.repository}'s workflows lose these roles.`);
  const rendered: RenderedStack = {
    stackName,
    templateFile: 'templates/bootstrap/model-deploy-bootstrap.yaml',
    template: template.template,
    templateBody: template.body,
    parameters,
    capabilities: ['CAPABILITY_NAMED_IAM'],
    tags: [{ Key: 'model-deploy:bootstrap', Value: request.environment }],
    terminationProtection: false,
    endpointName: '',
  };
  const body = Buffer.byteLength(template.body);
  const templateUrl = body > TEMPLATE_BODY_LIMIT
    ? await uploadBootstrapTemplate({ body: template.body, account, region, bucket: request.templateBucket, credentials, reporter })
    : undefined;
  const token = `md-bootstrap-${sha256Hex(`${template.body}${JSON.stringify(parameters)}${Date.now()}`).slice(0, 16)}`;
  if (plan.deleteFirst && plan.stack) {
    await deleteFailedStack({ cfn, stack: plan.stack, region, reporter, deadline: request.deadline, signal: run.signal, token: `${token}-delete` });
  }
  // Named for what it holds: the same template and parameters give the same name (a re-run replaces it).
  const name = `md-bootstrap-${sha256Hex(`${template.body}${JSON.stringify(parameters)}`).slice(0, 12)}`;
  const id = await createChangeSet({ cfn, rendered, name, type: plan.changeSetType, stackExists: Boolean(plan.stack) && !plan.deleteFirst, templateUrl, description: `model-deploy bootstrap of ${request.environment}` });
  const cs = await waitForChangeSet({ cfn, stackName, changeSet: id, deadline: request.deadline, signal: run.signal, pollOverrides: request.pollOverrides });
  const base = { stackName, account, region };
  if (isEmptyChangeSet(cs.status, cs.statusReason)) {
    await deleteChangeSet(cfn, stackName, cs.id);
    reporter.info(`No changes: ${stackName} is up to date.`);
    return { ...base, outcome: 'unchanged', outputs: stackOutputs(stack) };
  }
  if (cs.status !== 'CREATE_COMPLETE') {
    throw new DeployError(`The change set of ${stackName} failed: ${cs.statusReason ?? cs.status}`, { title: 'Change set failed', hint: `aws cloudformation describe-change-set --stack-name ${stackName} --change-set-name ${cs.name} --region ${region} shows it.` });
  }
  const lines = changeLines(cs.changes);
  reporter.info(`Change set ${cs.name} (${plan.changeSetType === 'CREATE' ? 'creates the stack' : 'updates the stack'}): ${lines.length} resource change(s)`);
  for (const line of lines) reporter.info(`  ${line}`);
  if (!(await request.confirm(lines))) {
    reporter.info(`Not executed. The change set waits in CloudFormation: aws cloudformation execute-change-set --stack-name ${stackName} --change-set-name ${cs.name} --region ${region}, or run bootstrap again with --yes.`);
    return { ...base, outcome: 'pending', changeSet: cs.name, outputs: stackOutputs(stack) };
  }
  try {
    await cfn.send(new ExecuteChangeSetCommand({ StackName: stackName, ChangeSetName: cs.id, ClientRequestToken: token }));
  } catch (err) {
    throw explainAwsError(err, `Executing change set ${cs.name}`);
  }
  const watched = await watchStack({ cfn, stackId: cs.stackId ?? stackName, token, reporter, deadline: request.deadline, signal: run.signal, what: `stack ${stackName}`, pollOverrides: request.pollOverrides });
  if (watched.status !== 'CREATE_COMPLETE' && watched.status !== 'UPDATE_COMPLETE') {
    const f = watched.firstFailure;
    throw new DeployError(`Bootstrap of ${stackName} ended in ${watched.status}${f ? `: ${f.LogicalResourceId} (${f.ResourceType}) ${f.ResourceStatusReason ?? ''}` : ''}`, {
      title: 'Bootstrap failed',
      hint: plan.changeSetType === 'CREATE'
        ? 'The first create rolled back; fix the cause above and run bootstrap again (it deletes the failed stack first).'
        : 'CloudFormation rolled the update back: the previous bootstrap stands. Fix the cause above and run bootstrap again.',
    });
  }
  const after = await describeStack(cfn, cs.stackId ?? stackName);
  return { ...base, outcome: plan.changeSetType === 'CREATE' ? 'created' : 'updated', changeSet: cs.name, outputs: stackOutputs(after) };
}
