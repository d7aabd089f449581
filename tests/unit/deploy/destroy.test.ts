/** mode: destroy through deployEndpoint, mocked at the SDK boundary. */
import { mockClient } from 'aws-sdk-client-mock';
import {
  CloudFormationClient, DeleteStackCommand, DescribeStackEventsCommand, DescribeStacksCommand, GetTemplateCommand, ListStackResourcesCommand, Stack,
} from '@aws-sdk/client-cloudformation';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { CloudWatchLogsClient, DeleteLogGroupCommand, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { deployEndpoint, DeployRequest } from '../../../src/deploy/flow';
import { DeployError } from '../../../src/core/errors';
import { EnvInputs } from '../../../src/core/env';
import { memoryReporter } from '../../../src/core/log';
import { event, fakeClock, jobSummary, selection } from './flow-fixtures';
import { stackNotFound, stackOf } from '../../support/fake-aws/stack-answer';

const cfn = mockClient(CloudFormationClient);
const sts = mockClient(STSClient);
const ACCOUNT = '111111111111';
const STACK = 'acme-llm-code-assistant-dev';
const ID = `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/${STACK}/1`;

function request(): DeployRequest {
  return { mode: 'destroy', timeoutMinutes: 30, failOnEmptyChangeSet: false, skipQuotaCheck: false, smokeTest: false, pollOverrides: fakeClock() };
}

function run() {
  const reporter = memoryReporter();
  const env = new EnvInputs({ GITHUB_SHA: 'abcdef0123456789abcdef0123456789abcdef01', GITHUB_RUN_ID: '7', GITHUB_RUN_ATTEMPT: '2' });
  return { reporter, env };
}

/** A stack that exists (or not) and goes to DELETE_COMPLETE, or to DELETE_FAILED, when deleted. */
function world(stack: Partial<Stack> | undefined, outcome: 'DELETE_COMPLETE' | 'DELETE_FAILED' = 'DELETE_COMPLETE') {
  let token = '';
  let status = stack?.StackStatus ?? 'UPDATE_COMPLETE';
  cfn.on(DescribeStacksCommand).callsFake(() => {
    if (!stack) throw stackNotFound(STACK);
    return { Stacks: [{ ...stackOf({ name: STACK, id: ID, created: new Date(0) }), ...stack, StackStatus: status }] };
  });
  cfn.on(ListStackResourcesCommand).resolves({
    StackResourceSummaries: [
      { LogicalResourceId: 'Service', ResourceType: 'AWS::ECS::Service', PhysicalResourceId: 'svc-1', ResourceStatus: 'UPDATE_COMPLETE', LastUpdatedTimestamp: new Date(0) },
      { LogicalResourceId: 'Logs', ResourceType: 'AWS::Logs::LogGroup', PhysicalResourceId: '/md/code-assistant', ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date(0) },
    ],
  });
  cfn.on(GetTemplateCommand).resolves({ TemplateBody: JSON.stringify({ Resources: { Service: { Type: 'AWS::ECS::Service' }, Logs: { Type: 'AWS::Logs::LogGroup', DeletionPolicy: 'Retain' } } }) });
  cfn.on(DeleteStackCommand).callsFake((input: { ClientRequestToken: string }) => {
    token = input.ClientRequestToken;
    status = outcome;
    return {};
  });
  cfn.on(DescribeStackEventsCommand).callsFake(() => ({
    StackEvents: outcome === 'DELETE_FAILED'
      ? [
          event(ID, STACK, token, { ResourceStatus: 'DELETE_FAILED', ResourceStatusReason: 'The following resource(s) failed to delete: [Service].' }),
          event(ID, STACK, token, { LogicalResourceId: 'Service', ResourceType: 'AWS::ECS::Service', ResourceStatus: 'DELETE_FAILED', ResourceStatusReason: 'Service is draining' }),
          event(ID, STACK, token, { ResourceStatus: 'DELETE_IN_PROGRESS' }),
        ]
      : [event(ID, STACK, token, { ResourceStatus: 'DELETE_COMPLETE' }), event(ID, STACK, token, { ResourceStatus: 'DELETE_IN_PROGRESS' })],
  }));
}

beforeEach(() => {
  cfn.reset();
  sts.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT });
});

