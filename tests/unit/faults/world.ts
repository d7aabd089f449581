/**
 * The fault-injection world of the deploy (#23): deployEndpoint run through its door against scripted AWS
 * answers at the SDK boundary (aws-sdk-client-mock), on a fake clock. Each service's state is a timeline
 * from the moment the change set executes ([ms, state] pairs: the last one reached holds), each command
 * can be made to fail its first N calls (throttling storms, connection resets, expired credentials), and
 * the run can be cancelled when a given command is first sent (cancellation at every stage).
 * Shared by tests/unit/faults/deploy-faults.test.ts and bench/deploy.bench.ts.
 */
import { mockClient } from 'aws-sdk-client-mock';
import {
  CancelUpdateStackCommand, CloudFormationClient, CreateChangeSetCommand, DeleteChangeSetCommand, DescribeChangeSetCommand, DescribeChangeSetCommandOutput,
  DescribeStackEventsCommand, DescribeStacksCommand, ExecuteChangeSetCommand, ListStackResourcesCommand, StackEvent, UpdateTerminationProtectionCommand,
} from '@aws-sdk/client-cloudformation';
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DescribeEndpointCommand, DescribeEndpointCommandOutput, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { DescribeServicesCommand, Deployment as EcsDeployment, ECSClient } from '@aws-sdk/client-ecs';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { deployEndpoint, failedRegion, RegionResult, Timing } from '../../../src/deploy/flow';
import { failureSummary } from '../../../src/actions/deploy-endpoint';
import type { Target } from '../../../src/config/select';
import { EnvInputs } from '../../../src/core/env';
import { DeployError, errorMessage } from '../../../src/core/errors';
import { memoryReporter } from '../../../src/core/log';
import type { RenderStackInput, RenderedStack } from '../../../src/deploy/types';
import { exampleTarget } from '../../support/target';
import { AwsError } from '../../support/fake-aws/aws-error';
import { stackAnswer, stackNotFound } from '../../support/fake-aws/stack-answer';
import { Loopback, startLoopback } from '../../support/loopback';
import { ecrHoldsEveryImage } from '../../support/fake-aws/ecr-holds-images';
import { ec2HoldsTheExampleNetwork } from '../../support/fake-aws/ec2-network';
import { setEnv } from '../../support/env';

