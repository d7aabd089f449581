/**
 * Capacity fallback (issue 22.6): instanceType as an ordered list of equivalent types. When AWS has no
 * capacity for one (SageMaker: "Unable to provision requested ML compute capacity"; EC2:
 * InsufficientInstanceCapacity), the deploy tries the next one in a new change set, and the summary
 * says which type it deployed on.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CloudFormationClient, CreateChangeSetCommand, DescribeChangeSetCommand, DescribeStackEventsCommand, DescribeStacksCommand,
  ExecuteChangeSetCommand, ListStackResourcesCommand, StackEvent,
} from '@aws-sdk/client-cloudformation';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { deployEndpoint, DeployRequest } from '../../../src/deploy/flow';
import { isCapacityFailure } from '../../../src/deploy/capacity';
import { DeployError } from '../../../src/core/errors';
import { EnvInputs } from '../../../src/core/env';
import { memoryReporter } from '../../../src/core/log';
import type { Target } from '../../../src/config/select';
import type { RenderStackInput } from '../../../src/deploy/types';
import { event, fakeClock, fakeRender, selection } from './flow-fixtures';
import { stackAnswer } from '../../support/fake-aws/stack-answer';
import { EXAMPLE_SPEC } from '../../support/target';
import { estimateCost } from '../../../src/cost/flow';
import { ecrHoldsEveryImage } from '../../support/fake-aws/ecr-holds-images';

const cfn = mockClient(CloudFormationClient);
const sts = mockClient(STSClient);
const sm = mockClient(SageMakerClient);
// The preflight looks the deployed image up in ECR: it is there.
ecrHoldsEveryImage();

const ACCOUNT = '111111111111';
const STACK = 'acme-llm-qwen-chat-dev';
const ID = `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/${STACK}/1`;
/** SageMaker's FailureReason when it cannot place the endpoint's instances, as CloudFormation passes it on. */
const NO_CAPACITY = 'Resource handler returned message: "Endpoint arn:aws:sagemaker:us-east-1:111111111111:endpoint/acme-llm-qwen-chat-dev is in Failed state. Reason: Unable to provision requested ML compute capacity. Please retry using a different ML instance type."';

/** A stack in UPDATE_COMPLETE whose executions fail for the types in `noCapacity`, by the InstanceType parameter. */
function world(noCapacity: string[], otherFailure?: string) {
  let status = 'UPDATE_COMPLETE';
  let events: StackEvent[] = [];
  const created = new Map<string, string>();
  cfn.on(DescribeStacksCommand).callsFake(() => stackAnswer({ name: STACK, id: ID, status, created: new Date(), outputs: { EndpointConfigName: 'cfg-new' } }));
  cfn.on(CreateChangeSetCommand).callsFake((input: { ChangeSetName: string; Parameters: { ParameterKey: string; ParameterValue: string }[] }) => {
    created.set(input.ChangeSetName, input.Parameters.find((p) => p.ParameterKey === 'InstanceType')?.ParameterValue ?? '');
    return { Id: `arn:cs/${input.ChangeSetName}`, StackId: ID };
  });
  cfn.on(DescribeChangeSetCommand).callsFake((input: { ChangeSetName: string }) => {
    const name = input.ChangeSetName.replace('arn:cs/', '');
    return {
      ChangeSetId: `arn:cs/${name}`, ChangeSetName: name, StackId: ID, Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE',
      Changes: [{ Type: 'Resource', ResourceChange: { Action: 'Modify', Replacement: 'True', LogicalResourceId: 'EndpointConfig', ResourceType: 'AWS::SageMaker::EndpointConfig' } }],
    };
  });
  cfn.on(ExecuteChangeSetCommand).callsFake((input: { ChangeSetName: string; ClientRequestToken: string }) => {
    const type = created.get(input.ChangeSetName.replace('arn:cs/', '')) ?? '';
    const token = input.ClientRequestToken;
    const failure = noCapacity.includes(type) ? NO_CAPACITY : otherFailure;
    if (failure) {
      status = 'UPDATE_ROLLBACK_COMPLETE';
      events = [
        event(ID, STACK, token, { LogicalResourceId: 'Endpoint', ResourceType: 'AWS::SageMaker::Endpoint', PhysicalResourceId: 'ep', ResourceStatus: 'UPDATE_FAILED', ResourceStatusReason: failure }),
        event(ID, STACK, token, { ResourceStatus: 'UPDATE_ROLLBACK_COMPLETE' }),
      ];
    } else {
      status = 'UPDATE_COMPLETE';
      events = [event(ID, STACK, token, { ResourceStatus: 'UPDATE_COMPLETE' })];
    }
    return {};
  });
  cfn.on(DescribeStackEventsCommand).callsFake(() => ({ StackEvents: [...events].reverse() }));
  cfn.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [] });
  return created;
}

function deploy(target: Target, renders: RenderStackInput[] = []) {
  const reporter = memoryReporter();
  const request: DeployRequest = {
    mode: 'create-and-execute', timeoutMinutes: 60, failOnEmptyChangeSet: false, skipQuotaCheck: true, smokeTest: false,
    render: fakeRender(renders), pollOverrides: fakeClock(),
    imageUri: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/acme-llm/qwen-chat:md-abcdef0`,
    modelDataUrl: `s3://model-deploy-${ACCOUNT}-us-east-1/acme-llm/qwen-chat/models/abcdef0/`,
  };
  const run = { reporter, env: new EnvInputs({ GITHUB_SHA: 'abcdef0123456789abcdef0123456789abcdef01', GITHUB_RUN_ID: '7' }) };
  return { reporter, result: deployEndpoint(target, request, run) };
}