describe('deployEndpoint mode destroy', () => {
  it('deletes the stack and reports what went and what stayed: retained resources and the data outside the stack', async () => {
    world({});
    const r = run();
    const target = selection('code-assistant', 'dev');
    const [result] = await deployEndpoint(target, request(), r);
    expect(result).toMatchObject({ status: 'destroyed', stackId: ID, hasChanges: true });
    expect(cfn.commandCalls(DeleteStackCommand)[0]?.args[0].input).toMatchObject({ StackName: ID, ClientRequestToken: expect.stringMatching(/^md-delete-7-2-us-east-1-/) });
    expect(result.changesMarkdown).toContain('**Removed** (1):\n- Service (AWS::ECS::Service: svc-1)');
    expect(result.changesMarkdown).toContain('- Logs (AWS::Logs::LogGroup: /md/code-assistant): DeletionPolicy keeps it');
    expect(result.changesMarkdown).toMatch(/- the API-key secret acme-llm\/code-assistant\/dev\/api-key \(`aws secretsmanager delete-secret --secret-id acme-llm\/code-assistant\/dev\/api-key --region us-east-1` removes it\)/);
    expect(result.changesMarkdown).toContain(`- the artifact bucket s3://model-deploy-${ACCOUNT}-us-east-1`);
    expect(jobSummary(r.reporter, target, [result])).toContain('🗑️ destroyed');
  });

  it('refuses a stack under termination protection, naming the command that lifts it, and deletes nothing', async () => {
    world({ EnableTerminationProtection: true });
    const err = (await deployEndpoint(selection('code-assistant', 'dev'), request(), run()).catch((e) => e)) as DeployError;
    expect(err).toBeInstanceOf(DeployError);
    expect(err.title).toBe('Termination protection');
    expect(err.hint).toContain(`aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name ${STACK} --region us-east-1`);
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
  });

  it('has nothing to destroy when the stack does not exist, and says so', async () => {
    world(undefined);
    const r = run();
    const target = selection('code-assistant', 'dev');
    const [result] = await deployEndpoint(target, request(), r);
    expect(result).toMatchObject({ status: 'nothing-to-destroy', hasChanges: false });
    expect(result.changesMarkdown).toContain('The stack did not exist: nothing removed.');
    expect(jobSummary(r.reporter, target, [result])).toContain('nothing to destroy');
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
  });

  it('refuses a stack another operation is changing', async () => {
    world({ StackStatus: 'UPDATE_IN_PROGRESS' });
    await expect(deployEndpoint(selection('code-assistant', 'dev'), request(), run())).rejects.toThrow(`Stack ${STACK} is UPDATE_IN_PROGRESS: another operation is running on it.`);
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
  });

  it('names the resource that failed to delete and how to leave it behind', async () => {
    world({}, 'DELETE_FAILED');
    const err = (await deployEndpoint(selection('code-assistant', 'dev'), request(), run()).catch((e) => e)) as DeployError;
    expect(err.message).toBe(`Deleting stack ${STACK} ended in DELETE_FAILED: Service (AWS::ECS::Service) DELETE_FAILED: Service is draining.`);
    expect(err.hint).toContain(`aws cloudformation delete-stack --stack-name ${STACK} --region us-east-1 --retain-resources Service`);
  });
});

