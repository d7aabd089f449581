/**
 * S3 weights the spec gives no size for (#22): offline the memory check says "not checked: offline";
 * with credentials the weights are listed (ListObjectsV2, page after page: S3 API Reference,
 * ListObjectsV2 — Contents[].Key/Size, IsTruncated, NextContinuationToken) and the check runs with
 * their size: deploy-endpoint's preflight refuses a model that cannot start before anything mutates,
 * and the PR estimate with the plan role says it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient, CreateChangeSetCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ListServiceQuotasCommand, ListAWSDefaultServiceQuotasCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { deployEndpoint } from '../../../src/deploy/flow';
import { CostRequest, estimateCost } from '../../../src/cost/flow';
import { modelFacts } from '../../../src/fit/model-facts';
import { listS3Url } from '../../../src/core/s3-copy';
import { parseSpec } from '../../../src/config/load';
import { targetOf } from '../../../src/config/select';
import { DeployError } from '../../../src/core/errors';
import { EnvInputs } from '../../../src/core/env';
import { memoryReporter } from '../../../src/core/log';
import { fakeClock, fakeRender } from './flow-fixtures';
import { stackNotFound } from '../../support/fake-aws/stack-answer';
import { ecrHoldsEveryImage } from '../../support/fake-aws/ecr-holds-images';

const cfn = mockClient(CloudFormationClient);
const sts = mockClient(STSClient);
const secrets = mockClient(SecretsManagerClient);
const s3 = mockClient(S3Client);
const sq = mockClient(ServiceQuotasClient);
ecrHoldsEveryImage();

const ACCOUNT = '111111111111';
const WEIGHTS = `s3://model-deploy-${ACCOUNT}-us-east-1/acme/big/`;
const ARCH = 'architecture: { layers: 80, attentionHeads: 64, kvHeads: 8, headDim: 128, contextLength: 8192 }';
const SPEC = `version: 1
project: acme
environments:
  dev:
    account: "${ACCOUNT}"
deployments:
  big:
    model: { s3: "${WEIGHTS}", ${ARCH} }
    engine: { name: vllm }
    target: sagemaker-realtime
    instanceType: ml.g5.xlarge
    regions: [us-east-1]
    usage: { imageSizeGb: 10 }
`;

/** A 145 GB model in 29 safetensors shards over two pages, with its config and tokenizer. */
function listing(): void {
  const shard = (i: number) => ({ Key: `acme/big/model-${String(i).padStart(5, '0')}-of-00029.safetensors`, Size: 5e9, ETag: `"e${i}"` });
  s3.on(ListObjectsV2Command, { ContinuationToken: undefined }).resolves({ Contents: [{ Key: 'acme/big/', Size: 0 }, { Key: 'acme/big/config.json', Size: 700 }, ...Array.from({ length: 20 }, (_, i) => shard(i + 1))], IsTruncated: true, NextContinuationToken: 'page-2', KeyCount: 22 });
  s3.on(ListObjectsV2Command, { ContinuationToken: 'page-2' }).resolves({ Contents: [...Array.from({ length: 9 }, (_, i) => shard(i + 21)), { Key: 'acme/big/tokenizer.json', Size: 7e6 }], IsTruncated: false, KeyCount: 10 });
}

