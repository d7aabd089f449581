import { mockClient } from 'aws-sdk-client-mock';
import {
  CloudFormationClient, CreateChangeSetCommand, DeleteChangeSetCommand, DeleteStackCommand, DescribeChangeSetCommand, DescribeStackEventsCommand,
  DescribeStacksCommand, ExecuteChangeSetCommand, ListStackResourcesCommand, UpdateTerminationProtectionCommand, StackEvent,
} from '@aws-sdk/client-cloudformation';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ListServiceQuotasCommand, GetServiceQuotaCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { DescribeEndpointCommand, DescribeEndpointConfigCommand, ListEndpointsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { completedRegions, deployEndpoint, DeployRequest } from '../../../src/deploy/flow';
import type { Target } from '../../../src/config/select';
import { DeployError } from '../../../src/core/errors';
import { EnvInputs } from '../../../src/core/env';
import { memoryReporter } from '../../../src/core/log';
import type { RenderStackInput } from '../../../src/deploy/types';
import { event, fakeClock, fakeRender, jobSummary, selection } from './flow-fixtures';
import { ensureApiKeySecret } from '../../../src/keys/secret';
import { ACMClient, DescribeCertificateCommand } from '@aws-sdk/client-acm';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { stackAnswer, stackNotFound } from '../../support/fake-aws/stack-answer';
import { ecrHoldsEveryImage } from '../../support/fake-aws/ecr-holds-images';
import { ec2HoldsTheExampleNetwork } from '../../support/fake-aws/ec2-network';

jest.mock('../../../src/keys/secret', () => ({
  ensureApiKeySecret: jest.fn(async () => ({ secretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:acme-llm/code-assistant/dev/api-key-Xy12Ab', created: true })),
}));

const cfn = mockClient(CloudFormationClient);
const sts = mockClient(STSClient);
const sq = mockClient(ServiceQuotasClient);
const sm = mockClient(SageMakerClient);
const runtime = mockClient(SageMakerRuntimeClient);
const s3 = mockClient(S3Client);
const secrets = mockClient(SecretsManagerClient);
// The ecs example's certificate names its hostname (the deploy checks it before anything mutates).
const acm = mockClient(ACMClient);
const ecs = mockClient(ECSClient);
// The preflight looks the deployed image up in ECR and the subnets up in EC2: they are there.
ecrHoldsEveryImage();
ec2HoldsTheExampleNetwork();
const TASK_DEF = 'arn:aws:ecs:us-east-1:111111111111:task-definition/acme-llm-code-assistant-dev:7';

const ACCOUNT = '111111111111';
const SHA = 'abcdef0123456789abcdef0123456789abcdef01';
const STACK = 'acme-llm-qwen-chat-dev';
const ID = `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/${STACK}/1`;
const IMAGE = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/acme-llm/qwen-chat:md-abcdef0`;
const WEIGHTS = `s3://model-deploy-${ACCOUNT}-us-east-1/models/acme-llm/qwen-chat/abcdef0/`;

interface World {
  initialStatus?: string;
  emptyChangeSet?: boolean;
  /** Events of the execution, after the first stack event; default: a clean update. */
  outcome?: (token: string) => StackEvent[];
  finalStatus?: string;
  outputs?: Record<string, string>;
}

function world(w: World = {}) {
  let status = w.initialStatus;
  let token = '';
  cfn.on(DescribeStacksCommand).callsFake(() => {
    if (!status) throw stackNotFound(STACK);
    return stackAnswer({ name: STACK, id: ID, status, created: new Date(), outputs: w.outputs ?? {} });
  });
  let created = false;
  cfn.on(DescribeChangeSetCommand).callsFake(() => {
    if (!created) throw Object.assign(new Error('ChangeSet md-abcdef0 does not exist'), { name: 'ChangeSetNotFoundException' });
    return w.emptyChangeSet
      ? { ChangeSetId: 'arn:cs/md-abcdef0', ChangeSetName: 'md-abcdef0', StackId: ID, Status: 'FAILED', ExecutionStatus: 'UNAVAILABLE', StatusReason: "The submitted information didn't contain changes. Submit different information to create a change set." }
      : {
          ChangeSetId: 'arn:cs/md-abcdef0', ChangeSetName: 'md-abcdef0', StackId: ID, Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE',
          Changes: [{ Type: 'Resource', ResourceChange: { Action: 'Modify', Replacement: 'True', LogicalResourceId: 'EndpointConfig', ResourceType: 'AWS::SageMaker::EndpointConfig' } }],
        };
  });
  cfn.on(CreateChangeSetCommand).callsFake(() => {
    created = true;
    if (!status) status = 'REVIEW_IN_PROGRESS';
    return { Id: 'arn:cs/md-abcdef0', StackId: ID };
  });
  cfn.on(DeleteChangeSetCommand).resolves({});
  cfn.on(DeleteStackCommand).callsFake((input: { ClientRequestToken: string }) => {
    token = input.ClientRequestToken;
    status = 'DELETE_COMPLETE';
    return {};
  });
  cfn.on(ExecuteChangeSetCommand).callsFake((input: { ClientRequestToken: string }) => {
    token = input.ClientRequestToken;
    status = w.finalStatus ?? 'UPDATE_COMPLETE';
    return {};
  });
  cfn.on(DescribeStackEventsCommand).callsFake(() => {
    const events = status === 'DELETE_COMPLETE'
      ? [event(ID, STACK, token, { ResourceStatus: 'DELETE_COMPLETE' })]
      : w.outcome?.(token) ?? [event(ID, STACK, token, { ResourceStatus: status as StackEvent["ResourceStatus"] })];
    return { StackEvents: [...events].reverse() };
  });
  cfn.on(UpdateTerminationProtectionCommand).resolves({});
  cfn.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [] });
}

/** One deploy as deployEndpoint gets it: the target, the request, and the run context (whose reporter records). */
interface Deploy {
  target: Target;
  request: DeployRequest;
  run: { reporter: ReturnType<typeof memoryReporter>; env: EnvInputs };
  reporter: ReturnType<typeof memoryReporter>;
}

function options(over: Partial<DeployRequest> & { target?: Target; env?: EnvInputs } = {}, renders: RenderStackInput[] = []): Deploy {
  const { target = selection('qwen-chat', 'dev'), env = new EnvInputs({ GITHUB_SHA: SHA, GITHUB_REPOSITORY: 'acme/models', GITHUB_RUN_ID: '7' }), ...request } = over;
  const reporter = memoryReporter();
  return {
    target,
    request: {
      mode: 'create-and-execute',
      timeoutMinutes: 60,
      failOnEmptyChangeSet: false,
      skipQuotaCheck: false,
      smokeTest: true,
      render: fakeRender(renders),
      // What build-model's outputs wire in (the example deployments build their image and weights).
      imageUri: IMAGE,
      modelDataUrl: WEIGHTS,
      pollOverrides: fakeClock(),
      ...request,
    },
    run: { reporter, env },
    reporter,
  };
}

const runDeployFlow = (o: Deploy) => deployEndpoint(o.target, o.request, o.run);

beforeEach(() => {
  for (const m of [cfn, sts, sq, sm, runtime, s3, secrets, acm, ecs]) m.reset();
  acm.on(DescribeCertificateCommand).resolves({ Certificate: { DomainName: '*.example.com', SubjectAlternativeNames: ['*.example.com'] } });
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/gh` });
  sq.on(ListServiceQuotasCommand).resolves({ Quotas: [{ QuotaName: 'ml.g5.2xlarge for endpoint usage', QuotaCode: 'L-2222', Value: 4 }] });
  sm.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'InService', EndpointConfigName: 'cfg-new', EndpointArn: 'arn:aws:sagemaker:us-east-1:111111111111:endpoint/acme-llm-qwen-chat-dev' });
  sm.on(ListEndpointsCommand).resolves({ Endpoints: [] });
  runtime.on(InvokeEndpointCommand).resolves({ Body: Buffer.from('{"choices":[{"message":{"content":"Hello"}}]}') as never });
});

describe('deployEndpoint: create-and-execute', () => {
  it('updates a stack: change set md-<sha7>, quota check, execute with a token, verify the new config, smoke test, outputs and summary', async () => {
    world({ initialStatus: 'UPDATE_COMPLETE', outputs: { EndpointName: 'acme-llm-qwen-chat-dev', EndpointConfigName: 'cfg-new', EndpointUrl: 'https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/acme-llm-qwen-chat-dev/invocations' } });
    const o = options();
    const [r] = await runDeployFlow(o);
    expect(r).toMatchObject({
      status: 'deployed', stackName: STACK, stackId: ID, changeSetId: 'arn:cs/md-abcdef0', hasChanges: true,
      endpointName: 'acme-llm-qwen-chat-dev', endpointArn: 'arn:aws:sagemaker:us-east-1:111111111111:endpoint/acme-llm-qwen-chat-dev',
      endpointUrl: 'https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/acme-llm-qwen-chat-dev/invocations',
    });
    const create = cfn.commandCalls(CreateChangeSetCommand)[0].args[0].input;
    expect(create).toMatchObject({ StackName: STACK, ChangeSetName: 'md-abcdef0', ChangeSetType: 'UPDATE' });
    const exec = cfn.commandCalls(ExecuteChangeSetCommand)[0].args[0].input;
    expect(exec.ClientRequestToken).toMatch(/^md-deploy-7-1-us-east-1-/);
    // Blue/green replaces the endpoint config: two fleets' worth of quota is checked, before executing.
    expect(o.reporter.captured.lines.join('\n')).toContain('this deploy needs 2 instances');
    expect(runtime.commandCalls(InvokeEndpointCommand)[0].args[0].input).toMatchObject({ EndpointName: 'acme-llm-qwen-chat-dev', ContentType: 'application/json' });
    expect(jobSummary(o.reporter, o.target, [r])).toMatch(/🔴 Replace <code>EndpointConfig<\/code>[\s\S]*## deploy-endpoint: qwen-chat → dev \(us-east-1\)[\s\S]*Timings/);
    // No token: the GitHub deployment is skipped with a notice, not a failure.
    expect(o.reporter.captured.annotations).toEqual([expect.objectContaining({ level: 'notice', title: 'GitHub deployment skipped' })]);
  });

  it('counts the AWS requests of each stage in the stopwatch (#23.5, #26.4)', async () => {
    world({ initialStatus: 'UPDATE_COMPLETE', outputs: { EndpointName: 'acme-llm-qwen-chat-dev', EndpointConfigName: 'cfg-new' } });
    const [r] = await runDeployFlow(options());
    const stage = (step: string) => r!.timings.find((t) => t.step === step);
    expect(stage('stack execution')?.requests).toBe(cfn.commandCalls(DescribeStackEventsCommand).length);
    expect(stage('endpoint check')?.requests).toBe(sm.commandCalls(DescribeEndpointCommand).length);
    expect(stage('smoke test')?.requests).toBe(1);
    const summary = jobSummary(memoryReporter(), selection('qwen-chat', 'dev'), [r!]);
    expect(summary).toMatch(/\| Stage \| Time \| AWS requests \|[\s\S]*\| stack execution \| [\d.]+ s \| \d+ \|/);
  });

  it('reads the stack once before the change set', async () => {
    world({ initialStatus: 'UPDATE_COMPLETE', outputs: { EndpointConfigName: 'cfg-new' } });
    await runDeployFlow(options({ smokeTest: false }));
    const calls = cfn.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name);
    expect(calls.slice(0, calls.indexOf('CreateChangeSetCommand')).filter((n) => n === 'DescribeStacksCommand')).toHaveLength(1);
  });

  it('derives ClientRequestTokens from the run, attempt, region and change set: the same on a retry, new on the next attempt', async () => {
    const tokenOf = async (attempt: string) => {
      cfn.reset();
      world({ initialStatus: 'UPDATE_COMPLETE', outputs: { EndpointConfigName: 'cfg-new' } });
      await runDeployFlow(options({ smokeTest: false, env: new EnvInputs({ GITHUB_SHA: SHA, GITHUB_RUN_ID: '7', GITHUB_RUN_ATTEMPT: attempt }) }));
      return cfn.commandCalls(ExecuteChangeSetCommand)[0]?.args[0].input.ClientRequestToken;
    };
    const first = await tokenOf('1');
    expect(first).toMatch(/^md-deploy-7-1-us-east-1-[0-9a-f]{12}$/);
    expect(await tokenOf('1')).toBe(first);
    expect(await tokenOf('2')).toMatch(/^md-deploy-7-2-us-east-1-/);
  });

  it('names the expected bucket owner on a template-bucket given as input too', async () => {
    world({ initialStatus: 'UPDATE_COMPLETE', outputs: { EndpointConfigName: 'cfg-new' } });
    s3.on(PutObjectCommand).resolves({});
    await runDeployFlow(options({ render: fakeRender([], 60000), smokeTest: false, templateBucket: 'my-templates' }));
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).toMatchObject({ Bucket: 'my-templates', ExpectedBucketOwner: ACCOUNT });
  });

  it('treats an empty change set as a successful no-op, or fails when asked to', async () => {
    world({ initialStatus: 'UPDATE_COMPLETE', emptyChangeSet: true });
    const o = options();
    const [r] = await runDeployFlow(o);
    expect(r).toMatchObject({ status: 'no-changes', hasChanges: false });
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
    expect(cfn.commandCalls(DeleteChangeSetCommand)).toHaveLength(1);

    cfn.reset();
    world({ initialStatus: 'UPDATE_COMPLETE', emptyChangeSet: true });
    const err = (await runDeployFlow(options({ failOnEmptyChangeSet: true })).catch((e) => e)) as DeployError;
    expect(err.title).toBe('Empty change set');
    expect(err.hint).toContain('fail-on-empty-changeset');
  });

  it('reports the first failure event (resource, status, reason) and says the previous version keeps serving', async () => {
    world({
      initialStatus: 'UPDATE_COMPLETE',
      finalStatus: 'UPDATE_ROLLBACK_COMPLETE',
      outcome: (t) => [
        event(ID, STACK, t, { ResourceStatus: 'UPDATE_IN_PROGRESS' }),
        event(ID, STACK, t, { LogicalResourceId: 'Endpoint', ResourceType: 'AWS::SageMaker::Endpoint', ResourceStatus: 'UPDATE_FAILED', ResourceStatusReason: 'The primary container for production variant AllTraffic did not pass the ping health check.' }),
        event(ID, STACK, t, { ResourceStatus: 'UPDATE_ROLLBACK_IN_PROGRESS', ResourceStatusReason: 'The following resource(s) failed to update: [Endpoint].' }),
        event(ID, STACK, t, { ResourceStatus: 'UPDATE_ROLLBACK_COMPLETE' }),
      ],
    });
    const err = (await runDeployFlow(options()).catch((e) => e)) as DeployError;
    expect(err.title).toBe('Deploy failed: Endpoint UPDATE_FAILED');
    expect(err.message).toContain('Endpoint (AWS::SageMaker::Endpoint) UPDATE_FAILED: The primary container for production variant AllTraffic did not pass the ping health check.');
    expect(err.hint).toContain('raise healthCheck.startupTimeoutSeconds');
    expect(err.hint).toContain('the previous version keeps serving');
    expect(sm.commandCalls(DescribeEndpointCommand)).toHaveLength(0);
  });

  it('refuses a stack in progress before anything mutates', async () => {
    world({ initialStatus: 'UPDATE_IN_PROGRESS' });
    const renders: RenderStackInput[] = [];
    await expect(runDeployFlow(options({}, renders))).rejects.toThrow(/another operation is running on it/);
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
    expect(renders).toHaveLength(0);
  });

  it('deletes a stack left in ROLLBACK_COMPLETE and creates it again', async () => {
    world({ initialStatus: 'ROLLBACK_COMPLETE', finalStatus: 'CREATE_COMPLETE', outputs: { EndpointConfigName: 'cfg-new' } });
    const [r] = await runDeployFlow(options());
    expect(cfn.commandCalls(DeleteStackCommand)[0].args[0].input.StackName).toBe(ID);
    expect(cfn.commandCalls(CreateChangeSetCommand)[0].args[0].input.ChangeSetType).toBe('CREATE');
    expect(r.status).toBe('deployed');
  });

  it('uploads a template over 51,200 bytes to the artifact bucket and passes its URL', async () => {
    world({ initialStatus: 'UPDATE_COMPLETE', outputs: { EndpointConfigName: 'cfg-new' } });
    s3.on(PutObjectCommand).resolves({});
    await runDeployFlow(options({ render: fakeRender([], 60000), smokeTest: false }));
    const put = s3.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(put).toMatchObject({ Bucket: `model-deploy-${ACCOUNT}-us-east-1`, ExpectedBucketOwner: ACCOUNT });
    const create = cfn.commandCalls(CreateChangeSetCommand)[0].args[0].input;
    expect(create.TemplateBody).toBeUndefined();
    expect(create.TemplateURL).toBe(`https://model-deploy-${ACCOUNT}-us-east-1.s3.us-east-1.amazonaws.com/${put.Key}`);
  });

  it('fails early on a quota too low, before executing', async () => {
    world({ initialStatus: 'UPDATE_COMPLETE' });
    sq.on(ListServiceQuotasCommand).resolves({ Quotas: [{ QuotaName: 'ml.g5.2xlarge for endpoint usage', QuotaCode: 'L-2222', Value: 0 }] });
    await expect(runDeployFlow(options())).rejects.toThrow(/The quota "ml.g5.2xlarge for endpoint usage" is 0 instances/);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
  });

  it('checks the quota before anything mutates: a new stack refused for quota leaves no REVIEW_IN_PROGRESS stack', async () => {
    world();
    sq.on(ListServiceQuotasCommand).resolves({ Quotas: [{ QuotaName: 'ml.g5.2xlarge for endpoint usage', QuotaCode: 'L-2222', Value: 0 }] });
    await expect(runDeployFlow(options())).rejects.toThrow(/The quota "ml.g5.2xlarge for endpoint usage" is 0 instances/);
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  });

  it('counts the instances other endpoints already run on the type, blue/green double fleet included', async () => {
    world({ initialStatus: 'UPDATE_COMPLETE' });
    // Quota 4; another InService endpoint runs 3 × ml.g5.2xlarge; the update needs 2 (old + new fleet).
    sm.on(ListEndpointsCommand).resolves({ Endpoints: [
      { EndpointName: 'other-app', EndpointStatus: 'InService', EndpointArn: 'arn:o', CreationTime: new Date(), LastModifiedTime: new Date() },
      { EndpointName: 'acme-llm-qwen-chat-dev', EndpointStatus: 'InService', EndpointArn: 'arn:own', CreationTime: new Date(), LastModifiedTime: new Date() },
      { EndpointName: 'broken', EndpointStatus: 'Failed', EndpointArn: 'arn:b', CreationTime: new Date(), LastModifiedTime: new Date() },
    ] });
    sm.on(DescribeEndpointCommand, { EndpointName: 'other-app' }).resolves({
      EndpointName: 'other-app', EndpointStatus: 'InService', EndpointConfigName: 'other-cfg',
      ProductionVariants: [{ VariantName: 'a', CurrentInstanceCount: 3, DesiredInstanceCount: 3 }, { VariantName: 'cpu', CurrentInstanceCount: 5 }],
    });
    sm.on(DescribeEndpointConfigCommand, { EndpointConfigName: 'other-cfg' }).resolves({
      ProductionVariants: [{ VariantName: 'a', InstanceType: 'ml.g5.2xlarge' }, { VariantName: 'cpu', InstanceType: 'ml.m5.large' }],
    });
    const err = (await runDeployFlow(options()).catch((e) => e)) as DeployError;
    expect(err.message).toBe('The quota "ml.g5.2xlarge for endpoint usage" is 4 instances in us-east-1; 3 are in use by other-app (3), and this deploy needs 2 instances (1 × ml.g5.2xlarge, twice while blue/green moves traffic).');
    // Others' 3 plus what autoscaling may reach (maximum 3).
    expect(err.hint).toContain('--desired-value 6');
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
    // Our own endpoint is the old fleet the need already counts; a failed one holds nothing.
    expect(sm.commandCalls(DescribeEndpointConfigCommand).map((c) => c.args[0].input.EndpointConfigName)).toEqual(['other-cfg']);
  });

  it('refuses credentials of another account than the environment', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: '999999999999' });
    world({ initialStatus: 'UPDATE_COMPLETE' });
    await expect(runDeployFlow(options())).rejects.toThrow('The AWS credentials are for account 999999999999, but environment dev is account 111111111111.');
  });

  it('explains AssumeRoleWithWebIdentity denied', async () => {
    sts.on(GetCallerIdentityCommand).rejects(Object.assign(new Error('Not authorized to perform sts:AssumeRoleWithWebIdentity'), { name: 'AccessDenied' }));
    const err = (await runDeployFlow(options()).catch((e) => e)) as DeployError;
    expect(err.title).toBe('OIDC role assumption denied');
  });
});