export const ACCOUNT = '111111111111';
export const TASK_NEW = `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/svc:8`;
export const TASK_OLD = `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/svc:7`;
const TG = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/tg/1`;
const SHA = 'abcdef0123456789abcdef0123456789abcdef01';

export type Kind = 'sagemaker' | 'ecs' | 'ec2';
type Timeline<T> = [number, T][];

export interface Fault {
  /** What the case injects, in a sentence. */
  name: string;
  kind: Kind;
  /** The stack before the deploy (absent: none). */
  initialStatus?: string;
  /** The change set: ready (default), empty, failed with a reason, or never leaving CREATE_PENDING. */
  changeSet?: 'ready' | 'empty' | { failed: string } | 'stuck';
  /** The stack's own status from ExecuteChangeSet on; default UPDATE_COMPLETE (CREATE_COMPLETE for a new stack) at 60 s. */
  stack?: Timeline<string>;
  /** A resource's own failure, reported with the first stack status ending in FAILED or ROLLBACK_IN_PROGRESS. */
  resourceFailure?: { id: string; type: string; status: string; reason: string };
  endpoint?: Timeline<Partial<DescribeEndpointCommandOutput>>;
  ecs?: Timeline<EcsDeployment[]>;
  targets?: Timeline<TargetHealthDescription[]>;
  smoke?: 'ok' | { error: string; message: string };
  /** Start-up log lines written from a time on (the endpoint's, the service's or the instances' log group). */
  logs?: Timeline<string[]>;
  /** The first `times` calls of `command` (a Command class name without "Command") throw `error`. */
  failing?: { command: string; times: number; error: () => Error }[];
  /** Abort the run (SIGTERM) when this command is first sent. */
  cancelOn?: string;
  timeoutMinutes?: number;
  /**
   * The job runs under GitHub OIDC (a loopback token endpoint): each STS AssumeRoleWithWebIdentity hands out
   * a session of `sessionMinutes`, every signed call refuses an expired one (ExpiredToken), and from the
   * `renewalFailsFrom`-th exchange on STS refuses the token.
   */
  oidc?: { sessionMinutes: number; renewalFailsFrom?: number };
  /** false: the deploy returns once the change set executes (no-wait mode). */
  wait?: false;
  /** resume: the operation (the `stack` timeline) was started before the run, by a deploy that did not wait. */
  mode?: 'resume';
  /** Expected end: success, or a failure whose message, hint and summary name the reason. */
  expect: { ok: true } | { reason: RegExp; hint?: RegExp };
  /** Most fake-clock time the case may take; default the deploy deadline plus one poll (5 s). */
  budgetMs?: number;
}

export interface Outcome {
  ok: boolean;
  /** OIDC tokens the job asked GitHub for, and sessions STS handed out (with `oidc`). */
  oidcTokens: number;
  sessions: number;
  results?: RegionResult[];
  error?: unknown;
  text: string;
  summary: string;
  elapsedMs: number;
  timings: Timing[];
  calls: Record<string, number>;
  reporter: ReturnType<typeof memoryReporter>;
}

const cfn = mockClient(CloudFormationClient);
const sts = mockClient(STSClient);
const sm = mockClient(SageMakerClient);
const runtime = mockClient(SageMakerRuntimeClient);
const ecs = mockClient(ECSClient);
const elbv2 = mockClient(ElasticLoadBalancingV2Client);
const secrets = mockClient(SecretsManagerClient);
const logs = mockClient(CloudWatchLogsClient);
// The preflight looks the deployed image up in ECR and the subnets up in EC2: they are there.
ecrHoldsEveryImage();
ec2HoldsTheExampleNetwork();
export const mocks = { cfn, sts, sm, runtime, ecs, elbv2, secrets, logs };

function at<T>(timeline: Timeline<T> | undefined, elapsed: number): T | undefined {
  let value: T | undefined;
  for (const [ms, v] of timeline ?? []) if (elapsed >= ms) value = v;
  return value;
}

export const throttling = () => new AwsError('Throttling', 'Rate exceeded', 400);
export const connectionReset = () => Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET' });
export const expiredToken = () => new AwsError('ExpiredToken', 'The security token included in the request is expired', 403);

function target(kind: Kind): Target {
  if (kind === 'sagemaker') return exampleTarget('qwen-chat', 'dev');
  const t = exampleTarget('code-assistant', 'dev');
  // The API key is rotate-key's world (tests/unit/keys); here the smoke test goes without one.
  return { ...t, deployment: { ...t.deployment, target: kind, apiKey: { ...t.deployment.apiKey, enabled: false } } };
}

function render(input: RenderStackInput): RenderedStack {
  const template = { Resources: { Endpoint: { Type: 'AWS::SageMaker::Endpoint' } } };
  return {
    stackName: input.names.stack, templateFile: `templates/stacks/${input.deployment.target}.yaml`, template, templateBody: JSON.stringify(template),
    parameters: [], capabilities: ['CAPABILITY_IAM'], tags: [], terminationProtection: false, endpointName: input.names.endpoint,
  };
}

/** Runs one fault through deployEndpoint and says how it ended, when (fake time), and with what requests. */
export async function runFault(f: Fault): Promise<Outcome> {
  for (const m of Object.values(mocks)) m.reset();
  const t = target(f.kind);
  const STACK = t.names.stack;
  const ID = `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/${STACK}/1`;
  let clockMs = Date.UTC(2025, 0, 1);
  const begin = clockMs;
  const clock = { now: () => clockMs, sleep: async (ms: number) => void (clockMs += ms), random: () => 1 };
  const controller = new AbortController();
  const calls: Record<string, number> = {};
  let executedAt: number | undefined;
  let token = '';
  let status = f.initialStatus;
  let created = false;
  const since = () => (executedAt === undefined ? -1 : clockMs - executedAt);
  const isNew = !f.initialStatus;
  if (f.mode === 'resume' && f.initialStatus) {
    // Started by an earlier job: its events carry that job's token.
    executedAt = clockMs;
    token = 'md-deploy-41-1-us-east-1-0123456789ab';
  }

  // GitHub OIDC: a token endpoint handing out a new token each time, STS exchanging it for a session.
  const oidc = f.oidc ? await oidcEndpoint() : undefined;
  let sessions = 0;
  sts.on(AssumeRoleWithWebIdentityCommand).callsFake((input: { WebIdentityToken?: string }) => {
    sessions++;
    if (!input.WebIdentityToken?.startsWith('oidc-token-')) throw new AwsError('InvalidIdentityToken', 'Couldn\'t retrieve verification key from your identity provider');
    if (f.oidc?.renewalFailsFrom && sessions >= f.oidc.renewalFailsFrom) throw new AwsError('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity', 403);
    return { Credentials: { AccessKeyId: `ASIA${sessions}`, SecretAccessKey: `secret-${sessions}`, SessionToken: `session-${sessions}`, Expiration: new Date(clockMs + f.oidc!.sessionMinutes * 60000) } };
  });

  /** Every answer goes through here: counting, cancellation, expired sessions, injected failures. */
  const on = <I, O>(name: string, answer: (input: I) => O) => async (input: I, getClient?: () => { config: { credentials: () => Promise<{ expiration?: Date }> } }): Promise<O> => {
    calls[name] = (calls[name] ?? 0) + 1;
    if (f.oidc && getClient) {
      // The session the client would sign with (the SDK asks the deploy's provider: its fake-clock dates are past on the real clock).
      const identity = await getClient().config.credentials();
      if (!identity.expiration || identity.expiration.getTime() <= clockMs) throw expiredToken();
    }
    if (f.cancelOn === name && !controller.signal.aborted) controller.abort(new DeployError('Cancelled by SIGTERM.', { title: 'Cancelled' }));
    const failing = f.failing?.find((x) => x.command === name);
    if (failing && calls[name]! <= failing.times) throw failing.error();
    return answer(input);
  };

  sts.on(GetCallerIdentityCommand).callsFake(on('GetCallerIdentity', () => ({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/gh` })));
  secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ apiKey: 'K'.repeat(48) }) });
  const stackTimeline = f.stack ?? [[0, isNew ? 'CREATE_IN_PROGRESS' : 'UPDATE_IN_PROGRESS'], [60000, isNew ? 'CREATE_COMPLETE' : 'UPDATE_COMPLETE']];
  const stackStatusNow = () => (executedAt === undefined ? status : at(stackTimeline, since()) ?? status);
  const outputs: Record<string, string> = f.kind === 'ecs' ? { ClusterName: 'acme', ServiceName: 'svc', EndpointUrl: 'https://code.example.com' } : f.kind === 'ec2' ? { EndpointUrl: 'https://code.example.com' } : { EndpointConfigName: 'cfg-new' };
  cfn.on(DescribeStacksCommand).callsFake(on('DescribeStacks', () => {
    const s = stackStatusNow();
    if (!s) throw stackNotFound(STACK);
    return stackAnswer({ name: STACK, id: ID, status: s, created: new Date(begin - 86400000), updated: new Date(executedAt ?? begin - 86400000), outputs });
  }));
  cfn.on(CreateChangeSetCommand).callsFake(on('CreateChangeSet', () => {
    created = true;
    status ??= 'REVIEW_IN_PROGRESS';
    return { Id: 'arn:cs/md-abcdef0', StackId: ID };
  }));
  cfn.on(DescribeChangeSetCommand).callsFake(on('DescribeChangeSet', (): DescribeChangeSetCommandOutput => {
    if (!created) throw new AwsError('ChangeSetNotFoundException', 'ChangeSet md-abcdef0 does not exist');
    const base = { ChangeSetId: 'arn:cs/md-abcdef0', ChangeSetName: 'md-abcdef0', StackId: ID, $metadata: {} };
    const cs = f.changeSet ?? 'ready';
    if (cs === 'stuck') return { ...base, Status: 'CREATE_PENDING', ExecutionStatus: 'UNAVAILABLE' };
    if (cs === 'empty') return { ...base, Status: 'FAILED', ExecutionStatus: 'UNAVAILABLE', StatusReason: "The submitted information didn't contain changes. Submit different information to create a change set." };
    if (typeof cs === 'object') return { ...base, Status: 'FAILED', ExecutionStatus: 'UNAVAILABLE', StatusReason: cs.failed };
    return { ...base, Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', Changes: [{ Type: 'Resource', ResourceChange: { Action: 'Modify', LogicalResourceId: 'Endpoint', ResourceType: 'AWS::SageMaker::Endpoint' } }] };
  }));
  cfn.on(DeleteChangeSetCommand).callsFake(on('DeleteChangeSet', () => ({})));
  cfn.on(ExecuteChangeSetCommand).callsFake(on('ExecuteChangeSet', (input: { ClientRequestToken?: string }) => {
    token = input.ClientRequestToken ?? '';
    executedAt = clockMs;
    return {};
  }));
  cfn.on(CancelUpdateStackCommand).callsFake(on('CancelUpdateStack', () => ({})));
  cfn.on(UpdateTerminationProtectionCommand).callsFake(on('UpdateTerminationProtection', () => ({})));
  cfn.on(DescribeStackEventsCommand).callsFake(on('DescribeStackEvents', () => {
    const events: StackEvent[] = [];
    let n = 0;
    for (const [ms, s] of stackTimeline) {
      if (executedAt === undefined || since() < ms) break;
      n++;
      if (f.resourceFailure && /FAILED$|ROLLBACK_IN_PROGRESS$/.test(s) && !events.some((e) => e.LogicalResourceId === f.resourceFailure!.id)) {
        const r = f.resourceFailure;
        events.push({ StackId: ID, StackName: STACK, EventId: `r-${n}`, ClientRequestToken: token, Timestamp: new Date(executedAt + ms), LogicalResourceId: r.id, ResourceType: r.type, PhysicalResourceId: r.id, ResourceStatus: r.status as StackEvent['ResourceStatus'], ResourceStatusReason: r.reason });
      }
      events.push({ StackId: ID, StackName: STACK, EventId: `s-${n}`, ClientRequestToken: token, Timestamp: new Date(executedAt + ms), LogicalResourceId: STACK, PhysicalResourceId: ID, ResourceType: 'AWS::CloudFormation::Stack', ResourceStatus: s as StackEvent['ResourceStatus'] });
    }
    return { StackEvents: events.reverse() };
  }));
  cfn.on(ListStackResourcesCommand).callsFake(on('ListStackResources', () => ({
    StackResourceSummaries: [
      { LogicalResourceId: 'EndpointConfig', ResourceType: 'AWS::SageMaker::EndpointConfig', PhysicalResourceId: 'cfg-new', ResourceStatus: 'UPDATE_COMPLETE', LastUpdatedTimestamp: new Date(0) },
      { LogicalResourceId: 'TaskDefinition', ResourceType: 'AWS::ECS::TaskDefinition', PhysicalResourceId: TASK_NEW, ResourceStatus: 'UPDATE_COMPLETE', LastUpdatedTimestamp: new Date(0) },
      { LogicalResourceId: 'TargetGroup', ResourceType: 'AWS::ElasticLoadBalancingV2::TargetGroup', PhysicalResourceId: TG, ResourceStatus: 'UPDATE_COMPLETE', LastUpdatedTimestamp: new Date(0) },
      { LogicalResourceId: 'LogGroup', ResourceType: 'AWS::Logs::LogGroup', PhysicalResourceId: `${STACK}-LogGroup-AbC123`, ResourceStatus: 'UPDATE_COMPLETE', LastUpdatedTimestamp: new Date(0) },
    ],
  })));
  const endpointNow = () => at(f.endpoint ?? [[0, { EndpointStatus: 'InService', EndpointConfigName: 'cfg-new' }]], since()) ?? { EndpointStatus: 'Creating' };
  sm.on(DescribeEndpointCommand).callsFake(on('DescribeEndpoint', () => ({ EndpointArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:endpoint/${t.names.endpoint}`, ...endpointNow() })));
  runtime.on(InvokeEndpointCommand).callsFake(on('InvokeEndpoint', () => {
    const smoke = f.smoke ?? 'ok';
    if (smoke !== 'ok') throw Object.assign(new AwsError(smoke.error, smoke.message, 424), { OriginalStatusCode: 500 });
    return { Body: Buffer.from('{"choices":[{"message":{"content":"Hello"}}]}') };
  }));
  ecs.on(DescribeServicesCommand).callsFake(on('DescribeServices', () => ({
    services: [{ deployments: at(f.ecs ?? [[0, [{ id: 'ecs-svc/8', status: 'PRIMARY', taskDefinition: TASK_NEW, rolloutState: 'COMPLETED', runningCount: 1, desiredCount: 1 }]]], since()) ?? [] }],
  })));
  elbv2.on(DescribeTargetHealthCommand).callsFake(on('DescribeTargetHealth', () => ({
    TargetHealthDescriptions: at(f.targets ?? [[0, [{ Target: { Id: 'i-1', Port: 8080 }, TargetHealth: { State: 'healthy' } }]]], since()) ?? [],
  })));

  // The log group holds what was written by now; each look gets what came since its last (nextToken).
  let logsRead = 0;
  logs.on(FilterLogEventsCommand).callsFake(on('FilterLogEvents', () => {
    const lines = (f.logs ?? []).filter(([ms]) => executedAt !== undefined && since() >= ms).flatMap(([, l]) => l);
    const fresh = lines.slice(logsRead);
    logsRead = lines.length;
    return { events: fresh.map((message, i) => ({ message, timestamp: clockMs, eventId: `l-${logsRead - fresh.length + i}` })), nextToken: `n-${logsRead}` };
  }));
  const reporter = memoryReporter();
  const fetchImpl = (async () => new Response('{}', { status: f.smoke && f.smoke !== 'ok' ? 500 : 200 })) as unknown as typeof fetch;
  const timings: Timing[] = [];
  try {
    const results = await deployEndpoint(
      t,
      {
        mode: f.mode ?? 'create-and-execute', wait: f.wait, timeoutMinutes: f.timeoutMinutes ?? 60, failOnEmptyChangeSet: false, skipQuotaCheck: true, smokeTest: true,
        render, imageUri: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/acme-llm/x:md-abcdef0`, modelDataUrl: `s3://model-deploy-${ACCOUNT}-us-east-1/models/x/`,
        pollOverrides: clock, fetchImpl, describeCertificate: async () => ({ DomainName: '*.example.com' }),
      },
      { reporter, env: new EnvInputs({ GITHUB_SHA: SHA, GITHUB_RUN_ID: '7', ...oidc?.env }), signal: controller.signal },
    );
    timings.push(...(results[0]?.timings ?? []));
    return { ok: true, oidcTokens: oidc?.server.requests.length ?? 0, sessions, results, text: reporter.allText(), summary: reporter.captured.summaries.join('\n'), elapsedMs: clockMs - begin, timings, calls, reporter };
  } catch (error) {
    const summary = [...reporter.captured.summaries, failureSummary(t, error) ?? ''].join('\n');
    timings.push(...(failedRegion(error)?.timings ?? []));
    return { ok: false, oidcTokens: oidc?.server.requests.length ?? 0, sessions, error, text: `${errorMessage(error)}\n${reporter.allText()}`, summary, elapsedMs: clockMs - begin, timings, calls, reporter };
  } finally {
    await oidc?.close();
  }
}

/**
 * The runner's token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL) on loopback, a new token per request. @actions/core
 * reads its variables from process.env, so they are set there for the run and restored after it.
 */
async function oidcEndpoint(): Promise<{ server: Loopback; env: Record<string, string>; close: () => Promise<void> }> {
  const server: Loopback = await startLoopback((req) => (req.headers.authorization === 'Bearer runtime-token' ? { body: { value: `oidc-token-${server.requests.length}` } } : { status: 401, body: {} }));
  const env = { ACTIONS_ID_TOKEN_REQUEST_URL: `${server.url}/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runtime-token' };
  const restoreEnv = setEnv(env);
  // @actions/core announces each token to the runner (::add-mask::) on stdout: kept out of the test output.
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  return {
    server, env,
    close: async () => {
      process.stdout.write = write;
      restoreEnv();
      await server.close();
    },
  };
}
