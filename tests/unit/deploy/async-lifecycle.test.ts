/** The async output lifecycle (issue 16.5), at the S3 SDK boundary. */
import { mockClient } from 'aws-sdk-client-mock';
import {
  CreateBucketCommand, GetBucketLifecycleConfigurationCommand, GetBucketVersioningCommand, HeadBucketCommand, LifecycleRule,
  PutBucketLifecycleConfigurationCommand, S3Client,
} from '@aws-sdk/client-s3';
import {
  CloudFormationClient, CreateChangeSetCommand, DeleteChangeSetCommand, DescribeChangeSetCommand, DescribeStackEventsCommand, DescribeStacksCommand, ExecuteChangeSetCommand, ListStackResourcesCommand,
} from '@aws-sdk/client-cloudformation';
import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { asyncLifecyclePlan, ensureAsyncOutputLifecycle } from '../../../src/deploy/async-lifecycle';
import { deployEndpoint } from '../../../src/deploy/flow';
import { EnvInputs } from '../../../src/core/env';
import { memoryReporter } from '../../../src/core/log';
import type { Deployment } from '../../../src/config/types';
import { event, fakeClock, fakeRender, selection } from './flow-fixtures';
import { stackAnswer, stackNotFound } from '../../support/fake-aws/stack-answer';
import { ecrHoldsEveryImage } from '../../support/fake-aws/ecr-holds-images';

const s3 = mockClient(S3Client);
const cfn = mockClient(CloudFormationClient);
const sts = mockClient(STSClient);
const sm = mockClient(SageMakerClient);
// The preflight looks the deployed image up in ECR: it is there.
ecrHoldsEveryImage();
const ACCOUNT = '111111111111';
const BUCKET = `model-deploy-${ACCOUNT}-us-east-1`;
/** The deployment's folder in its environment's (issue 20: the environments of an account share the bucket). */
const PREFIX = 'async/acme-llm/dev/summarizer-batch/';
const RULE_ID = 'model-deploy-async-acme-llm.dev.summarizer-batch';
const FOREIGN: LifecycleRule = { ID: 'keep-logs-90', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 90 } };

/** The example's async deployment, with its outputs in the artifact bucket (no outputPath/failurePath). */
function deployment(change: (d: Deployment) => void = () => {}): Deployment {
  const d = structuredClone(selection('summarizer-batch', 'dev').deployment);
  delete d.async.outputPath;
  delete d.async.failurePath;
  change(d);
  return d;
}

function bucket(rules: LifecycleRule[] | undefined, versioning?: 'Enabled' | 'Suspended') {
  s3.on(HeadBucketCommand).resolves({});
  s3.on(GetBucketVersioningCommand).resolves({ Status: versioning });
  if (rules) s3.on(GetBucketLifecycleConfigurationCommand).resolves({ Rules: rules, TransitionDefaultMinimumObjectSize: 'varies_by_storage_class' });
  else s3.on(GetBucketLifecycleConfigurationCommand).rejects(Object.assign(new Error('The lifecycle configuration does not exist'), { name: 'NoSuchLifecycleConfiguration' }));
  s3.on(PutBucketLifecycleConfigurationCommand).resolves({});
}

const ensure = (d: Deployment, reporter = memoryReporter()) => ensureAsyncOutputLifecycle({ d, region: 'us-east-1', account: ACCOUNT, environment: 'dev', reporter });
const putRules = () => s3.commandCalls(PutBucketLifecycleConfigurationCommand).map((c) => c.args[0].input.LifecycleConfiguration?.Rules);

beforeEach(() => [s3, cfn, sts, sm].forEach((m) => m.reset()));

