/**
 * The projects a bootstrap must not meet in an account: another project under the same environment name
 * (its roles would be handed over) and a project whose name starts another's followed by "-" (PROJECT-*
 * grants would reach it). The listing pages through ListStacks as the service pages it.
 */
import { CloudFormationClient, DescribeStacksCommand, ListStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { bootstrappedProjects, projectClashes, projectsOverlap } from '../../../src/bootstrap/projects';

const cfn = mockClient(CloudFormationClient);
afterEach(() => cfn.reset());

const stack = (name: string, project: string, repository = 'acme/models') => ({
  StackName: name, StackStatus: 'CREATE_COMPLETE' as const, CreationTime: new Date(0),
  Parameters: [{ ParameterKey: 'Project', ParameterValue: project }, { ParameterKey: 'Repository', ParameterValue: repository }, { ParameterKey: 'Environment', ParameterValue: 'x' }],
});

describe('projectsOverlap', () => {
  it.each([
    ['acme', 'acme-llm', true],
    ['acme-llm', 'acme', true],
    ['acme', 'acme', false],
    ['acme', 'acmellm', false],
    ['acme-llm', 'acme-ml', false],
    ['a-b', 'a-b-c-d', true],
  ])('%s and %s: %s', (a, b, overlap) => {
    expect(projectsOverlap(a, b)).toBe(overlap);
  });
});

describe('projectClashes', () => {
  const existing = [{ stackName: 'model-deploy-bootstrap-dev', environment: 'dev', project: 'acme-llm', repository: 'acme/models' }];
  it('the same project again (an update, or another environment of it) is no clash', () => {
    expect(projectClashes({ project: 'acme-llm', environment: 'dev' }, existing)).toEqual([]);
    expect(projectClashes({ project: 'acme-llm', environment: 'prod' }, existing)).toEqual([]);
    expect(projectClashes({ project: 'billing', environment: 'billing-dev' }, existing)).toEqual([]);
  });
  it('another project under the environment name in use, and an overlapping name, are both said', () => {
    const errors = projectClashes({ project: 'acme', environment: 'dev' }, existing);
    expect(errors.map((e) => e.title)).toEqual(['Environment taken']);
    const overlap = projectClashes({ project: 'acme', environment: 'prod' }, existing);
    expect(overlap.map((e) => e.message)).toEqual([expect.stringContaining("project acme overlaps project acme-llm (stack model-deploy-bootstrap-dev): acme's grants on acme-* names would reach acme-llm's")]);
    expect(overlap[0]!.hint).toContain('for example acme-platform');
    expect(projectClashes({ project: 'acme-llm-eu', environment: 'eu' }, existing)[0]!.hint).toContain('for example acmellmeu');
  });
});

describe('bootstrappedProjects', () => {
  it('pages through ListStacks with the live statuses, and reads only the bootstrap stacks', async () => {
    cfn.on(ListStacksCommand, { NextToken: undefined }).resolves({ StackSummaries: [{ StackName: 'model-deploy-bootstrap-dev', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(0) }, { StackName: 'acme-llm-chat-dev', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(0) }], NextToken: 'page-2' });
    cfn.on(ListStacksCommand, { NextToken: 'page-2' }).resolves({ StackSummaries: [{ StackName: 'model-deploy-bootstrap-prod', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0) }] });
    cfn.on(DescribeStacksCommand, { StackName: 'model-deploy-bootstrap-dev' }).resolves({ Stacks: [stack('model-deploy-bootstrap-dev', 'acme-llm')] });
    cfn.on(DescribeStacksCommand, { StackName: 'model-deploy-bootstrap-prod' }).resolves({ Stacks: [stack('model-deploy-bootstrap-prod', 'billing', 'acme/billing')] });
    expect(await bootstrappedProjects(new CloudFormationClient({ region: 'us-east-1' }))).toEqual([
      { stackName: 'model-deploy-bootstrap-dev', environment: 'dev', project: 'acme-llm', repository: 'acme/models' },
      { stackName: 'model-deploy-bootstrap-prod', environment: 'prod', project: 'billing', repository: 'acme/billing' },
    ]);
    const filters = cfn.commandCalls(ListStacksCommand).map((c) => c.args[0].input.StackStatusFilter ?? []);
    expect(filters).toHaveLength(2);
    for (const f of filters) {
      expect(f).toContain('CREATE_COMPLETE');
      expect(f).toContain('UPDATE_ROLLBACK_FAILED');
      expect(f).not.toContain('DELETE_COMPLETE');
      expect(f).not.toContain('ROLLBACK_COMPLETE');
    }
    expect(cfn.commandCalls(DescribeStacksCommand).map((c) => c.args[0].input.StackName)).toEqual(['model-deploy-bootstrap-dev', 'model-deploy-bootstrap-prod']);
  });

  it("does not describe again a stack the caller already described (its own)", async () => {
    cfn.on(ListStacksCommand).resolves({ StackSummaries: [{ StackName: 'model-deploy-bootstrap-dev', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(0) }] });
    const own = stack('model-deploy-bootstrap-dev', 'acme-llm');
    expect(await bootstrappedProjects(new CloudFormationClient({ region: 'us-east-1' }), [own])).toEqual([{ stackName: 'model-deploy-bootstrap-dev', environment: 'dev', project: 'acme-llm', repository: 'acme/models' }]);
    expect(cfn.commandCalls(DescribeStacksCommand)).toEqual([]);
  });

  it('a listing refused (no cloudformation:ListStacks) says what was being done', async () => {
    cfn.on(ListStacksCommand).rejects(Object.assign(new Error('User is not authorized to perform: cloudformation:ListStacks'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    await expect(bootstrappedProjects(new CloudFormationClient({ region: 'us-east-1' }))).rejects.toThrow(/Listing the bootstrap stacks of this account/);
  });
});