beforeEach(() => {
  for (const m of [cfn, sts, secrets, s3, sq]) m.reset();
  cfn.on(DescribeStacksCommand).rejects(stackNotFound('any'));
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/gh` });
});

describe('S3 weights without sizeGb', () => {
  const d = parseSpec(SPEC, 'model-deploy.yml').deployments.big!;

  it('listed page after page: the weight files summed (not the config, tokenizer or folder key)', async () => {
    listing();
    const facts = await modelFacts(d, { listS3: listS3Url });
    expect(facts.weightsBytes).toBe(145e9);
    expect(facts.from).toContain(`S3 (the weight files under ${WEIGHTS})`);
    expect(s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input)).toEqual([
      { Bucket: `model-deploy-${ACCOUNT}-us-east-1`, Prefix: 'acme/big/', ContinuationToken: undefined, ExpectedBucketOwner: undefined },
      { Bucket: `model-deploy-${ACCOUNT}-us-east-1`, Prefix: 'acme/big/', ContinuationToken: 'page-2', ExpectedBucketOwner: undefined },
    ]);
  });

  it('offline: not checked, and said why and how', async () => {
    const facts = await modelFacts(d);
    expect(facts.weightsBytes).toBeUndefined();
    expect(facts.gaps).toEqual([expect.stringMatching(/^memory not checked: offline \(the size of s3:.* is listed only with AWS credentials/)]);
  });

  it('a listing that is refused or holds no weight file: not checked, with the reason', async () => {
    const denied = await modelFacts(d, { listS3: () => Promise.reject(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' })) });
    expect(denied.gaps).toEqual([`memory not checked: ${WEIGHTS} could not be listed (Access Denied); give model.sizeGb`]);
    const empty = await modelFacts(d, { listS3: async () => [{ key: 'acme/big/README.md', size: 10 }] });
    expect(empty.gaps).toEqual([`memory not checked: ${WEIGHTS} holds 1 objects and no weight file (.safetensors, .bin, .pt, model.tar.gz); give model.sizeGb`]);
  });

  it('deploy-endpoint: 145 GB on ml.g5.xlarge is refused once listed, before anything mutates', async () => {
    listing();
    const spec = parseSpec(SPEC, 'model-deploy.yml');
    const target = targetOf(spec, '/w/model-deploy.yml', { deployment: 'big', environment: 'dev' });
    const reporter = memoryReporter();
    const result = deployEndpoint(target, {
      mode: 'create-and-execute', timeoutMinutes: 60, failOnEmptyChangeSet: false, skipQuotaCheck: true, smokeTest: false, render: fakeRender(), pollOverrides: fakeClock(),
      imageUri: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/acme/big:md-abcdef0`, modelDataUrl: WEIGHTS,
    }, { reporter, env: new EnvInputs({ GITHUB_SHA: 'abcdef0123456789abcdef0123456789abcdef01', GITHUB_RUN_ID: '7' }) });
    const err = (await result.catch((e) => e)) as DeployError;
    expect(err).toBeInstanceOf(DeployError);
    expect(err.describe()).toMatch(/deployments.big: .*does not fit on ml.g5.xlarge/);
    expect(err.describe()).toMatch(/Nothing was changed/);
    expect(secrets.calls()).toHaveLength(0);
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  });

  it('the PR estimate with the plan role lists them and says the model does not fit; without it, not checked: offline', async () => {
    listing();
    sq.on(ListServiceQuotasCommand).resolves({ Quotas: [] });
    sq.on(ListAWSDefaultServiceQuotasCommand).resolves({ Quotas: [] });
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'weights-estimate-'));
    fs.writeFileSync(path.join(workspace, 'model-deploy.yml'), SPEC);
    fs.writeFileSync(path.join(workspace, 'event.json'), JSON.stringify({ pull_request: { number: 7, head: { sha: 'a'.repeat(40), repo: { full_name: 'acme/models', fork: false } }, base: { sha: 'b'.repeat(40) } } }));
    const env = new EnvInputs({ GITHUB_REPOSITORY: 'acme/models', GITHUB_EVENT_PATH: path.join(workspace, 'event.json') });
    const request = (checkQuotas: boolean): CostRequest => ({ hoursPerMonth: 730, livePrices: false, mode: 'estimate', behavior: 'update', skipIfUnchanged: false, resultFile: 'cost.json', checkQuotas });
    const withRole = await estimateCost({ workspace, config: 'model-deploy.yml', environment: 'dev' }, request(true), { reporter: memoryReporter(), env });
    expect(withRole.report.priceNotes.join('\n')).toMatch(/big: memory does not fit on ml\.g5\.xlarge/);
    const without = await estimateCost({ workspace, config: 'model-deploy.yml', environment: 'dev' }, request(false), { reporter: memoryReporter(), env });
    expect(without.report.priceNotes.join('\n')).toMatch(/memory not checked: offline/);
  });
});
