import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient, CreateChangeSetCommand, DeleteChangeSetCommand, DescribeChangeSetCommand, Change } from '@aws-sdk/client-cloudformation';
import { changeSetName, createChangeSet, renderChangesMarkdown, waitForChangeSet } from '../../../src/deploy/changeset';
import { fakeClock, fakeRender, selection } from './flow-fixtures';

const change = (LogicalResourceId: string, ResourceType: string, Action: 'Add' | 'Modify' | 'Remove', Replacement?: 'True' | 'False' | 'Conditional', details: { Name: string; RequiresRecreation?: 'Always' | 'Never' | 'Conditionally' }[] = []): Change => ({
  Type: 'Resource',
  ResourceChange: {
    LogicalResourceId, ResourceType, Action, Replacement,
    Details: details.map((d) => ({ Target: { Attribute: 'Properties', Name: d.Name, RequiresRecreation: d.RequiresRecreation ?? 'Never' }, ChangeSource: 'DirectModification' })),
  },
});

describe('change set names', () => {
  it('derives md-<sha7> from the commit so create-only and execute-only agree', () => {
    expect(changeSetName('0123456789ABCDEF')).toBe('md-0123456');
    expect(changeSetName('0123456789abcdef', 'pr-42')).toBe('pr-42');
    expect(changeSetName(undefined)).toBeUndefined();
  });
});

describe('renderChangesMarkdown', () => {
  it('counts and lists added, modified and replaced resources, replacement called out, one <details> per resource', () => {
    const md = renderChangesMarkdown(
      [
        change('Model', 'AWS::SageMaker::Model', 'Modify', 'True', [{ Name: 'PrimaryContainer', RequiresRecreation: 'Always' }]),
        change('EndpointConfig', 'AWS::SageMaker::EndpointConfig', 'Modify', 'True'),
        change('Endpoint', 'AWS::SageMaker::Endpoint', 'Modify', 'False', [{ Name: 'EndpointConfigName' }]),
        change('ScalingPolicy', 'AWS::ApplicationAutoScaling::ScalingPolicy', 'Add'),
      ],
      { stackName: 'acme-llm-qwen-chat-dev', changeSetName: 'md-0123456', region: 'us-east-1' },
    );
    expect(md).toContain('**4 resources**: 2 replace, 1 modify, 1 add');
    expect(md).toContain('> [!WARNING]');
    expect(md).toContain('`Model`, `EndpointConfig`');
    expect(md.match(/<details>/g)).toHaveLength(4);
    expect(md).toContain('<summary>🔴 Replace <code>Model</code> (AWS::SageMaker::Model)</summary>');
    expect(md).toContain('`Properties.PrimaryContainer` (recreation: Always)');
    expect(md).toContain('<summary>🟢 Add <code>ScalingPolicy</code>');
    // Replacements come first: a reviewer must not miss them.
    expect(md.indexOf('Replace <code>Model')).toBeLessThan(md.indexOf('Modify <code>Endpoint<'));
  });

  it('says so when there is nothing to change, and stays under the GitHub comment limit', () => {
    expect(renderChangesMarkdown([], { stackName: 's' })).toContain('No changes.');
    const many = Array.from({ length: 2000 }, (_, i) => change(`Res${i}`, 'AWS::IAM::Policy', 'Add'));
    const md = renderChangesMarkdown(many, { stackName: 's', changeSetName: 'md-1' });
    expect(md.length).toBeLessThan(60000);
    expect(md).toMatch(/…and \d+ more/);
  });
});

describe('create and wait', () => {
  const cfn = mockClient(CloudFormationClient);
  beforeEach(() => cfn.reset());

  it('replaces an unexecuted change set of the same name, then waits with poll() and reads every page', async () => {
    const render = fakeRender();
    const sel = selection('qwen-chat', 'dev');
    const rendered = render({ deployment: sel.deployment, names: sel.names, region: 'us-east-1', environmentName: 'dev' });
    cfn.on(DescribeChangeSetCommand).resolvesOnce({ Status: 'CREATE_COMPLETE' });
    cfn.on(DeleteChangeSetCommand).resolves({});
    cfn.on(CreateChangeSetCommand).resolves({ Id: 'arn:cs/md-1' });
    const id = await createChangeSet({ cfn: new CloudFormationClient({ region: 'us-east-1' }), rendered, name: 'md-1', type: 'UPDATE', stackExists: true });
    expect(id).toBe('arn:cs/md-1');
    expect(cfn.commandCalls(DeleteChangeSetCommand)).toHaveLength(1);
    const input = cfn.commandCalls(CreateChangeSetCommand)[0].args[0].input;
    expect(input).toMatchObject({ ChangeSetType: 'UPDATE', Capabilities: ['CAPABILITY_IAM'], TemplateBody: rendered.templateBody });
    expect(input.TemplateURL).toBeUndefined();

    cfn.reset();
    cfn.on(DescribeChangeSetCommand)
      .resolvesOnce({ Status: 'CREATE_PENDING' })
      .resolvesOnce({ Status: 'CREATE_IN_PROGRESS' })
      .resolvesOnce({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', ChangeSetId: 'arn:cs/md-1', Changes: [change('A', 'AWS::S3::Bucket', 'Add')], NextToken: 'p2' })
      .resolvesOnce({ Changes: [change('B', 'AWS::S3::Bucket', 'Add')] });
    const clock = fakeClock();
    const cs = await waitForChangeSet({ cfn: new CloudFormationClient({ region: 'us-east-1' }), stackName: 's', changeSet: 'arn:cs/md-1', deadline: clock.now() + 60000, pollOverrides: clock });
    expect(cs.status).toBe('CREATE_COMPLETE');
    expect(cs.changes.map((c) => c.ResourceChange?.LogicalResourceId)).toEqual(['A', 'B']);
    expect(clock.sleeps).toHaveLength(2);
  });

  it('honours the deadline instead of a waiter that ignores it', async () => {
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_IN_PROGRESS' });
    const clock = fakeClock();
    await expect(
      waitForChangeSet({ cfn: new CloudFormationClient({ region: 'us-east-1' }), stackName: 's', changeSet: 'md-1', deadline: clock.now() + 5 * 60000, pollOverrides: clock }),
    ).rejects.toThrow(/Timed out after 5 minutes waiting for change set md-1/);
  });
});