const withTypes = (types: string) => selection('qwen-chat', 'dev', (t) => t.replace('instanceType: ml.g5.2xlarge', `instanceType: [${types}]`));

beforeEach(() => {
  for (const m of [cfn, sts, sm]) m.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/gh` });
  sm.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'InService', EndpointConfigName: 'cfg-new', EndpointArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:endpoint/${STACK}` });
});

describe('capacity fallback at deploy', () => {
  it('no capacity for the first type: the next one in a new change set, and the summary says which', async () => {
    const created = world(['ml.g5.2xlarge']);
    const { reporter, result } = deploy(withTypes('ml.g5.2xlarge, ml.g6.2xlarge'));
    const [r] = await result;
    expect([...created]).toEqual([['md-abcdef0', 'ml.g5.2xlarge'], ['md-abcdef0-ml-g6-2xlarge', 'ml.g6.2xlarge']]);
    expect(r).toMatchObject({ status: 'deployed', instanceType: 'ml.g6.2xlarge', changeSetId: 'arn:cs/md-abcdef0-ml-g6-2xlarge' });
    expect(r?.changesMarkdown).toContain('AWS had no capacity for ml.g5.2xlarge in us-east-1; deployed on ml.g6.2xlarge.');
    expect(reporter.captured.annotations).toContainEqual(expect.objectContaining({ level: 'warning', title: 'Capacity fallback' }));
  });

  it('no capacity for any type: the last failure, as it came', async () => {
    const created = world(['ml.g5.2xlarge', 'ml.g6.2xlarge']);
    const err = (await deploy(withTypes('ml.g5.2xlarge, ml.g6.2xlarge')).result.catch((e) => e)) as DeployError;
    expect(err.message).toMatch(/Unable to provision requested ML compute capacity/);
    expect(created.size).toBe(2);
  });

  it('another failure is not retried on the next type', async () => {
    const created = world([], 'Resource handler returned message: "Could not find model data at s3://x/model.tar.gz."');
    await expect(deploy(withTypes('ml.g5.2xlarge, ml.g6.2xlarge')).result).rejects.toThrow(/Could not find model data/);
    expect(created.size).toBe(1);
  });

  it('one type (a string, as before): one change set', async () => {
    const created = world(['ml.g5.2xlarge']);
    await expect(deploy(selection('qwen-chat', 'dev')).result).rejects.toThrow(/Unable to provision/);
    expect(created.size).toBe(1);
  });

  it.each([
    ['SageMaker', NO_CAPACITY, true],
    ['EC2 Auto Scaling', 'Could not launch On-Demand Instances. InsufficientInstanceCapacity - We currently do not have sufficient g5.12xlarge capacity in the Availability Zone you requested (us-east-1a).', true],
    ['a missing quota', 'ResourceLimitExceeded: The account-level service limit ml.g5.2xlarge for endpoint usage is 0 Instances', false],
  ])('%s: %s is a capacity failure: %s', (_who, message, expected) => {
    expect(isCapacityFailure(new DeployError(`Deploy failed: ${message}`))).toBe(expected);
  });
});

describe('capacity fallback in validate and the estimate', () => {
  it('validate checks each type of the list: an unknown one and one its region does not offer', () => {
    expect(() => withTypes('ml.g5.2xlarge, ml.g9.2xlarge, ml.g6.2xlarge')).toThrow(/instanceType "ml.g9.2xlarge" is not a known SageMaker instance type/);
    const ireland = () => selection('qwen-chat', 'dev', (t) => t.replace('instanceType: ml.g5.2xlarge', 'instanceType: [ml.g5.2xlarge, ml.g6.2xlarge]\n    regions: [eu-west-1]'));
    expect(ireland).toThrow(/instanceType ml.g6.2xlarge is not offered in eu-west-1/);
  });

  it('the estimate prices the first type and gives the range over the list', async () => {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'capacity-range-'));
    fs.writeFileSync(path.join(workspace, 'model-deploy.yml'), fs.readFileSync(EXAMPLE_SPEC, 'utf8').replace('instanceType: ml.g5.2xlarge', 'instanceType: [ml.g5.2xlarge, ml.g5.12xlarge]'));
    const reporter = memoryReporter();
    const { report } = await estimateCost(
      { workspace, config: 'model-deploy.yml', deployment: 'qwen-chat' },
      { hoursPerMonth: 730, livePrices: false, mode: 'estimate', behavior: 'update', skipIfUnchanged: false, resultFile: 'cost.json' },
      { reporter, env: new EnvInputs({}) },
    );
    const note = report.priceNotes.find((n) => n.startsWith('qwen-chat: instanceType is a capacity fallback list'));
    expect(note).toMatch(/ml.g5.2xlarge \$[\d,.]+ – \$[\d,.]+, ml.g5.12xlarge \$[\d,.]+ – \$[\d,.]+ a month; \$[\d,.]+ – \$[\d,.]+ over all of them\. The totals price ml.g5.2xlarge\.$/);
  });
});