describe('deployEndpoint: other modes and targets', () => {
  it('create-only makes the change set and the markdown but executes nothing', async () => {
    world({ initialStatus: 'UPDATE_COMPLETE' });
    const [r] = await runDeployFlow(options({ mode: 'create-only' }));
    expect(r).toMatchObject({ status: 'change-set-created', hasChanges: true, changeSetId: 'arn:cs/md-abcdef0' });
    expect(r.changesMarkdown).toContain('<details>');
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
  });

  it('execute-only executes the change set named after the commit, and says what to do when it is missing', async () => {
    world({ initialStatus: 'UPDATE_COMPLETE', outputs: { EndpointConfigName: 'cfg-new' } });
    cfn.on(DescribeChangeSetCommand).rejects(Object.assign(new Error('ChangeSet md-abcdef0 does not exist'), { name: 'ChangeSetNotFoundException' }));
    const err = (await runDeployFlow(options({ mode: 'execute-only' })).catch((e) => e)) as DeployError;
    expect(err.title).toBe('Change set not found');
    expect(err.hint).toContain('create-only');

    cfn.reset();
    world({ initialStatus: 'UPDATE_COMPLETE', outputs: { EndpointConfigName: 'cfg-new' } });
    cfn.on(DescribeChangeSetCommand).resolves({ ChangeSetId: 'arn:cs/md-abcdef0', ChangeSetName: 'md-abcdef0', StackId: ID, Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', Changes: [] });
    const renders: RenderStackInput[] = [];
    const [r] = await runDeployFlow(options({ mode: 'execute-only' }, renders));
    expect(r.status).toBe('deployed');
    expect(cfn.commandCalls(ExecuteChangeSetCommand)[0].args[0].input.ChangeSetName).toBe('arn:cs/md-abcdef0');
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
    expect(renders).toHaveLength(0);
  });

  it('ecs with an API key: ensures the secret, passes its ARN to the template, smoke-tests over HTTPS with the key masked', async () => {
    const key = 'K'.repeat(48);
    world({ initialStatus: 'UPDATE_COMPLETE', outputs: { EndpointUrl: 'https://code.example.com', ApiKeySecretArn: 'arn:secret', ClusterName: 'acme', ServiceName: 'code-assistant' } });
    cfn.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [{ LogicalResourceId: 'TaskDefinition', ResourceType: 'AWS::ECS::TaskDefinition', PhysicalResourceId: TASK_DEF, ResourceStatus: 'UPDATE_COMPLETE', LastUpdatedTimestamp: new Date(0) }] });
    ecs.on(DescribeServicesCommand).resolves({ services: [{ deployments: [{ id: 'ecs-svc/2', status: 'PRIMARY', taskDefinition: TASK_DEF, rolloutState: 'COMPLETED', runningCount: 1, desiredCount: 1 }] }] });
    const sel = selection('code-assistant', 'dev', (t) => t.replace('    healthCheck:\n      path: /health', '    healthCheck:\n      path: /health\n    smokeTest:\n      payload: { prompt: hi }'));
    sq.on(GetServiceQuotaCommand).resolves({ Quota: { QuotaName: 'Running On-Demand G and VT instances', Value: 64 } });
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ apiKey: key }) });
    const seen: (string | undefined)[] = [];
    const fetchImpl = (async (_u: string, init: RequestInit) => {
      const auth = (init.headers as Record<string, string>).authorization;
      seen.push(auth);
      return new Response('{}', { status: auth === `Bearer ${key}` ? 200 : 401 });
    }) as unknown as typeof fetch;
    const renders: RenderStackInput[] = [];
    const o = options({ target: sel, fetchImpl }, renders);
    const [r] = await runDeployFlow(o);
    expect(r).toMatchObject({ status: 'deployed', endpointUrl: 'https://code.example.com' });
    expect(renders[renders.length - 1].apiKeySecretArn).toBe('arn:aws:secretsmanager:us-east-1:111111111111:secret:acme-llm/code-assistant/dev/api-key-Xy12Ab');
    expect(seen).toEqual([undefined, `Bearer ${key}`]);
    expect(o.reporter.captured.secrets).toContain(key);
    expect(o.reporter.allText()).not.toContain(key);
  });

  it('enables termination protection for prod after the first create', async () => {
    world({ finalStatus: 'CREATE_COMPLETE', outputs: { EndpointConfigName: 'cfg-new' } });
    const sel = selection('qwen-chat', 'prod');
    sts.on(GetCallerIdentityCommand).resolves({ Account: '333333333333' });
    // prod's own weights (promote-model copies them there; dev's bucket is not readable from prod).
    const o = options({ target: { ...sel, regions: ['us-east-1'] }, smokeTest: false, modelDataUrl: WEIGHTS.replace(ACCOUNT, '333333333333') });
    await runDeployFlow(o);
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand)[0].args[0].input).toEqual({ StackName: ID, EnableTerminationProtection: true });
  });
});

