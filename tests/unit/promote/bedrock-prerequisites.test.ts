/** Issue 16.4: what Bedrock would refuse is found before anything is shared or copied. */
import { mockClient } from 'aws-sdk-client-mock';
import { BedrockClient, CreateModelCopyJobCommand, GetCustomModelCommand, GetFoundationModelCommand } from '@aws-sdk/client-bedrock';
import { RAMClient } from '@aws-sdk/client-ram';
import { DeployError, DeployErrors } from '../../../src/core/errors';
import { memoryReporter } from '../../../src/core/log';
import { checkBedrockPrerequisites, BedrockPrerequisitesInput } from '../../../src/promote/bedrock';

const bedrock = mockClient(BedrockClient);
const ram = mockClient(RAMClient);
const MODEL = 'arn:aws:bedrock:us-east-1:111111111111:custom-model/amazon.titan-text-express-v1:0:8k/abc123';
const BASE = 'arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1:0:8k';
const source = { principal: 'arn:aws:sts::111111111111:assumed-role/model-deploy-promotion-source-dev/gh', account: '111111111111' };
const target = { principal: 'arn:aws:iam::222222222222:role/model-deploy-promotion', account: '222222222222' };

function input(extra: { sourceOrg?: string; targetOrg?: string; regions?: string[]; targetActor?: typeof target } = {}) {
  const lookups: string[] = [];
  const org = (side: string, id: string | undefined) => async () => {
    lookups.push(side);
    return id;
  };
  const reporter = memoryReporter();
  const value: BedrockPrerequisitesInput = {
    sourceModelArn: MODEL,
    source: { actor: source, organization: org('source', 'sourceOrg' in extra ? extra.sourceOrg : 'o-abc'), bedrock: new BedrockClient({ region: 'us-east-1' }) },
    target: {
      actor: extra.targetActor ?? target,
      organization: org('target', 'targetOrg' in extra ? extra.targetOrg : 'o-abc'),
      regions: extra.regions ?? ['us-east-1', 'us-west-2'],
      bedrockIn: (region) => new BedrockClient({ region }),
    },
    reporter,
  };
  return { value, lookups, reporter };
}

/** Base model offered with provisioned throughput in these regions only. */
function foundationModels(provisioned: string[], onDemandOnly: string[] = []): string[] {
  const asked: string[] = [];
  bedrock.on(GetFoundationModelCommand).callsFake(async (i: { modelIdentifier: string }, getClient: () => BedrockClient) => {
    const region = await getClient().config.region();
    asked.push(`${region} ${i.modelIdentifier}`);
    if (provisioned.includes(region)) return { modelDetails: { modelId: i.modelIdentifier, inferenceTypesSupported: ['PROVISIONED'] } };
    if (onDemandOnly.includes(region)) return { modelDetails: { modelId: i.modelIdentifier, inferenceTypesSupported: ['ON_DEMAND'] } };
    throw Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' });
  });
  return asked;
}

async function problems(value: BedrockPrerequisitesInput): Promise<DeployError[]> {
  const err = await checkBedrockPrerequisites(value).then(() => undefined, (e: unknown) => e);
  if (err instanceof DeployErrors) return err.errors;
  if (err instanceof DeployError) return [err];
  throw new Error(`expected a refusal, got ${String(err)}`);
}

beforeEach(() => {
  bedrock.reset();
  ram.reset();
});