describe('deployEndpoint mode destroy-preview (read-only)', () => {
  const preview = (): DeployRequest => ({ ...request(), mode: 'destroy-preview' });
  /** Every call the preview made is a read. */
  const onlyReads = () => cfn.calls().map((c) => c.args[0].constructor.name).filter((n) => !/^(Describe|List|Get)/.test(n));

  it('shows what destroy would delete and keep, and changes nothing', async () => {
    world({});
    const r = run();
    const target = selection('code-assistant', 'dev');
    const [result] = await deployEndpoint(target, preview(), r);
    expect(result).toMatchObject({ status: 'destroy-previewed', stackName: STACK, stackId: ID, hasChanges: true });
    expect(result.changesMarkdown).toContain(`### Destroy \`${STACK}\` would (us-east-1)`);
    expect(result.changesMarkdown).toContain('**Delete** (1):\n- Service (AWS::ECS::Service: svc-1)');
    expect(result.changesMarkdown).toContain('- Logs (AWS::Logs::LogGroup: /md/code-assistant): DeletionPolicy keeps it');
    expect(result.changesMarkdown).toContain('- the API-key secret acme-llm/code-assistant/dev/api-key');
    expect(onlyReads()).toEqual([]);
    expect(jobSummary(r.reporter, target, [result])).toContain('destroy preview');
  });

  it('says destroy will refuse a protected stack, without failing the preview', async () => {
    world({ EnableTerminationProtection: true });
    const [result] = await deployEndpoint(selection('code-assistant', 'dev'), preview(), run());
    expect(result.changesMarkdown).toMatch(/termination protection: destroy will refuse/);
    expect(onlyReads()).toEqual([]);
  });

  it('says there is nothing to delete when the stack does not exist', async () => {
    world(undefined);
    const [result] = await deployEndpoint(selection('code-assistant', 'dev'), preview(), run());
    expect(result).toMatchObject({ status: 'nothing-to-destroy', stackName: STACK, hasChanges: false });
    expect(onlyReads()).toEqual([]);
  });
});

describe('destroy: the SageMaker log group the stack leaves (issue 16.7)', () => {
  const SM_STACK = 'acme-llm-qwen-chat-dev';
  const GROUP = `/aws/sagemaker/Endpoints/${SM_STACK}`;
  const logs = mockClient(CloudWatchLogsClient);
  beforeEach(() => {
    logs.reset();
    // A longer name under the same prefix must not be taken for the endpoint's group.
    logs.on(DescribeLogGroupsCommand).resolves({
      logGroups: [
        { logGroupName: GROUP, retentionInDays: undefined, storedBytes: 5 * 1024 * 1024 },
        { logGroupName: `${GROUP}2`, retentionInDays: 7, storedBytes: 1 },
      ],
    });
    logs.on(DeleteLogGroupCommand).resolves({});
  });

  it('reports the log group it keeps: name, region, retention, stored bytes, and how to remove it', async () => {
    world({});
    const [result] = await deployEndpoint(selection('qwen-chat', 'dev'), request(), run());
    expect(logs.commandCalls(DescribeLogGroupsCommand)[0]?.args[0].input).toMatchObject({ logGroupNamePrefix: GROUP });
    expect(result.changesMarkdown).toContain(`- the SageMaker log group ${GROUP} (us-east-1; retention: never expires, 5.0 MiB stored): not part of the stack.`);
    expect(result.changesMarkdown).toContain(`aws logs delete-log-group --log-group-name ${GROUP} --region us-east-1`);
    expect(logs.commandCalls(DeleteLogGroupCommand)).toHaveLength(0);
  });

  it('deletes it after the stack with delete-logs, and lists it as removed', async () => {
    world({});
    // The stack is gone (its delete already sent) when the log group goes: a live endpoint would write again.
    let stackDeletesBefore = -1;
    logs.on(DeleteLogGroupCommand).callsFake(() => {
      stackDeletesBefore = cfn.commandCalls(DeleteStackCommand).length;
      return {};
    });
    const [result] = await deployEndpoint(selection('qwen-chat', 'dev'), { ...request(), deleteLogs: true }, run());
    expect(stackDeletesBefore).toBe(1);
    expect(logs.commandCalls(DeleteLogGroupCommand)[0]?.args[0].input).toEqual({ logGroupName: GROUP });
    expect(result.changesMarkdown).toMatch(new RegExp(`\\*\\*Removed\\*\\* \\(2\\):[\\s\\S]*- the SageMaker log group ${GROUP} \\(us-east-1; [^)]*\\) \\(delete-logs\\)`));
  });

  it('the preview says the log group would go, and deletes nothing', async () => {
    world({});
    const [result] = await deployEndpoint(selection('qwen-chat', 'dev'), { ...request(), mode: 'destroy-preview', deleteLogs: true }, run());
    expect(result.changesMarkdown).toContain(`- the SageMaker log group ${GROUP} (us-east-1; retention: never expires, 5.0 MiB stored) (delete-logs)`);
    expect(logs.commandCalls(DeleteLogGroupCommand)).toHaveLength(0);
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
  });

  it('a destroy run again with delete-logs after the stack is gone still removes the log group', async () => {
    world(undefined);
    const [result] = await deployEndpoint(selection('qwen-chat', 'dev'), { ...request(), deleteLogs: true }, run());
    expect(result.status).toBe('nothing-to-destroy');
    expect(logs.commandCalls(DeleteLogGroupCommand)).toHaveLength(1);
  });

  it('an unreadable log group is a warning naming it, not a failed destroy', async () => {
    world({});
    logs.on(DescribeLogGroupsCommand).rejects(Object.assign(new Error('not authorized to perform: logs:DescribeLogGroups'), { name: 'AccessDeniedException' }));
    const r = run();
    const [result] = await deployEndpoint(selection('qwen-chat', 'dev'), request(), r);
    expect(result.status).toBe('destroyed');
    expect(result.changesMarkdown).toContain(`the SageMaker log group ${GROUP} (us-east-1; not read: AccessDeniedException)`);
    expect(r.reporter.captured.annotations).toEqual(expect.arrayContaining([expect.objectContaining({ level: 'warning', title: 'Log group not checked' })]));
  });

  it('ec2/ecs deployments have no SageMaker log group to look for', async () => {
    world({});
    await deployEndpoint(selection('code-assistant', 'dev'), { ...request(), deleteLogs: true }, run());
    expect(logs.calls()).toHaveLength(0);
  });
});