describe('deployEndpoint: unresolved inputs stop the run before anything mutates', () => {
  const mutations = () => [
    ...cfn.commandCalls(CreateChangeSetCommand), ...cfn.commandCalls(ExecuteChangeSetCommand), ...cfn.commandCalls(DeleteStackCommand), ...s3.commandCalls(PutObjectCommand),
  ];
  beforeEach(() => (ensureApiKeySecret as jest.Mock).mockClear());

  it('refuses a missing image-uri, naming the step output to wire', async () => {
    world({ initialStatus: 'UPDATE_COMPLETE' });
    const err = (await runDeployFlow(options({ imageUri: undefined })).catch((e) => e)) as DeployError;
    expect(err).toBeInstanceOf(DeployError);
    expect(err.message).toMatch(/^image-uri is empty: .*build-model's image-uri output/);
    expect(err.hint).toContain('image-uri: ${{ steps.build.outputs.image-uri }}');
    expect(mutations()).toHaveLength(0);
  });

  it('refuses missing weights for a Hugging Face model, and a literal placeholder given as input (real renderer)', async () => {
    world({ initialStatus: 'UPDATE_COMPLETE' });
    const noWeights = (await runDeployFlow(options({ modelDataUrl: undefined })).catch((e) => e)) as DeployError;
    expect(noWeights.message).toMatch(/^model-data-url is empty: .*Qwen\/Qwen2.5-7B-Instruct/);
    expect(noWeights.hint).toContain('model-data-url: ${{ steps.build.outputs.model-data-url }}');
    const literal = (await runDeployFlow(options({ render: undefined, imageUri: '{{build-model.outputs.image-uri}}' })).catch((e) => e)) as DeployError;
    expect(literal.message).toMatch(/^image-uri is the unresolved placeholder \{\{build-model.outputs.image-uri\}\}/);
    expect(mutations()).toHaveLength(0);
  });

  it('ecs: refuses a hostname its certificate does not name before the secret, quotas or a change set (13.4)', async () => {
    world({ initialStatus: 'UPDATE_COMPLETE' });
    const sel = selection('code-assistant', 'dev');
    const describeCertificate = async () => ({ DomainName: 'api.other.example' });
    await expect(runDeployFlow(options({ target: sel, describeCertificate }))).rejects.toThrow(/not security.hostname code-assistant.example.com/);
    const noHost = selection('code-assistant', 'dev', (t) => t.replace(/\n +# The name clients call.*\n +hostname: .*/, ''));
    await expect(runDeployFlow(options({ target: noHost }))).rejects.toThrow(/needs security.hostname/);
    expect(ensureApiKeySecret).not.toHaveBeenCalled();
    expect(sq.calls()).toHaveLength(0);
    expect(mutations()).toHaveLength(0);
  });

  it('ecs: does not create the API-key secret when the image is missing', async () => {
    world({ initialStatus: 'UPDATE_COMPLETE' });
    const sel = selection('code-assistant', 'dev');
    await expect(runDeployFlow(options({ target: sel, imageUri: undefined }))).rejects.toThrow(/image-uri is empty/);
    expect(ensureApiKeySecret).not.toHaveBeenCalled();
    expect(mutations()).toHaveLength(0);
  });
});

describe('deployEndpoint: per-region images and weights (image-uris, model-data-urls)', () => {
  const PROD_IMAGE = (region: string) => `333333333333.dkr.ecr.${region}.amazonaws.com/acme-llm/qwen-chat:md-abcdef0`;
  const PROD_DATA = (region: string) => `s3://model-deploy-333333333333-${region}/models/acme-llm/qwen-chat/abcdef0/`;
  const maps = {
    imageUris: JSON.stringify({ 'us-east-1': PROD_IMAGE('us-east-1'), 'eu-west-1': PROD_IMAGE('eu-west-1') }),
    modelDataUrls: JSON.stringify({ 'us-east-1': PROD_DATA('us-east-1'), 'eu-west-1': PROD_DATA('eu-west-1') }),
  };

  it('renders each region with the image and weights promoted into it', async () => {
    world({ initialStatus: 'UPDATE_COMPLETE' });
    sts.on(GetCallerIdentityCommand).resolves({ Account: '333333333333' });
    const renders: RenderStackInput[] = [];
    const o = options({ target: selection('qwen-chat', 'prod'), mode: 'create-only', imageUri: undefined, modelDataUrl: undefined, ...maps }, renders);
    await runDeployFlow(o);
    expect(renders.map((r) => [r.region, r.imageUri, r.modelDataUrl])).toEqual([
      ['us-east-1', PROD_IMAGE('us-east-1'), PROD_DATA('us-east-1')],
      ['eu-west-1', PROD_IMAGE('eu-west-1'), PROD_DATA('eu-west-1')],
    ]);
  });

  it('a later region that fails leaves the earlier regions\' results on the error, for their summaries', async () => {
    world({ initialStatus: 'UPDATE_COMPLETE' });
    sts.on(GetCallerIdentityCommand).resolves({ Account: '333333333333' });
    const render = fakeRender();
    const o = options({
      target: selection('qwen-chat', 'prod'), mode: 'create-only', imageUri: undefined, modelDataUrl: undefined, ...maps,
      render: (input) => {
        if (input.region === 'eu-west-1') throw new DeployError('eu-west-1 cannot render');
        return render(input);
      },
    });
    const err = await runDeployFlow(o).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeployError);
    expect(completedRegions(err).map((r) => r.region)).toEqual(['us-east-1']);
    expect(completedRegions(new DeployError('other'))).toEqual([]);
  });

  it('falls back to image-uri and model-data-url for a region the maps leave out', async () => {
    world({ initialStatus: 'UPDATE_COMPLETE' });
    const renders: RenderStackInput[] = [];
    await runDeployFlow(options({ mode: 'create-only', imageUris: '{}', modelDataUrls: '' }, renders));
    expect(renders.map((r) => [r.imageUri, r.modelDataUrl])).toEqual([[IMAGE, WEIGHTS]]);
  });

  it.each([
    ['imageUris', 'not json', /image-uris is not JSON/],
    ['imageUris', '["x"]', /image-uris must be a JSON object of region → value/],
    ['modelDataUrls', '{"us-east-1": 5}', /model-data-urls\["us-east-1"\] must be a string/],
    ['imageUris', '{"ap-south-1": "x"}', /image-uris names ap-south-1, which is not a region of qwen-chat in dev \(us-east-1\)/],
  ])('refuses %s %s before any AWS call', async (key, value, message) => {
    world({ initialStatus: 'UPDATE_COMPLETE' });
    const err = await runDeployFlow(options({ [key]: value })).catch((e) => e);
    expect(err).toBeInstanceOf(DeployError);
    expect(err.message).toMatch(message);
    expect(err.title).toBe('Invalid input');
    expect([...sts.calls(), ...cfn.calls()]).toEqual([]);
  });
});
