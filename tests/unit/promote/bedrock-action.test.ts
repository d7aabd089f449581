/**
 * promote-model's action on a target: bedrock deployment (#22.7, #20.1): the deployment is found in the spec's own
 * map of Bedrock deployments, the model is the spec's, the deprecated input may only repeat it, the plan pins the
 * model's identity, and the workflow is told there is no endpoint to deploy. Bedrock at the SDK boundary (the fake
 * AWS has no Bedrock), answering GetCustomModel as the Bedrock API reference gives it.
 */
import { mockClient } from 'aws-sdk-client-mock';
import * as br from '@aws-sdk/client-bedrock';
import { definition, run } from '../../../src/actions/promote-model';
import { EnvInputs } from '../../../src/core/env';
import { DeployError } from '../../../src/core/errors';
import { mapInputSource, parseInputs } from '../../../src/core/inputs';
import { memoryReporter } from '../../../src/core/log';
import { mockSts, RUN_ENV, SPEC, workspaceWith } from './harness';

const MODEL = 'arn:aws:bedrock:us-east-1:111111111111:custom-model/amazon.titan-text-express-v1:0:8k/a1b2c3d4e5f6';
const JOB = 'arn:aws:bedrock:us-east-1:111111111111:model-customization-job/amazon.titan-text-express-v1:0:8k/j1b2c3d4e5f6';
const BEDROCK_SPEC = `${SPEC}  tuned:\n    target: bedrock\n    model: { bedrock: ${MODEL} }\n    regions: [us-east-1]\n`;

async function action(values: Record<string, string>) {
  const reporter = memoryReporter();
  const inputs = parseInputs(definition, mapInputSource({ config: 'model-deploy.yml', deployment: 'tuned', 'target-environment': 'prod', ...values }), reporter);
  const ctx = { reporter, signal: new AbortController().signal, workspace: workspaceWith(BEDROCK_SPEC), env: new EnvInputs({ ...process.env, ...RUN_ENV }) };
  const error = await run(inputs, ctx).then(() => undefined, (e: unknown) => e);
  return { reporter, error };
}

function bedrock() {
  mockSts();
  const b = mockClient(br.BedrockClient);
  b.on(br.GetCustomModelCommand).resolves({ modelArn: MODEL, modelName: 'tuned', creationTime: new Date('2026-11-02T10:00:00Z'), jobArn: JOB, modelStatus: 'Active' });
  return b;
}

describe('promote-model on a target: bedrock deployment', () => {
  it('mode plan: the plan names the spec\'s model and its identity; deploys-endpoint is false', async () => {
    const b = bedrock();
    const { reporter, error } = await action({ mode: 'plan' });
    expect(error).toBeUndefined();
    const plan = JSON.parse(reporter.captured.outputs.plan ?? '{}');
    expect(plan).toMatchObject({ deployment: 'tuned', source: { environment: 'dev', account: '111111111111', region: 'us-east-1' }, bedrockModelArn: MODEL, bedrockModel: { arn: MODEL, creationTime: '2026-11-02T10:00:00.000Z', jobArn: JOB } });
    expect(plan.image).toBeUndefined();
    expect(reporter.captured.outputs['deploys-endpoint']).toBe('false');
    expect(reporter.captured.summaries.join('\n')).toContain(`Bedrock model: \`${MODEL}\`, created 2026-11-02T10:00:00.000Z by \`${JOB}\``);
    expect(b.commandCalls(br.GetCustomModelCommand).map((c) => c.args[0].input.modelIdentifier)).toEqual([MODEL]);
  });

  it('the deprecated input, equal to the spec\'s ARN, is accepted with a warning', async () => {
    bedrock();
    const { reporter, error } = await action({ mode: 'plan', 'bedrock-model-arn': MODEL });
    expect(error).toBeUndefined();
    expect(reporter.captured.annotations.filter((a) => a.title === 'Deprecated input').map((a) => a.message)).toEqual([
      "input `bedrock-model-arn` is deprecated: the model promoted is the spec's model.bedrock of a target: bedrock deployment (the input may only repeat it); remove the input.",
    ]);
  });

  it('an input ARN different from the spec\'s is refused before any AWS call, in every mode', async () => {
    const other = MODEL.replace('a1b2c3d4e5f6', 'ffffffffffff');
    for (const mode of ['plan', 'direct']) {
      const b = bedrock();
      const { error } = await action({ mode, 'bedrock-model-arn': other });
      expect(error).toBeInstanceOf(DeployError);
      expect((error as DeployError).message).toMatch(/the approved spec decides what reaches prod$/);
      expect(b.calls()).toHaveLength(0);
    }
  });

  it('an instance deployment of the same spec still deploys its endpoint after the promotion', async () => {
    bedrock();
    const { reporter } = await action({ mode: 'plan', deployment: 'chat', 'image-uri': '111111111111.dkr.ecr.us-east-1.amazonaws.com/acme/chat@sha256:' + 'a'.repeat(64), provenance: 'off' });
    expect(reporter.captured.outputs['deploys-endpoint']).toBe('true');
  });
});
