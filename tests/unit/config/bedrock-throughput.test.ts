/** deployments.<name>.bedrockThroughput of a target: bedrock deployment: the schema's shape, its target environments, and file:line errors. */
import { parseSpec } from '../../../src/config/load';
import { bedrockThroughputTargets } from '../../../src/config/regions';
import { specRejections as problems } from '../../support/spec-problems';

function specWith(throughput: string, environments = ENVIRONMENTS): string {
  return `version: 1
environments:
${environments}
deployments:
  assistant:
    target: bedrock
    model: { bedrock: arn:aws:bedrock:us-east-1:111111111111:custom-model/amazon.titan-text-express-v1:0:8k/a1b2c3d4e5f6 }
    regions: [us-east-1]
${throughput}
`;
}

const ENVIRONMENTS = `  dev:
    account: "111111111111"
  staging:
    account: "222222222222"
    promotionRoleArn: arn:aws:iam::222222222222:role/model-deploy-promotion
  prod:
    account: "333333333333"
    promotionRoleArn: arn:aws:iam::333333333333:role/model-deploy-promotion
    regions: [us-east-1, us-west-2]`;

const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;


describe('bedrockThroughput', () => {
  it('names one target environment, bought in that environment\'s regions', () => {
    const s = parseSpec(specWith('    bedrockThroughput: { modelUnits: 2, commitment: OneMonth, environment: prod }'), 'model-deploy.yml');
    const d = s.bedrockDeployments.assistant;
    expect(d.bedrockThroughput).toEqual({ modelUnits: 2, commitment: 'OneMonth', environment: 'prod' });
    expect(bedrockThroughputTargets(d, s.environments)).toEqual([{ environment: 'prod', regions: ['us-east-1', 'us-west-2'] }]);
  });

  it('without an environment: every environment with a promotionRoleArn (the promotion targets)', () => {
    const s = parseSpec(specWith('    bedrockThroughput: { modelUnits: 1, commitment: none }'), 'model-deploy.yml');
    expect(bedrockThroughputTargets(s.bedrockDeployments.assistant, s.environments)).toEqual([
      { environment: 'staging', regions: ['us-east-1'] },
      { environment: 'prod', regions: ['us-east-1', 'us-west-2'] },
    ]);
  });

  it('none without the field', () => {
    const s = parseSpec(specWith(''), 'model-deploy.yml');
    expect(bedrockThroughputTargets(s.bedrockDeployments.assistant, s.environments)).toEqual([]);
  });

  it('an environment that is not in the spec is refused at its line, with the nearest name', () => {
    const text = specWith('    bedrockThroughput:\n      modelUnits: 1\n      commitment: none\n      environment: prd');
    const [e, ...more] = problems(text);
    expect(more).toEqual([]);
    expect(e?.message).toBe('deployments.assistant: bedrockThroughput.environment is "prd", which is not an environment of the spec');
    expect(e?.location).toEqual({ file: 'model-deploy.yml', line: lineOf(text, 'environment: prd'), column: 20 });
    expect(e?.hint).toMatch(/prod/);
  });

  it('no environment named and none with a promotionRoleArn: refused at the field', () => {
    const text = specWith('    bedrockThroughput: { modelUnits: 1, commitment: none }', '  dev:\n    account: "111111111111"');
    const [e] = problems(text);
    expect(e?.message).toBe('deployments.assistant: bedrockThroughput has no target environment: no environment has a promotionRoleArn');
    expect(e?.location?.line).toBe(lineOf(text, 'bedrockThroughput:'));
  });

  it('the schema wants whole model units 1-1000 and an explicit commitment', () => {
    expect(problems(specWith('    bedrockThroughput: { modelUnits: 0, commitment: none }'))[0]?.message).toMatch(/bedrockThroughput\.modelUnits is number 0/);
    expect(problems(specWith('    bedrockThroughput: { modelUnits: 1.5, commitment: none }'))[0]?.message).toMatch(/bedrockThroughput\.modelUnits must be an integer/);
    expect(problems(specWith('    bedrockThroughput: { modelUnits: 1001, commitment: none }'))[0]?.message).toMatch(/modelUnits is number 1001/);
    expect(problems(specWith('    bedrockThroughput: { modelUnits: 1 }'))[0]?.message).toBe('deployments.assistant.bedrockThroughput is missing the required field "commitment"');
    const [bad] = problems(specWith('    bedrockThroughput: { modelUnits: 1, commitment: SixMonth }'));
    expect(bad?.hint).toMatch(/SixMonths/);
  });
});