describe('checkBedrockPrerequisites', () => {
  it('passes an Active model, one Organization and regions that serve the base model, asking each region once', async () => {
    bedrock.on(GetCustomModelCommand).resolves({ modelArn: MODEL, modelStatus: 'Active', baseModelArn: BASE } as never);
    const asked = foundationModels(['us-east-1', 'us-west-2']);
    const { value, lookups } = input();
    await expect(checkBedrockPrerequisites(value)).resolves.toBeUndefined();
    expect(lookups).toEqual(['source', 'target']);
    expect(asked).toEqual(['us-east-1 amazon.titan-text-express-v1:0:8k', 'us-west-2 amazon.titan-text-express-v1:0:8k']);
    expect(bedrock.commandCalls(GetCustomModelCommand)[0]?.args[0].input).toEqual({ modelIdentifier: MODEL });
  });

  it('needs no Organization within one account', async () => {
    bedrock.on(GetCustomModelCommand).resolves({ modelStatus: 'Active', baseModelArn: BASE } as never);
    foundationModels(['us-east-1', 'us-west-2']);
    const { value, lookups } = input({ targetActor: { ...target, account: '111111111111' }, targetOrg: undefined, sourceOrg: undefined });
    await checkBedrockPrerequisites(value);
    expect(lookups).toEqual([]);
  });

  it.each([
    [{ sourceOrg: 'o-abc', targetOrg: 'o-xyz' }, 'the source account 111111111111 is in Organization o-abc and the target 222222222222 in o-xyz: Bedrock shares custom models only inside one Organization'],
    [{ targetOrg: undefined }, 'account 222222222222 is in no AWS Organization, so the Bedrock model cannot be shared with 222222222222'],
  ])('refuses accounts outside one Organization (%j), saying how to fix it', async (orgs, message) => {
    bedrock.on(GetCustomModelCommand).resolves({ modelStatus: 'Active', baseModelArn: BASE } as never);
    foundationModels(['us-east-1', 'us-west-2']);
    const [e, ...rest] = await problems(input(orgs).value);
    expect(rest).toHaveLength(0);
    expect(e?.message).toBe(message);
    expect(e?.hint).toMatch(/one AWS Organization with resource sharing enabled in RAM/);
  });

  it('refuses a model still being customized, naming the job to wait for', async () => {
    bedrock.on(GetCustomModelCommand).resolves({ modelStatus: 'Creating', jobArn: 'arn:aws:bedrock:us-east-1:111111111111:model-customization-job/j1', baseModelArn: BASE } as never);
    const [e] = await problems(input().value);
    expect(e?.message).toBe(`Bedrock custom model ${MODEL} is Creating, not Active`);
    expect(e?.hint).toBe('Wait for its customization job arn:aws:bedrock:us-east-1:111111111111:model-customization-job/j1 to complete, then promote again.');
    expect(bedrock.commandCalls(GetFoundationModelCommand)).toHaveLength(0);
  });

  it('refuses a failed or missing model', async () => {
    bedrock.on(GetCustomModelCommand).resolvesOnce({ modelStatus: 'Failed', failureMessage: 'bad data' } as never).rejects(Object.assign(new Error('nope'), { name: 'ResourceNotFoundException' }));
    expect((await problems(input().value))[0]?.message).toBe(`Bedrock custom model ${MODEL} is Failed: bad data, not Active`);
    expect((await problems(input().value))[0]?.message).toBe(`Bedrock custom model ${MODEL} does not exist in account 111111111111`);
  });

  it('refuses every target region that lacks the base model or its provisioned throughput, all in one report, before any share or copy', async () => {
    bedrock.on(GetCustomModelCommand).resolves({ modelStatus: 'Active', baseModelArn: BASE } as never);
    foundationModels(['us-east-1'], ['eu-west-1']);
    const errs = await problems(input({ regions: ['us-east-1', 'eu-west-1', 'ap-south-1'], targetOrg: 'o-xyz' }).value);
    expect(errs.map((e) => e.message)).toEqual([
      'the source account 111111111111 is in Organization o-abc and the target 222222222222 in o-xyz: Bedrock shares custom models only inside one Organization',
      `eu-west-1 offers amazon.titan-text-express-v1:0:8k without provisioned throughput (ON_DEMAND), so Bedrock would reject the copy of ${MODEL}`,
      `ap-south-1 does not offer the base model amazon.titan-text-express-v1:0:8k, so Bedrock would reject the copy of ${MODEL}`,
    ]);
    expect(errs[2]?.hint).toMatch(/remove ap-south-1 from the target environment's regions/);
    expect(bedrock.commandCalls(CreateModelCopyJobCommand)).toHaveLength(0);
    expect(ram.calls()).toHaveLength(0);
  });

  it('warns that a customer-managed key of the source model must let the target use it', async () => {
    bedrock.on(GetCustomModelCommand).resolves({ modelStatus: 'Active', baseModelArn: BASE, modelKmsKeyArn: 'arn:aws:kms:us-east-1:111111111111:key/k1' } as never);
    foundationModels(['us-east-1', 'us-west-2']);
    const { value, reporter } = input();
    await checkBedrockPrerequisites(value);
    expect(reporter.allText()).toMatch(/arn:aws:kms:us-east-1:111111111111:key\/k1: its key policy must let account 222222222222 use it/);
  });
});