describe('ensureAsyncOutputLifecycle', () => {
  it('adds the rule on a bucket with no lifecycle configuration: the deployment prefix, days from the spec, aborted uploads', async () => {
    bucket(undefined);
    expect(await ensure(deployment((d) => (d.async.outputExpirationDays = 14)))).toBe(true);
    expect(putRules()).toEqual([
      [{ ID: RULE_ID, Status: 'Enabled', Filter: { Prefix: PREFIX }, Expiration: { Days: 14 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } }],
    ]);
  });

  it('keeps every other rule and replaces its own, never duplicating it', async () => {
    bucket([FOREIGN, { ID: RULE_ID, Status: 'Enabled', Filter: { Prefix: PREFIX }, Expiration: { Days: 30 } }]);
    await ensure(deployment((d) => (d.async.outputExpirationDays = 60)));
    const [rules] = putRules();
    expect(rules).toEqual([FOREIGN, expect.objectContaining({ ID: RULE_ID, Expiration: { Days: 60 } })]);
    // The bucket-wide setting that is not a rule survives the rewrite.
    expect(s3.commandCalls(PutBucketLifecycleConfigurationCommand)[0]?.args[0].input.TransitionDefaultMinimumObjectSize).toBe('varies_by_storage_class');
  });

  it('writes nothing when the rule is already as wanted', async () => {
    const reporter = memoryReporter();
    bucket([FOREIGN, { ID: RULE_ID, Status: 'Enabled', Filter: { Prefix: PREFIX }, Expiration: { Days: 30 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } }]);
    expect(await ensure(deployment(), reporter)).toBe(false);
    expect(s3.commandCalls(PutBucketLifecycleConfigurationCommand)).toHaveLength(0);
  });

  it('in a versioned bucket also expires the noncurrent versions an expiration leaves', async () => {
    bucket([], 'Enabled');
    await ensure(deployment());
    expect(putRules()[0]?.[0]).toMatchObject({ Expiration: { Days: 30 }, NoncurrentVersionExpiration: { NoncurrentDays: 1 } });
  });

  it('names the owner on every S3 call', async () => {
    bucket([FOREIGN]);
    await ensure(deployment());
    const calls = s3.calls().filter((c) => !(c.args[0] instanceof HeadBucketCommand));
    expect(calls.length).toBe(3);
    for (const c of calls) expect((c.args[0].input as { ExpectedBucketOwner?: string }).ExpectedBucketOwner).toBe(ACCOUNT);
  });

  it("leaves a user's own bucket alone and says once that its outputs do not expire", async () => {
    bucket([]);
    const reporter = memoryReporter();
    const d = deployment((x) => {
      x.async.outputPath = 's3://acme-llm-async/summarizer/output/';
      x.async.failurePath = 's3://acme-llm-async/summarizer/failure/';
    });
    expect(await ensure(d, reporter)).toBe(false);
    expect(await ensure(d, reporter)).toBe(false);
    expect(s3.calls()).toHaveLength(0);
    const warnings = reporter.captured.annotations.filter((a) => a.title === 'Async outputs do not expire');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toContain('s3://acme-llm-async/summarizer/output/ and s3://acme-llm-async/summarizer/failure/');
  });

  it('still expires the default failure folder when only the output goes elsewhere', async () => {
    bucket([]);
    const d = deployment((x) => (x.async.outputPath = 's3://acme-llm-async/summarizer/output/'));
    expect(asyncLifecyclePlan(d, 'us-east-1', ACCOUNT, 'dev')).toMatchObject({ bucket: BUCKET, prefix: PREFIX, foreign: ['s3://acme-llm-async/summarizer/output/'] });
    await ensure(d);
    expect(putRules()[0]?.[0]?.Filter).toEqual({ Prefix: PREFIX });
    expect(s3.commandCalls(PutBucketLifecycleConfigurationCommand)[0]?.args[0].input.Bucket).toBe(BUCKET);
  });

  it('creates the artifact bucket first when a prebuilt-image deploy finds none', async () => {
    bucket(undefined);
    s3.on(HeadBucketCommand).rejects(Object.assign(new Error('Not Found'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }));
    s3.on(CreateBucketCommand).resolves({});
    await ensure(deployment());
    expect(s3.commandCalls(CreateBucketCommand)[0]?.args[0].input.Bucket).toBe(BUCKET);
    expect(putRules()).toHaveLength(1);
  });
});