describe('destroy: async results in the artifact bucket', () => {
  it('says they stay, where, and when the lifecycle rule expires them', async () => {
    world({});
    const target = selection('summarizer-batch', 'dev', (text) => text.replace(/^\s*(outputPath|failurePath): s3:\/\/acme-llm-async\/.*\n/gm, ''));
    const [result] = await deployEndpoint(target, request(), run());
    expect(result.changesMarkdown).toContain(
      `- async requests and results under s3://model-deploy-${ACCOUNT}-us-east-1/async/acme-llm/dev/summarizer-batch/ (they expire 30 days after they were written: lifecycle rule model-deploy-async-acme-llm.dev.summarizer-batch)`,
    );
  });
});

describe('destroy: captured requests where the endpoint writes them (the environment\'s folder)', () => {
  const logs = mockClient(CloudWatchLogsClient);
  beforeEach(() => {
    logs.reset();
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [] });
  });
  const BUCKET = `s3://model-deploy-${ACCOUNT}-us-east-1`;

  it('with no s3Uri, names the default capture folder of the environment (before: said nothing)', async () => {
    world({});
    const [result] = await deployEndpoint(selection('qwen-chat', 'dev'), request(), run());
    expect(result.changesMarkdown).toContain(`- captured requests at ${BUCKET}/datacapture/acme-llm/dev/qwen-chat/`);
  });

  it('a given s3Uri is said where render placed it, in the environment\'s folder, not as written', async () => {
    world({});
    const target = selection('qwen-chat', 'dev', (text) => text.replace('samplingPercentage: 5', `samplingPercentage: 5\n        s3Uri: ${BUCKET}/datacapture/acme-llm/chat/`));
    const [result] = await deployEndpoint(target, { ...request(), mode: 'destroy-preview' }, run());
    expect(result.changesMarkdown).toContain(`- captured requests at ${BUCKET}/datacapture/acme-llm/dev/chat/ (the spec's s3Uri ${BUCKET}/datacapture/acme-llm/chat/ in the environment's folder)`);
  });

  it('says nothing of captures when capture is off', async () => {
    world({});
    const target = selection('qwen-chat', 'dev', (text) => text.replace('samplingPercentage: 5', 'enabled: false'));
    const [result] = await deployEndpoint(target, request(), run());
    expect(result.changesMarkdown).not.toContain('captured requests');
  });
});

describe('destroy: async paths given in the spec', () => {
  it('says where callers put requests (input/ beside the output folder) as well as the results and failures', async () => {
    world({});
    const [result] = await deployEndpoint(selection('summarizer-batch', 'dev'), request(), run());
    expect(result.changesMarkdown).toContain('- async results at s3://acme-llm-async/summarizer/output/ (requests at s3://acme-llm-async/summarizer/input/)');
    expect(result.changesMarkdown).toContain('- async failures at s3://acme-llm-async/summarizer/failure/');
  });
});
