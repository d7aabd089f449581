/**
 * deployments.<name>.bedrockThroughput in the estimate: model-unit hours in each region of the target environment,
 * unpriced (no verified rate), flagged "+ unpriced" beside the totals and never counted as $0.
 */
import { estimateDeployment, estimateDeployments, PriceBook } from '../../../src/cost/estimate';
import { buildReport, reportJson } from '../../../src/cost/report';
import { renderReport, summaryLines } from '../../../src/cost/render';
import { sagemaker, specOf, TWO_ENVIRONMENTS } from './fixtures';

const ENVIRONMENTS = TWO_ENVIRONMENTS;

const withThroughput = (t: string) => specOf(sagemaker('assistant', 'ml.g5.xlarge', `    bedrockThroughput: ${t}\n`), ENVIRONMENTS);
const without = () => specOf(sagemaker('assistant', 'ml.g5.xlarge'), ENVIRONMENTS);
const throughputOf = (parts: ReturnType<typeof estimateDeployment>) => parts.flatMap((p) => p.resources).filter((r) => r.resourceType === 'aws_bedrock_provisioned_model_throughput');

describe('estimate: Bedrock provisioned throughput', () => {
  it('model units × hours in each region of the target environment, unpriced with why, and the priced total unchanged', () => {
    const spec = withThroughput('{ modelUnits: 2, commitment: none }');
    const [part, ...more] = estimateDeployment(spec.deployments.assistant, { spec });
    expect(more).toEqual([]);
    const found = throughputOf([part!]);
    expect(found.map((r) => [r.name, r.region])).toEqual([
      ['assistant Bedrock provisioned throughput (prod)', 'us-east-1'],
      ['assistant Bedrock provisioned throughput (prod)', 'us-west-2'],
    ]);
    const c = found[0]!.components[0]!;
    expect(c).toMatchObject({ unit: 'model-unit hours', quantity: { low: 1460, high: 1460 }, price: null, monthlyCost: null });
    expect(c.note).toMatch(/No verified Bedrock provisioned-throughput price .*base model, the region and the term \(https:\/\/aws\.amazon\.com\/bedrock\/pricing\/\)/);
    expect(c.note).toMatch(/No commitment: billed per model-unit hour until it is deleted/);
    expect(part!.unpriced).toEqual([
      'assistant Bedrock provisioned throughput (prod) (us-east-1): Model units (2, commitment none) (no known price)',
      'assistant Bedrock provisioned throughput (prod) (us-west-2): Model units (2, commitment none) (no known price)',
    ]);
    const plain = without();
    expect(part!.monthly).toEqual(estimateDeployment(plain.deployments.assistant, { spec: plain })[0]!.monthly);
  });

  it('a term is committed spend: the months are owed even if it is deleted', () => {
    const six = withThroughput('{ modelUnits: 2, commitment: SixMonths }');
    expect(throughputOf(estimateDeployment(six.deployments.assistant, { spec: six }))[0]?.components[0]?.note).toMatch(/SixMonths is committed spend: 6 months × 2 model units × the hourly rate are owed even if it is deleted before the term ends/);
    const one = withThroughput('{ modelUnits: 1, commitment: OneMonth }');
    expect(throughputOf(estimateDeployment(one.deployments.assistant, { spec: one }))[0]?.components[0]?.note).toMatch(/OneMonth is committed spend: 1 month × 1 model unit × the hourly rate/);
  });

  it('priced for one environment: shown in the target environment, not in another', () => {
    const spec = withThroughput('{ modelUnits: 1, commitment: none, environment: prod }');
    const d = spec.deployments.assistant;
    expect(throughputOf(estimateDeployment(d, { spec, environment: spec.environments.prod, environmentName: 'prod' })).map((r) => r.region)).toEqual(['us-east-1', 'us-west-2']);
    expect(throughputOf(estimateDeployment(d, { spec, environment: spec.environments.dev, environmentName: 'dev' }))).toEqual([]);
  });

  it('a target environment billed in another currency gets a part of its own, with no build', () => {
    const china = `environments:\n  cn:\n    account: "444444444444"\n    promotionRoleArn: arn:aws-cn:iam::444444444444:role/model-deploy-promotion\n    regions: [cn-north-1]`;
    const spec = specOf(sagemaker('assistant', 'ml.g5.xlarge', '    bedrockThroughput: { modelUnits: 1, commitment: none }\n'), china);
    const parts = estimateDeployment(spec.deployments.assistant, { spec });
    expect(parts.map((p) => [p.currency, p.regions])).toEqual([['USD', ['us-east-1']], ['CNY', []]]);
    expect(parts[1]!.resources.map((r) => r.region)).toEqual(['cn-north-1']);
    expect(parts[1]!.oneTime).toMatchObject({ minutes: 0, cost: 0 });
    expect(throughputOf([parts[0]!])).toEqual([]);
  });

  it('a PR that adds it: the deployment changed, the component new and unpriced, the totals "+ unpriced", never $0', () => {
    const book = new PriceBook();
    const base = without();
    const head = withThroughput('{ modelUnits: 1, commitment: none }');
    const report = buildReport({
      project: 'test',
      head: estimateDeployments(Object.values(head.deployments), { spec: head, prices: book }),
      base: estimateDeployments(Object.values(base.deployments), { spec: base, prices: book }),
      prices: book.usedPrices(),
    });
    const [change] = report.changes;
    expect(change).toMatchObject({ status: 'changed', unpriced: 2, diff: { low: 0, high: 0 } });
    expect(report.totals[0]?.unpriced).toBe(2);
    const body = renderReport(report, { limit: 1_000_000 });
    expect(body).toMatch(/Priced monthly cost unchanged at \$1,029\.\d\d \+ unpriced \(USD\): \*\*2 new unpriced components\*\*/);
    expect(body).not.toMatch(/Monthly cost \*\*unchanged\*\*/);
    expect(body).toMatch(/- \*\*assistant\*\*: unpriced components 0 → 2;/);
    expect(body).toMatch(/\| assistant \| changed \| .* \| \$1,029 \+ unpriced \|/);
    expect(body).toMatch(/\| \*\*Total \(USD\)\*\* \|.*\*\*\$1,029 \+ unpriced\*\*/);
    expect(body).toContain('| assistant Bedrock provisioned throughput (prod) (us-west-2) | Model units (1, commitment none) | 730 | model-unit hours | no known price | – | unpriced | new |');
    expect(summaryLines(report)[0]).toMatch(/^cost: \$1,029\.\d\d \+ unpriced a month/);
    const json = reportJson(report);
    const resource = json.projects[0]?.breakdown.resources.find((r) => r.resourceType === 'aws_bedrock_provisioned_model_throughput');
    expect(resource?.monthlyCost).toBeNull();
    expect(resource?.costComponents[0]).toMatchObject({ monthlyQuantity: '730', price: null, monthlyCost: null });
    expect(json.totalsByCurrency[0]?.unpricedComponents).toBe(2);
  });
});
