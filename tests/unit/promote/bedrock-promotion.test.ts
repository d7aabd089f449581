/**
 * Issue 16.4, through promoteModel() at the SDK boundary: the Bedrock prerequisites are checked with each side's
 * credentials before anything is shared, copied or bought; the copy is encrypted with the target key of its
 * own region; provisioned throughput is bought once, explicitly, and waited on.
 */
import { mockClient } from 'aws-sdk-client-mock';
import * as br from '@aws-sdk/client-bedrock';
import * as ram from '@aws-sdk/client-ram';
import { DescribeOrganizationCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import * as path from 'path';
import { loadSpec, parseSpec } from '../../../src/config/load';
import { DeployError, DeployErrors } from '../../../src/core/errors';
import { memoryReporter } from '../../../src/core/log';
import { planModelPromotion, promoteModel } from '../../../src/promote/promote';
import { planPromotion, PromoteModelRequest, PromoteTarget, promotionTargetOf } from '../../../src/promote/plan';
import { organizationOf } from '../../../src/promote/bedrock';
import { mockSts, runContext, SPEC as INSTANCE_SPEC, target as instanceTarget } from './harness';

const MODEL = 'arn:aws:bedrock:us-east-1:111111111111:custom-model/amazon.titan-text-express-v1:0:8k/a1b2c3d4e5f6';
const CREATED = new Date('2026-11-02T10:00:00Z');
const JOB = 'arn:aws:bedrock:us-east-1:111111111111:model-customization-job/amazon.titan-text-express-v1:0:8k/j1b2c3d4e5f6';

/** The harness's spec with a target: bedrock deployment of MODEL last (so a test may append its fields). */
const SPEC = `${INSTANCE_SPEC}  tuned:\n    target: bedrock\n    model: { bedrock: ${MODEL} }\n    regions: [us-east-1]\n`;

/** The target environment as promote-model selects it for the Bedrock deployment `tuned`. */
function target(environment = 'prod', region?: string, text = SPEC): PromoteTarget {
  return promotionTargetOf(parseSpec(text, 'model-deploy.yml'), path.resolve('model-deploy.yml'), { deployment: 'tuned', environment, region });
}
const BASE = 'arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1:0:8k';
const TARGET_KEY = /^ASIA333333333333/;

function request(over: Partial<PromoteModelRequest> = {}): PromoteModelRequest {
  return { sourceEnvironment: 'dev', tuning: { pollInitialDelayMs: 1, pollMaxDelayMs: 2 }, ...over };
}

const notFound = () => Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' });
const region = async (getClient: () => { config: { region: () => Promise<string> } }) => getClient().config.region();
async function accessKey(getClient: () => { config: { credentials?: unknown } }): Promise<string> {
  const credentials = getClient().config.credentials as (() => Promise<{ accessKeyId: string }>) | undefined;
  return credentials ? (await credentials().catch(() => ({ accessKeyId: 'default-chain' }))).accessKeyId : 'none';
}

interface World {
  sourceOrg?: string;
  targetOrg?: string;
  status?: string;
  /** Regions whose base model has provisioned throughput. */
  serving?: string[];
  copyFailure?: string;
  /** Provisioned throughput statuses returned one after another (the last one repeats). */
  throughput?: { status: string; failureMessage?: string }[];
  existingThroughput?: boolean;
  /** What GetCustomModel answers for MODEL (another model under the same name, after a delete and re-create). */
  created?: Date;
  jobArn?: string;
}

function world(w: World = {}) {
  const orgAsked: string[] = [];
  const org = mockClient(OrganizationsClient);
  org.on(DescribeOrganizationCommand).callsFake(async (_i, getClient) => {
    const target = TARGET_KEY.test(await accessKey(getClient));
    orgAsked.push(`${target ? 'target' : 'source'} ${await region(getClient)}`);
    const id = target ? ('targetOrg' in w ? w.targetOrg : 'o-abc') : 'sourceOrg' in w ? w.sourceOrg : 'o-abc';
    if (!id) throw Object.assign(new Error('not in an organization'), { name: 'AWSOrganizationsNotInUseException' });
    return { Organization: { Id: id } };
  });
  const r = mockClient(ram.RAMClient);
  r.on(ram.GetResourceSharesCommand).resolves({ resourceShares: [] });
  r.on(ram.CreateResourceShareCommand).resolves({ resourceShare: { resourceShareArn: 'arn:aws:ram:us-east-1:111111111111:resource-share/s1' } });
  r.on(ram.GetResourceShareInvitationsCommand).resolves({ resourceShareInvitations: [] });
  const b = mockClient(br.BedrockClient);
  b.on(br.GetCustomModelCommand).callsFake((i: { modelIdentifier: string }) => {
    if (i.modelIdentifier !== MODEL) throw notFound();
    // GetCustomModel's response (Bedrock API reference): modelArn, creationTime and jobArn identify the model.
    return { modelArn: MODEL, modelStatus: w.status ?? 'Active', baseModelArn: BASE, jobArn: w.jobArn ?? JOB, creationTime: w.created ?? CREATED };
  });
  b.on(br.GetFoundationModelCommand).callsFake(async (i: { modelIdentifier: string }, getClient) => {
    if (!(w.serving ?? ['us-east-1', 'eu-west-1']).includes(await region(getClient))) throw notFound();
    return { modelDetails: { modelId: i.modelIdentifier, inferenceTypesSupported: ['PROVISIONED'] } };
  });
  b.on(br.CreateModelCopyJobCommand).callsFake(async (_i, getClient) => ({ jobArn: `arn:aws:bedrock:${await region(getClient)}:333333333333:model-copy-job/j` }));
  b.on(br.GetModelCopyJobCommand).callsFake((i: { jobArn: string }) => {
    const at = i.jobArn.split(':')[3];
    return w.copyFailure ? { status: 'Failed', failureMessage: w.copyFailure } : { status: 'Completed', targetModelArn: `arn:aws:bedrock:${at}:333333333333:custom-model/copied` };
  });
  const pt = [...(w.throughput ?? [{ status: 'InService' }])];
  const ptArn = (at: string) => `arn:aws:bedrock:${at}:333333333333:provisioned-model/pt1`;
  b.on(br.ListProvisionedModelThroughputsCommand).callsFake(async (i: { nameContains: string }, getClient) =>
    w.existingThroughput ? { provisionedModelSummaries: [{ provisionedModelName: `${i.nameContains}-other` }, { provisionedModelName: i.nameContains, provisionedModelArn: ptArn(await region(getClient)), modelUnits: 1, status: 'InService' }] } : { provisionedModelSummaries: [] },
  );
  b.on(br.CreateProvisionedModelThroughputCommand).callsFake(async (_i, getClient) => ({ provisionedModelArn: ptArn(await region(getClient)) }));
  b.on(br.GetProvisionedModelThroughputCommand).callsFake(() => (pt.length > 1 ? pt.shift() : pt[0]));
  mockSts();
  return { org, orgAsked, ram: r, bedrock: b };
}

/** Nothing shared, copied or bought. */
function expectNothingMutated(m: ReturnType<typeof world>) {
  expect(m.ram.commandCalls(ram.CreateResourceShareCommand)).toHaveLength(0);
  expect(m.ram.commandCalls(ram.AssociateResourceShareCommand)).toHaveLength(0);
  expect(m.bedrock.commandCalls(br.CreateModelCopyJobCommand)).toHaveLength(0);
  expect(m.bedrock.commandCalls(br.CreateProvisionedModelThroughputCommand)).toHaveLength(0);
}

async function refusal(t: PromoteTarget, req: PromoteModelRequest): Promise<string[]> {
  const err = await promoteModel(t, req, runContext()).then(() => undefined, (e: unknown) => e);
  if (err instanceof DeployErrors) return err.errors.map((e) => e.message);
  if (err instanceof DeployError) return [err.message];
  throw new Error(`expected a refusal, got ${String(err)}`);
}

describe('promote: Bedrock prerequisites are checked before anything is shared or copied', () => {
  it('refuses accounts in different Organizations, each side asked with its own credentials at the partition endpoint', async () => {
    const m = world({ targetOrg: 'o-xyz' });
    expect(await refusal(target(), request())).toEqual([
      'the source account 111111111111 is in Organization o-abc and the target 333333333333 in o-xyz: Bedrock shares custom models only inside one Organization',
    ]);
    expect(m.orgAsked).toEqual(['source us-east-1', 'target us-east-1']);
    expectNothingMutated(m);
  });

  it('refuses a target account outside any Organization', async () => {
    const m = world({ targetOrg: undefined });
    expect(await refusal(target(), request())).toEqual(['account 333333333333 is in no AWS Organization, so the Bedrock model cannot be shared with 333333333333']);
    expectNothingMutated(m);
  });

  it('refuses a model that is not Active', async () => {
    const m = world({ status: 'Creating' });
    expect(await refusal(target(), request())).toEqual([`Bedrock custom model ${MODEL} is Creating, not Active`]);
    expectNothingMutated(m);
  });

  it('refuses a target region that does not serve the base model', async () => {
    const m = world({ serving: ['us-east-1'] });
    expect(await refusal(target(), request())).toEqual([`eu-west-1 does not offer the base model amazon.titan-text-express-v1:0:8k, so Bedrock would reject the copy of ${MODEL}`]);
    expectNothingMutated(m);
  });

  it('passes, then shares and copies into each region with that region\'s replica of the target key', async () => {
    const m = world();
    const res = await promoteModel(target(), request(), runContext());
    expect(m.ram.commandCalls(ram.CreateResourceShareCommand)).toHaveLength(1);
    const keys = m.bedrock.commandCalls(br.CreateModelCopyJobCommand).map((c) => c.args[0].input.modelKmsKeyId).sort();
    expect(keys).toEqual(['eu-west-1', 'us-east-1'].map((at) => `arn:aws:kms:${at}:333333333333:key/mrk-1234567890abcdef1234567890abcdef`));
    expect(res.targets.map((t) => t.provisionedModelArn)).toEqual([undefined, undefined]);
    expect(m.bedrock.commandCalls(br.ListProvisionedModelThroughputsCommand)).toHaveLength(0);
  });
});

describe('promote: the target KMS key for the Bedrock copy', () => {
  it('refuses a single-region key ARN for a target region of another region: the spec itself, before any AWS call', () => {
    const text = SPEC.replace('key/mrk-1234567890abcdef1234567890abcdef', 'key/11111111-2222-3333-4444-555555555555');
    expect(() => target('prod', 'us-east-1', text)).toThrow(
      'environments.prod.kmsKeyId arn:aws:kms:us-east-1:333333333333:key/11111111-2222-3333-4444-555555555555 is a key of us-east-1, and KMS keys are regional: it cannot encrypt in eu-west-1: the copies of tuned there cannot be encrypted with it',
    );
    // An alias resolves in each region.
    expect(() => planPromotion(target('prod', undefined, SPEC.replace(/kmsKeyId: arn:aws:kms:.*/, 'kmsKeyId: alias/prod-models')), request())).not.toThrow();
  });

  it('a copy the key policy refuses says which statement the key policy needs', async () => {
    world({ copyFailure: 'The KMS key policy does not allow the caller to CreateGrant' });
    const err = (await promoteModel(target('prod', 'eu-west-1'), request(), runContext()).catch((e) => e)) as DeployErrors;
    const copy = err.errors.find((e) => /copy job/.test(e.message));
    expect(copy?.hint).toContain('"Principal":{"AWS":"arn:aws:iam::333333333333:role/model-deploy-promotion"}');
    expect(copy?.hint).toContain('"kms:ViaService":"bedrock.eu-west-1.amazonaws.com"');
    expect(copy?.hint).toContain('"Action":["kms:DescribeKey","kms:CreateGrant","kms:GenerateDataKey","kms:Decrypt"]');
  });
});

describe('promote: provisioned throughput for the copied model', () => {
  const units = { provisionedThroughput: { modelUnits: 2, commitment: 'SixMonths' as const } };

  it('needs an explicit commitment and a target: bedrock deployment', () => {
    expect(() => planPromotion(target(), request({ provisionedThroughput: { modelUnits: 1 } }))).toThrow('input `provisioned-model-units` is set without `commitment-duration`');
    expect(() => planPromotion(instanceTarget(), request({ provisionedThroughput: { modelUnits: 1, commitment: 'none' } }))).toThrow(/are for a target: bedrock deployment/);
    expect(() => planPromotion(target(), request({ provisionedThroughput: { commitment: 'OneMonth' } }))).toThrow(/`provisioned-model-units` is empty/);
  });

  it('says what is committed before buying, buys once per region with tags, and waits until InService', async () => {
    const m = world({ throughput: [{ status: 'Creating' }, { status: 'Creating' }, { status: 'InService' }] });
    const reporter = memoryReporter();
    const res = await promoteModel(target(), request(units), runContext(reporter));
    expect(reporter.allText()).toContain('buys 2 model units of provisioned throughput with a six-month commitment (billed for every hour of the term; it cannot be deleted before the term ends) in each of us-east-1, eu-west-1');
    const created = m.bedrock.commandCalls(br.CreateProvisionedModelThroughputCommand).map((c) => c.args[0].input);
    expect(created).toHaveLength(2);
    expect(created[0]).toMatchObject({ modelUnits: 2, commitmentDuration: 'SixMonths', modelId: expect.stringMatching(/:custom-model\/copied$/), clientRequestToken: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(created[0]?.tags).toEqual(expect.arrayContaining([{ key: 'model-deploy:source-account', value: '111111111111' }]));
    expect(res.targets.map((t) => t.provisionedModelArn).sort()).toEqual(['eu-west-1', 'us-east-1'].map((at) => `arn:aws:bedrock:${at}:333333333333:provisioned-model/pt1`));
  });

  it('a re-run finds the provisioned model by name and buys nothing', async () => {
    const m = world({ existingThroughput: true });
    const res = await promoteModel(target(), request({ ...units, provisionedThroughput: { modelUnits: 1, commitment: 'none' } }), runContext());
    expect(m.bedrock.commandCalls(br.CreateProvisionedModelThroughputCommand)).toHaveLength(0);
    expect(res.targets.every((t) => t.provisionedModelArn?.endsWith(':provisioned-model/pt1'))).toBe(true);
  });

  it('a purchase that fails says so and points at the model-unit quota', async () => {
    world({ throughput: [{ status: 'Creating' }, { status: 'Failed', failureMessage: 'Insufficient capacity' }] });
    const err = (await promoteModel(target('prod', 'us-east-1'), request(units), runContext()).catch((e) => e)) as DeployErrors;
    const failed = err.errors[0];
    expect(failed?.message).toBe('us-east-1: provisioned throughput arn:aws:bedrock:us-east-1:333333333333:provisioned-model/pt1 failed: Insufficient capacity');
    expect(failed?.hint).toMatch(/model-unit quota\. Model units for custom models are a per-account, per-region quota/);
  });

  it('a quota refusal on purchase is explained', async () => {
    const m = world();
    m.bedrock.on(br.CreateProvisionedModelThroughputCommand).rejects(Object.assign(new Error('quota'), { name: 'ServiceQuotaExceededException' }));
    const err = (await promoteModel(target('prod', 'us-east-1'), request(units), runContext()).catch((e) => e)) as DeployErrors;
    expect(err.errors[0]?.message).toMatch(/2 model units exceed the account's provisioned throughput quota/);
    expect(err.errors[0]?.hint).toMatch(/Service Quotas/);
  });
});

describe('promote: provisioned throughput from the spec (deployments.<name>.bedrockThroughput)', () => {
  const withThroughput = (line: string) => `${SPEC}    bedrockThroughput: ${line}\n`;
  const created = (m: ReturnType<typeof world>) => m.bedrock.commandCalls(br.CreateProvisionedModelThroughputCommand).map((c) => c.args[0].input);

  it('is bought as the spec says in each region of its target environment, said before buying', async () => {
    const m = world();
    const reporter = memoryReporter();
    const res = await promoteModel(target('prod', undefined, withThroughput('{ modelUnits: 3, commitment: OneMonth, environment: prod }')), request(), runContext(reporter));
    expect(created(m).map((c) => [c.modelUnits, c.commitmentDuration])).toEqual([[3, 'OneMonth'], [3, 'OneMonth']]);
    expect(reporter.allText()).toContain('buys 3 model units of provisioned throughput with a one-month commitment (billed for every hour of the term; it cannot be deleted before the term ends) in each of us-east-1, eu-west-1 (account 333333333333; set by deployments.tuned.bedrockThroughput)');
    expect(res.targets.map((t) => t.provisionedModelArn).sort()).toEqual(['eu-west-1', 'us-east-1'].map((at) => `arn:aws:bedrock:${at}:333333333333:provisioned-model/pt1`));
  });

  it('commitment none is bought without a term', async () => {
    const m = world();
    await promoteModel(target('prod', 'us-east-1', withThroughput('{ modelUnits: 1, commitment: none }')), request(), runContext());
    expect(created(m)).toEqual([expect.objectContaining({ modelUnits: 1, commitmentDuration: undefined })]);
  });

  it('an input overrides its field only, and the warning says so', async () => {
    const m = world();
    const reporter = memoryReporter();
    await promoteModel(target('prod', 'us-east-1', withThroughput('{ modelUnits: 3, commitment: OneMonth }')), request({ provisionedThroughput: { modelUnits: 5 } }), runContext(reporter));
    expect(created(m).map((c) => [c.modelUnits, c.commitmentDuration])).toEqual([[5, 'OneMonth']]);
    expect(reporter.allText()).toContain('(account 333333333333; set by deployments.tuned.bedrockThroughput; provisioned-model-units from the inputs)');
  });

  it('a promotion to another environment buys none, and says why', async () => {
    const m = world();
    const reporter = memoryReporter();
    const res = await promoteModel(target('replicated', undefined, withThroughput('{ modelUnits: 3, commitment: OneMonth, environment: prod }')), request(), runContext(reporter));
    expect(created(m)).toEqual([]);
    expect(m.bedrock.commandCalls(br.CreateModelCopyJobCommand)).toHaveLength(1);
    expect(res.targets.map((t) => t.provisionedModelArn)).toEqual([undefined]);
    expect(reporter.allText()).toContain('deployments.tuned.bedrockThroughput is bought in prod, not in replicated: this promotion buys no provisioned throughput.');
  });

  it('examples/bedrock-promotion.yml: its promotion to prod passes the key check and buys what its spec says', () => {
    const file = path.resolve(__dirname, '../../../examples/bedrock-promotion.yml');
    const plan = planPromotion(promotionTargetOf(loadSpec(file), file, { deployment: 'assistant', environment: 'prod' }), request());
    expect(plan.bedrockModelArn).toBe(loadSpec(file).bedrockDeployments.assistant?.model.bedrock);
    expect(plan.target.regions).toEqual(['us-east-1', 'us-west-2']);
    expect(plan.provisionedThroughput).toEqual({ modelUnits: 1, commitment: 'none', from: 'deployments.assistant.bedrockThroughput' });
  });

});

describe('promote: the spec names the Bedrock model, not an input (#20.1, #22.7)', () => {
  it('the model promoted is the spec\'s model.bedrock; the deprecated input may repeat it', () => {
    expect(planPromotion(target(), request()).bedrockModelArn).toBe(MODEL);
    expect(planPromotion(target(), request({ bedrockModelArn: MODEL })).bedrockModelArn).toBe(MODEL);
  });

  it('an input naming another model is refused at the spec line, before any AWS call', () => {
    const other = MODEL.replace('a1b2c3d4e5f6', 'ffffffffffff');
    const m = world();
    let err: unknown;
    try {
      planPromotion(target(), request({ bedrockModelArn: other }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DeployError);
    const e = err as DeployError;
    expect(e.message).toBe(`input \`bedrock-model-arn\` is ${other}, and the reviewed spec's deployments.tuned.model.bedrock is ${MODEL}: the approved spec decides what reaches prod`);
    expect(e.location).toMatchObject({ file: 'model-deploy.yml', line: SPEC.split('\n').findIndex((l) => l.includes('bedrock: arn:')) + 1 });
    expect(e.hint).toMatch(/deprecated/);
    expect(m.bedrock.calls()).toHaveLength(0);
  });

  it('an instance deployment takes no Bedrock model from an input', () => {
    expect(() => planPromotion(instanceTarget(), request({ bedrockModelArn: MODEL }))).toThrow(/a Bedrock custom model is promoted only as a target: bedrock deployment, whose model.bedrock the reviewed spec names/);
  });

  it('the plan fixed before the approval records the model\'s ARN, creation time and customization job', async () => {
    world();
    const fixed = await planModelPromotion(target(), request(), runContext());
    expect(fixed.bedrockModelArn).toBe(MODEL);
    expect(fixed.bedrockModel).toEqual({ arn: MODEL, creationTime: CREATED.toISOString(), jobArn: JOB });
  });

  it('the approved job refuses a model that is no longer the one the plan fixed (re-created under the same ARN), before sharing', async () => {
    world();
    const fixed = JSON.stringify(await planModelPromotion(target(), request(), runContext()));
    const m = world({ created: new Date('2026-11-20T00:00:00Z'), jobArn: JOB.replace('j1b2', 'j9b2') });
    const why = await refusal(target(), request({ fixedPlan: fixed }));
    expect(why).toEqual([
      `The source changed after the plan was fixed, so nothing was promoted: Bedrock model ${MODEL} was created 2026-11-20T00:00:00.000Z, the plan fixed one created ${CREATED.toISOString()}; Bedrock model ${MODEL} comes from job ${JOB.replace('j1b2', 'j9b2')}, the plan fixed job ${JOB}.`,
    ]);
    expectNothingMutated(m);
  });

  it('the approved job refuses a plan for another model than the spec names', async () => {
    world();
    const plan = JSON.parse(JSON.stringify(await planModelPromotion(target(), request(), runContext())));
    const other = MODEL.replace('a1b2c3d4e5f6', 'ffffffffffff');
    plan.bedrockModelArn = other;
    plan.bedrockModel.arn = other;
    const m = world();
    expect((await refusal(target(), request({ fixedPlan: JSON.stringify(plan) })))[0]).toMatch(/the approved spec decides what reaches prod/);
    expectNothingMutated(m);
  });
});

describe('organizationOf', () => {
  it('asks the partition\'s Organizations endpoint and reads "not in use" as no Organization', async () => {
    const asked: string[] = [];
    const org = mockClient(OrganizationsClient);
    org.on(DescribeOrganizationCommand).callsFake(async (_i, getClient) => {
      asked.push(await region(getClient));
      if (asked.length > 2) throw Object.assign(new Error('nope'), { name: 'AWSOrganizationsNotInUseException' });
      return { Organization: { Id: 'o-1' } };
    });
    const actor = { principal: 'p', account: '111111111111', credentials: { accessKeyId: 'AKIAORGTEST', secretAccessKey: 's' } };
    expect(await organizationOf(actor, 'cn-north-1')()).toBe('o-1');
    expect(await organizationOf(actor, 'us-gov-east-1')()).toBe('o-1');
    expect(await organizationOf(actor, 'eu-west-1')()).toBeUndefined();
    expect(asked).toEqual(['cn-northwest-1', 'us-gov-west-1', 'us-east-1']);
    org.restore();
  });
});
