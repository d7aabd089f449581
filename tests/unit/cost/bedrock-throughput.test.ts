/**
 * A target: bedrock deployment in the estimate: its bedrockThroughput as model-unit hours in each region of the
 * target environment, unpriced (no verified rate in prices.md), flagged "+ unpriced" beside the totals and never
 * counted as $0; and nothing else (#22.7: no SageMaker stand-in whose price headlines the estimate).
 */
import { estimateDeployments, PriceBook } from '../../../src/cost/estimate';
import { buildReport, reportJson } from '../../../src/cost/report';
import { renderReport, summaryLines } from '../../../src/cost/render';
import { parseSpec } from '../../../src/config/load';
import { sagemaker, specOf, TWO_ENVIRONMENTS } from './fixtures';

const ENVIRONMENTS = TWO_ENVIRONMENTS;
const MODEL = 'arn:aws:bedrock:us-east-1:111111111111:custom-model/amazon.titan-text-express-v1:0:8k/a1b2c3d4e5f6';

const bedrock = (name: string, t?: string) => `  ${name}:\n    target: bedrock\n    model: { bedrock: ${MODEL} }\n    regions: [us-east-1]\n${t ? `    bedrockThroughput: ${t}\n` : ''}`;
const withThroughput = (t: string, environments = ENVIRONMENTS) => specOf(bedrock('assistant', t), environments);
type Parts = ReturnType<typeof estimateDeployments>['deployments'];
const throughputOf = (parts: Parts) => parts.flatMap((p) => p.resources).filter((r) => r.resourceType === 'aws_bedrock_provisioned_model_throughput');
const estimate = (spec: ReturnType<typeof specOf>, more: Parameters<typeof estimateDeployments>[1] = {}) =>
  estimateDeployments(Object.values(spec.deployments), { spec, bedrock: Object.values(spec.bedrockDeployments), ...more }).deployments;

