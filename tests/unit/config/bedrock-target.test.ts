/**
 * #22.7: `target: bedrock` deployments. Before, the schema refused the target and the spec needed a SageMaker
 * stand-in; now the loader keeps them in spec.bedrockDeployments (no instance deployment sees one), refuses the
 * other targets' fields at their line, and `plan` lists the model, its copies, throughput, key and region checks.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadSpec, parseSpec } from '../../../src/config/load';
import { plan } from '../../../src/plan/plan';
import { selectDeployment } from '../../../src/config/select';
import { specProblems, specRejections } from '../../support/spec-problems';

const MODEL = 'arn:aws:bedrock:us-east-1:111111111111:custom-model/amazon.titan-text-express-v1:0:8k/a1b2c3d4e5f6';
const ENVIRONMENTS = `environments:
  dev:
    account: "111111111111"
  prod:
    account: "333333333333"
    promotionRoleArn: arn:aws:iam::333333333333:role/model-deploy-promotion
    regions: [us-east-1, us-west-2]
    kmsKeyId: arn:aws:kms:us-east-1:333333333333:key/mrk-1234abcd12ab34cd56ef1234567890ab`;

const specWith = (fields: string, environments = ENVIRONMENTS) => `version: 1
project: acme
${environments}
deployments:
  tuned:
    target: bedrock
    model: { bedrock: ${MODEL} }
${fields}`;

const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe('target: bedrock in the spec', () => {
  it('loads into spec.bedrockDeployments, none in spec.deployments', () => {
    const s = parseSpec(specWith('    regions: [us-east-1]\n    bedrockThroughput: { modelUnits: 1, commitment: none }\n'), 'model-deploy.yml');
    expect(Object.keys(s.deployments)).toEqual([]);
    expect(s.bedrockDeployments.tuned).toMatchObject({ name: 'tuned', target: 'bedrock', model: { bedrock: MODEL }, regions: ['us-east-1'], sourceEnvironment: 'dev', bedrockThroughput: { modelUnits: 1, commitment: 'none' } });
    expect(s.bedrockDeployments.tuned?.source.line).toBe(12);
  });

  it('an instance type, an engine or another SageMaker-only field is refused at its line, saying why', () => {
    const text = specWith('    regions: [us-east-1]\n    instanceType: ml.g5.xlarge\n    engine: { name: vllm }\n    autoscaling: { min: 1, max: 2 }\n');
    const errs = specRejections(text);
    expect(errs.map((e) => [e.message, e.location?.line])).toEqual([
      ['deployments.tuned.instanceType is set, and the deployment is target: bedrock: Bedrock serves the custom model on provisioned throughput (bedrockThroughput.modelUnits), not on instances', lineOf(text, 'instanceType')],
      ['deployments.tuned.engine is set, and the deployment is target: bedrock: Bedrock serves the custom model itself: there is no engine or image to build', lineOf(text, 'engine:')],
      ['deployments.tuned.autoscaling is set, and the deployment is target: bedrock: provisioned throughput is bought in fixed model units (bedrockThroughput.modelUnits)', lineOf(text, 'autoscaling')],
    ]);
    expect(errs[0]?.hint).toMatch(/^Remove instanceType\. A target: bedrock deployment takes description, model, target, regions, bedrockThroughput, tags/);
  });

  it('needs model.bedrock (and nothing else under model), and regions', () => {
    const noModel = specWith('    regions: [us-east-1]\n').replace(`model: { bedrock: ${MODEL} }`, 'model: { huggingface: { id: org/model } }');
    expect(specRejections(noModel).map((e) => e.message)).toEqual(['deployments.tuned is target: bedrock and has no model.bedrock', 'deployments.tuned.model.huggingface is set, and the deployment is target: bedrock: the custom model (model.bedrock) is all Bedrock needs']);
    expect(specRejections(specWith('')).map((e) => e.message)).toEqual(['deployments.tuned is missing the required field "regions"']);
  });

  it('a model of an account no environment has is refused at model.bedrock', () => {
    const text = specWith('    regions: [us-east-1]\n').replace(':111111111111:custom-model', ':999999999999:custom-model');
    const [e, ...more] = specRejections(text);
    expect(more).toEqual([]);
    expect(e?.message).toBe('deployments.tuned.model.bedrock is a model of account 999999999999, which is no environment of the spec');
    expect(e?.location?.line).toBe(lineOf(text, 'bedrock: arn'));
  });

  it('regions of another partition than the model\'s are refused (Bedrock copies within a partition)', () => {
    const text = specWith('    regions: [us-east-1, cn-north-1]\n');
    expect(specRejections(text).map((e) => e.message)).toContain('deployments.tuned.regions has cn-north-1 (partition aws-cn), and deployments.tuned.model.bedrock is a model of partition aws: Bedrock copies a custom model only within its partition');
  });

  it('the model\'s region is one of its source environment\'s regions: refused at model.bedrock, naming them', () => {
    const text = specWith('    regions: [us-east-1]\n', ENVIRONMENTS.replace('account: "111111111111"', 'account: "111111111111"\n    regions: [us-west-2, eu-west-1]'));
    const [e, ...more] = specRejections(text);
    expect(more).toEqual([]);
    expect(e?.message).toBe('deployments.tuned.model.bedrock is a model of us-east-1, and its source environment dev runs in us-west-2, eu-west-1 (environments.dev.regions)');
    expect(e?.location?.line).toBe(lineOf(text, 'bedrock: arn'));
    expect(e?.hint).toBe('Valid regions for the model: us-west-2, eu-west-1. Name the model\'s ARN in one of them, or add us-east-1 to environments.dev.regions.');
    // Without regions of its own, the source environment runs in the deployment's.
    const [d] = specRejections(specWith('    regions: [us-west-2]\n'));
    expect(d?.message).toBe('deployments.tuned.model.bedrock is a model of us-east-1, and its source environment dev runs in us-west-2 (deployments.tuned.regions: dev has no regions of its own)');
    expect(d?.hint).toBe('Valid regions for the model: us-west-2. Name the model\'s ARN in one of them, or give environments.dev regions that include us-east-1.');
    // The model\'s region among them: loads.
    expect(specProblems(specWith('    regions: [us-west-2, us-east-1]\n'))).toEqual([]);
  });

  it('a KMS key of one region cannot encrypt the copies in another: refused at the environment\'s key when the spec loads (validate says it)', () => {
    const text = specWith('    regions: [us-east-1]\n').replace('key/mrk-1234abcd12ab34cd56ef1234567890ab', 'key/11111111-2222-3333-4444-555555555555');
    const [e, ...more] = specRejections(text);
    expect(more).toEqual([]);
    expect(e?.message).toBe('environments.prod.kmsKeyId arn:aws:kms:us-east-1:333333333333:key/11111111-2222-3333-4444-555555555555 is a key of us-east-1, and KMS keys are regional: it cannot encrypt in us-west-2: the copies of tuned there cannot be encrypted with it');
    expect(e?.location?.line).toBe(lineOf(text, 'kmsKeyId'));
    expect(e?.hint).toMatch(/multi-region key/);
  });

  it('model.bedrock or bedrockThroughput on an instance deployment is refused: they belong to a target: bedrock one', () => {
    const text = `version: 1\n${ENVIRONMENTS}\ndeployments:\n  chat:\n    model: { huggingface: { id: org/model, revision: main } }\n    engine: { name: vllm }\n    target: sagemaker-realtime\n    instanceType: ml.g5.xlarge\n    regions: [us-east-1]\n    bedrockThroughput: { modelUnits: 1, commitment: none }\n`;
    const [e] = specRejections(text);
    expect(e?.message).toBe('deployments.chat: bedrockThroughput is set, and the deployment is target: sagemaker-realtime: provisioned throughput serves a Bedrock custom model');
    expect(e?.location?.line).toBe(lineOf(text, 'bedrockThroughput'));
  });
});

describe('the actions that build and deploy', () => {
  it('say a target: bedrock deployment is promote-model\'s, at its line', () => {
    const text = specWith('    regions: [us-east-1]\n');
    const spec = parseSpec(text, 'model-deploy.yml');
    expect(() => selectDeployment(spec, 'tuned')).toThrow('deployment "tuned" (input `deployment`) is target: bedrock: there is no image to build, stack to deploy or endpoint to call; promote-model copies its model and buys its throughput');
  });
});

describe('plan of a target: bedrock deployment', () => {
  it('--deployment names it: its plan alone, in the environment that holds the model nothing is copied', async () => {
    const spec = parseSpec(specWith('    regions: [us-east-1]\n'), 'model-deploy.yml');
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'md-bedrock-plan-'));
    const r = await plan(spec, { outDir: out, deployment: 'tuned', environment: 'dev' });
    expect(r.summary).toContain('  dev holds the model: nothing is copied into it (promote-model copies from it)');
    expect(JSON.parse(fs.readFileSync(path.join(out, 'tuned', 'bedrock.json'), 'utf8'))).toMatchObject({ environment: { name: 'dev', role: 'source' }, copies: [] });
  });

  it('examples/bedrock-promotion.yml plans the Bedrock deployment alone: model, copies per region with their key, throughput, region truth; the estimate prices no stand-in', async () => {
    const spec = loadSpec(path.resolve(__dirname, '../../../examples/bedrock-promotion.yml'));
    expect(Object.keys(spec.deployments)).toEqual([]);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'md-bedrock-plan-'));
    const r = await plan(spec, { outDir: out, environment: 'prod' });
    const written = JSON.parse(fs.readFileSync(path.join(out, 'assistant', 'bedrock.json'), 'utf8'));
    expect(written).toMatchObject({
      deployment: 'assistant',
      model: { account: '111111111111', region: 'us-east-1', partition: 'aws', baseModel: 'amazon.titan-text-express-v1:0:8k', sourceEnvironment: 'dev' },
      environment: { name: 'prod', account: '333333333333', role: 'target' },
      copies: [
        { region: 'us-east-1', kmsKeyId: 'arn:aws:kms:us-east-1:333333333333:key/mrk-1234abcd12ab34cd56ef1234567890ab' },
        { region: 'us-west-2', kmsKeyId: 'arn:aws:kms:us-west-2:333333333333:key/mrk-1234abcd12ab34cd56ef1234567890ab' },
      ],
      provisionedThroughput: { modelUnits: 1, commitment: 'none', regions: ['us-east-1', 'us-west-2'] },
    });
    expect(written.checks.baseModelOffered).toMatch(/^amazon\.titan-text-express-v1:0:8k: not checked offline/);
    expect(r.summary.join('\n')).toMatch(/region truth: partition aws: the model's partition, as every copy region's/);
    expect(r.summary).toContain('cost: $0.00 + unpriced a month (USD, 730 h), one-time $0.00');
    const md = fs.readFileSync(path.join(out, 'cost', 'estimate.md'), 'utf8');
    expect(md).toMatch(/Monthly cost: \*\*\$0\.00 \+ unpriced\*\*/);
    expect(md).not.toMatch(/SageMaker|ml\.g5/);
    expect(fs.readdirSync(path.join(out, 'assistant'))).toEqual(['bedrock.json']);
  });

});