describe('deploy-endpoint of a sagemaker-async deployment with a prebuilt image', () => {
  const STACK = 'acme-llm-summarizer-batch-dev';
  const ID = `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/${STACK}/1`;

  /** A first create that completes; every mutating call is logged in order. */
  function world(log: string[], opts: { existing?: boolean; empty?: boolean } = {}) {
    let status: string | undefined = opts.existing ? 'UPDATE_COMPLETE' : undefined;
    let token = '';
    sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT });
    cfn.on(DescribeStacksCommand).callsFake(() => {
      if (!status) throw stackNotFound(STACK);
      return stackAnswer({ name: STACK, id: ID, status, created: new Date() });
    });
    cfn.on(CreateChangeSetCommand).callsFake(() => {
      status ??= 'REVIEW_IN_PROGRESS';
      return { Id: 'arn:cs/md-abcdef0', StackId: ID };
    });
    cfn.on(DeleteChangeSetCommand).resolves({});
    cfn.on(DescribeChangeSetCommand).resolves(opts.empty ? {
      ChangeSetId: 'arn:cs/md-abcdef0', ChangeSetName: 'md-abcdef0', StackId: ID, Status: 'FAILED', ExecutionStatus: 'UNAVAILABLE',
      StatusReason: "The submitted information didn't contain changes. Submit different information to create a change set.",
    } : {
      ChangeSetId: 'arn:cs/md-abcdef0', ChangeSetName: 'md-abcdef0', StackId: ID, Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE',
      Changes: [{ Type: 'Resource', ResourceChange: { Action: 'Add', LogicalResourceId: 'Endpoint', ResourceType: 'AWS::SageMaker::Endpoint' } }],
    });
    cfn.on(ExecuteChangeSetCommand).callsFake((input: { ClientRequestToken: string }) => {
      log.push('ExecuteChangeSet');
      token = input.ClientRequestToken;
      status = 'CREATE_COMPLETE';
      return {};
    });
    cfn.on(DescribeStackEventsCommand).callsFake(() => ({ StackEvents: [event(ID, STACK, token, { ResourceStatus: 'CREATE_COMPLETE' })] }));
    cfn.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [{ LogicalResourceId: 'EndpointConfig', ResourceType: 'AWS::SageMaker::EndpointConfig', PhysicalResourceId: 'cfg-1', ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date(0) }] });
    sm.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'InService', EndpointConfigName: 'cfg-1', EndpointArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:endpoint/${STACK}` });
    bucket([FOREIGN], 'Enabled');
    s3.on(PutBucketLifecycleConfigurationCommand).callsFake(() => {
      log.push('PutBucketLifecycleConfiguration');
      return {};
    });
  }

  it('puts the output lifecycle rule on the artifact bucket before the endpoint is created', async () => {
    const log: string[] = [];
    world(log);
    const target = selection('summarizer-batch', 'dev', (text) => text.replace(/^\s*(outputPath|failurePath): s3:\/\/acme-llm-async\/.*\n/gm, ''));
    expect(target.deployment.async.outputPath).toBeUndefined();
    const reporter = memoryReporter();
    const [result] = await deployEndpoint(
      target,
      {
        mode: 'create-and-execute', timeoutMinutes: 60, failOnEmptyChangeSet: false, skipQuotaCheck: true, smokeTest: false, render: fakeRender(),
        imageUri: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/acme-llm/summarizer-batch:md-abcdef0`, modelDataUrl: `s3://${BUCKET}/models/x/`, pollOverrides: fakeClock(),
      },
      { reporter, env: new EnvInputs({ GITHUB_SHA: 'abcdef0123456789abcdef0123456789abcdef01', GITHUB_RUN_ID: '7' }) },
    );
    expect(result?.status).toBe('deployed');
    expect(log).toEqual(['PutBucketLifecycleConfiguration', 'ExecuteChangeSet']);
    expect(putRules()[0]).toEqual([FOREIGN, expect.objectContaining({ ID: RULE_ID, Filter: { Prefix: PREFIX }, NoncurrentVersionExpiration: { NoncurrentDays: 1 } })]);
  });

  // Emulator finding (#23): outputExpirationDays is not in the template, so a change of it alone (or a rule
  // removed by hand) makes an empty change set, and the rule must still be reconciled.
  it.each([
    ['a change of outputExpirationDays alone (30 -> 14)', [{ ID: RULE_ID, Status: 'Enabled' as const, Filter: { Prefix: PREFIX }, Expiration: { Days: 30 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } }]],
    ['a rule removed by hand', [] as LifecycleRule[]],
  ] as [string, LifecycleRule[]][])('reconciles the rule on an empty change set: %s', async (_case, ownRules) => {
    const log: string[] = [];
    world(log, { existing: true, empty: true });
    bucket([FOREIGN, ...ownRules]);
    s3.on(PutBucketLifecycleConfigurationCommand).callsFake(() => {
      log.push('PutBucketLifecycleConfiguration');
      return {};
    });
    const target = selection('summarizer-batch', 'dev', (text) => text.replace(/^\s*(outputPath|failurePath): s3:\/\/acme-llm-async\/.*\n/gm, ''));
    target.deployment.async.outputExpirationDays = 14;
    const [result] = await deployEndpoint(
      target,
      {
        mode: 'create-and-execute', timeoutMinutes: 60, failOnEmptyChangeSet: false, skipQuotaCheck: true, smokeTest: false, render: fakeRender(),
        imageUri: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/acme-llm/summarizer-batch:md-abcdef0`, modelDataUrl: `s3://${BUCKET}/models/x/`, pollOverrides: fakeClock(),
      },
      { reporter: memoryReporter(), env: new EnvInputs({ GITHUB_SHA: 'abcdef0123456789abcdef0123456789abcdef01', GITHUB_RUN_ID: '7' }) },
    );
    expect(result?.status).toBe('no-changes');
    expect(log).toEqual(['PutBucketLifecycleConfiguration']);
    expect(putRules()[0]).toEqual([FOREIGN, expect.objectContaining({ ID: RULE_ID, Expiration: { Days: 14 } })]);
  });
});