describe('estimate: Bedrock provisioned throughput of a target: bedrock deployment', () => {
  it('model units × hours in each region of the target environment, unpriced with why; no instance, build or storage', () => {
    const spec = withThroughput('{ modelUnits: 2, commitment: none }');
    const [part, ...more] = estimate(spec);
    expect(more).toEqual([]);
    expect(part).toMatchObject({ name: 'assistant', target: 'bedrock', instanceType: 'provisioned throughput', count: '2 model units', engine: 'Bedrock amazon.titan-text-express-v1:0:8k', monthly: { low: 0, high: 0 } });
    expect(part!.oneTime).toMatchObject({ minutes: 0, cost: 0 });
    expect(part!.resources.map((r) => [r.name, r.region, r.resourceType])).toEqual([
      ['assistant Bedrock provisioned throughput (prod)', 'us-east-1', 'aws_bedrock_provisioned_model_throughput'],
      ['assistant Bedrock provisioned throughput (prod)', 'us-west-2', 'aws_bedrock_provisioned_model_throughput'],
    ]);
    const c = part!.resources[0]!.components[0]!;
    expect(c).toMatchObject({ unit: 'model-unit hours', quantity: { low: 1460, high: 1460 }, price: null, monthlyCost: null });
    expect(c.note).toMatch(/No verified Bedrock provisioned-throughput price .*base model, the region and the term \(https:\/\/aws\.amazon\.com\/bedrock\/pricing\/\)/);
    expect(c.note).toMatch(/No commitment: billed per model-unit hour until it is deleted/);
    expect(part!.unpriced).toEqual([
      'assistant Bedrock provisioned throughput (prod) (us-east-1): Model units (2, commitment none) (no known price)',
      'assistant Bedrock provisioned throughput (prod) (us-west-2): Model units (2, commitment none) (no known price)',
    ]);
  });

  it('a term is committed spend: the months are owed even if it is deleted', () => {
    expect(throughputOf(estimate(withThroughput('{ modelUnits: 2, commitment: SixMonths }')))[0]?.components[0]?.note).toMatch(/SixMonths is committed spend: 6 months × 2 model units × the hourly rate are owed even if it is deleted before the term ends/);
    expect(throughputOf(estimate(withThroughput('{ modelUnits: 1, commitment: OneMonth }')))[0]?.components[0]?.note).toMatch(/OneMonth is committed spend: 1 month × 1 model unit × the hourly rate/);
  });

  it('priced for one environment: bought in the target environment; in another, a $0 row that says none is bought there', () => {
    const spec = withThroughput('{ modelUnits: 1, commitment: none, environment: prod }');
    expect(throughputOf(estimate(spec, { environment: spec.environments.prod, environmentName: 'prod' })).map((r) => r.region)).toEqual(['us-east-1', 'us-west-2']);
    const [dev] = estimate(spec, { environment: spec.environments.dev, environmentName: 'dev' });
    expect(dev).toMatchObject({ resources: [], monthly: { low: 0, high: 0 }, unpriced: [], assumptions: ['assistant: no Bedrock provisioned throughput is bought in dev (bedrockThroughput is bought in prod).'] });
  });

  it('a target environment billed in another currency is a part of that currency alone', () => {
    const china = `environments:\n  dev:\n    account: "111111111111"\n  cn:\n    account: "444444444444"\n    promotionRoleArn: arn:aws-cn:iam::444444444444:role/model-deploy-promotion\n    regions: [cn-north-1]`;
    const text = `version: 1\nproject: test\n${china}\ndeployments:\n${bedrock('assistant', '{ modelUnits: 1, commitment: none }').replace(MODEL, MODEL.replace('arn:aws:', 'arn:aws-cn:').replace('us-east-1', 'cn-north-1')).replace('111111111111', '444444444444').replace('[us-east-1]', '[cn-north-1]')}`;
    const parts = estimate(parseSpec(text, 'model-deploy.yml'));
    expect(parts.map((p) => [p.currency, p.regions])).toEqual([['CNY', ['cn-north-1']]]);
  });

  it('a spec with only the Bedrock deployment: the headline is its unpriced throughput, no SageMaker stand-in is priced', () => {
    const spec = withThroughput('{ modelUnits: 1, commitment: none }');
    const book = new PriceBook();
    const report = buildReport({ project: 'test', head: estimateDeployments([], { spec, prices: book, bedrock: Object.values(spec.bedrockDeployments) }), prices: book.usedPrices() });
    // Table cells keep their words together with no-break spaces.
    const body = renderReport(report, { limit: 1_000_000 }).replace(/\u00a0/g, ' ');
    expect(body).toMatch(/Monthly cost: \*\*\$0\.00 \+ unpriced\*\* \(USD\)/);
    expect(body).toMatch(/\| assistant \| Bedrock provisioned throughput, us-east-1 \+1 \| \$0 \+ unpriced \| \$0 \|/);
    expect(body).not.toMatch(/SageMaker|ml\.g5/);
    expect(book.usedPrices()).toEqual([]);
    expect(summaryLines(report)[0]).toMatch(/^cost: \$0\.00 \+ unpriced a month/);
  });

  it('a PR that adds it: the deployment added with unpriced components, the totals "+ unpriced", never $0', () => {
    const book = new PriceBook();
    const base = specOf(sagemaker('chat', 'ml.g5.xlarge'), ENVIRONMENTS);
    const head = specOf(sagemaker('chat', 'ml.g5.xlarge') + bedrock('assistant', '{ modelUnits: 1, commitment: none }'), ENVIRONMENTS);
    const report = buildReport({
      project: 'test',
      head: estimateDeployments(Object.values(head.deployments), { spec: head, prices: book, bedrock: Object.values(head.bedrockDeployments) }),
      base: estimateDeployments(Object.values(base.deployments), { spec: base, prices: book, bedrock: [] }),
      prices: book.usedPrices(),
    });
    expect(report.changes.map((c) => [c.name, c.status, c.unpriced]).sort()).toEqual([
      ['assistant', 'added', 2],
      ['chat', 'unchanged', 0],
    ]);
    expect(report.totals[0]?.unpriced).toBe(2);
    const body = renderReport(report, { limit: 1_000_000 });
    expect(body).toMatch(/\| \*\*Total \(USD\)\*\* \|.*\*\*\$1,029 \+ unpriced\*\*/);
    const json = reportJson(report);
    const resource = json.projects.flatMap((p) => p.breakdown.resources).find((r) => r.resourceType === 'aws_bedrock_provisioned_model_throughput');
    expect(resource?.monthlyCost).toBeNull();
    expect(resource?.costComponents[0]).toMatchObject({ monthlyQuantity: '730', price: null, monthlyCost: null });
  });
});
